/**
 * A set of sequence numbers stored as sorted disjoint intervals. Servers hand out dense seqs per
 * conversation, so a whole run's stored messages usually fit in a handful of intervals: memory
 * grows with gaps, not with messages. Appends at the top (the common case) are O(1).
 */
export class SeqSet {
  /** Flattened [lo0, hi0, lo1, hi1, ...], sorted, disjoint and non-adjacent. */
  private readonly iv: number[] = [];

  /** Number of intervals (for the bounded-memory test). */
  get intervals(): number {
    return this.iv.length / 2;
  }

  add(seq: number): void {
    const iv = this.iv;
    const n = iv.length;
    if (n === 0 || seq > iv[n - 1]! + 1) {
      iv.push(seq, seq);
      return;
    }
    if (seq === iv[n - 1]! + 1) {
      iv[n - 1] = seq;
      return;
    }
    // Binary search the first interval whose hi >= seq - 1.
    let lo = 0;
    let hi = n / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (iv[mid * 2 + 1]! < seq - 1) lo = mid + 1;
      else hi = mid;
    }
    const i = lo * 2;
    if (i < n && iv[i]! <= seq && seq <= iv[i + 1]!) return;
    if (i < n && iv[i + 1]! === seq - 1) {
      iv[i + 1] = seq;
      if (i + 2 < n && iv[i + 2]! === seq + 1) iv.splice(i + 1, 2);
      return;
    }
    if (i < n && iv[i]! === seq + 1) {
      iv[i] = seq;
      return;
    }
    iv.splice(i, 0, seq, seq);
  }

  /** Add every seq of [lo, hi] (a preloaded range): one interval, merged with those it touches. */
  addRange(lo: number, hi: number): void {
    if (lo > hi) return;
    const iv = this.iv;
    const n = iv.length;
    if (n === 0 || lo > iv[n - 1]! + 1) {
      iv.push(lo, hi);
      return;
    }
    let i = 0;
    while (i < n && iv[i + 1]! < lo - 1) i += 2;
    let j = i;
    let a = lo;
    let b = hi;
    while (j < n && iv[j]! <= hi + 1) {
      a = Math.min(a, iv[j]!);
      b = Math.max(b, iv[j + 1]!);
      j += 2;
    }
    iv.splice(i, j - i, a, b);
  }

  /** How many members lie in [from, to] (inclusive). */
  countIn(from: number, to: number): number {
    const iv = this.iv;
    let n = 0;
    for (let i = 0; i < iv.length; i += 2) {
      const a = Math.max(iv[i]!, from);
      const b = Math.min(iv[i + 1]!, to);
      if (a <= b) n += b - a + 1;
    }
    return n;
  }

  /** The runs of [from, to] that are not members, ascending, at most `max` of them. */
  gapsIn(from: number, to: number, max: number): [number, number][] {
    const iv = this.iv;
    const out: [number, number][] = [];
    let next = from;
    for (let i = 0; i < iv.length && next <= to && out.length < max; i += 2) {
      if (iv[i + 1]! < next) continue;
      if (iv[i]! > next) out.push([next, Math.min(iv[i]! - 1, to)]);
      next = iv[i + 1]! + 1;
    }
    if (next <= to && out.length < max) out.push([next, to]);
    return out;
  }

  has(seq: number): boolean {
    const iv = this.iv;
    let lo = 0;
    let hi = iv.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (iv[mid * 2 + 1]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo * 2 < iv.length && iv[lo * 2]! <= seq;
  }

  /** Members in [from, to] (inclusive), ascending. */
  *range(from: number, to: number): Generator<number> {
    const iv = this.iv;
    for (let i = 0; i < iv.length; i += 2) {
      const a = Math.max(iv[i]!, from);
      const b = Math.min(iv[i + 1]!, to);
      for (let s = a; s <= b; s++) yield s;
      if (iv[i + 1]! >= to) return;
    }
  }
}
