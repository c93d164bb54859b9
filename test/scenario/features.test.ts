import { describe, expect, it } from 'vitest';
import { checkScenarioForDriver } from '../../src/drivers/capabilities.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { parseSize } from '../../src/scenario/size.ts';
import { InvalidScenarioError } from '../../src/errors.ts';
import peakSmall from '../fixtures/peak-small.ts';

const minimal = {
  name: 'mini',
  duration: '60s',
  networks: { eu: { toxics: [{ name: 'eu-bw', type: 'bandwidth', attributes: { rate: 500 } }] }, cn: {} },
  population: { agents: { count: 2, network: 'cn' }, customers: { count: 4, network: 'eu' } },
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    validateScenario(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidScenarioError);
    return [...(err as InvalidScenarioError).issues];
  }
  throw new Error('expected the scenario to be rejected');
}

describe('validateScenario: population', () => {
  it('accepts one segment or a list of segments and normalises both to a list', () => {
    const one = validateScenario(minimal);
    expect(one.population.customers).toEqual([{ count: 4, network: 'eu', devices: ['mobile'] }]);
    const two = validateScenario({
      ...minimal,
      population: { ...minimal.population, customers: [{ name: 'eu', count: 4, network: 'eu' }, { name: 'cn', count: 2, network: 'cn', devices: ['web'] }] },
    });
    expect(two.population.customers.map((c) => c.network)).toEqual(['eu', 'cn']);
  });

  it('names the bad field inside the second segment of a list, not just "invalid input"', () => {
    const issues = issuesOf({ ...minimal, population: { ...minimal.population, customers: [{ count: 4, network: 'eu' }, { count: 0, network: 'eu' }] } });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('population.customers[1].count');
    expect(issues[0]?.message).toMatch(/>=\s*1.*given 0/);
  });

  it('rejects an undeclared network in a segment with the list of declared networks', () => {
    const issues = issuesOf({ ...minimal, population: { ...minimal.population, customers: [{ count: 4, network: 'eu' }, { count: 1, network: 'us' }] } });
    expect(issues.map((i) => i.path)).toEqual(['population.customers[1].network']);
    expect(issues[0]?.message).toContain('declared networks: eu, cn');
  });

  it('rejects groups larger than the population', () => {
    const issues = issuesOf({ ...minimal, population: { ...minimal.population, groups: { count: 1, agents: 3, customers: 1 } } });
    expect(issues.map((i) => i.path)).toEqual(['population.groups.agents']);
    expect(issues[0]?.message).toBe('expected at most the 2 agents of the population (given 3)');
  });
});

describe('validateScenario: traffic', () => {
  it('parses sizes with units and refuses sizes beyond the driver\'s limits (the reference driver here)', () => {
    const ok = validateScenario({ ...minimal, traffic: { sizes: { image: { min: '30KB', max: '2MB' } } } });
    expect(ok.traffic.sizes.image).toEqual({ min: 30 * 1024, max: 2 * 1024 * 1024 });
    const big = validateScenario({ ...minimal, traffic: { sizes: { file: { min: '1MB', max: '20MB' }, 'long-text': { min: 1, max: '65KB' } } } });
    let issues: readonly { path: string; message: string }[] = [];
    try {
      checkScenarioForDriver(big, referenceDriver);
    } catch (err) {
      issues = (err as InvalidScenarioError).issues;
    }
    expect(issues.map((i) => i.path).sort()).toEqual(['traffic.sizes.file.max', 'traffic.sizes.long-text.max']);
    expect(issues.find((i) => i.path === 'traffic.sizes.file.max')?.message).toContain("expected 1..10485760 bytes for file (driver reference's limit), got 20971520");
  });

  it('rejects a size it cannot read, saying how to write one', () => {
    const issues = issuesOf({ ...minimal, traffic: { sizes: { image: { min: '30 kilobytes', max: '2MB' } } } });
    expect(issues[0]?.path).toBe('traffic.sizes.image.min');
    expect(issues[0]?.message).toContain('"30KB"');
  });

  it('refuses a multi-attachment shape over the driver\'s 10-attachment limit (the reference driver here)', () => {
    const s = validateScenario({ ...minimal, traffic: { mix: { text: 1, 'multi-attachment': 1 }, multiAttachment: { images: { min: 2, max: 9 }, files: { min: 1, max: 2 } } } });
    let issues: readonly { path: string; message: string }[] = [];
    try {
      checkScenarioForDriver(s, referenceDriver);
    } catch (err) {
      issues = (err as InvalidScenarioError).issues;
    }
    expect(issues[0]?.path).toBe('traffic.multiAttachment');
    expect(issues[0]?.message).toContain("expected at most 10 attachments per message (driver reference's limit), got images.max + files.max = 11");
  });

  it('rejects an unknown payload kind in the mix', () => {
    const issues = issuesOf({ ...minimal, traffic: { mix: { text: 1, video: 1 } } });
    expect(issues[0]?.path).toBe('traffic.mix');
    expect(issues[0]?.message).toContain('Unrecognized key: "video"');
  });
});

