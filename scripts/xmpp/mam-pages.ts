/**
 * MAM page latency at a given archive size: one account sends N messages to another (in chunks,
 * each closed by a ping so the server has stored them), then the recipient loads the newest page
 * and walks back page by page, as a client scrolling up does; each page timed from the IQ to its
 * result. Prints one JSON line.
 *
 *   npx tsx scripts/xmpp/mam-pages.ts ws://127.0.0.1:PORT/xmpp-websocket [messages=10000] [pageSize=50] [pages=40]
 */
import { Element } from 'ltx';
import { MamCollector, NS, registerAccounts, XmppStream } from '../../src/drivers/xmpp/index.ts';

const [url, nArg, sizeArg, pagesArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: npx tsx scripts/xmpp/mam-pages.ts ws://127.0.0.1:PORT/xmpp-websocket [messages] [pageSize] [pages]');
  process.exit(2);
}
const n = Number(nArg ?? 10_000);
const pageSize = Number(sizeArg ?? 50);
const pages = Number(pagesArg ?? 40);
const domain = 'localhost';
const tag = `mam${Date.now().toString(36)}`;
const [alice, bob] = [`${tag}a`, `${tag}b`];
await registerAccounts(url, domain, [{ user: alice, password: 'pw' }, { user: bob, password: 'pw' }]);

const login = async (user: string) => {
  const { stream } = await XmppStream.open({ url, domain, timeoutMs: 60_000 });
  await stream.authenticate(user, 'pw');
  await stream.restart();
  await stream.bind('bench');
  return stream;
};
const a = await login(alice);
const t0 = performance.now();
const chunk = 500;
for (let i = 0; i < n; i += chunk) {
  for (let j = i; j < Math.min(n, i + chunk); j++) {
    a.send(new Element('message', { to: `${bob}@${domain}`, type: 'chat', id: `m${j}` }).c('body').t(`message ${j} of the archive-size benchmark`).root());
  }
  await a.iq(new Element('iq', { type: 'get', to: domain }).c('ping', { xmlns: 'urn:xmpp:ping' }).root(), 120_000);
}
const fillMs = performance.now() - t0;
a.close();

const b = await login(bob);
const mam = new MamCollector();
b.onElement = (el) => void mam.take(el);
const newest: number[] = [];
const walk: number[] = [];
for (let i = 0; i < 10; i++) {
  const s = performance.now();
  await mam.page(b, { beforeId: '', max: pageSize }, 60_000);
  newest.push(performance.now() - s);
}
let before = '';
let seen = 0;
for (let i = 0; i < pages; i++) {
  const s = performance.now();
  const p = await mam.page(b, { beforeId: before, max: pageSize }, 60_000);
  walk.push(performance.now() - s);
  seen += p.messages.length;
  if (p.first === undefined || p.messages.length === 0) break;
  before = p.first;
}
b.close();
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10;
};
console.log(
  JSON.stringify({
    url,
    messages: n,
    fillSeconds: Math.round(fillMs / 100) / 10,
    pageSize,
    newestPageMs: { p50: q(newest, 0.5), max: q(newest, 1) },
    walkBack: { pages: walk.length, messages: seen, p50: q(walk, 0.5), p95: q(walk, 0.95), max: q(walk, 1) },
  }),
);
process.exit(0);
