/**
 * A chatstorm driver: the adapter between chatstorm's virtual devices and your chat back end
 * (driver contract 2, docs/drivers.md). chatstorm plans the traffic, records what each device
 * observed and judges it; the driver only speaks the protocol. It never judges.
 *
 * This skeleton delegates to chatstorm's reference driver so that it runs as it is against
 * `npx chatstorm serve`; replace each delegation with your protocol. The contract, in short:
 *
 * - `capabilities` and `limits`: what your back end can do (ordering information, server ids,
 *   message kinds, attachments, history pages, unread counts, read markers, groups, client ids,
 *   resumption) and the largest payloads it takes. A scenario asking for more is refused before
 *   anything starts; checks that need what you cannot give say `not-checked` and why.
 * - `provision({ runId, url, accounts, conversations, target })`: before traffic starts, create
 *   the run's accounts (each with its devices and a token) and conversations, namespaced by
 *   `runId` on a shared server. `target.http` is the server's HTTP(S) API with its Host and TLS
 *   settings. What it returns (ids, tokens, cookies) reaches every `connect` as `context`.
 * - `deviceState(identity)`: per-device state kept across that device's connections (a
 *   resumption session, counters, unacknowledged stanzas).
 * - `connect(opts)`: open one device's connection through its network (`opts.target.url` when
 *   given, else `opts.url`; spread `clientOptions(opts.target)` into your WebSocket options so
 *   TLS, SNI and Host follow the real server), catch up from `opts.position` (the opaque position
 *   you reported last through `handlers.position`), and resolve once the device is live. Report
 *   what the device observes through `opts.handlers`: `message` for every inbound copy (with the
 *   sender's key), `ack` / `refused` for its own sends, `unread` counts, `closed` when it drops.
 * - Every outbound message carries the harness key (`m.key`), and `send(m, attempt)` says which
 *   attempt it is. If your back end has client message ids, send the key as one; otherwise put
 *   `encodeMarker(...)` at the start of the body and read it back with `decodeMarker(body)`.
 *
 * The full interface is the `Driver` type exported by 'chatstorm' (TSDoc on every member).
 */
import { defineDriver, referenceDriver } from 'chatstorm';

export default defineDriver({
  ...referenceDriver,
  name: 'my-chat',

  async provision(request) {
    // e.g. requestEndpoint(request.target.http, 'test-accounts', { method: 'POST', body }) for
    // each account and conversation of the run (target carries Host and TLS settings).
    return referenceDriver.provision(request);
  },

  async connect(opts) {
    // e.g. new WebSocket(opts.target?.url ?? opts.url, { ...clientOptions(opts.target) }), log in
    // with opts.identity.token, catch up from opts.position, then resolve the Connection.
    return referenceDriver.connect(opts);
  },
});
