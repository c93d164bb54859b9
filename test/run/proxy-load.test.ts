import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { devicesPerNetwork, proxyProcessesFor } from '../../src/run/proxy-load.ts';
import { ResourceLimitError } from '../../src/errors.ts';

/** 10,000 devices: 500 agents × 2 on cn, 5,000 customers on eu, 4,000 on us, and an idle network. */
const tenThousand = buildPlan(
  validateScenario({
    name: 'scale',
    duration: '10s',
    networks: { cn: {}, eu: {}, us: {}, spare: {} },
    population: {
      agents: { count: 500, devices: ['desktop', 'mobile'], network: 'cn', maxConcurrent: 20 },
      customers: [
        { name: 'eu', count: 5000, network: 'eu' },
        { name: 'us', count: 4000, network: 'us' },
      ],
    },
    traffic: { messagesPerCustomer: { min: 1, max: 1 } },
  }),
);

describe('the runner\'s embedded proxy processes for a plan', () => {
  it('counts every device of every account on its network, and gives an idle network a proxy too', () => {
    expect(devicesPerNetwork(tenThousand)).toEqual(new Map([['cn', 1000], ['eu', 5000], ['us', 4000], ['spare', 0]]));
  });

  it('spreads 10,000 devices over two proxy processes under a 20,000 open-file limit, one under 65,536', () => {
    const two = proxyProcessesFor(tenThousand, 20_000);
    expect(two).toHaveLength(2);
    expect(two.flat().sort()).toEqual(['cn', 'eu', 'spare', 'us']);
    // No process holds more than (20,000 − 20) / 2 connections.
    const load = devicesPerNetwork(tenThousand);
    for (const names of two) expect(names.reduce((n, name) => n + (load.get(name) ?? 0), 0)).toBeLessThanOrEqual(9990);
    expect(proxyProcessesFor(tenThousand, 65_536)).toHaveLength(1);
  });

  it('refuses, naming the network and the limit, a network larger than one proxy process can hold', () => {
    const oneNetwork = { ...tenThousand, networks: { all: { toxics: [] } }, accounts: tenThousand.accounts.map((a) => ({ ...a, network: 'all' })) };
    try {
      proxyProcessesFor(oneNetwork, 20_000);
      expect.unreachable('a 10,000-device network fits no 20,000-file process');
    } catch (err) {
      expect(err).toBeInstanceOf(ResourceLimitError);
      expect((err as ResourceLimitError).code).toBe('CHATSTORM_ERR_RESOURCE_LIMIT');
      expect((err as Error).message).toMatch(/^network all has 10000 devices, but one proxy process holds at most 9990 connections under the open-file limit of 20000/);
    }
  });
});
