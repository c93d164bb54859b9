import { describe, expect, it } from 'vitest';
import { createJudge, judgeAll } from '../../src/check/index.ts';
import { ack, clean, deliver, population, runEnd, send } from './fixtures.ts';

describe('judge', () => {
  it('reports every check as not-checked on an empty history', () => {
    const v = judgeAll([]);
    expect(Object.keys(v.checks).sort()).toEqual(['duplicates', 'history', 'integrity', 'isolation', 'loss', 'ordering', 'sync']);
    for (const c of Object.values(v.checks)) expect(c.status).toBe('not-checked');
    expect(v.metrics).toEqual({});
  });

  it('passes loss, duplicates and ordering on a clean run and reports delivery latency', () => {
    const v = judgeAll([...population(), ...clean('a1#1', 'm1', 1, 10), ...clean('a1#2', 'm2', 2, 20), runEnd(100)]);
    expect(v.checks['loss']!.status).toBe('pass');
    expect(v.checks['duplicates']!.status).toBe('pass');
    expect(v.checks['ordering']!.status).toBe('pass');
    expect(v.metrics['delivery']!.count).toBe(4);
    expect(v.metrics['ack']!.count).toBe(2);
  });

  it('gives the same verdict stepping one event at a time', () => {
    const events = [...population(), send('a1#1', 10), ack('a1#1', 'm1', 1, 15), ack('a1#1', 'm2', 2, 16), deliver('c1', 'a1#1', 'm1', 1, 20), runEnd(100)];
    const judge = createJudge();
    for (const e of events) judge.step(e);
    const stepped = judge.result();
    expect(stepped).toEqual(judgeAll(events));
    expect(stepped.checks['duplicates']!.status).toBe('fail');
    expect(stepped.checks['loss']!.status).toBe('fail');
  });
});
