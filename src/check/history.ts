/**
 * History: every loaded page is well formed (no duplicates, strictly ordered, no more than
 * `limit` items), contiguous and complete against what the harness saw stored (acks and
 * deliveries), and carries the right message at each seq. Page load time goes to `history.page`.
 *
 * A page repeats a message when a seq comes twice, or a key at two seqs the harness did not see
 * stored under that key (a message the server stored twice shows twice: that is `duplicates`).
 *
 * What a page must contain, for stored seqs in its requested range (after, before):
 *   - every stored seq between its lowest and highest seq (contiguous);
 *   - newest-first pages (`before`, or neither bound): every stored seq above its highest, below
 *     `before`; `after` pages: every stored seq between `after` and its lowest;
 *   - when `hasMore` is false: every stored seq of the range.
 * Only seqs the harness saw stored before the request went out (page.atMs − tookMs) are
 * expected, so a message stored while the page was in flight is never called missing.
 *
 * Preloaded history (a `preload` event: seqs first..last created before any device connected)
 * counts as stored from the start, and its n-th message must carry key `<keyDevice>#<n>`. When
 * the run swept the range (`swept`), every seq of it must also have been shown in some page by
 * the end: a seq never shown is one more anomaly per conversation (the range was not paged
 * through). A walk the end of the run cut (`sweep-cut`: still paging when the grace ended), or a
 * run that did not end complete, leaves its conversation's unreached seqs not judged: the check
 * then says not-checked rather than pass (how fast pages came is the page-latency SLA's matter).
 * Pages that show preloaded messages are also timed in `history.preloaded.page`.
 *
 * Memory: stored seqs are interval sets (dense seqs ⇒ a few intervals per conversation); the
 * seq → key map used for content checks keeps the most recent {@link CONTENT_WINDOW} per conversation.
 */
