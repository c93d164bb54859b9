/**
 * `cross-border-peak` for a real Toxiproxy: the same evening (EU customers and CN agents, the ramp
 * to peak, the cross-border link's bandwidth collapsing, latency and jitter up, recovery) without
 * the packet loss, which only chatstorm's embedded proxy can model (the `loss` toxic, an
 * extension: docs/proxy.md). docker-compose.yml's `incident` profile runs it against the
 * ghcr.io/shopify/toxiproxy image:
 *
 *   docker compose --profile incident run --rm incident
 *
 * Gates and expectations are cross-border-peak's: pass on the reference server, `drop-fanout`
 * fails `loss`. Quick mode as cross-border-peak's (about 13 s here).
 */
import { defineScenario } from 'chatstorm';
import crossBorderPeak, { expectations as peakExpectations } from './cross-border-peak.ts';

type Toxic = { type: string };
const notLoss = (t: Toxic) => t.type !== 'loss';

export default defineScenario({
  ...crossBorderPeak,
  name: 'cross-border-peak-toxiproxy',
  networks: Object.fromEntries(
    Object.entries(crossBorderPeak.networks).map(([name, n]) => [name, { ...n, toxics: (n.toxics ?? []).filter(notLoss) }]),
  ),
  faults: (crossBorderPeak.faults ?? []).filter((f) => !('toxic' in f && typeof f.toxic === 'object' && !notLoss(f.toxic as Toxic))),
});

export const expectations = peakExpectations;
