/**
 * How fast `provision` registers accounts: N in-band registrations (XEP-0077) over P parallel
 * streams, as the XMPP driver does. Prints one JSON line.
 *
 *   npx tsx scripts/xmpp/register-bench.ts ws://127.0.0.1:PORT/xmpp-websocket [accounts=3000] [parallel=16]
 */
import { registerAccounts } from '../../src/drivers/xmpp/index.ts';

const [url, nArg, pArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: npx tsx scripts/xmpp/register-bench.ts ws://127.0.0.1:PORT/xmpp-websocket [accounts] [parallel]');
  process.exit(2);
}
const n = Number(nArg ?? 3000);
const parallel = Number(pArg ?? 16);
const tag = `reg${Date.now().toString(36)}`;
const t0 = performance.now();
await registerAccounts(url, 'localhost', Array.from({ length: n }, (_, i) => ({ user: `${tag}u${i}`, password: 'pw' })), { parallel });
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ url, accounts: n, parallel, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(n / seconds) }));
process.exit(0);
