import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { HistoryChecker } from '../../src/check/history.ts';
import type { HistoryEvent, PageEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, population, runEnd, send } from './fixtures.ts';

function page(seqs: number[], o: Partial<PageEvent> = {}): PageEvent {
  return { type: 'page', atMs: 1000, device: 'c1', conv: 'conv1', limit: 50, seqs, keys: seqs.map((s) => `a1#${s}`), hasMore: false, tookMs: 40, ...o };
}
/** a1#1..a1#n stored at seqs 1..n. */
function stored(n: number): HistoryEvent[] {
  const out: HistoryEvent[] = [...population()];
  for (let i = 1; i <= n; i++) out.push(...clean(`a1#${i}`, `m${i}`, i, i * 10));
  return out;
}
function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new HistoryChecker(ledger), events);
  return { r: c.result(), h: c.histograms.summaries() };
}

describe('history', () => {
  it('is not-checked when no page was loaded', () => {
    const { r } = run([...stored(3), runEnd(2000)]);
    expect(r.status).toBe('not-checked');
    expect(r.note).toMatch(/no history page/);
  });

  it('passes complete pages in either direction and records page load time', () => {
    const { r, h } = run([...stored(5), page([5, 4, 3, 2, 1]), page([3, 4, 5], { after: 2 }), page([4, 5], { before: 6, limit: 2, hasMore: true }), runEnd(2000)]);
    expect(r).toMatchObject({ status: 'pass', count: 0 });
    expect(h['history.page']!.count).toBe(3);
    expect(h['history.page']!.p50Ms).toBeCloseTo(40, 0);
  });

  it('fails a page with a gap in the middle', () => {
    const { r } = run([...stored(5), page([5, 4, 2, 1]), runEnd(2000)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]!.summary).toMatch(/missing stored seq\(s\) 3/);
    expect(r.witnesses[0]!.trail.at(-1)!.type).toBe('page');
  });

  it('fails a last page that stops short of the oldest stored message', () => {
    const { r } = run([...stored(5), page([5, 4, 3], { limit: 3, hasMore: false }), runEnd(2000)]);
    expect(r.metrics?.['missingSeqs']).toBe(2);
  });

  it('fails a newest-first page that skips the newest message', () => {
    const { r } = run([...stored(5), page([4, 3], { limit: 2, hasMore: true }), runEnd(2000)]);
    expect(r.status).toBe('fail');
    expect(r.metrics?.['gap']).toBe(1);
  });

  it('does not expect a message stored while the page request was in flight', () => {
    const { r } = run([...stored(3), send('a1#4', 980), ack('a1#4', 'm4', 4, 990), page([3, 2, 1], { atMs: 1000, tookMs: 40 }), runEnd(2000)]);
    expect(r.status).toBe('pass');
  });

  it('fails pages with a repeated message, out-of-order seqs, or the wrong message at a seq', () => {
    const { r } = run([
      ...stored(3),
      page([3, 2, 2, 1]),
      page([1, 3, 2]),
      page([3, 2, 1], { keys: ['a1#3', 'a1#1', 'a1#2'] }),
      runEnd(2000),
    ]);
    expect(r.count).toBe(3);
    expect(r.metrics).toMatchObject({ duplicate: 1, order: 1, wrongContent: 1 });
  });

  it('passes a page showing twice a message the server stored twice (that is the duplicates check), but fails a key repeated at an unseen seq', () => {
    // a1#3 was resent after a lost ack and stored again under m4 at seq 4.
    const twice: HistoryEvent[] = [
      ...stored(2),
      send('a1#3', 30),
      deliver('c1', 'a1#3', 'm3', 3, 40),
      send('a1#3', 50, { attempt: 2 }),
      ack('a1#3', 'm4', 4, 60),
      deliver('c1', 'a1#3', 'm4', 4, 65),
    ];
    const keys = ['a1#1', 'a1#2', 'a1#3', 'a1#3'];
    expect(run([...twice, page([1, 2, 3, 4], { keys }), runEnd(2000)]).r).toMatchObject({ status: 'pass', count: 0 });
    const { r } = run([...stored(3), page([1, 2, 3, 4], { keys: ['a1#1', 'a1#2', 'a1#3', 'a1#3'] }), runEnd(2000)]);
    expect(r.status).toBe('fail');
    expect(r.metrics).toMatchObject({ duplicate: 1 });
  });
});
