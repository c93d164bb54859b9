import { describe, expect, it } from 'vitest';
import { mergeProgress } from '../../src/shard/local-workers.ts';

describe('mergeProgress', () => {
  it('sums the counts of every worker, shows the slowest phase and the longest clock', () => {
    const p = mergeProgress([
      { elapsedMs: 5000, sent: 10, acked: 9, delivered: 20, live: 4, devices: 4, phase: 'drain' },
      { elapsedMs: 5200, sent: 7, acked: 7, delivered: 11, live: 3, devices: 5, phase: 'play' },
    ]);
    expect(p).toEqual({ elapsedMs: 5200, sent: 17, acked: 16, delivered: 31, live: 7, devices: 9, phase: 'play' });
  });
});
