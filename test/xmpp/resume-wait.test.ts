/**
 * The careful client's bounded wait for `<resume/>`, against a scripted XMPP-over-WebSocket peer
 * (RFC 7395 framing) on 127.0.0.1 port 0 that never answers a resume — as ejabberd 23.01 does
 * for 15 s when its WebSocket transport wedged the old session (docs/findings/xmpp.md).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ConnectOptions, DeviceHandlers } from '../../src/drivers/driver.ts';
import { encodeMarker } from '../../src/drivers/marker.ts';
import { xmppDriver, type XmppContext, type XmppDeviceState } from '../../src/drivers/xmpp/index.ts';
import { UsageError } from '../../src/errors.ts';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="localhost" id="s1" version="1.0"/>';
const SASL = '<stream:features xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>';
const BOUND = '<stream:features xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/><sm xmlns="urn:xmpp:sm:3"/></stream:features>';
const KEY = 'c1.mobile0#1';

/**
 * A server that binds, enables resumable stream management, acknowledges nothing, leaves every
 * `<resume/>` unanswered, and answers every archive query with the device's own first message.
 */
async function wedgedPeer(onAuth?: (connection: number) => void) {
  const seen = { connections: 0, closed: 0, resumes: 0, binds: [] as string[], messages: [] as string[] };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'xmpp' });
  wss.on('connection', (ws) => {
    const connection = ++seen.connections;
    let authed = false;
    ws.on('close', () => seen.closed++);
    ws.on('message', (data) => {
      const s = String(data);
      const id = /^<iq[^>]* id="([^"]+)"/.exec(s)?.[1];
      if (s.startsWith('<open')) {
        ws.send(OPEN);
        ws.send(authed ? BOUND : SASL);
      } else if (s.startsWith('<auth')) {
        authed = true;
        onAuth?.(connection);
        ws.send('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
      } else if (s.includes('urn:ietf:params:xml:ns:xmpp-bind')) {
        const resource = /<resource>([^<]+)</.exec(s)?.[1] ?? '';
        seen.binds.push(resource);
        ws.send(`<iq xmlns="jabber:client" type="result" id="${id}"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>u1@localhost/${resource}</jid></bind></iq>`);
      } else if (s.startsWith('<enable')) {
        ws.send('<enabled xmlns="urn:xmpp:sm:3" id="sm-1" resume="true"/>');
      } else if (s.startsWith('<resume')) {
        seen.resumes++;
      } else if (s.includes('urn:xmpp:mam:2')) {
        const q = /queryid="([^"]+)"/.exec(s)?.[1];
        const body = encodeMarker({ runId: 'r1', key: KEY, intendedMs: 0 });
        ws.send(
          `<message xmlns="jabber:client" to="u1@localhost"><result xmlns="urn:xmpp:mam:2" queryid="${q}" id="A1"><forwarded xmlns="urn:xmpp:forward:0">` +
            `<delay xmlns="urn:xmpp:delay" stamp="${new Date().toISOString()}"/><message xmlns="jabber:client" from="u1@localhost/c1.mobile0.1" to="a1@localhost" type="chat">` +
            `<body>${body}</body><thread>dm1</thread></message></forwarded></result></message>`,
        );
        ws.send(`<iq xmlns="jabber:client" type="result" id="${id}"><fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"><last>A1</last></set></fin></iq>`);
      } else if (s.startsWith('<message')) {
        seen.messages.push(/<origin-id [^>]*id="([^"]+)"/.exec(s)?.[1] ?? '');
      } else if (s.startsWith('<iq') && id !== undefined) {
        ws.send(`<iq xmlns="jabber:client" type="result" id="${id}"/>`); // carbons, pings
      }
    });
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const { port } = wss.address() as AddressInfo;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

function context(port: number): XmppContext {
  return {
    runId: 'r1',
    domain: 'localhost',
    mucDomain: 'conference.localhost',
    path: '/xmpp-websocket',
    targetHost: `127.0.0.1:${port}`,
    uploadDomain: 'upload.localhost',
    jidOf: new Map([
      ['c1', 'u1@localhost'],
      ['a1', 'a1@localhost'],
    ]),
    convs: new Map([['dm1', { kind: 'direct' as const, members: ['c1', 'a1'] }]]),
    convOfRoom: new Map(),
    convsOf: new Map([['c1', ['dm1']]]),
    accountOfNick: new Map([['c1.mobile0', 'c1']]),
  };
}

