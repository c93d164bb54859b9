/**
 * In-memory implementation of {@link Store}: nothing survives `close()`. Messages of a
 * conversation live in an array indexed by `seq - 1` (seqs are contiguous), so paging is slicing.
 */
import type { ProvisionRequest } from '../protocol/frames.ts';
import type { PreloadRequest } from './admin-schema.ts';
import { preloadPlan } from './preload-message.ts';
import { checkProvision } from './provision-check.ts';
import { UnknownConversationError } from './server-errors.ts';
import { Directory } from './directory.ts';
import type {
  ConversationRecord,
  HistoryPage,
  HistoryQuery,
  NewMessage,
  PreloadResult,
  StoredAttachment,
  StoredMessage,
  Store,
} from './store.ts';

interface ConvState {
  rec: ConversationRecord & { members: string[] };
  /** Highest seq assigned; above `rec.lastSeq` while messages are staged. */
  assigned: number;
  messages: StoredMessage[];
  /** Ascending seqs of each member's own messages (for unread counts by binary search). */
  own: Map<string, number[]>;
  read: Map<string, number>;
}

/** {@link Store} in process memory; `flush` only makes staged messages visible. */
export class MemoryStore extends Directory<ConvState> implements Store {
  private readonly byCid = new Map<string, StoredMessage>();
  private readonly attachments = new Map<string, StoredAttachment>();
  /** Attachment id -> conversations whose messages carry it. */
  private readonly attachmentConvs = new Map<string, Set<string>>();
  private nextId = 1;
  private readonly staged = new Set<ConvState>();

  provision(req: ProvisionRequest): void {
    checkProvision(req, (id) => this.devices.get(id)?.account, (id) => this.roles.has(id));
    this.putAccounts(req.accounts);
    for (const c of req.conversations) {
      const members = [...new Set(c.members)];
      const existing = this.convs.get(c.id);
      if (existing) {
        this.unindexMembers(c.id, existing.rec.members);
        existing.rec.kind = c.kind;
        existing.rec.members = members;
      } else {
        this.convs.set(c.id, {
          rec: { id: c.id, kind: c.kind, members, lastSeq: 0 },
          assigned: 0,
          messages: [],
          own: new Map(),
          read: new Map(),
        });
      }
      this.indexMembers(c.id, members);
    }
  }

  findByCid(device: string, cid: string): StoredMessage | undefined {
    return this.byCid.get(cidKey(device, cid));
  }

  append(msg: NewMessage): StoredMessage {
    return this.appendAt(msg, Date.now());
  }

  flush(): void {
    for (const c of this.staged) c.rec.lastSeq = c.assigned;
    this.staged.clear();
  }

  private appendAt(msg: NewMessage, ts: number): StoredMessage {
    const c = this.convs.get(msg.conv);
    if (!c) throw new UnknownConversationError(msg.conv);
    const seq = ++c.assigned;
    this.staged.add(c);
    const stored: StoredMessage = { ...msg, id: `m${this.nextId++}`, seq, ts };
    c.messages.push(stored);
    let own = c.own.get(msg.fromAccount);
    if (!own) c.own.set(msg.fromAccount, (own = []));
    own.push(seq);
    const key = cidKey(msg.fromDevice, msg.cid);
    if (!this.byCid.has(key)) this.byCid.set(key, stored);
    for (const a of msg.attachments ?? []) {
      let convs = this.attachmentConvs.get(a.id);
      if (!convs) this.attachmentConvs.set(a.id, (convs = new Set()));
      convs.add(msg.conv);
    }
    return stored;
  }

  after(conv: string, afterSeq: number, limit: number): StoredMessage[] {
    const c = this.convs.get(conv);
    if (!c) return [];
    const from = Math.max(0, afterSeq);
    return c.messages.slice(from, Math.min(from + limit, c.rec.lastSeq));
  }

  page(conv: string, q: HistoryQuery): HistoryPage {
    const c = this.convs.get(conv);
    if (!c) return { messages: [], hasMore: false };
    const last = c.rec.lastSeq;
    const hi = Math.min(last, q.before !== undefined ? q.before - 1 : last);
    if (q.after !== undefined) {
      const lo = q.after + 1;
      if (lo > hi) return { messages: [], hasMore: false };
      const end = Math.min(hi, lo + q.limit - 1);
      return { messages: c.messages.slice(lo - 1, end), hasMore: end < hi };
    }
    if (hi < 1) return { messages: [], hasMore: false };
    const start = Math.max(1, hi - q.limit + 1);
    return { messages: c.messages.slice(start - 1, hi), hasMore: start > 1 };
  }

  readSeq(conv: string, account: string): number {
    return this.convs.get(conv)?.read.get(account) ?? 0;
  }

  advanceRead(conv: string, account: string, seq: number): number {
    const c = this.convs.get(conv);
    if (!c) return 0;
    const now = Math.max(c.read.get(account) ?? 0, Math.min(seq, c.rec.lastSeq));
    c.read.set(account, now);
    return now;
  }

  unread(conv: string, account: string): number {
    const c = this.convs.get(conv);
    if (!c) return 0;
    const readSeq = c.read.get(account) ?? 0;
    const own = c.own.get(account) ?? [];
    return c.rec.lastSeq - readSeq - (upperBound(own, c.rec.lastSeq) - upperBound(own, readSeq));
  }

  putAttachment(att: StoredAttachment): void {
    this.attachments.set(att.ref.id, att);
  }
  attachment(id: string): StoredAttachment | undefined {
    return this.attachments.get(id);
  }
  attachmentConversations(id: string): string[] {
    return [...(this.attachmentConvs.get(id) ?? [])];
  }

  preload(req: PreloadRequest): PreloadResult {
    const c = this.convs.get(req.conv);
    if (!c) throw new UnknownConversationError(req.conv);
    const t0 = performance.now();
    this.flush();
    const firstSeq = c.rec.lastSeq + 1;
    const plan = preloadPlan(c.rec, req, Date.now());
    for (let i = 0; i < req.count; i++) {
      const m = plan.message(i);
      this.appendAt(m, m.ts);
    }
    this.flush();
    return { conv: req.conv, count: req.count, firstSeq, lastSeq: c.rec.lastSeq, elapsedMs: performance.now() - t0 };
  }

  close(): void {
    this.flush();
  }
}

function cidKey(device: string, cid: string): string {
  return `${device}\u0000${cid}`;
}

/** Index of the first element > x in an ascending array. */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
