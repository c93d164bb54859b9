/**
 * SQLite implementation of {@link Store} (better-sqlite3, WAL).
 *
 * Durability: staged messages are inserted in one transaction per event-loop turn (`flush`,
 * group commit), and the server acks them only after that commit. With WAL and
 * `synchronous = NORMAL` a committed transaction survives a crash or kill of the process
 * (not necessarily a power cut), which is what "no acknowledged message lost on restart" needs.
 *
 * Accounts, devices, conversations (with lastSeq) and read cursors are small and cached in memory;
 * messages are not. Unread counts are cached per (conversation, account) and kept current on
 * append, so the fan-out path does not query per recipient.
 */
import Database from 'better-sqlite3';
import type { AttachmentRef, MessageKind, ProvisionRequest, Role } from '../protocol/frames.ts';
import type { PreloadRequest } from './admin-schema.ts';
import { preloadPlan } from './preload-message.ts';
import { checkProvision } from './provision-check.ts';
import { Directory } from './directory.ts';
import { UnknownConversationError } from './server-errors.ts';
import type {
  ConversationRecord,
  DeviceRecord,
  HistoryPage,
  HistoryQuery,
  NewMessage,
  PreloadResult,
  StoredAttachment,
  StoredMessage,
  Store,
} from './store.ts';

/** 2: attachments have an owner, and `attachment_convs` says where each was sent. */
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, role TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, account TEXT NOT NULL, token TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversations (
  no INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, members TEXT NOT NULL);
-- Clustered by (conversation, seq): a history page is one contiguous range of the table.
CREATE TABLE IF NOT EXISTS messages (
  conv_no INTEGER NOT NULL, seq INTEGER NOT NULL,
  from_account TEXT NOT NULL, from_device TEXT NOT NULL, cid TEXT NOT NULL,
  kind TEXT NOT NULL, body TEXT NOT NULL, ts INTEGER NOT NULL, attachments TEXT,
  preloaded INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conv_no, seq)) WITHOUT ROWID;
