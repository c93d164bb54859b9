import { describe, expect, it } from 'vitest';
import { checkScenarioForDriver, declarationOf } from '../../src/drivers/capabilities.ts';
import { defineDriver, DRIVER_CONTRACT, type Driver } from '../../src/drivers/driver.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import { InvalidScenarioError } from '../../src/errors.ts';
import { validateScenario } from '../../src/scenario/validate.ts';

const minimal = {
  name: 'mini',
  duration: '60s',
  networks: { eu: {}, cn: {} },
  population: { agents: { count: 2, network: 'cn' }, customers: { count: 4, network: 'eu' } },
};

/** A text-only back end without groups, history pages or attachments. */
const textOnly: Driver = defineDriver({
  contract: DRIVER_CONTRACT,
  name: 'text-only',
  capabilities: {
    ordering: 'none',
    serverIds: 'none',
    kinds: ['text'],
    attachments: false,
    historyPages: false,
    unreadCounts: false,
    readMarkers: false,
    groups: false,
    clientIds: false,
    resumption: false,
  },
  limits: { maxBodyBytes: 1000, maxAttachmentBytes: 0, maxAttachmentsPerMessage: 0 },
  provision: async () => undefined,
  connect: () => Promise.reject(new Error('not used')),
});

function issuesFor(input: unknown, driver: Driver): { path: string; message: string }[] {
  try {
    checkScenarioForDriver(validateScenario(input), driver);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
    return [...(err as InvalidScenarioError).issues];
  }
  return [];
}

describe('checkScenarioForDriver', () => {
  it('accepts what the driver can carry', () => {
    expect(issuesFor({ ...minimal, traffic: { mix: { text: 1 }, sizes: { text: { min: 10, max: 1000 } } } }, textOnly)).toEqual([]);
    expect(issuesFor({ ...minimal, population: { ...minimal.population, groups: { count: 1, agents: 1, customers: 2 } } }, referenceDriver)).toEqual([]);
  });

  it('refuses each kind of traffic the driver cannot carry, naming the field and the capability', () => {
    const issues = issuesFor(
      {
        ...minimal,
        population: { ...minimal.population, groups: { count: 1, agents: 1, customers: 2 } },
        traffic: { mix: { text: 1, emoji: 1, image: 1 }, sizes: { text: { min: 10, max: 2000 } }, history: { onReconnect: true } },
      },
      textOnly,
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['population.groups', 'traffic.history', 'traffic.mix.emoji', 'traffic.mix.image', 'traffic.sizes.text.max']);
    const by = (path: string) => issues.find((i) => i.path === path)?.message;
    expect(by('traffic.mix.image')).toContain('capabilities.attachments is missing');
    expect(by('traffic.mix.emoji')).toContain('capabilities.kinds: text');
    expect(by('population.groups')).toContain('capabilities.groups is missing');
    expect(by('traffic.history')).toContain('capabilities.historyPages is missing');
    expect(by('traffic.sizes.text.max')).toBe("expected 1..1000 bytes for text (driver text-only's limit), got 2000");
  });

  it('declares to the history what the checks need', () => {
    expect(declarationOf(textOnly)).toEqual({ name: 'text-only', ordering: 'none', serverIds: 'none', unreadCounts: false, historyPages: false, clientIds: false, resumption: false });
  });
});
