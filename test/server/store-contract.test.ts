import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, SqliteStore, type Store } from '../../src/server/index.ts';
import { FIXTURE } from './raw-client.ts';

const text = (conv: string, fromAccount: string, fromDevice: string, cid: string) => ({
  conv, fromAccount, fromDevice, cid, kind: 'text' as const, body: cid, attachments: undefined,
});

describe.each(['memory', 'sqlite'] as const)('%s store contract', (kind) => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatstorm-store-test-'));
    store = kind === 'memory' ? new MemoryStore() : new SqliteStore(join(dir, 'chat.db'));
    store.provision(FIXTURE);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a staged message invisible except to dedup until flush', () => {
    const m = store.append(text('ac', 'A', 'a1', 'k1'));
    expect(m.seq).toBe(1);
    expect(store.findByCid('a1', 'k1')).toEqual(m);
    expect(store.conversation('ac')!.lastSeq).toBe(0);
    expect(store.after('ac', 0, 10)).toEqual([]);
    expect(store.page('ac', { limit: 10 }).messages).toEqual([]);
    expect(store.unread('ac', 'C')).toBe(0);
    store.flush();
    expect(store.conversation('ac')!.lastSeq).toBe(1);
    expect(store.after('ac', 0, 10)).toEqual([m]);
    expect(store.unread('ac', 'C')).toBe(1);
    expect(store.unread('ac', 'A')).toBe(0);
  });

  it('counts unread as messages after the read cursor not sent by the account, and never moves the cursor back', () => {
    for (const [acc, dev, cid] of [['A', 'a1', '1'], ['C', 'c1', '2'], ['A', 'a2', '3'], ['C', 'c1', '4']] as const) {
      store.append(text('ac', acc, dev, cid));
    }
    store.flush();
    expect([store.unread('ac', 'A'), store.unread('ac', 'C')]).toEqual([2, 2]);
    expect(store.advanceRead('ac', 'A', 2)).toBe(2);
    expect(store.unread('ac', 'A')).toBe(1);
    expect(store.advanceRead('ac', 'A', 1)).toBe(2);
    expect(store.advanceRead('ac', 'A', 99)).toBe(4);
    expect(store.unread('ac', 'A')).toBe(0);
    store.append(text('ac', 'C', 'c1', '5'));
    store.flush();
    expect(store.unread('ac', 'A')).toBe(1);
  });

  it('returns the first stored copy for a cid stored twice', () => {
    const first = store.append(text('grp', 'A', 'a1', 'same'));
    store.append(text('grp', 'A', 'a1', 'same'));
    store.flush();
    expect(store.findByCid('a1', 'same')).toEqual(first);
  });
});

describe('SQLite store commit failure', () => {
  it('discards the staged messages and reuses their seqs when the transaction fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatstorm-store-test-'));
    const path = join(dir, 'chat.db');
    const store = new SqliteStore(path);
    try {
      store.provision(FIXTURE);
      store.append(text('ac', 'A', 'a1', 'ok'));
      store.flush();
      // Another writer takes seq 2 behind the store's back, so the next commit conflicts.
      const other = new Database(path);
      other.prepare("INSERT INTO messages (conv_no, seq, from_account, from_device, cid, kind, body, ts) SELECT no, 2, 'A', 'zz', 'zz', 'text', '', 0 FROM conversations WHERE id = 'ac'").run();
      store.append(text('ac', 'A', 'a1', 'doomed'));
      expect(() => store.flush()).toThrow(/UNIQUE|PRIMARY KEY/);
      expect(store.conversation('ac')!.lastSeq).toBe(1);
      expect(store.findByCid('a1', 'doomed')).toBeUndefined();
      other.prepare("DELETE FROM messages WHERE cid = 'zz'").run();
      other.close();
      expect(store.append(text('ac', 'A', 'a1', 'retry')).seq).toBe(2);
      store.flush();
      expect(store.after('ac', 0, 10).map((m) => m.cid)).toEqual(['ok', 'retry']);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
