/**
 * Provisioning and stream setup against a scripted XMPP-over-WebSocket peer (RFC 7395 framing)
 * on 127.0.0.1 port 0: what a registration refusal and a wrong password look like to the user.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { registerAccounts, XmppProvisionError, XmppStream, XmppStreamError } from '../../src/drivers/xmpp/index.ts';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="localhost" id="s1" version="1.0"/>';
const FEATURES =
  '<stream:features xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">' +
  '<register xmlns="http://jabber.org/features/iq-register"/>' +
  '<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>';

/** A peer that opens streams and answers registrations and auth as `answer` says. */
async function scriptedPeer(answer: { register: 'ok' | 'not-allowed' | 'conflict'; auth: 'success' | 'not-authorized' }) {
  const registered: string[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'xmpp' });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const s = String(data);
      if (s.startsWith('<open')) {
        ws.send(OPEN);
        ws.send(FEATURES);
      } else if (s.includes('jabber:iq:register')) {
        const id = /id="([^"]+)"/.exec(s)?.[1];
        registered.push(/<username>([^<]+)</.exec(s)?.[1] ?? '');
        ws.send(
          answer.register === 'ok'
            ? `<iq xmlns="jabber:client" type="result" id="${id}"/>`
            : `<iq xmlns="jabber:client" type="error" id="${id}"><error type="cancel"><${answer.register} xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
        );
      } else if (s.startsWith('<auth')) {
        ws.send(
          answer.auth === 'success'
            ? '<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'
            : '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized/></failure>',
        );
      }
    });
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/xmpp-websocket`,
    registered,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

describe('XMPP provisioning', () => {
  let peer: Awaited<ReturnType<typeof scriptedPeer>> | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('registers every account over a pool of streams', async () => {
    peer = await scriptedPeer({ register: 'ok', auth: 'success' });
    const accounts = Array.from({ length: 40 }, (_, i) => ({ user: `u${i}`, password: 'p' }));
    await registerAccounts(peer.url, 'localhost', accounts, { parallel: 4 });
    expect([...peer.registered].sort()).toEqual(accounts.map((a) => a.user).sort());
  });

  it('takes an account that exists already (conflict) as registered: its password derives from the run id', async () => {
    peer = await scriptedPeer({ register: 'conflict', auth: 'success' });
    await expect(registerAccounts(peer.url, 'localhost', [{ user: 'again', password: 'p' }])).resolves.toBeUndefined();
  });

  it('fails with a typed error naming the account, the answer and the fix when registration is refused', async () => {
    peer = await scriptedPeer({ register: 'not-allowed', auth: 'success' });
    const run = registerAccounts(peer.url, 'localhost', [{ user: 'alice', password: 'p' }]);
    await expect(run).rejects.toBeInstanceOf(XmppProvisionError);
    await expect(run).rejects.toMatchObject({
      code: 'CHATSTORM_ERR_XMPP_PROVISION',
      message: expect.stringMatching(/in-band registration of alice@localhost failed \(IQ error: not-allowed\); the server must allow registration from 127\.0\.0\.1/),
    });
  });

  it('reports a refused login as a stream error at step auth', async () => {
    peer = await scriptedPeer({ register: 'ok', auth: 'not-authorized' });
    const { stream } = await XmppStream.open({ url: peer.url, domain: 'localhost', timeoutMs: 5000 });
    const err = await stream.authenticate('bob', 'wrong').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XmppStreamError);
    expect(err).toMatchObject({ step: 'auth', message: 'SASL PLAIN failed for bob: not-authorized' });
    stream.kill();
  });
});
