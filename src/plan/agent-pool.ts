/**
 * Agent assignment: each arriving customer gets the least-loaded agent that is under its cap
 * (ties: the lowest agent index); when every agent is full the customer waits, first in first
 * out, until a conversation ends. Two binary heaps make it O(log n) per customer, so a plan of
 * 100,000 customers and thousands of agents builds in well under a second:
 *
 *   free agents:  indexed min-heap on (load, index), holding only agents below their cap
 *   busy slots:   min-heap on conversation end time (endMs, agent)
 */
export class AgentPool {
  private readonly load: Int32Array;
  private readonly caps: Int32Array;
  /** Position of each agent in `heap`, -1 when full (not in the heap). */
  private readonly pos: Int32Array;
  private readonly heap: number[] = [];
  private readonly ends: { endMs: number; agent: number }[] = [];
  /** Start of the previous assignment: the queue is FIFO, nobody overtakes. */
  private lastStart = -Infinity;

  constructor(caps: readonly number[]) {
    this.caps = Int32Array.from(caps);
    this.load = new Int32Array(caps.length);
    this.pos = new Int32Array(caps.length).fill(-1);
    for (let a = 0; a < caps.length; a++) this.push(a);
  }

  /** Assign a customer arriving at `arriveMs`: the agent index and when the conversation starts. */
  assign(arriveMs: number): { agent: number; startMs: number } {
    let t = Math.max(arriveMs, this.lastStart);
    this.releaseUntil(t);
    while (this.heap.length === 0) {
      // Everyone is full: wait for the earliest conversation to end.
      t = Math.max(t, (this.ends[0] as { endMs: number }).endMs);
      this.releaseUntil(t);
    }
    const agent = this.heap[0] as number;
    this.load[agent] = (this.load[agent] as number) + 1;
    if ((this.load[agent] as number) >= (this.caps[agent] as number)) this.removeTop();
    else this.siftDown(0);
    this.lastStart = t;
    return { agent, startMs: t };
  }

  /** The agent's conversation ends at `endMs` (its slot is free from then on). */
  release(agent: number, endMs: number): void {
    const e = this.ends;
    e.push({ endMs, agent });
    let i = e.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (endBefore(e[p]!, e[i]!)) break;
      [e[p], e[i]] = [e[i]!, e[p]!];
      i = p;
    }
  }

  /** Conversations an agent holds now (for tests). */
  loadOf(agent: number): number {
    return this.load[agent] ?? 0;
  }

  private releaseUntil(t: number): void {
    const e = this.ends;
    while (e.length > 0 && (e[0] as { endMs: number }).endMs <= t) {
      const top = e[0] as { endMs: number; agent: number };
      const last = e.pop() as { endMs: number; agent: number };
      if (e.length > 0) {
        e[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < e.length && endBefore(e[l]!, e[m]!)) m = l;
          if (r < e.length && endBefore(e[r]!, e[m]!)) m = r;
          if (m === i) break;
          [e[m], e[i]] = [e[i]!, e[m]!];
          i = m;
        }
      }
      const a = top.agent;
      this.load[a] = (this.load[a] as number) - 1;
      if (this.pos[a] === -1) this.push(a);
      else this.siftUp(this.pos[a] as number);
    }
  }

  private less(a: number, b: number): boolean {
    const la = this.load[a] as number;
    const lb = this.load[b] as number;
    return la < lb || (la === lb && a < b);
  }

  private push(a: number): void {
    this.heap.push(a);
    this.pos[a] = this.heap.length - 1;
    this.siftUp(this.heap.length - 1);
  }

  private removeTop(): void {
    const top = this.heap[0] as number;
    const last = this.heap.pop() as number;
    this.pos[top] = -1;
    if (this.heap.length > 0 && last !== top) {
      this.heap[0] = last;
      this.pos[last] = 0;
      this.siftDown(0);
    }
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i] as number;
    const b = h[j] as number;
    h[i] = b;
    h[j] = a;
    this.pos[b] = i;
    this.pos[a] = j;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.heap[i] as number, this.heap[p] as number)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as number, h[m] as number)) m = l;
      if (r < h.length && this.less(h[r] as number, h[m] as number)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}

function endBefore(a: { endMs: number; agent: number }, b: { endMs: number; agent: number }): boolean {
  return a.endMs < b.endMs || (a.endMs === b.endMs && a.agent < b.agent);
}