describe('validateScenario: faults', () => {
  it('rejects a toxic attribute the toxic type does not have, listing the ones it has', () => {
    const issues = issuesOf({ ...minimal, networks: { ...minimal.networks, eu: { toxics: [{ type: 'bandwidth', attributes: { ratee: 5 } }] } } });
    expect(issues[0]?.path).toBe('networks.eu.toxics[0].attributes.ratee');
    expect(issues[0]?.message).toContain('toxic bandwidth has no attribute "ratee"; expected one of rate');
  });

  it('rejects fractional or negative toxic attributes', () => {
    const issues = issuesOf({ ...minimal, faults: [{ action: 'toxic', at: '1s', network: 'eu', toxic: { type: 'latency', attributes: { latency: 1.5, jitter: -1 } } }] });
    expect(issues.map((i) => i.path).sort()).toEqual(['faults[0].toxic.attributes.jitter', 'faults[0].toxic.attributes.latency']);
  });

  it('accepts update, remove and ramp of a named base toxic or of one an earlier fault added', () => {
    const s = validateScenario({
      ...minimal,
      faults: [
        { action: 'toxic', at: '1s', network: 'cn', toxic: { name: 'spike', type: 'latency', attributes: { latency: 100 } } },
        { action: 'update-toxic', at: '2s', network: 'cn', toxic: 'spike', attributes: { latency: 900 } },
        { action: 'ramp', at: '3s', duration: '30s', network: 'eu', toxic: 'eu-bw', attribute: 'rate', from: 500, to: 5 },
        { action: 'remove-toxic', at: '40s', network: 'eu', toxic: 'eu-bw' },
      ],
    });
    expect(s.faults.map((f) => f.action)).toEqual(['toxic', 'update-toxic', 'ramp', 'remove-toxic']);
  });

  it('rejects a reference to a toxic the network does not have at that time, listing the known ones', () => {
    const issues = issuesOf({
      ...minimal,
      faults: [
        { action: 'update-toxic', at: '1s', network: 'cn', toxic: 'spike', attributes: { latency: 900 } },
        { action: 'toxic', at: '2s', network: 'cn', toxic: { name: 'spike', type: 'latency', attributes: { latency: 100 } } },
        { action: 'remove-toxic', at: '3s', network: 'eu', toxic: 'nope' },
      ],
    });
    expect(issues.map((i) => i.path)).toEqual(['faults[0].toxic', 'faults[2].toxic']);
    expect(issues[0]?.message).toContain('give the toxic a `name`');
    expect(issues[1]?.message).toContain('known: eu-bw');
  });

  it('rejects a ramp of an existing toxic without a start value, and of an attribute the toxic lacks', () => {
    const issues = issuesOf({ ...minimal, faults: [{ action: 'ramp', at: '1s', duration: '10s', network: 'eu', toxic: 'eu-bw', attribute: 'latency', to: 5 }] });
    expect(issues.map((i) => i.path).sort()).toEqual(['faults[0].attribute', 'faults[0].from']);
  });

  it('rejects an unknown fault action, listing the known ones', () => {
    const issues = issuesOf({ ...minimal, faults: [{ action: 'explode', at: '1s', network: 'eu' }] });
    expect(issues[0]?.path).toBe('faults[0].action');
    expect(issues[0]?.message).toContain('kill-after-send');
  });
});

describe('validateScenario: history', () => {
  it('fills in the defaults of a history load and parses `every` as a duration', () => {
    const s = validateScenario({ ...minimal, traffic: { history: { every: '10s' } } });
    expect(s.traffic.history).toEqual({ who: 'all', onReconnect: false, every: 10_000, pageSize: 50, pages: 1 });
    expect(validateScenario(minimal).traffic.history).toBeUndefined();
  });

  it('names each bad field of a history load by its path', () => {
    const issues = issuesOf({ ...minimal, traffic: { history: { every: '50ms', pageSize: 500, pages: 0, who: 'bots' } } });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'traffic.history.every',
      'traffic.history.pageSize',
      'traffic.history.pages',
      'traffic.history.who',
    ]);
    expect(issues.find((i) => i.path === 'traffic.history.every')?.message).toMatch(/at least 100 ms/);
    expect(issues.find((i) => i.path === 'traffic.history.pageSize')?.message).toMatch(/<=\s*200/);
    expect(issues.find((i) => i.path === 'traffic.history.who')?.message).toMatch(/agents/);
  });

  it('rejects a history load that never happens, and an unknown field', () => {
    const none = issuesOf({ ...minimal, traffic: { history: { pageSize: 20 } } });
    expect(none.map((i) => i.path)).toEqual(['traffic.history']);
    expect(none[0]?.message).toMatch(/expected `every` \(periodic loads\), `onReconnect: true` or `preload`/);
    const extra = issuesOf({ ...minimal, traffic: { history: { onReconnect: true, limit: 20 } } });
    expect(extra.map((i) => i.path)).toEqual(['traffic.history']);
    expect(extra[0]?.message).toContain('limit');
  });
});

