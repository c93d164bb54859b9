/**
 * A chatstorm driver: the adapter between chatstorm's virtual devices and your chat back end.
 * chatstorm plans the traffic, records what each device observed and judges it; the driver only
 * speaks the protocol. It never judges.
 *
 * This skeleton delegates to chatstorm's reference driver so that it runs as it is against
 * `npx chatstorm serve`; replace each delegation with your protocol. The contract, in short:
 *
 * - `provision(url, accounts, conversations, target)`: before traffic starts, create the run's
 *   accounts (each with its devices and a token) and conversations on your back end. `url` is the
 *   target as given with --target (not through a proxy); `target.http` is its HTTP(S) API.
 * - `connect(opts)`: open one device's connection through its network (`opts.target.url` when
 *   given, else `opts.url`; spread `clientOptions(opts.target)` into your WebSocket options so
 *   TLS, SNI and Host follow the real server), catch up from `opts.cursors`, and resolve once the
 *   device is live. Report what the device observes through `opts.handlers`: `message` for every
 *   inbound copy (with the sender's key), `ack`/`nack` for its own sends, `unread` counts, and
 *   `closed` when the connection drops.
 * - Every outbound message carries the harness key (`m.key`). If your back end has client
 *   message ids, send the key as one; otherwise put `encodeMarker(...)` at the start of the body
 *   and read it back with `decodeMarker(body)` on every inbound copy.
 *
 * The full interface is the `Driver` type exported by 'chatstorm' (TSDoc on every member).
 */
import { defineDriver, referenceDriver, type ConnectOptions } from 'chatstorm';

export default defineDriver({
  name: 'my-chat',

  async provision(url, accounts, conversations, target) {
    // e.g. requestEndpoint(target.http, 'test-accounts', { method: 'POST', body }) for each
    // account and conversation of the run (target carries Host and TLS settings).
    await referenceDriver.provision(url, accounts, conversations, target);
  },

  async connect(opts: ConnectOptions) {
    // e.g. new WebSocket(opts.target?.url ?? opts.url, { ...clientOptions(opts.target) }),
    // log in with opts.identity.token, sync from opts.cursors, then resolve the Connection.
    return referenceDriver.connect(opts);
  },
});