import { messageKey } from '../domain/index.ts';
import type { HistoryEvent, PageEvent, PreloadEvent } from '../history/events.ts';
import { HistogramSet } from '../stats/hdr.ts';
import type { Ledger, LedgerNote } from './ledger.ts';
import { SeqSet } from './seq-set.ts';
import { MAX_WITNESSES, type CheckResult, type Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

/** Stored messages per conversation whose key is remembered for page content checks. */
export const CONTENT_WINDOW = 4096;
/** Missing seqs enumerated per page before giving up counting. */
const MAX_MISSING_LISTED = 1000;

interface ConvState {
  stored: SeqSet;
  /** seq -> key and when it was first seen stored; insertion-ordered, trimmed to CONTENT_WINDOW. */
  recent: Map<number, { key: string; atMs: number }>;
  /** Preloaded ranges of the conversation (usually none or one). */
  preloads: PreloadEvent[];
  /** Preloaded seqs shown in some page. */
  shown: SeqSet;
}

export class HistoryChecker implements Checker {
  readonly name = 'history';
  readonly histograms = new HistogramSet();
  private readonly convs = new Map<string, ConvState>();
  private pages = 0;
  private readonly counts = { malformed: 0, duplicate: 0, order: 0, gap: 0, wrongContent: 0, missingSeqs: 0 };
  private readonly preload = { conversations: 0, messages: 0, tookMs: 0 };
  private badPages = 0;
  private readonly witnesses = new WitnessList();
  /**
   * Conversations whose sweep the end of the run cut (`sweep-cut`), or every one when the run
   * did not end `complete`: their unshown preloaded seqs were not reached, not missing.
   */
  private readonly cut = new Set<string>();
  private cutAll = false;

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    if (e.type === 'page') {
      this.onPage(e);
      return;
    }
    if (e.type === 'sweep-cut') {
      this.cut.add(e.conv);
      return;
    }
    if (e.type === 'run-end') {
      if (e.reason !== 'complete') this.cutAll = true;
      return;
    }
    if (e.type === 'preload') {
      const c = this.conv(e.conv);
      c.stored.addRange(e.first, e.last);
      c.preloads.push(e);
      this.preload.conversations++;
      this.preload.messages += e.count;
      this.preload.tookMs += e.tookMs;
      return;
    }
    if ((note.type === 'ack' || note.type === 'deliver') && note.newId && note.msg !== undefined && (e.type === 'ack' || e.type === 'deliver') && e.seq !== undefined) {
      const c = this.conv(e.conv);
      c.stored.add(e.seq);
      if (!c.recent.has(e.seq)) {
        c.recent.set(e.seq, { key: e.key, atMs: e.atMs });
        if (c.recent.size > CONTENT_WINDOW) c.recent.delete(c.recent.keys().next().value!);
      }
    }
  }

  private conv(id: string): ConvState {
    let c = this.convs.get(id);
    if (c === undefined) {
      c = { stored: new SeqSet(), recent: new Map(), preloads: [], shown: new SeqSet() };
      this.convs.set(id, c);
    }
    return c;
  }

  /** The key stored at `seq` as far as the harness knows: seen stored, or preloaded there. */
  private keyAt(c: ConvState, seq: number): string | undefined {
    const seen = c.recent.get(seq);
    if (seen !== undefined) return seen.key;
    for (const p of c.preloads) if (seq >= p.first && seq <= p.last) return messageKey(p.keyDevice, seq - p.first + 1);
    return undefined;
  }

  private onPage(p: PageEvent): void {
    this.pages++;
    this.histograms.recordMs('history.page', p.tookMs);
    const problems: string[] = [];
    const bump = (k: keyof HistoryChecker['counts'], text: string): void => {
      this.counts[k]++;
      problems.push(text);
    };
    if (p.seqs.length !== p.keys.length) bump('malformed', `${p.seqs.length} seqs but ${p.keys.length} keys`);
    if (p.seqs.length > p.limit) bump('malformed', `${p.seqs.length} items for limit ${p.limit}`);
    if (p.seqs.length === 0 && p.hasMore) bump('malformed', 'an empty page claims hasMore');
    const c = this.convs.get(p.conv);
    if (new Set(p.seqs).size !== p.seqs.length || this.repeatsKey(p, c)) bump('duplicate', 'the page repeats a message');
    const asc = p.seqs.every((s, i) => i === 0 || s >= p.seqs[i - 1]!);
    const desc = p.seqs.every((s, i) => i === 0 || s <= p.seqs[i - 1]!);
    if (!asc && !desc) bump('order', `seqs out of order: ${p.seqs.slice(0, 10).join(',')}`);

    if (c !== undefined && c.preloads.length > 0) {
      let deep = false;
      for (const s of p.seqs) {
        if (c.preloads.some((r) => s >= r.first && s <= r.last)) {
          c.shown.add(s);
          deep = true;
        }
      }
      if (deep) this.histograms.recordMs('history.preloaded.page', p.tookMs);
    }

    if (c !== undefined) {
      const requestedAtMs = p.atMs - p.tookMs;
      const inPage = new Set(p.seqs);
      const rangeLo = p.after !== undefined ? p.after + 1 : -Infinity;
      const rangeHi = p.before !== undefined ? p.before - 1 : Infinity;
      const lo = p.seqs.length > 0 ? Math.min(...p.seqs) : undefined;
      const hi = p.seqs.length > 0 ? Math.max(...p.seqs) : undefined;
      const spans: [number, number][] = [];
      if (lo === undefined || hi === undefined || !p.hasMore) spans.push([rangeLo, rangeHi]);
      else {
        spans.push([lo, hi]);
        if (p.after !== undefined) spans.push([rangeLo, lo - 1]);
        else spans.push([hi + 1, rangeHi]);
      }
      const missing: number[] = [];
      let missingCount = 0;
      for (const [a, b] of spans) {
        if (a > b) continue;
        for (const s of c.stored.range(a === -Infinity ? Number.MIN_SAFE_INTEGER : a, b === Infinity ? Number.MAX_SAFE_INTEGER : b)) {
          if (inPage.has(s)) continue;
          const seen = c.recent.get(s);
          if (seen !== undefined && seen.atMs > requestedAtMs) continue;
          missingCount++;
          if (missing.length < 10) missing.push(s);
          if (missingCount >= MAX_MISSING_LISTED) break;
        }
      }
      if (missingCount > 0) {
        this.counts.missingSeqs += missingCount;
        bump('gap', `missing stored seq(s) ${missing.join(', ')}${missingCount > missing.length ? ` and ${missingCount - missing.length} more` : ''}`);
      }
      const wrong: string[] = [];
      p.seqs.forEach((s, i) => {
        const known = this.keyAt(c, s);
        const key = p.keys[i];
        if (known !== undefined && key !== undefined && known !== key) wrong.push(`seq ${s} is ${key}, stored as ${known}`);
      });
      if (wrong.length > 0) bump('wrongContent', wrong.slice(0, 3).join('; '));
    }
    if (problems.length > 0) {
      this.badPages++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(this.ledger, {
          summary: `page of ${p.conv} on ${p.device} (before ${p.before ?? '-'}, after ${p.after ?? '-'}, limit ${p.limit}): ${problems.join('; ')}`,
          device: p.device,
          atMs: p.atMs,
          events: [p],
          devices: [p.device],
          fromMs: p.atMs - p.tookMs,
        }),
      );
    }
  }

  /**
   * Whether the page shows one message twice. A key at two seqs that the harness saw stored
   * under that key at both is the page faithfully showing a message the server stored twice:
   * the duplicates check's finding, not a history defect.
   */
  private repeatsKey(p: PageEvent, c: ConvState | undefined): boolean {
    if (new Set(p.keys).size === p.keys.length) return false;
    const first = new Map<string, number>();
    for (let i = 0; i < p.keys.length; i++) {
      const key = p.keys[i]!;
      const seq = p.seqs[i];
      const at = first.get(key);
      if (at === undefined) {
        first.set(key, i);
        continue;
      }
      const storedAs = (s: number | undefined) => (s === undefined || c === undefined ? undefined : this.keyAt(c, s));
      if (storedAs(seq) !== key || storedAs(p.seqs[at]) !== key) return true;
    }
    return false;
  }

  result(): CheckResult {
    const all = this.unshownPreloads();
    const reached = (u: { conv: string }) => !this.cutAll && !this.cut.has(u.conv);
    const unshown = all.filter(reached);
    const notReached = all.filter((u) => !reached(u));
    // Preload figures only where there was a preload: other runs' summaries keep their shape.
    const metrics = {
      pages: this.pages,
      ...this.counts,
      ...(this.preload.conversations === 0
        ? {}
        : {
            preloadedConversations: this.preload.conversations,
            preloadedMessages: this.preload.messages,
            preloadMs: Math.round(this.preload.tookMs),
            preloadedUnshown: all.reduce((n, u) => n + u.count, 0),
          }),
    };
    const driver = this.ledger.declaration;
    if (!driver.historyPages) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, unsupported: true, note: `driver ${driver.name} loads no history pages (capabilities.historyPages: false)` };
    }
    if (this.pages === 0 && all.length === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no history page events in the run' };
    }
    const witnesses = [...this.witnesses.items];
    for (const u of unshown) {
      if (witnesses.length >= MAX_WITNESSES) break;
      const runs = u.gaps.slice(0, 3).map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(', ');
      witnesses.push(
        buildWitness(this.ledger, {
          summary: `${u.count} of ${u.of} preloaded messages of ${u.conv} (seqs ${u.first}..${u.last}) were never shown in a history page: seqs ${runs}${u.gaps.length > 3 ? ' and more' : ''} (the sweep's walks ended without showing them: the server said there was no more, or refused a page)`,
          events: [u.event],
          fromMs: this.ledger.nowMs,
        }),
      );
    }
    const count = this.badPages + unshown.length;
    const preloaded = this.preload.conversations > 0 ? `${this.preload.messages} messages preloaded into ${this.preload.conversations} conversation${this.preload.conversations === 1 ? '' : 's'} in ${(this.preload.tookMs / 1000).toFixed(1)} s` : undefined;
    if (count === 0 && notReached.length > 0) {
      // The harness did not get through the range in time (the page-latency SLA judges how fast
      // the server answered): completeness of what it did not reach is not judged, never passed.
      const left = notReached.reduce((n, u) => n + u.count, 0);
      const why = this.cutAll ? 'the run did not end complete' : 'the sweep was still paging when the run ended (sweep-cut)';
      return { name: this.name, status: 'not-checked', count: 0, witnesses, metrics, note: `${preloaded ?? 'preloaded history'}; ${left} preloaded messages of ${notReached.map((u) => u.conv).join(', ')} were not reached: ${why}` };
    }
    const note = preloaded === undefined ? undefined : all.length === 0 && this.sweptAll() ? `${preloaded}, every one shown in a page` : preloaded;
    return { name: this.name, status: count > 0 ? 'fail' : 'pass', count, witnesses, metrics, ...(note === undefined ? {} : { note }) };
  }

  /** Whether every preloaded range was swept (so that "every one shown" is a finding). */
  private sweptAll(): boolean {
    for (const c of this.convs.values()) for (const p of c.preloads) if (!p.swept) return false;
    return true;
  }

  /** Swept preloaded ranges with seqs never shown in a page. */
  private unshownPreloads(): { conv: string; first: number; last: number; of: number; count: number; gaps: [number, number][]; event: PreloadEvent }[] {
    const out = [];
    for (const [conv, c] of this.convs) {
      for (const p of c.preloads) {
        if (!p.swept) continue;
        const count = p.count - c.shown.countIn(p.first, p.last);
        if (count > 0) out.push({ conv, first: p.first, last: p.last, of: p.count, count, gaps: c.shown.gapsIn(p.first, p.last, 4), event: p });
      }
    }
    return out;
  }

  retained(): number {
    let n = 0;
    for (const c of this.convs.values()) n += 1 + c.stored.intervals + c.recent.size + c.preloads.length + c.shown.intervals;
    return n;
  }
}
