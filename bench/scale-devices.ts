/**
 * Macro benchmark: harness memory per idle device at scale (target ≤ 20 KB RSS per idle device,
 * 10,000 devices on a 2-core machine), against bare `ws` clients in the same run.
 *
 *   node --import tsx bench/scale-devices.ts [--devices 10000] [--networks 4]
 *
 * The parent starts the reference server (memory store) and the embedded proxies (as many
 * processes as the open-file limit needs), provisions the accounts, then measures each side in a
 * fresh child process (RSS after GC before and after connecting every device):
 *   bare:    one `ws` client per device straight to the server: auth, welcome, sync, idle
 *   harness: one VirtualDevice per device through its network's proxy (reference driver,
 *            recorder with the live judge listening), connected as the runner does
 * and prints KB per device for both and the ratio. Bounded: every step has a deadline.
 */
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { numericArg, runMeasurementChild } from './measure-child.ts';
import { startChild } from '../src/net/child.ts';
import { openToxiproxy } from '../src/net/toxiproxy.ts';
import { createNetworks, removeNetworks } from '../src/net/networks.ts';
import { referenceDriver } from '../src/drivers/reference.ts';
import { Recorder } from '../src/history/recorder.ts';
import { createJudge } from '../src/check/index.ts';
import { VirtualDevice } from '../src/run/device.ts';
import type { PlannedAccount, PlannedConversation } from '../src/plan/plan.ts';

interface Job {
  mode: 'bare' | 'harness';
  devices: { account: string; device: string; token: string; url: string; network: string }[];
}
interface Measured {
  mode: string;
  devices: number;
  rssBeforeKB: number;
  rssAfterKB: number;
  perDeviceKB: number;
  connectSeconds: number;
}

async function settleRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  return process.memoryUsage().rss / 1024;
}

async function measure(job: Job): Promise<Measured> {
  const before = await settleRss();
  const t0 = performance.now();
  const keep: unknown[] = [];
  if (job.mode === 'bare') {
    let next = 0;
    const worker = async () => {
      while (next < job.devices.length) {
        const d = job.devices[next++]!;
        await new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`${d.url}/ws?device=${encodeURIComponent(d.device)}&token=${d.token}`, { perMessageDeflate: false });
          let waiting = -1;
          ws.on('message', (data) => {
            const f = JSON.parse(String(data)) as { t: string; convs?: { conv: string; lastSeq: number }[] };
            if (f.t === 'welcome') {
              const cursors = Object.fromEntries((f.convs ?? []).map((c) => [c.conv, c.lastSeq]));
              waiting = Object.keys(cursors).length;
              ws.send(JSON.stringify({ t: 'sync', cursors }));
              if (waiting === 0) resolve();
            } else if (f.t === 'synced' && --waiting === 0) resolve();
          });
          ws.once('error', reject);
          keep.push(ws);
        });
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  } else {
    const recorder = new Recorder();
    const judge = createJudge();
    recorder.listen((e) => judge.step(e));
    const devices = job.devices.map(
      (d) =>
        new VirtualDevice({
          identity: { account: d.account, role: 'customer', device: d.device, token: d.token },
          url: d.url,
          driver: referenceDriver,
          recorder,
          random: Math.random,
          connectTimeoutMs: 30_000,
        }),
    );
    let next = 0;
    const worker = async () => {
      while (next < devices.length) await devices[next++]!.connect();
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    keep.push(devices, judge);
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  const after = await settleRss();
  return {
    mode: job.mode,
    devices: job.devices.length,
    rssBeforeKB: Math.round(before),
    rssAfterKB: Math.round(after),
    perDeviceKB: Math.round(((after - before) / job.devices.length) * 10) / 10,
    connectSeconds: Math.round(connectSeconds * 10) / 10,
  };
}

async function parent(): Promise<void> {
  const n = numericArg('devices', 10_000);
  const networks = numericArg('networks', 4);
  const dir = mkdtempSync(join(tmpdir(), 'chatstorm-scale-'));
  const server = await startChild(['serve', '--port', '0', '--store', 'memory', '--rate-limit', '0'], /listening on (ws:\/\/\S+)/, 'reference server');
  const loads = new Map<string, number>();
  for (let i = 0; i < networks; i++) loads.set(`net${i}`, Math.ceil(n / networks));
  const proxy = await openToxiproxy('embedded', { devicesPerNetwork: loads });
  const upstream = new URL(server.url).host;
  const nets = await createNetworks(proxy, 'scale', upstream, Object.fromEntries([...loads.keys()].map((k) => [k, { toxics: [] }])));
  try {
    const accounts: PlannedAccount[] = [];
    const convs: PlannedConversation[] = [];
    for (let i = 0; i < n; i++) {
      const id = `c${i}`;
      accounts.push({ id, role: 'customer', network: `net${i % networks}`, devices: [{ id: `${id}.mobile0`, kind: 'mobile', token: `t${i}` }] });
      if (i % 2 === 1) convs.push({ id: `dm${i}`, kind: 'direct', members: [`c${i - 1}`, id], openMs: 0 });
    }
    await referenceDriver.provision({ runId: 'bench-scale', url: server.url, accounts, conversations: convs });
    const results: Measured[] = [];
    for (const mode of ['bare', 'harness'] as const) {
      const job: Job = {
        mode,
        devices: accounts.map((a) => ({
          account: a.id,
          device: a.devices[0]!.id,
          token: a.devices[0]!.token,
          network: a.network,
          url: mode === 'bare' ? server.url : nets.get(a.network)!.url,
        })),
      };
      const file = join(dir, `${mode}.json`);
      writeFileSync(file, JSON.stringify(job));
      results.push(await runMeasurementChild<Measured>(fileURLToPath(import.meta.url), file, ['--expose-gc']));
    }
    const [bare, harness] = results as [Measured, Measured];
    console.log(`scale-devices: ${n} idle devices, ${networks} networks, ${proxy.processes} embedded proxy process(es)`);
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
    console.table(results);
    console.log(`harness RSS per idle device: ${harness.perDeviceKB} KB (target ≤ 20 KB); bare ws client: ${bare.perDeviceKB} KB; ratio ${(harness.perDeviceKB / bare.perDeviceKB).toFixed(2)}`);
  } finally {
    await removeNetworks(nets);
    await proxy.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  const job = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--child') + 1]!, 'utf8')) as Job;
  const m = await measure(job);
  process.stdout.write(JSON.stringify(m));
  process.exit(0);
} else {
  await parent();
}