describe('XMPP careful client and an unanswered resume', () => {
  let peer: Awaited<ReturnType<typeof wedgedPeer>> | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it.each([
    ['the first stream of a fresh connect', 1],
    ['the second stream, after an unanswered resume', 3],
  ])('stops an attempt stopped during SASL on %s: connect rejects and nothing binds after', async (_, at) => {
    const stop = new AbortController();
    peer = await wedgedPeer((connection) => {
      if (connection === at) stop.abort();
    });
    const driver = xmppDriver({ mode: 'careful', resumeWaitMs: 200 });
    const identity = { account: 'c1', role: 'customer' as const, device: 'c1.mobile0', token: '' };
    const state = driver.deviceState!(identity) as XmppDeviceState;
    const handlers: DeviceHandlers = { message: () => undefined, ack: () => undefined, refused: () => undefined, unread: () => undefined, position: () => undefined, closed: () => undefined };
    const opts: ConnectOptions<XmppContext, XmppDeviceState> = { url: `ws://127.0.0.1:${peer.port}`, identity, context: context(peer.port), state, position: undefined, handlers, timeoutMs: 10_000 };
    if (at > 1) {
      // A live session with resumption, then killed: the next attempt resumes, unanswered.
      (await driver.connect(opts)).kill();
    }
    const binds = peer.seen.binds.length;
    await expect(driver.connect({ ...opts, signal: stop.signal })).rejects.toThrow();
    expect(stop.signal.aborted).toBe(true);
    expect(peer.seen.binds.length).toBe(binds);
    await expect.poll(() => peer!.seen.closed).toBe(peer.seen.connections);
  });

  it('gives the wedged session up after resumeWaitMs, starts a new one on a new stream, and finds its unacknowledged send in the archive instead of resending it', async () => {
    peer = await wedgedPeer();
    const driver = xmppDriver({ mode: 'careful', resumeWaitMs: 200 });
    const identity = { account: 'c1', role: 'customer' as const, device: 'c1.mobile0', token: '' };
    const state = driver.deviceState!(identity) as XmppDeviceState;
    const acks: string[] = [];
    const steps: string[] = [];
    const handlers: DeviceHandlers = {
      message: () => undefined,
      ack: (a) => acks.push(a.key),
      refused: () => undefined,
      unread: () => undefined,
      position: () => undefined,
      step: (s) => steps.push(s),
      closed: () => undefined,
    };
    const opts: ConnectOptions<XmppContext, XmppDeviceState> = {
      url: `ws://127.0.0.1:${peer.port}`,
      identity,
      context: context(peer.port),
      state,
      position: undefined,
      handlers,
      timeoutMs: 10_000,
    };
    const first = await driver.connect(opts);
    first.send({ key: KEY, conv: 'dm1', kind: 'text', body: encodeMarker({ runId: 'r1', key: KEY, intendedMs: 0 }) }, 1);
    await expect.poll(() => peer!.seen.messages).toEqual([KEY]);
    expect(state.unacked.map((u) => u.key)).toEqual([KEY]);
    first.kill();

    steps.length = 0;
    const second = await driver.connect(opts);
    // The resume went out on the second WebSocket and was never answered; a third carried the new session.
    expect(peer.seen.resumes).toBe(1);
    expect(peer.seen.connections).toBe(3);
    expect(peer.seen.binds).toEqual(['c1.mobile0.1', 'c1.mobile0.2']);
    expect(steps.slice(0, 2)).toEqual(['ws', 'open']);
    expect(steps).toContain('resume');
    expect(steps.indexOf('bind')).toBeGreaterThan(steps.indexOf('resume'));
    await expect.poll(() => peer!.seen.closed).toBeGreaterThanOrEqual(2); // the killed one and the wedged one
    expect(driver.stats()).toMatchObject({ resumed: 0, resumeFailed: 0, resumeUnanswered: 1, fresh: 2, foundInArchive: 1, resent: 0 });
    // The runner resends the unacknowledged message: the careful client acknowledges it from the archive.
    second.send({ key: KEY, conv: 'dm1', kind: 'text', body: 'x' }, 2);
    expect(acks).toEqual([KEY]);
    expect(peer.seen.messages).toEqual([KEY]);
    second.close();
  });

  it('refuses a resumeWaitMs that is not a positive integer, naming the option and the default', () => {
    const make = () => xmppDriver({ resumeWaitMs: 0 });
    expect(make).toThrow(UsageError);
    expect(make).toThrow(expect.objectContaining({ code: 'CHATSTORM_ERR_USAGE', message: expect.stringContaining('resumeWaitMs must be a positive integer (ms), got 0; omit it for the default 2000') }));
  });
});
