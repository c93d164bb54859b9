import { describe, expect, it } from 'vitest';
import { RunEndLatch, endReasonOf } from '../../src/run/run-end.ts';

describe('RunEndLatch', () => {
  it('ends complete when nothing was reported', () => {
    const l = new RunEndLatch();
    expect(l.ended).toBe(false);
    expect(l.end).toEqual({ kind: 'complete' });
    expect(endReasonOf(l.end)).toBe('complete');
    expect(l.error).toBeNull();
  });

  it('keeps the first cause: an overload stays the end when the step it stopped throws after it', () => {
    const l = new RunEndLatch();
    l.report({ kind: 'overloaded', reason: 'event loop p99 900 ms' });
    l.report({ kind: 'infrastructure', step: 'play', source: 'harness', cause: 'attachments failed' });
    l.report({ kind: 'interrupted', step: 'drain' });
    expect(l.end).toEqual({ kind: 'overloaded', reason: 'event loop p99 900 ms' });
    expect(endReasonOf(l.end)).toBe('harness-overloaded');
    expect(l.error).toBe('event loop p99 900 ms');
    expect(l.later).toEqual(['attachments failed']);
  });

  it('says an interrupt carries no error of its own, but keeps a failure noted after it', () => {
    const l = new RunEndLatch();
    l.report({ kind: 'interrupted', step: 'play' });
    expect(l.error).toBeNull();
    l.report({ kind: 'infrastructure', step: 'teardown', source: 'harness', cause: '2 proxies left behind' });
    expect(endReasonOf(l.end)).toBe('interrupted');
    expect(l.error).toBe('2 proxies left behind');
  });

  it('names a failed fault apart from other infrastructure failures', () => {
    expect(endReasonOf({ kind: 'infrastructure', step: 'play', source: 'fault', cause: 'x' })).toBe('fault-failed');
    expect(endReasonOf({ kind: 'infrastructure', step: 'set-up', source: 'harness', cause: 'x' })).toBe('error');
  });

  it('rebuilds what a finished run reported', () => {
    const l = RunEndLatch.from({ kind: 'interrupted', step: 'play' }, 'proxy left behind');
    expect(l.end).toEqual({ kind: 'interrupted', step: 'play' });
    expect(l.error).toBe('proxy left behind');
    l.report({ kind: 'infrastructure', step: 'teardown', source: 'harness', cause: 'judge failed' });
    expect(l.error).toBe('proxy left behind');
    expect(RunEndLatch.from({ kind: 'complete' }, null).error).toBeNull();
  });
});
