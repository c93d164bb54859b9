/**
 * A Toxiproxy that goes away mid-run (killed, restarted) did not reject anything: its failures are
 * infrastructure errors (exit 3), never a bad toxic of the scenario (exit 2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy, type EmbeddedToxiproxy } from '../../src/proxy/index.ts';
import { addToxic, createProxy, NetworkError } from '../../src/net/networks.ts';
import { preflightToxics } from '../../src/run/toxic-preflight.ts';
import { UnreachableError, exitCodeFor } from '../../src/errors.ts';
import type { Plan } from '../../src/plan/plan.ts';
import type { ToxicSpec } from '../../src/scenario/schema.ts';
import { freePort } from './free-port.ts';

const latency: ToxicSpec = { type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100 } };

describe('a Toxiproxy that is gone', () => {
  let api: EmbeddedToxiproxy | undefined;
  afterEach(async () => {
    await api?.close();
  });

  it('fails a toxic change as unreachable (exit 3), and a real refusal still as a rejected toxic', async () => {
    api = await startEmbeddedToxiproxy({ port: 0 });
    const proxy = await createProxy(new Toxiproxy(api.url), { name: 'p', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }, 'network lan');
    // A bandwidth of 0 is what Toxiproxy itself refuses (it would divide by zero).
    const refused = await addToxic(proxy, { ...latency, type: 'bandwidth', attributes: { rate: 0 } }, 'bad', 'faults[0].toxic').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NetworkError);
    expect((refused as Error).message).toMatch(/^faults\[0\]\.toxic: the proxy rejected toxic bandwidth: .*400/);

    await api.close();
    const gone = await addToxic(proxy, latency, 'slow', 'faults[0].toxic').catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(UnreachableError);
    expect(exitCodeFor(gone)).toBe(3);
    expect((gone as Error).message).toBe(
      `Toxiproxy API at ${api.url} is unreachable. "add toxic slow to p" got no answer (fetch failed). Is Toxiproxy still running there?`,
    );
  });

  it('makes the toxic preflight an infrastructure error, not a bad scenario', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const plan = { scenario: 's', networks: { lan: { toxics: [latency] } }, faults: [] } as unknown as Plan;
    const err = await preflightToxics(new Toxiproxy(url), 'chatstorm~h~1~r1', '127.0.0.1:9', plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain('"create proxy chatstorm~h~1~r1-preflight" got no answer');
  });
});
