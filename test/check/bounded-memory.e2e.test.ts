import { describe, expect, it } from 'vitest';
import { ChatstormJudge } from '../../src/check/judge.ts';
import { syntheticHistory } from './synthetic-history.ts';

describe('bounded memory over a long run', () => {
  it('holds state proportional to messages in flight, not to run length, over 1,000,000 events', () => {
    // 10 ms between sends and a 2 s settled-retention horizon: about 200 settled messages held.
    const judge = new ChatstormJudge({ retainSettledMs: 2_000 });
    const samples: number[] = [];
    let events = 0;
    for (const e of syntheticHistory(1_000_000)) {
      judge.step(e);
      if (++events % 100_000 === 0) samples.push(judge.retained());
    }
    expect(events).toBeGreaterThanOrEqual(1_000_000);
    const verdict = judge.result();
    // The synthetic run is clean: a bounded judge that forgot too much would report anomalies.
    for (const name of ['loss', 'duplicates', 'ordering', 'sync', 'history', 'isolation']) {
      expect([name, verdict.checks[name]!.status]).toEqual([name, 'pass']);
    }
    expect(verdict.checks['duplicates']!.metrics?.['redelivery']).toBeGreaterThan(0);
    expect(judge.ledger.totals.retired).toBeGreaterThan(40_000);
    // Flat after warm-up: the last sample is within 10 % of the second one...
    const [, second] = samples;
    const last = samples.at(-1)!;
    expect(last).toBeLessThan(second! * 1.1);
    // ...and far below one entry per message (about 48,000 messages were sent).
    expect(last).toBeLessThan(10_000);
  }, 120_000);
});