describe('validateScenario: preloaded history', () => {
  it('fills in the defaults of a preload, accepts one entry or a list, and a preload alone is a history', () => {
    const one = validateScenario({ ...minimal, traffic: { history: { preload: { messages: 300_000 } } } });
    expect(one.traffic.history?.preload).toEqual([{ conversations: 1, messages: 300_000, bodyBytes: 64, spanDays: 90 }]);
    expect(one.traffic.history?.sweep).toBeUndefined();
    const list = validateScenario({
      ...minimal,
      traffic: { history: { every: '10s', preload: [{ conversations: 2, messages: 1000, bodyBytes: '1KB' }, { messages: 5 }], sweep: { at: '5s' } } },
    });
    expect(list.traffic.history?.preload?.map((p) => [p.conversations, p.messages, p.bodyBytes])).toEqual([[2, 1000, 1024], [1, 5, 64]]);
    expect(list.traffic.history?.sweep).toEqual({ at: 5000, readers: 8, pageSize: 200 });
    expect(validateScenario({ ...minimal, traffic: { history: { preload: { messages: 10 }, sweep: false } } }).traffic.history?.sweep).toBe(false);
  });

  it('names each bad field of a preload and a sweep by its path, with the bound', () => {
    const issues = issuesOf({
      ...minimal,
      traffic: { history: { preload: { conversations: 0, messages: 20_000_000, bodyBytes: '1MB', spanDays: -1 }, sweep: { readers: 0, pageSize: 500, at: 'soon' } } },
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'traffic.history.preload.bodyBytes',
      'traffic.history.preload.conversations',
      'traffic.history.preload.messages',
      'traffic.history.preload.spanDays',
      'traffic.history.sweep.at',
      'traffic.history.sweep.pageSize',
      'traffic.history.sweep.readers',
    ]);
    expect(issues.find((i) => i.path === 'traffic.history.preload.messages')?.message).toMatch(/<=\s*10000000/);
    expect(issues.find((i) => i.path === 'traffic.history.preload.bodyBytes')?.message).toBe('expected 1..65536 bytes (given "1MB")');
    expect(issues.find((i) => i.path === 'traffic.history.sweep.pageSize')?.message).toMatch(/<=\s*200/);
    expect(issuesOf({ ...minimal, traffic: { history: { every: '1s', preload: {} } } }).map((i) => i.path)).toEqual(['traffic.history.preload.messages']);
  });

  it('rejects more preloaded conversations than the population has, a sweep after the run, and a sweep of nothing', () => {
    const many = issuesOf({ ...minimal, traffic: { history: { preload: [{ conversations: 3, messages: 10 }, { conversations: 2, messages: 10 }] } } });
    expect(many.map((i) => i.path)).toEqual(['traffic.history.preload']);
    expect(many[0]?.message).toMatch(/^expected at most the 4 conversations of the population \(one per customer, plus groups\), got 5 in all; lower `conversations`/);
    const late = issuesOf({ ...minimal, traffic: { history: { preload: { messages: 10 }, sweep: { at: '2m' } } } });
    expect(late).toEqual([{ path: 'traffic.history.sweep.at', message: 'expected a time within the duration (60000 ms), got 120000 ms (given "2m")' }]);
    const nothing = issuesOf({ ...minimal, traffic: { history: { every: '1s', sweep: { readers: 4 } } } });
    expect(nothing).toEqual([{ path: 'traffic.history.sweep', message: '`sweep` pages through preloaded history: add `preload`, or remove `sweep` (given {"readers":4})' }]);
    const huge = issuesOf({ ...minimal, population: { ...minimal.population, customers: { count: 10, network: 'eu' } }, traffic: { history: { preload: { conversations: 6, messages: 10_000_000 } } } });
    expect(huge.map((i) => i.path)).toEqual(['traffic.history.preload']);
    expect(huge[0]?.message).toMatch(/at most 50000000 preloaded messages in all/);
  });

  it('is refused for a driver that cannot preload, naming the field and the fix', () => {
    const s = validateScenario({ ...minimal, traffic: { history: { every: '1s', preload: { messages: 10 } } } });
    expect(() => checkScenarioForDriver(s, referenceDriver)).not.toThrow();
    const { preloadHistory: _, ...without } = referenceDriver;
    let err: unknown;
    try {
      checkScenarioForDriver(s, { ...without, name: 'plain' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
    expect((err as InvalidScenarioError).issues).toEqual([
      { path: 'traffic.history.preload', message: 'driver plain cannot preload history (it has no `preloadHistory` method); remove traffic.history.preload, or use a driver that has it (the reference driver does)' },
    ]);
  });
});

describe('validateScenario: normalised form', () => {
  it('accepts its own output again unchanged (the CLI re-validates after overriding the duration)', () => {
    const once = validateScenario(peakSmall);
    expect(validateScenario(structuredClone(once))).toEqual(once);
  });
});

describe('parseSize', () => {
  it.each([
    [512, 512],
    ['512B', 512],
    ['30KB', 30 * 1024],
    ['2MB', 2 * 1024 * 1024],
    ['1.5MiB', 1.5 * 1024 * 1024],
  ])('parses %s', (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, bytes });
  });

  it.each(['', '5 kilobytes', '-1KB', 1.5, -3])('rejects %j', (input) => {
    expect(parseSize(input).ok).toBe(false);
  });
});
