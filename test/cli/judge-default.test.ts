import { describe, expect, it } from 'vitest';
import { judgesLive } from '../../src/cli/run-command.ts';

describe('--judge default', () => {
  it('judges after the run unless live metrics are served, and always as the user said', () => {
    expect(judgesLive({})).toBe(false);
    expect(judgesLive({ metricsPort: 0 })).toBe(true);
    expect(judgesLive({ judge: 'live' })).toBe(true);
    expect(judgesLive({ judge: 'after', metricsPort: 9464 })).toBe(false);
  });
});
