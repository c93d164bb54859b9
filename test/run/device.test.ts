/**
 * VirtualDevice against the real reference server (in process, memory store): reconnect after a
 * kill between send and ack resends with the original key and the server stores and acks it once;
 * attachments are uploaded and every recipient records the sha256 of what it downloaded.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { ReferenceDeviceState, referenceDriver } from '../../src/drivers/reference.ts';
import { encodeMarker } from '../../src/drivers/marker.ts';
import { Recorder } from '../../src/history/recorder.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { VirtualDevice, type DeviceHistoryOptions, type DeviceHooks } from '../../src/run/device.ts';
import type { PlannedAccount } from '../../src/plan/plan.ts';
import { startRelay, type Relay } from './relay.ts';

const accounts: PlannedAccount[] = [
  { id: 'A', role: 'agent', network: 'lan', devices: [{ id: 'a1', kind: 'desktop', token: 'ta1' }] },
  { id: 'C', role: 'customer', network: 'wan', devices: [{ id: 'c1', kind: 'mobile', token: 'tc1' }, { id: 'c2', kind: 'web', token: 'tc2' }] },
];
const conversations = [{ id: 'dm', kind: 'direct' as const, members: ['C', 'A'], openMs: 0 }];

/** Poll until `cond` holds; bounded (2 s in 10 ms steps). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('VirtualDevice with the reference driver', () => {
  let server: ReferenceServer;
  let relay: Relay;
  let events: HistoryEvent[];
  let recorder: Recorder;
  const devices: VirtualDevice[] = [];

  const device = (account: string, id: string, url: string, hooks?: DeviceHooks, history?: DeviceHistoryOptions) => {
    const a = accounts.find((x) => x.id === account) as PlannedAccount;
    const d = a.devices.find((x) => x.id === id)!;
    const dev = new VirtualDevice({
      identity: { account, role: a.role, device: id, token: d.token },
      url,
      driver: referenceDriver,
      recorder,
      random: () => 0.5,
      connectTimeoutMs: 2000,
      hooks,
      ...(history ? { history } : {}),
    });
    devices.push(dev);
    return dev;
  };
  const of = <T extends HistoryEvent['type']>(type: T, key?: string) =>
    events.filter((e): e is Extract<HistoryEvent, { type: T }> => e.type === type && (key === undefined || (e as { key?: string }).key === key));

  beforeEach(async () => {
    server = await startReferenceServer({ port: 0, store: 'memory', rateLimit: null });
    await referenceDriver.provision({ runId: 't', url: server.url, accounts, conversations });
    relay = await startRelay(server.port);
    recorder = new Recorder();
    events = [];
    recorder.listen((e) => events.push(e));
  });
  afterEach(async () => {
    for (const d of devices.splice(0)) d.stop();
    await relay.close();
    await server.close();
  });

  it('resends a message killed between send and ack with the same key, and the server acks it once', async () => {
    const c1 = device('C', 'c1', relay.url);
    const a1 = device('A', 'a1', server.url);
    expect(await c1.connect()).toBe(true);
    expect(await a1.connect()).toBe(true);

    relay.swallowDownstream = true; // the ack will not reach c1
    const key = 'c1#1';
    c1.send({ key, conv: 'dm', kind: 'text', body: encodeMarker({ runId: 't', key, intendedMs: 0 }) + ' where is my parcel', bytes: 60, intendedMs: 0 });
    // The server stored it: the agent got it. The sender has no ack.
    await until(() => of('deliver', key).length === 1, 'the agent to receive the message');
    expect(of('ack', key)).toHaveLength(0);
    expect(c1.outbox.has(key)).toBe(true);

    expect(c1.kill()).toBe(true);
    relay.swallowDownstream = false;
    await until(() => of('ack', key).length === 1, 'the ack after the resend');
    await until(() => c1.state === 'live', 'c1 to be live');

    const sends = of('send', key);
    expect(sends.map((s) => [s.key, s.attempt])).toEqual([
      [key, 1],
      [key, 2],
    ]);
    expect(of('disconnect').filter((d) => d.device === 'c1')).toEqual([expect.objectContaining({ reason: 'killed by fault', intentional: true })]);
    // One stored copy: the resend was answered with the original id, no second fan-out, one row in history.
    const ack = of('ack', key)[0]!;
    const deliver = of('deliver', key)[0]!;
    expect(ack.id).toBe(deliver.id);
    expect(of('deliver', key).filter((d) => d.device === 'a1')).toHaveLength(1);
    // The sender's sync replay may show its own message back: same id, a harmless redelivery.
    for (const d of of('deliver', key)) expect(d.id).toBe(ack.id);
    const page = await a1.connection!.history!({ conv: 'dm', limit: 50 });
    expect(page.messages.filter((m) => m.key === key)).toHaveLength(1);
    expect(c1.outbox.size).toBe(0);
  });

  const sendTexts = (dev: VirtualDevice, n: number) => {
    for (let i = 1; i <= n; i++) {
      const key = `${dev.id}#${i}`;
      dev.send({ key, conv: 'dm', kind: 'text', body: encodeMarker({ runId: 't', key, intendedMs: 0 }) + ' hi', bytes: 50, intendedMs: 0 });
    }
  };

  it('loads the newest page, then walks back before the oldest seq until the server has no more', async () => {
    const c1 = device('C', 'c1', server.url);
    const a1 = device('A', 'a1', server.url, undefined, { pageSize: 5, pages: 4, onReconnect: false });
    await c1.connect();
    await a1.connect();
    sendTexts(c1, 12);
    await until(() => of('ack').length === 12, 'twelve acks');

    // Four pages allowed, but the third is the last: 12 messages in pages of 5.
    expect(await a1.loadHistory('dm')).toBe(3);
    const pages = of('page');
    expect(pages.map((p) => [p.device, p.conv, p.before, p.limit, p.seqs, p.hasMore])).toEqual([
      ['a1', 'dm', undefined, 5, [8, 9, 10, 11, 12], true],
      ['a1', 'dm', 8, 5, [3, 4, 5, 6, 7], true],
      ['a1', 'dm', 3, 5, [1, 2], false],
    ]);
    expect(pages[0]!.keys).toEqual(['c1#8', 'c1#9', 'c1#10', 'c1#11', 'c1#12']);
    expect('before' in pages[0]!).toBe(false);
    // The request went out after every ack it should reflect, and each page is timed from its
    // own request (sent after the previous page arrived), not from the start of the load.
    expect(pages[0]!.atMs - pages[0]!.tookMs).toBeGreaterThanOrEqual(of('ack').at(-1)!.atMs - 0.002);
    for (let i = 1; i < pages.length; i++) {
      expect(pages[i]!.atMs - pages[i]!.tookMs).toBeGreaterThanOrEqual(pages[i - 1]!.atMs - 0.002);
    }
    expect(a1.historyLoads).toBe(0);
  });

  it('stops after `pages` pages, and loads nothing when not live or without history options', async () => {
    const c1 = device('C', 'c1', server.url);
    const a1 = device('A', 'a1', server.url, undefined, { pageSize: 2, pages: 2, onReconnect: false });
    expect(await a1.loadHistory('dm')).toBe(0);
    await c1.connect();
    await a1.connect();
    sendTexts(c1, 7);
    await until(() => of('ack').length === 7, 'seven acks');
    expect(await a1.loadHistory('dm')).toBe(2);
    expect(of('page').map((p) => [p.before, p.seqs, p.hasMore])).toEqual([
      [undefined, [6, 7], true],
      [6, [4, 5], true],
    ]);
    expect(await c1.loadHistory('dm')).toBe(0);
    expect(of('page')).toHaveLength(2);
  });

  it('walks ascending after a seq with a walk, also on a device that loads no history of its own', async () => {
    const c1 = device('C', 'c1', server.url);
    await c1.connect();
    sendTexts(c1, 9);
    await until(() => of('ack').length === 9, 'nine acks');
    // Three pages of 3 from after seq 1: the last one reaches the newest message and says so.
    expect(await c1.loadHistory('dm', { after: 1, pages: 5, pageSize: 3 })).toBe(3);
    const pages = of('page');
    expect(pages.map((p) => [p.after, p.before, p.limit, p.seqs, p.hasMore])).toEqual([
      [1, undefined, 3, [2, 3, 4], true],
      [4, undefined, 3, [5, 6, 7], true],
      [7, undefined, 3, [8, 9], false],
    ]);
    expect(pages.every((p) => !('before' in p))).toBe(true);
    expect(await c1.loadHistory('dm', { after: 0, pages: 1, pageSize: 2 })).toBe(1);
    expect(of('page').at(-1)!.seqs).toEqual([1, 2]);
  });

  it('carries a walk on after a reconnect from where it was, and starts one only once the device is live', async () => {
    const c1 = device('C', 'c1', server.url);
    const c2 = device('C', 'c2', server.url);
    await c1.connect();
    sendTexts(c1, 9);
    await until(() => of('ack').length === 9, 'nine acks');
    // Killed right after its first page: the walk waits for the reconnect and asks for what follows.
    let killed = false;
    recorder.listenNow((e) => {
      if (e.type === 'page' && e.device === 'c1' && !killed) killed = c1.kill();
    });
    const walked = c1.loadHistory('dm', { after: 0, pages: 4, pageSize: 2 });
    expect(await walked).toBe(4);
    expect(killed).toBe(true);
    const pages = of('page').filter((p) => p.device === 'c1');
    expect(pages.map((p) => [p.after, p.seqs])).toEqual([
      [0, [1, 2]],
      [2, [3, 4]],
      [4, [5, 6]],
      [6, [7, 8]],
    ]);
    const reconnected = events.findIndex((e) => e.type === 'connected' && e.device === 'c1' && events.indexOf(pages[0]!) < events.indexOf(e));
    expect(reconnected).toBeGreaterThan(-1);
    expect(events.indexOf(pages[1]!)).toBeGreaterThan(reconnected);
    // A device not live yet: the walk waits for it, and the drain sees it under way meanwhile.
    const early = c2.loadHistory('dm', { after: 7, pages: 3, pageSize: 5 });
    expect(c2.historyLoads).toBe(1);
    await c2.connect();
    expect(await early).toBe(1);
    expect(of('page').filter((p) => p.device === 'c2').map((p) => [p.after, p.seqs, p.hasMore])).toEqual([[7, [8, 9], false]]);
  });

  it('after a reconnect, loads the history of every conversation it has messages in', async () => {
    const c1 = device('C', 'c1', server.url);
    const a1 = device('A', 'a1', relay.url, undefined, { pageSize: 50, pages: 1, onReconnect: true });
    await c1.connect();
    await a1.connect();
    sendTexts(c1, 3);
    await until(() => of('deliver').filter((d) => d.device === 'a1').length === 3, 'a1 to get three messages');
    // The first connection loads nothing by itself.
    expect(of('page')).toHaveLength(0);
    a1.kill();
    await until(() => of('page').length === 1, 'a page after the reconnect');
    const [p] = of('page');
    expect([p!.device, p!.conv, p!.seqs, p!.hasMore]).toEqual(['a1', 'dm', [1, 2, 3], false]);
    const live = of('connected').filter((e) => e.device === 'a1');
    expect(live).toHaveLength(2);
    expect(p!.atMs).toBeGreaterThan(live[1]!.atMs);
    // Each connection reports the unread counts the server greeted it with, before it is live.
    const welcome = of('unread').filter((e) => e.device === 'a1' && e.source === 'welcome');
    expect(welcome.map((e) => [e.conv, e.count, e.readSeq])).toEqual([
      ['dm', 0, 0],
      ['dm', 3, 0],
    ]);
    expect(welcome[1]!.atMs).toBeLessThan(live[1]!.atMs);
  });

  it('syncs from the last sequence it saw after a reconnect and gets what it missed', async () => {
    const c2 = device('C', 'c2', relay.url);
    const a1 = device('A', 'a1', server.url);
    await c2.connect();
    await a1.connect();
    const send = (n: number) => {
      const key = `a1#${n}`;
      a1.send({ key, conv: 'dm', kind: 'text', body: encodeMarker({ runId: 't', key, intendedMs: 0 }) + ' hello', bytes: 50, intendedMs: 0 });
      return key;
    };
    send(1);
    await until(() => of('deliver', 'a1#1').length === 1, 'the first message');
    relay.swallowDownstream = true;
    send(2);
    send(3);
    await until(() => of('ack', 'a1#3').length === 1, 'acks of the sender');
    c2.kill();
    relay.swallowDownstream = false;
    await until(() => of('deliver', 'a1#3').length === 1, 'the replay');
    const got = of('deliver').filter((d) => d.device === 'c2');
    expect(got.map((d) => [d.key, d.seq, d.replay])).toEqual([
      ['a1#1', 1, false],
      ['a1#2', 2, true],
      ['a1#3', 3, true],
    ]);
  });

  it('keeps its sync cursor below a message held for its attachment download, so a reconnect replays it', async () => {
    const c1 = device('C', 'c1', server.url);
    const a1 = device('A', 'a1', relay.url);
    await c1.connect();
    await a1.connect();
    // a1 gets the image message but never the answer to its download: the driver holds it.
    let downloadsDropped = 0;
    relay.dropDownstream = (opcode, payload) => {
      const drop = opcode === 2 || (opcode === 1 && /"t":"download-(start|done)"/.test(payload.toString()));
      if (drop) downloadsDropped++;
      return drop;
    };
    const img = Buffer.alloc(50_000, 9);
    const sha = createHash('sha256').update(img).digest('hex');
    const key = 'c1#1';
    c1.send({ key, conv: 'dm', kind: 'image', body: encodeMarker({ runId: 't', key, intendedMs: 0 }), bytes: 40, intendedMs: 0, attachments: [{ name: 'p.png', mime: 'image/png', bytes: img, sha256: sha }] });
    await until(() => downloadsDropped >= 2, 'a1 to have asked for the download');
    // Its own message is acknowledged with a later seq while the image is still held.
    const own = 'a1#1';
    a1.send({ key: own, conv: 'dm', kind: 'text', body: encodeMarker({ runId: 't', key: own, intendedMs: 0 }) + ' one moment', bytes: 50, intendedMs: 0 });
    await until(() => of('ack', own).length === 1, 'the ack of its own message');
    expect([of('ack', key)[0]!.seq, of('ack', own)[0]!.seq]).toEqual([1, 2]);
    expect(of('deliver', key)).toHaveLength(0);
    // The catch-up position stays below the held message (it was never handed over).
    expect((a1.driverState as ReferenceDeviceState).syncFrom('dm')).toBe(0);

    relay.dropDownstream = null;
    a1.kill();
    await until(() => of('deliver', key).length === 1, 'the held message to be replayed after the reconnect');
    expect(of('deliver', key)[0]).toMatchObject({ device: 'a1', seq: 1, replay: true, sha256: [sha] });
    await until(() => a1.state === 'live', 'a1 to be live');
    // Handed over: the cursor is free again and includes the own message.
    expect((a1.driverState as ReferenceDeviceState).syncFrom('dm')).toBe(2);

    // A second reconnect syncs from 2: nothing is replayed again (c1#2 arrives as the next message).
    a1.kill();
    await until(() => a1.state === 'live', 'a1 to be live again');
    const next = 'c1#2';
    c1.send({ key: next, conv: 'dm', kind: 'text', body: encodeMarker({ runId: 't', key: next, intendedMs: 0 }) + ' thanks', bytes: 50, intendedMs: 0 });
    await until(() => of('deliver', next).length === 1, 'the next message');
    expect(of('deliver').filter((d) => d.device === 'a1' && d.key !== own).map((d) => [d.key, d.seq, d.replay])).toEqual([
      [key, 1, true],
      [next, 3, false],
    ]);
  });

  it('uploads attachments, records their sha256 on the send, and each recipient records the sha256 it downloaded', async () => {
    const c1 = device('C', 'c1', server.url);
    const c2 = device('C', 'c2', server.url);
    const a1 = device('A', 'a1', server.url);
    for (const d of [c1, c2, a1]) await d.connect();
    const bytes = [Buffer.alloc(300_000, 7), Buffer.from('a small document')];
    const sha = bytes.map((b) => createHash('sha256').update(b).digest('hex'));
    const key = 'c1#1';
    c1.send({
      key,
      conv: 'dm',
      kind: 'image',
      body: encodeMarker({ runId: 't', key, intendedMs: 0 }),
      bytes: 40,
      intendedMs: 0,
      attachments: bytes.map((b, i) => ({ name: `f${i}`, mime: 'application/octet-stream', bytes: b, sha256: sha[i]! })),
    });
    // A text sent right after must not overtake the upload.
    const key2 = 'c1#2';
    c1.send({ key: key2, conv: 'dm', kind: 'text', body: encodeMarker({ runId: 't', key: key2, intendedMs: 0 }) + ' see above', bytes: 50, intendedMs: 0 });
    await until(() => of('deliver', key2).length === 2, 'both recipients to get the text');
    expect(of('send', key)[0]).toMatchObject({ sha256: sha, attachmentBytes: [300_000, 16] });
    const delivered = of('deliver', key);
    expect(delivered.map((d) => d.device).sort()).toEqual(['a1', 'c2']);
    for (const d of delivered) expect(d.sha256).toEqual(sha);
    expect(of('ack', key)[0]!.seq!).toBeLessThan(of('ack', key2)[0]!.seq!);
    for (const dev of ['a1', 'c2']) {
      const order = of('deliver').filter((d) => d.device === dev).map((d) => d.key);
      expect(order).toEqual([key, key2]);
    }
  });

  it('kills a connection in the middle of an upload and completes the message after reconnecting', async () => {
    let killed = 0;
    const hooks: DeviceHooks = {
      uploadProgress: (dev, _key, sent, total) => {
        if (killed === 0 && sent < total) {
          killed++;
          dev.kill('killed during upload');
        }
      },
    };
    const c1 = device('C', 'c1', server.url, hooks);
    const a1 = device('A', 'a1', server.url);
    await c1.connect();
    await a1.connect();
    const big = Buffer.alloc(1_000_000, 3);
    const sha = createHash('sha256').update(big).digest('hex');
    const key = 'c1#1';
    c1.send({ key, conv: 'dm', kind: 'file', body: encodeMarker({ runId: 't', key, intendedMs: 0 }), bytes: 40, intendedMs: 0, attachments: [{ name: 'big.pdf', mime: 'application/pdf', bytes: big, sha256: sha }] });
    await until(() => of('deliver', key).length === 1, 'the file to arrive after the reconnect');
    expect(killed).toBe(1);
    expect(of('send', key).map((s) => s.attempt)).toEqual([1, 2]);
    expect(of('ack', key)).toHaveLength(1);
    expect(of('deliver', key)[0]!.sha256).toEqual([sha]);
  });
});
