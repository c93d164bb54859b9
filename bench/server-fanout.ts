/**
 * Benchmark: fan-out deliveries per second of the reference server (memory and SQLite store)
 * against a bare `ws` relay that broadcasts every frame to the same recipients, in one run.
 *
 *   this process (load)                         child process (system under test)
 *   1,000 ws clients: 50 groups x 20 devices -->  relay | relay-batched | reference server (memory) | (sqlite)
 *   1 sender per group, W sends in flight          fan-out to the 19 other devices of the group
 *   deliveries = msg frames received by the 19,000 recipient sockets per second
 *
 * The system under test runs in its own process so it has a core to itself (CI has two).
 * Bounded: every target runs `--seconds` (default 4) after 1 s of warm-up, with a hard deadline.
 *
 *   node --import tsx bench/server-fanout.ts [--seconds 4] [--groups 50] [--size 20] [--window 8] [--rounds 2]
 *                                            [--targets relay,relay-batched,memory,sqlite]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import type { ProvisionRequest } from '../src/protocol/frames.ts';

type Target = 'relay' | 'relay-batched' | 'memory' | 'sqlite';

interface Config {
  seconds: number;
  groups: number;
  size: number;
  window: number;
  rounds: number;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${process.argv[i + 1]}`);
  return v;
}

// ------------------------------------------------------------------ child: the system under test

async function serve(target: Target): Promise<void> {
  if (target === 'relay' || target === 'relay-batched') {
    // Bare relay: the same fan-out with nothing else (no auth, validation, storage, seq, unread).
    // `relay-batched` also corks each socket for the rest of the event-loop turn, as the
    // reference server does (write-batch.ts), to show what that alone is worth.
    const batched = target === 'relay-batched';
    const corked = new Set<import('node:net').Socket>();
    const uncorkAll = (): void => {
      for (const sock of corked) sock.uncork();
      corked.clear();
    };
    const groups = new Map<string, Set<{ ws: WebSocket; sock: import('node:net').Socket }>>();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    wss.on('connection', (ws, req) => {
      const g = new URL(req.url ?? '/', 'http://x').searchParams.get('group') ?? '';
      let set = groups.get(g);
      if (!set) groups.set(g, (set = new Set()));
      const me = { ws, sock: req.socket };
      set.add(me);
      const write = (peer: typeof me, data: Buffer | string): void => {
        if (batched && !corked.has(peer.sock)) {
          if (corked.size === 0) setImmediate(uncorkAll);
          peer.sock.cork();
          corked.add(peer.sock);
        }
        peer.ws.send(data, { binary: false });
      };
      ws.on('message', (data: Buffer) => {
        for (const peer of set) if (peer !== me) write(peer, data);
        write(me, '{"t":"ack"}');
      });
      ws.on('close', () => set.delete(me));
    });
    await new Promise((r) => wss.once('listening', r));
    process.stdout.write(`READY ws://127.0.0.1:${(wss.address() as { port: number }).port}\n`);
    return;
  }
  const { startReferenceServer } = await import('../src/server/index.ts');
  const server = await startReferenceServer({ port: 0, store: target, rateLimit: null });
  process.stdout.write(`READY ${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

// ------------------------------------------------------------------ parent: the load

function startChild(target: Target): Promise<{ child: ChildProcess; url: string }> {
  const self = fileURLToPath(import.meta.url);
  // BENCH_CHILD_FLAGS: extra node flags for the server process, e.g. "--cpu-prof".
  const flags = (process.env.BENCH_CHILD_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', self, '--child', target], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${target} child exited with ${code}`)));
  });
}

function provisionRequest(cfg: Config): ProvisionRequest {
  const accounts: ProvisionRequest['accounts'] = [];
  const conversations: ProvisionRequest['conversations'] = [];
  for (let g = 0; g < cfg.groups; g++) {
    const members: string[] = [];
    for (let i = 0; i < cfg.size; i++) {
      const id = `g${g}u${i}`;
      members.push(id);
      accounts.push({ id, role: i === 0 ? 'agent' : 'customer', devices: [{ id: `${id}d`, token: 't' }] });
    }
    conversations.push({ id: `g${g}`, kind: 'group', members });
  }
  return { accounts, conversations };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

interface Result {
  target: Target;
  deliveriesPerSec: number;
  sendsPerSec: number;
}

async function measure(target: Target, cfg: Config): Promise<Result> {
  const { child, url } = await startChild(target);
  const deadline = setTimeout(() => {
    child.kill('SIGKILL');
    throw new Error(`${target}: hard deadline exceeded`);
  }, (cfg.seconds + 60) * 1000);
  try {
    if (!target.startsWith('relay')) {
      const res = await fetch(url.replace('ws', 'http') + '/admin/provision', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(provisionRequest(cfg)),
      });
      if (res.status !== 200) throw new Error(`provision failed: ${res.status} ${await res.text()}`);
    }
    let deliveries = 0;
    let sends = 0;
    let running = true;
    const sockets: WebSocket[] = [];
    const senders: { ws: WebSocket; g: number }[] = [];
    for (let g = 0; g < cfg.groups; g++) {
      const members = await Promise.all(
        Array.from({ length: cfg.size }, (_, i) =>
          open(target.startsWith('relay') ? `${url}/?group=g${g}` : `${url}/ws?device=g${g}u${i}d&token=t`),
        ),
      );
      members.forEach((ws, i) => {
        sockets.push(ws);
        if (i === 0) senders.push({ ws, g });
        // Counting, not parsing: the load side must stay cheaper than the server.
        // The server's recipients also get `unread`; the relay forwards the `send` frame itself.
        else ws.on('message', (d: Buffer) => {
          const c = d[6]; // {"t":"m... or {"t":"s...
          if (c === 0x6d || c === 0x73) deliveries++;
        });
      });
    }
    if (!target.startsWith('relay')) {
      for (const ws of sockets) ws.send('{"t":"sync","cursors":{}}');
      await new Promise((r) => setTimeout(r, 300));
    }
    let counter = 0;
    const body = 'hello from the benchmark, a typical short chat line ✓';
    for (const { ws, g } of senders) {
      const sendOne = (): void => {
        if (!running) return;
        ws.send(`{"t":"send","cid":"c${counter++}","conv":"g${g}","kind":"text","body":"${body}"}`);
      };
      ws.on('message', () => {
        sends++;
        sendOne();
      });
      for (let i = 0; i < cfg.window; i++) sendOne();
    }
    await new Promise((r) => setTimeout(r, 1000)); // warm-up
    const d0 = deliveries;
    const s0 = sends;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, cfg.seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const result = { target, deliveriesPerSec: (deliveries - d0) / elapsed, sendsPerSec: (sends - s0) / elapsed };
    running = false;
    for (const ws of sockets) ws.terminate();
    return result;
  } finally {
    clearTimeout(deadline);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return serve(process.argv[childAt + 1] as Target);
  const cfg: Config = {
    seconds: arg('seconds', 4),
    groups: arg('groups', 50),
    size: arg('size', 20),
    window: arg('window', 8),
    rounds: arg('rounds', 2),
  };
  console.log(
    `server-fanout: ${cfg.groups * cfg.size} connections (${cfg.groups} groups x ${cfg.size}), ` +
      `${cfg.window} sends in flight per group, ${cfg.seconds} s per target, ${cfg.rounds} rounds\n` +
      `machine: ${cpus().length} cpus, ${cpus()[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString()}`,
  );
  const ti = process.argv.indexOf('--targets');
  const targets = (ti >= 0 ? (process.argv[ti + 1] ?? '').split(',') : ['relay', 'relay-batched', 'memory', 'sqlite']) as Target[];
  const best = new Map<Target, Result>();
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const target of targets) {
      const r = await measure(target, cfg);
      console.log(`  round ${round} ${target.padEnd(13)} ${Math.round(r.deliveriesPerSec).toString().padStart(8)} deliveries/s  ${Math.round(r.sendsPerSec).toString().padStart(6)} sends/s`);
      const prev = best.get(target);
      if (!prev || r.deliveriesPerSec > prev.deliveriesPerSec) best.set(target, r);
    }
  }
  const relay = best.get('relay')?.deliveriesPerSec ?? NaN;
  console.log('best of rounds:');
  for (const [target, r] of best) {
    console.log(`  ${target.padEnd(13)} ${Math.round(r.deliveriesPerSec).toString().padStart(8)} deliveries/s  ratio to relay ${(r.deliveriesPerSec / relay).toFixed(2)}`);
  }
}

await main();