-- Dedup lookups; preloaded rows cannot be resent by a device, so they stay out of it (halves preload time).
CREATE INDEX IF NOT EXISTS messages_by_device_cid ON messages (from_device, cid) WHERE preloaded = 0;
-- Unread counts: own messages after the read cursor.
CREATE INDEX IF NOT EXISTS messages_by_conv_sender ON messages (conv_no, from_account, seq);
CREATE TABLE IF NOT EXISTS reads (
  conv_no INTEGER NOT NULL, account TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (conv_no, account)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
  sha256 TEXT NOT NULL, owner TEXT NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID;
-- Who may download an attachment: its owner and the members of the conversations it was sent in.
CREATE TABLE IF NOT EXISTS attachment_convs (
  attachment TEXT NOT NULL, conv_no INTEGER NOT NULL,
  PRIMARY KEY (attachment, conv_no)) WITHOUT ROWID;
`;

interface Row {
  conv_no: number;
  seq: number;
  from_account: string;
  from_device: string;
  cid: string;
  kind: string;
  body: string;
  ts: number;
  attachments: string | null;
}

interface Conv {
  no: number;
  rec: ConversationRecord & { members: string[] };
  /** Highest seq assigned; above `rec.lastSeq` while messages are staged. */
  assigned: number;
  read: Map<string, number>;
  /** Cached unread count per account; absent = compute on demand. */
  unread: Map<string, number>;
}

const COLS = 'conv_no, seq, from_account, from_device, cid, kind, body, ts, attachments';

/** {@link Store} in a SQLite file (created if missing; schema version checked on open). */
export class SqliteStore extends Directory<Conv> implements Store {
  private readonly db: Database.Database;
  private readonly convsByNo = new Map<number, Conv>();
  private readonly q;
  /** Staged messages in append order, and by (device, cid) for dedup before they are committed. */
  private staged: { conv: Conv; msg: StoredMessage }[] = [];
  private readonly stagedByCid = new Map<string, StoredMessage>();
  private readonly commitStaged;

  constructor(readonly path: string) {
    super();
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('cache_size = -65536'); // 64 MiB page cache
    this.db.pragma('temp_store = MEMORY');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const empty = (this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n === 0;
    if (!empty && version !== SCHEMA_VERSION) {
      throw new Error(`${path} has schema version ${version}, this server needs ${SCHEMA_VERSION}; use a fresh dbPath`);
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const db = this.db;
    this.q = {
      upsertAccount: db.prepare('INSERT INTO accounts (id, role) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET role = excluded.role'),
      upsertDevice: db.prepare(
        'INSERT INTO devices (id, account, token) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET account = excluded.account, token = excluded.token',
      ),
      upsertConv: db.prepare(
        'INSERT INTO conversations (id, kind, members) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, members = excluded.members RETURNING no',
      ),
      insertMessage: db.prepare(
        'INSERT INTO messages (conv_no, seq, from_account, from_device, cid, kind, body, ts, attachments, preloaded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // ORDER BY ts, seq: with the `no-dedup` defect a cid can be stored twice; the first copy is the original.
      byCid: db.prepare(
        `SELECT ${COLS} FROM messages WHERE from_device = ? AND cid = ? AND preloaded = 0 ORDER BY ts, seq LIMIT 1`,
      ),
      after: db.prepare(`SELECT ${COLS} FROM messages WHERE conv_no = ? AND seq > ? ORDER BY seq LIMIT ?`),
      between: db.prepare(`SELECT ${COLS} FROM messages WHERE conv_no = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?`),
      newestBelow: db.prepare(`SELECT ${COLS} FROM messages WHERE conv_no = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      ownAfter: db.prepare('SELECT count(*) AS n FROM messages WHERE conv_no = ? AND from_account = ? AND seq > ?'),
      upsertRead: db.prepare(
        'INSERT INTO reads (conv_no, account, seq) VALUES (?, ?, ?) ON CONFLICT (conv_no, account) DO UPDATE SET seq = excluded.seq',
      ),
      putAttachment: db.prepare('INSERT OR REPLACE INTO attachments (id, name, mime, size, sha256, owner, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      attachment: db.prepare('SELECT id, name, mime, size, sha256, owner, bytes FROM attachments WHERE id = ?'),
      sentIn: db.prepare('INSERT OR IGNORE INTO attachment_convs (attachment, conv_no) VALUES (?, ?)'),
      convsOf: db.prepare('SELECT conv_no FROM attachment_convs WHERE attachment = ?'),
    };
    this.commitStaged = this.db.transaction((rows: { conv: Conv; msg: StoredMessage }[]) => {
      for (const { conv, msg } of rows) {
        this.q.insertMessage.run(
          conv.no, msg.seq, msg.fromAccount, msg.fromDevice, msg.cid, msg.kind, msg.body, msg.ts,
          msg.attachments ? JSON.stringify(msg.attachments) : null, 0,
        );
        for (const a of msg.attachments ?? []) this.q.sentIn.run(a.id, conv.no);
      }
    });
    this.load();
  }

  private load(): void {
    for (const r of this.db.prepare('SELECT id, role FROM accounts').all() as { id: string; role: Role }[]) {
      this.roles.set(r.id, r.role);
    }
    for (const r of this.db.prepare('SELECT id, account, token FROM devices').all() as DeviceRecord[]) {
      this.devices.set(r.id, { id: r.id, account: r.account, token: r.token });
    }
    const lastSeq = this.db.prepare('SELECT max(seq) AS s FROM messages WHERE conv_no = ?');
    for (const r of this.db.prepare('SELECT no, id, kind, members FROM conversations').all() as {
      no: number;
      id: string;
      kind: 'direct' | 'group';
      members: string;
    }[]) {
      const last = (lastSeq.get(r.no) as { s: number | null }).s ?? 0;
      this.addConv(r.no, { id: r.id, kind: r.kind, members: JSON.parse(r.members) as string[], lastSeq: last });
    }
    for (const r of this.db.prepare('SELECT conv_no, account, seq FROM reads').all() as { conv_no: number; account: string; seq: number }[]) {
      this.convsByNo.get(r.conv_no)?.read.set(r.account, r.seq);
    }
  }

  private addConv(no: number, rec: Conv['rec']): void {
    const c: Conv = { no, rec, assigned: rec.lastSeq, read: new Map(), unread: new Map() };
    this.convs.set(rec.id, c);
    this.convsByNo.set(no, c);
    this.index(c);
  }

  private index(c: Conv): void {
    this.indexMembers(c.rec.id, c.rec.members);
  }

  provision(req: ProvisionRequest): void {
    checkProvision(req, (id) => this.devices.get(id)?.account, (id) => this.roles.has(id));
    this.db.transaction(() => {
      for (const a of req.accounts) {
        this.q.upsertAccount.run(a.id, a.role);
        for (const d of a.devices) this.q.upsertDevice.run(d.id, a.id, d.token);
      }
      for (const c of req.conversations) {
        const members = [...new Set(c.members)];
        const { no } = this.q.upsertConv.get(c.id, c.kind, JSON.stringify(members)) as { no: number };
        const existing = this.convs.get(c.id);
        if (existing) {
          this.unindexMembers(c.id, existing.rec.members);
          existing.rec.kind = c.kind;
          existing.rec.members = members;
          existing.unread.clear();
          this.index(existing);
        } else {
          this.addConv(no, { id: c.id, kind: c.kind, members, lastSeq: 0 });
        }
      }
    })();
    // Memory caches only after the transaction committed.
    this.putAccounts(req.accounts);
  }

  findByCid(device: string, cid: string): StoredMessage | undefined {
    const row = this.q.byCid.get(device, cid) as Row | undefined;
    return row ? this.toMessage(row) : this.stagedByCid.get(`${device}\u0000${cid}`);
  }

  append(msg: NewMessage): StoredMessage {
    const c = this.convs.get(msg.conv);
    if (!c) throw new UnknownConversationError(msg.conv);
    const seq = ++c.assigned;
    const stored: StoredMessage = { ...msg, id: messageId(c.no, seq), seq, ts: Date.now() };
    this.staged.push({ conv: c, msg: stored });
    const key = `${msg.fromDevice}\u0000${msg.cid}`;
    if (!this.stagedByCid.has(key)) this.stagedByCid.set(key, stored);
    return stored;
  }

  flush(): void {
    if (this.staged.length === 0) return;
    const rows = this.staged;
    this.staged = [];
    this.stagedByCid.clear();
    try {
      this.commitStaged(rows);
    } catch (err) {
      for (const { conv } of rows) conv.assigned = conv.rec.lastSeq;
      throw err;
    }
    for (const { conv, msg } of rows) {
      conv.rec.lastSeq = msg.seq;
      for (const [account, n] of conv.unread) if (account !== msg.fromAccount) conv.unread.set(account, n + 1);
    }
  }

  after(conv: string, afterSeq: number, limit: number): StoredMessage[] {
    const c = this.convs.get(conv);
    if (!c) return [];
    return (this.q.after.all(c.no, afterSeq, limit) as Row[]).map((r) => this.toMessage(r));
  }

  page(conv: string, q: HistoryQuery): HistoryPage {
    const c = this.convs.get(conv);
    if (!c) return { messages: [], hasMore: false };
    const before = q.before ?? c.rec.lastSeq + 1;
    if (q.after !== undefined) {
      const rows = this.q.between.all(c.no, q.after, before, q.limit + 1) as Row[];
      const hasMore = rows.length > q.limit;
      return { messages: rows.slice(0, q.limit).map((r) => this.toMessage(r)), hasMore };
    }
    const rows = this.q.newestBelow.all(c.no, before, q.limit + 1) as Row[];
    const hasMore = rows.length > q.limit;
    return { messages: rows.slice(0, q.limit).reverse().map((r) => this.toMessage(r)), hasMore };
  }

  readSeq(conv: string, account: string): number {
    return this.convs.get(conv)?.read.get(account) ?? 0;
  }

  advanceRead(conv: string, account: string, seq: number): number {
    const c = this.convs.get(conv);
    if (!c) return 0;
    const prev = c.read.get(account) ?? 0;
    const now = Math.max(prev, Math.min(seq, c.rec.lastSeq));
    if (now !== prev) {
      this.q.upsertRead.run(c.no, account, now);
      c.read.set(account, now);
      c.unread.delete(account);
    }
    return now;
  }

  unread(conv: string, account: string): number {
    const c = this.convs.get(conv);
    if (!c) return 0;
    const cached = c.unread.get(account);
    if (cached !== undefined) return cached;
    const readSeq = c.read.get(account) ?? 0;
    const own = (this.q.ownAfter.get(c.no, account, readSeq) as { n: number }).n;
    const n = c.rec.lastSeq - readSeq - own;
    c.unread.set(account, n);
    return n;
  }

  putAttachment(att: StoredAttachment): void {
    const r = att.ref;
    this.q.putAttachment.run(r.id, r.name, r.mime, r.size, r.sha256, att.owner, att.bytes);
  }

  attachment(id: string): StoredAttachment | undefined {
    const row = this.q.attachment.get(id) as (AttachmentRef & { owner: string; bytes: Buffer }) | undefined;
    if (!row) return undefined;
    const { bytes, owner, ...ref } = row;
    return { ref, bytes, owner };
  }

  attachmentConversations(id: string): string[] {
    const rows = this.q.convsOf.all(id) as { conv_no: number }[];
    return rows.flatMap((r) => {
      const conv = this.convsByNo.get(r.conv_no);
      return conv ? [conv.rec.id] : [];
    });
  }

  preload(req: PreloadRequest): PreloadResult {
    const c = this.convs.get(req.conv);
    if (!c) throw new UnknownConversationError(req.conv);
    const t0 = performance.now();
    this.flush();
    const firstSeq = c.rec.lastSeq + 1;
    const plan = preloadPlan(c.rec, req, Date.now());
    const insert = this.q.insertMessage;
    // One transaction per 100k rows: fast, and a huge preload does not hold one giant WAL.
    const BATCH = 100_000;
    const run = this.db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const m = plan.message(i);
        insert.run(c.no, firstSeq + i, m.fromAccount, m.fromDevice, m.cid, m.kind, m.body, m.ts, null, 1);
      }
    });
    for (let from = 0; from < req.count; from += BATCH) {
      run(from, Math.min(req.count, from + BATCH));
      c.rec.lastSeq = firstSeq + Math.min(req.count, from + BATCH) - 1;
      c.assigned = c.rec.lastSeq;
    }
    c.unread.clear();
    return { conv: req.conv, count: req.count, firstSeq, lastSeq: c.rec.lastSeq, elapsedMs: performance.now() - t0 };
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }

  private toMessage(r: Row): StoredMessage {
    return {
      id: messageId(r.conv_no, r.seq),
      conv: this.convsByNo.get(r.conv_no)?.rec.id ?? String(r.conv_no),
      seq: r.seq,
      fromAccount: r.from_account,
      fromDevice: r.from_device,
      cid: r.cid,
      kind: r.kind as MessageKind,
      body: r.body,
      ts: r.ts,
      attachments: r.attachments ? (JSON.parse(r.attachments) as AttachmentRef[]) : undefined,
    };
  }
}

/** Server message id: unique because (conversation, seq) is the table's key. */
function messageId(convNo: number, seq: number): string {
  return `m${convNo}.${seq}`;
}
