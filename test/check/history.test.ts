import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { HistoryChecker } from '../../src/check/history.ts';
import type { HistoryEvent, PageEvent, PreloadEvent } from '../../src/history/events.ts';
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

  describe('preloaded history', () => {
    /** conv1 preloaded with `count` messages at seqs first.., keys preload-conv1#1.. */
    function preload(count: number, first = 1, o: Partial<PreloadEvent> = {}): PreloadEvent {
      return { type: 'preload', atMs: 0, conv: 'conv1', count, first, last: first + count - 1, keyDevice: 'preload-conv1', swept: true, tookMs: 1234, ...o };
    }
    /** An ascending page of preloaded seqs, the right key at each. */
    function deep(seqs: number[], o: Partial<PageEvent> = {}, first = 1): PageEvent {
      return page(seqs, { keys: seqs.map((s) => `preload-conv1#${s - first + 1}`), hasMore: true, limit: 4, ...o });
    }
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

    it('passes a sweep that shows every preloaded message once, in order, and reports the preload', () => {
      const { r, h } = run([...population(), preload(10), deep(range(1, 4), { after: 0 }), deep(range(5, 8), { after: 4 }), deep(range(9, 10), { after: 8, hasMore: false }), runEnd(2000)]);
      expect(r).toMatchObject({ status: 'pass', count: 0 });
      expect(r.metrics).toMatchObject({ preloadedConversations: 1, preloadedMessages: 10, preloadMs: 1234, preloadedUnshown: 0 });
      expect(r.note).toBe('10 messages preloaded into 1 conversation in 1.2 s, every one shown in a page');
      expect(h['history.preloaded.page']!.count).toBe(3);
      // A run without a preload has no preload figures (nor a preloaded-page histogram).
      const plain = run([...stored(2), page([2, 1]), runEnd(2000)]);
      expect(plain.r.metrics).not.toHaveProperty('preloadedMessages');
      expect(plain.h['history.preloaded.page']).toBeUndefined();
    });

    it('fails a page that leaves a preloaded message out, though the harness never saw it stored', () => {
      const { r } = run([...population(), preload(10), deep([1, 2, 4, 5], { after: 0 }), deep(range(6, 10), { after: 5, hasMore: false, limit: 5 }), runEnd(2000)]);
      expect(r.status).toBe('fail');
      expect(r.metrics).toMatchObject({ gap: 1, missingSeqs: 1, preloadedUnshown: 1 });
      expect(r.witnesses[0]!.summary).toMatch(/missing stored seq\(s\) 3/);
      // The page's gap, and the range never fully shown.
      expect(r.count).toBe(2);
      expect(r.witnesses[1]!.summary).toMatch(/^1 of 10 preloaded messages of conv1 \(seqs 1\.\.10\) were never shown in a history page: seqs 3 /);
    });

    it('fails a page that shows the wrong preloaded message at a seq, or one twice', () => {
      const wrong = deep(range(1, 4), { after: 0 });
      wrong.keys[2] = 'preload-conv1#2';
      const { r } = run([...population(), preload(4), wrong, runEnd(2000)]);
      expect(r.status).toBe('fail');
      expect(r.metrics).toMatchObject({ wrongContent: 1, duplicate: 1 });
    });

    it('judges preloaded keys from the range start when the conversation held messages before', () => {
      const { r } = run([...stored(2), preload(4, 3), deep(range(3, 6), { after: 2, hasMore: false }, 3), runEnd(2000)]);
      expect(r).toMatchObject({ status: 'pass', count: 0 });
    });

    it('fails a swept range whose end the run never reached, naming the seqs never shown', () => {
      const { r } = run([...population(), preload(100), deep(range(1, 4), { after: 0 }), deep(range(9, 12), { after: 8 }), runEnd(2000)]);
      expect(r.status).toBe('fail');
      expect(r.metrics).toMatchObject({ preloadedUnshown: 92, gap: 0 });
      expect(r.witnesses[0]!.summary).toMatch(/92 of 100 preloaded messages .* seqs 5\.\.8, 13\.\.100 \(the sweep/);
      expect(r.witnesses[0]!.trail[0]!.type).toBe('preload');
    });

    it('says not-checked, never pass, when the end of the run cut the sweep: the seqs it did not reach are not missing', () => {
      const cut = { type: 'sweep-cut', atMs: 1900, device: 'a1', conv: 'conv1', loaded: 1, pages: 25 } as const;
      const { r } = run([...population(), preload(100), deep(range(1, 4), { after: 0 }), cut, runEnd(2000)]);
      expect(r).toMatchObject({ status: 'not-checked', count: 0, witnesses: [] });
      expect(r.metrics).toMatchObject({ preloadedUnshown: 96 });
      expect(r.note).toMatch(/96 preloaded messages of conv1 were not reached: the sweep was still paging when the run ended \(sweep-cut\)/);
      // A bad page is still the server's, cut or not.
      const bad = run([...population(), preload(100), deep([1, 2, 4, 5], { after: 0 }), cut, runEnd(2000)]).r;
      expect(bad).toMatchObject({ status: 'fail', count: 1 });
      expect(bad.metrics).toMatchObject({ gap: 1 });
    });

    it('says not-checked for unreached preloaded seqs of a run that did not end complete', () => {
      const { r } = run([...population(), preload(100), deep(range(1, 4), { after: 0 }), { type: 'run-end', atMs: 2000, reason: 'interrupted' }]);
      expect(r).toMatchObject({ status: 'not-checked', count: 0 });
      expect(r.note).toMatch(/were not reached: the run did not end complete/);
    });

    it('fails a swept range when no page was loaded at all, rather than saying not-checked', () => {
      const { r } = run([...population(), preload(10), runEnd(2000)]);
      expect(r).toMatchObject({ status: 'fail', count: 1 });
    });

    it('does not expect an unswept range to be shown in full', () => {
      const { r } = run([...population(), preload(100, 1, { swept: false }), deep(range(97, 100), { hasMore: true }), runEnd(2000)]);
      expect(r).toMatchObject({ status: 'pass', count: 0 });
      expect(r.note).toBe('100 messages preloaded into 1 conversation in 1.2 s');
    });

    it('fails a newest-first page that stops above the preloaded range (history cut off after months of use)', () => {
      const { r } = run([...stored(0), preload(50, 1, { swept: false }), deep(range(47, 50), { hasMore: false }), runEnd(2000)]);
      expect(r.status).toBe('fail');
      expect(r.metrics).toMatchObject({ gap: 1, missingSeqs: 46 });
    });
  });
});
