import { describe, expect, it } from 'vitest';
import { ChatstormJudge } from '../../src/check/judge.ts';
import { syntheticHistory } from './synthetic-history.ts';

describe('bounded memory', () => {
  // The 1,000,000-event run is in bounded-memory.e2e.test.ts (it takes tens of seconds).
  it('grows with messages that stay undelivered (they are what loss must report)', () => {
    const judge = new ChatstormJudge({ retainSettledMs: 2_000 });
    let i = 0;
    for (const e of syntheticHistory(200_000)) {
      // Drop every delivery to one device: every message stays in flight for it.
      if (e.type === 'deliver' && e.device === 'cu2-d2') continue;
      judge.step(e);
      i++;
    }
    expect(judge.retained()).toBeGreaterThan(10_000);
    expect(judge.result().checks['loss']!.status).toBe('fail');
  });
});
