/**
 * Macro benchmark of the embedded Toxiproxy's data path with no toxics, against a direct
 * connection and a plain `socket.pipe` relay, in the same run.
 *
 *   this process (load)                       child process (hop, --hop)
 *   client ──▶ direct ───────────────────────────────────────────▶ sink / echo
 *   client ──▶ relay  (net server, client.pipe(up).pipe(client)) ─▶ sink / echo
 *   client ──▶ proxy  (embedded Toxiproxy, no toxics) ────────────▶ sink / echo
 *
 * The hop runs alone in its own process so relay and proxy get the same CPU; paths are measured
 * in interleaved rounds. Throughput: a bounded transfer (default 200 MB) into a sink, MB/s
 * (1 MB = 10^6 B). Latency: ping-pong of 64-byte messages, round trip p50/p99 in µs; "added" is
 * the difference to the direct path.
 *
 * Usage: node --import tsx bench/proxy-throughput.ts [--mb 200] [--rounds 3] [--pings 5000]
 */
import { numericArg } from './measure-child.ts';
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startEmbeddedToxiproxy } from '../src/proxy/index.ts';

type PathName = 'direct' | 'relay' | 'proxy';
interface Ports {
  sink: Record<PathName, number>;
  echo: Record<PathName, number>;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Child: the relay and the embedded proxy, each in front of the sink and the echo. */
async function hop(sinkPort: number, echoPort: number): Promise<void> {
  const relayTo = (port: number) =>
    createServer({ noDelay: true }, (client) => {
      const up = connect({ port, host: '127.0.0.1', noDelay: true });
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
      client.pipe(up).pipe(client);
    });
  const relaySink = await listen(relayTo(sinkPort));
  const relayEcho = await listen(relayTo(echoPort));
  const tp = await startEmbeddedToxiproxy({ port: 0 });
  const create = async (name: string, port: number): Promise<number> => {
    const res = await fetch(`${tp.url}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` }),
    });
    const body = (await res.json()) as { listen: string };
    return Number(body.listen.split(':').at(-1));
  };
  const proxySink = await create('sink', sinkPort);
  const proxyEcho = await create('echo', echoPort);
  process.stdout.write(JSON.stringify({ relaySink, relayEcho, proxySink, proxyEcho }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => void tp.close().then(() => process.exit(0)));
}

async function connected(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(s, 'connect');
  return s;
}

/** Sends `bytes` into the sink through `port`; resolves MB/s when the sink has all of it. */
async function throughput(port: number, bytes: number, sinkDone: () => Promise<void>): Promise<number> {
  const s = await connected(port);
  const block = Buffer.alloc(64 * 1024, 0x61);
  const done = sinkDone();
  const t0 = performance.now();
  let sent = 0;
  while (sent < bytes) {
    const n = Math.min(block.length, bytes - sent);
    sent += n;
    if (!s.write(n === block.length ? block : block.subarray(0, n))) await once(s, 'drain');
  }
  s.end();
  await done;
  const ms = performance.now() - t0;
  s.destroy();
  return bytes / 1e6 / (ms / 1000);
}

/** Ping-pong of 64-byte messages; round trips in µs. */
async function pingPong(port: number, count: number): Promise<number[]> {
  const s = await connected(port);
  const msg = Buffer.alloc(64, 0x62);
  const rtts: number[] = [];
  for (let i = 0; i < count + 200; i++) {
    const t0 = performance.now();
    s.write(msg);
    let got = 0;
    while (got < msg.length) got += ((await once(s, 'data')) as [Buffer])[0].length;
    if (i >= 200) rtts.push((performance.now() - t0) * 1000);
  }
  s.destroy();
  return rtts;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const mb = numericArg('mb', 200);
  const rounds = numericArg('rounds', 3);
  const pings = numericArg('pings', 5000);
  const bytes = mb * 1e6;

  let sinkWaiter: { left: number; resolve: () => void } | undefined;
  const sink = createServer((s) => {
    s.on('data', (d: Buffer) => {
      if (!sinkWaiter) return;
      sinkWaiter.left -= d.length;
      if (sinkWaiter.left <= 0) sinkWaiter.resolve();
    });
    s.on('error', () => undefined);
  });
  const echo = createServer({ noDelay: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const sinkPort = await listen(sink);
  const echoPort = await listen(echo);
  const sinkDone = () => new Promise<void>((resolve) => (sinkWaiter = { left: bytes, resolve }));

  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--hop', String(sinkPort), String(echoPort)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const hp = JSON.parse(line.toString()) as { relaySink: number; relayEcho: number; proxySink: number; proxyEcho: number };
  const ports: Ports = {
    sink: { direct: sinkPort, relay: hp.relaySink, proxy: hp.proxySink },
    echo: { direct: echoPort, relay: hp.relayEcho, proxy: hp.proxyEcho },
  };
  const paths: PathName[] = ['direct', 'relay', 'proxy'];

  const mbps: Record<PathName, number[]> = { direct: [], relay: [], proxy: [] };
  await throughput(ports.sink.proxy, Math.min(bytes, 20e6), () => new Promise<void>((resolve) => (sinkWaiter = { left: Math.min(bytes, 20e6), resolve }))); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const p of r % 2 === 0 ? paths : [...paths].reverse()) mbps[p].push(await throughput(ports.sink[p], bytes, sinkDone));
  }
  const rtt: Record<PathName, number[]> = { direct: [], relay: [], proxy: [] };
  for (const p of paths) rtt[p] = (await pingPong(ports.echo[p], pings)).sort((a, b) => a - b);

  child.stdin.end();
  sink.close();
  echo.close();

  const tp = (p: PathName) => median(mbps[p]);
  console.log(`proxy-throughput: ${mb} MB x ${rounds} rounds (median MB/s), ${pings} pings of 64 B (µs)`);
  console.log('path    MB/s      rtt p50   rtt p99   added p50  added p99');
  for (const p of paths) {
    const p50 = percentile(rtt[p], 50);
    const p99 = percentile(rtt[p], 99);
    const a50 = p50 - percentile(rtt.direct, 50);
    const a99 = p99 - percentile(rtt.direct, 99);
    console.log(
      `${p.padEnd(7)} ${tp(p).toFixed(0).padStart(6)}  ${p50.toFixed(0).padStart(8)}  ${p99.toFixed(0).padStart(8)}  ${a50.toFixed(0).padStart(9)}  ${a99.toFixed(0).padStart(9)}`,
    );
  }
  console.log(`ratio proxy/relay throughput: ${(tp('proxy') / tp('relay')).toFixed(2)}`);
  console.log(`ratio proxy/direct throughput: ${(tp('proxy') / tp('direct')).toFixed(2)}`);
  console.log(
    `ratio proxy/relay added p50 latency: ${((percentile(rtt.proxy, 50) - percentile(rtt.direct, 50)) / (percentile(rtt.relay, 50) - percentile(rtt.direct, 50))).toFixed(2)}`,
  );
  console.log(`raw MB/s per round: ${JSON.stringify(mbps)}`);
}

if (process.argv[2] === '--hop') {
  await hop(Number(process.argv[3]), Number(process.argv[4]));
} else {
  await main();
}
