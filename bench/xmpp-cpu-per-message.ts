/**
 * Macro benchmark: harness CPU per delivered-and-checked XMPP message against a bare XMPP client
 * doing the same traffic (target ≤ 1.5×), on a real Prosody started by scripts/xmpp/start.sh.
 *
 *   node --import tsx bench/xmpp-cpu-per-message.ts [--customers 100] [--messages 20] [--seconds 30] [--rounds 3] [--judge after|live] [--control]
 *
 * One plan (one-to-one chats, agents on two devices, customers on one), played by each side in
 * its own child process through a fresh embedded proxy, measured with process.cpuUsage() from the
 * start of play to the last expected delivery:
 *   bare:    the same XMPP stream code (src/drivers/xmpp/stream.ts): login, bind, carbons, stream
 *            management, presence; writes each planned message at its time with `<r/>`, answers
 *            the server's `<r/>`, counts the message copies that arrive (direct and carbons)
 *   harness: runPlan with the XMPP driver (careful mode), the live judge and the history writer
 *            (`--judge after`: no live judge; the CPU of judging the history file after the run,
 *            as `chatstorm run --judge after` does, is added to the harness's figure)
 * Accounts are registered before the clock starts on both sides. Rounds alternate which side goes
 * first; the median of the per-round ratios is the result. Bounded: finite plan, deadlines.
 * `--control` plays the bare client a second time in every round (last in odd rounds, first in
 * even ones) and prints the later bare run ÷ the earlier: the method's own noise.
 * BENCH_CHILD_FLAGS="..." adds node flags to both measurement children (e.g. --perf-basic-prof).
 * FRAMES=1 prints the frames each side wrote and read (the same traffic on both sides);
 * THREADS=1 the CPU of each thread (main, V8 helpers) from /proc, the GCs and the heap in use.
 * Profiles: CPU_PROF=1 (each whole child, in /tmp/chatstorm-prof) or WINDOW_PROF=dir (the
 * measured window only, which is what the ratio compares).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { cpus, tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Element } from 'ltx';
import { flagsOf, numericArg, runMeasurementChild, judgeArg } from './measure-child.ts';
import { median } from './lib/median.ts';
import { pairedRound } from './lib/paired-round.ts';
import { steadyScenario } from './lib/steady-scenario.ts';
import { startChild } from '../src/net/child.ts';
import { buildPlan, type Plan } from '../src/plan/plan.ts';
import { encodeMarker } from '../src/drivers/marker.ts';
import { messageBody } from '../src/drivers/body.ts';
import { counterOf } from '../src/domain/index.ts';
import { runPlan } from '../src/run/runner.ts';
import { createJudge } from '../src/check/index.ts';
import { forEachHistoryEvent } from '../src/history/reader.ts';
import { HistoryWriter } from '../src/history/writer.ts';
import { NS, XmppStream, xmppDriver } from '../src/drivers/xmpp/index.ts';
import { passwordOf } from '../src/drivers/xmpp/names.ts';

interface Job {
  mode: 'bare' | 'harness';
  planFile: string;
  server: string;
  proxyApi: string;
  historyFile: string;
  judge: 'live' | 'after';
}
interface Measured {
  mode: string;
  sends: number;
  deliveries: number;
  cpuMs: number;
  usPerDelivery: number;
}

/** Deliveries the plan implies: every device of every member but the sender's. */
function expectedDeliveries(plan: Plan): number {
  const devices = new Map(plan.accounts.map((a) => [a.id, a.devices.length]));
  const members = new Map(plan.conversations.map((c) => [c.id, c.members]));
  let n = 0;
  for (const s of plan.sends) for (const m of members.get(s.conv) ?? []) n += (devices.get(m) ?? 0) - (m === s.account ? 1 : 0);
  return n;
}

/** THREADS=1: CPU (user+system ms) per thread name from /proc (Linux), to tell the main thread from GC and I/O helpers. */
function threadTimes(): Map<string, { user: number; sys: number }> {
  const out = new Map<string, { user: number; sys: number }>();
  if (!process.env.THREADS) return out;
  const tick = 10; // ms per clock tick (USER_HZ 100)
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const key = tid === String(process.pid) ? 'main' : name;
    const t = out.get(key) ?? { user: 0, sys: 0 };
    t.user += Number(f[11]) * tick;
    t.sys += Number(f[12]) * tick;
    out.set(key, t);
  }
  return out;
}
const gcs = new Map<string, { n: number; ms: number }>();
if (process.env.THREADS) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = String((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? '?');
      const g = gcs.get(kind) ?? { n: 0, ms: 0 };
      g.n++;
      g.ms += e.duration;
      gcs.set(kind, g);
    }
  }).observe({ entryTypes: ['gc'] });
}
function reportThreads(side: string, from: Map<string, { user: number; sys: number }>): void {
  if (!process.env.THREADS) return;
  const h = getHeapStatistics();
  process.stderr.write(`${side} gc (kind: count, ms; 1 minor, 4 major, 8 incremental, 16 weak callbacks): ${JSON.stringify(Object.fromEntries([...gcs].map(([k, g]) => [k, [g.n, Math.round(g.ms)]])))}; heap used ${Math.round(h.used_heap_size / 1e6)} MB\n`);
  const to = threadTimes();
  const rows = [...to].map(([k, t]) => `${k} user ${t.user - (from.get(k)?.user ?? 0)} sys ${t.sys - (from.get(k)?.sys ?? 0)}`);
  process.stderr.write(`${side} threads (ms): ${rows.join('; ')}\n`);
}

function cpuMsSince(from: NodeJS.CpuUsage): number {
  const now = process.cpuUsage(from);
  return (now.user + now.system) / 1000;
}

/**
 * WINDOW_PROF=dir: a V8 CPU profile of the measured window only (start of play to the last
 * expected delivery), written as dir/<mode>-<pid>.cpuprofile; a whole-child profile (CPU_PROF)
 * also holds module loading, registration and connection set-up, which differ between the sides.
 */
async function windowProfiler(mode: string): Promise<{ start(): void; stop(): Promise<void> }> {
  const dir = process.env.WINDOW_PROF;
  if (!dir) return { start: () => {}, stop: async () => {} };
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((res, rej) => session.post(method, params, (err, out) => (err ? rej(err) : res(out))));
  await post('Profiler.enable');
  // 200 µs (V8's default is 1 ms): a window of about 1 s of CPU needs finer samples.
  await post('Profiler.setSamplingInterval', { interval: 200 });
  return {
    start: () => void post('Profiler.start'),
    stop: async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${mode}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

/**
 * FRAMES=1: count the frames each side writes and reads in the measured window, by element (and
 * a message's first child), printed to stderr: both sides must put the same traffic on the wire.
 * Wraps XmppStream's private writer and reader in the measurement child only.
 */
const frames = (() => {
  const counts = new Map<string, number>();
  let on = false;
  if (process.env.FRAMES && process.argv.includes('--child')) {
    const proto = XmppStream.prototype as unknown as { sendRaw(s: string): void; receive(text: string): void };
    const count = (k: string) => on && counts.set(k, (counts.get(k) ?? 0) + 1);
    const { sendRaw, receive } = proto;
    proto.sendRaw = function (this: unknown, s: string) {
      count(`out ${/^<([\w:-]+)/.exec(s)?.[1] ?? '?'}`);
      sendRaw.call(this, s);
    };
    proto.receive = function (this: unknown, text: string) {
      const m = /^<([\w:-]+)[^>]*?(?:\/>|>\s*<([\w:-]+))/.exec(text);
      count(`in ${m?.[1] ?? '?'}${m?.[1] === 'message' ? ` ${m[2] ?? ''}` : ''}`);
      receive.call(this, text);
    };
  }
  return {
    start: () => {
      counts.clear();
      on = true;
    },
    report: (side: string) => {
      on = false;
      if (process.env.FRAMES) process.stderr.write(`${side} frames: ${JSON.stringify(Object.fromEntries([...counts].sort()))}\n`);
    },
  };
})();

async function bare(job: Job, plan: Plan): Promise<Measured> {
  const runId = `bench-bare-${Date.now()}`;
  const driver = xmppDriver();
  const ctx = await driver.provision({ runId, url: job.server, accounts: plan.accounts, conversations: plan.conversations });
  // Through a proxy too, so both sides cross the same hops.
  const res = await fetch(`${job.proxyApi}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'bare', listen: '127.0.0.1:0', upstream: new URL(job.server).host }) });
  const listen = ((await res.json()) as { listen: string }).listen;
  const url = `ws://127.0.0.1:${listen.slice(listen.lastIndexOf(':') + 1)}${ctx.path}`;
  const expected = expectedDeliveries(plan);
  let deliveries = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const streams = new Map<string, XmppStream>();
  const peerOf = new Map<string, string>(); // `${account}\0${conv}` -> peer JID
  for (const c of plan.conversations) {
    for (const m of c.members) peerOf.set(`${m}\0${c.id}`, ctx.jidOf.get(c.members.find((x) => x !== m) ?? '') ?? '');
  }
  for (const a of plan.accounts) {
    const jid = ctx.jidOf.get(a.id)!;
    for (const d of a.devices) {
      const { stream } = await XmppStream.open({ url, domain: ctx.domain, timeoutMs: 20_000 });
      await stream.authenticate(jid.split('@')[0]!, passwordOf(runId, a.id));
      await stream.restart();
      await stream.bind(d.id.replace(/[^a-z0-9.]/gi, '_'));
      // Before enabling stream management: Prosody asks for an ack (`<r/>`) as soon as it has sent
      // a counted stanza (the carbons IQ's result) and asks for no other until that one is answered.
      // Set after the set-up (as it was until session 6), the handler missed that first `<r/>`, and
      // the bare client then received and answered none for the whole run, while the driver
      // answered about one per delivery: not the same traffic.
      stream.onElement = (el) => {
        if (el.name === 'message') {
          if (el.getChild('body') || el.getChild('received', NS.carbons) || el.getChild('sent', NS.carbons)) {
            if (++deliveries === expected) done();
          }
        } else if (el.getName() === 'r') stream.send(new Element('a', { xmlns: NS.sm, h: stream.inbound }));
      };
      const enabled = stream.next((el) => el.getName() === 'enabled');
      // As the driver's careful mode: resumable.
      stream.send(new Element('enable', { xmlns: NS.sm, resume: 'true' }));
      await enabled;
      await stream.iq(new Element('iq', { type: 'set' }).c('enable', { xmlns: NS.carbons }).root());
      stream.send(new Element('presence'));
      streams.set(d.id, stream);
    }
  }
  const prof = await windowProfiler('bare');
  frames.start();
  gcs.clear();
  const threads = threadTimes();
  prof.start();
  const origin = performance.now();
  const start = process.cpuUsage();
  let i = 0;
  await new Promise<void>((resolveAll) => {
    const pump = () => {
      const now = performance.now() - origin;
      while (i < plan.sends.length && plan.sends[i]!.atMs <= now) {
        const s = plan.sends[i++]!;
        const body = messageBody(encodeMarker({ runId, key: s.key, intendedMs: origin + s.atMs }), s.kind, s.bytes, counterOf(s.key));
        const st = streams.get(s.device)!;
        st.send(
          new Element('message', { to: peerOf.get(`${s.account}\0${s.conv}`), type: 'chat', id: st.id() })
            .c('body').t(body).up()
            .c('thread').t(s.conv).up()
            .c('origin-id', { xmlns: NS.sid, id: s.key }).up()
            // As the driver's stanza: the message kind in the driver's own extension.
            .c('cs', { xmlns: 'urn:chatstorm:0', kind: s.kind }).up()
            // As the driver's stanza: markable for chat markers (XEP-0333).
            .c('markable', { xmlns: NS.markers }).root(),
        );
        st.send(new Element('r', { xmlns: NS.sm }));
      }
      if (i < plan.sends.length) setTimeout(pump, Math.max(0, plan.sends[i]!.atMs - now));
      else resolveAll();
    };
    pump();
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))]);
  const cpuMs = cpuMsSince(start);
  frames.report('bare');
  reportThreads('bare', threads);
  await prof.stop();
  for (const s of streams.values()) s.kill();
  return { mode: 'bare', sends: plan.sends.length, deliveries, cpuMs: Math.round(cpuMs), usPerDelivery: Math.round((cpuMs * 1000) / deliveries) };
}

async function harness(job: Job, plan: Plan): Promise<Measured> {
  const judge = createJudge();
  const live = job.judge === 'live';
  const writer = new HistoryWriter(job.historyFile);
  let deliveries = 0;
  let start: NodeJS.CpuUsage | null = null;
  let cpuMs = 0;
  const expected = expectedDeliveries(plan);
  const prof = await windowProfiler('harness');
  let threads = threadTimes();
  let stopped: Promise<void> = Promise.resolve();
  await runPlan({
    plan,
    target: job.server,
    toxiproxy: job.proxyApi,
    driver: xmppDriver() as never,
    onPlay: () => {
      if (start === null) {
        threads = threadTimes();
        gcs.clear();
        frames.start();
        prof.start();
      }
      start ??= process.cpuUsage();
    },
    listeners: [
      writer.write,
      (e) => {
        if (live) judge.step(e);
        if (e.type === 'deliver' && ++deliveries === expected && start) {
          writer.flush();
          cpuMs = cpuMsSince(start);
          stopped = prof.stop();
          frames.report('harness');
          reportThreads('harness', threads);
        } else if (e.type === 'run-end' && cpuMs === 0 && start) cpuMs = cpuMsSince(start);
      },
    ],
  });
  await stopped;
  await writer.close();
  if (!live) {
    const before = process.cpuUsage();
    await forEachHistoryEvent(job.historyFile, (e) => judge.step(e));
    const used = process.cpuUsage(before);
    cpuMs += (used.user + used.system) / 1000;
  }
  const v = judge.result();
  if (v.checks.loss?.status !== 'pass') throw new Error(`harness run did not pass loss: ${JSON.stringify(v.checks.loss)}`);
  return { mode: 'harness', sends: plan.sends.length, deliveries, cpuMs: Math.round(cpuMs), usPerDelivery: Math.round((cpuMs * 1000) / deliveries) };
}

async function measure(mode: Job['mode'], server: string, dir: string, planFile: string, judge: Job['judge']): Promise<Measured> {
  const proxyApi = await startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'embedded proxy');
  try {
    const job: Job = { mode, planFile, server, proxyApi: proxyApi.url, historyFile: join(dir, 'history.jsonl'), judge };
    const jobFile = join(dir, `${mode}.json`);
    writeFileSync(jobFile, JSON.stringify(job));
    // CPU_PROF=1: a V8 CPU profile of each child in /tmp/chatstorm-prof (where the time goes).
    return await runMeasurementChild<Measured>(fileURLToPath(import.meta.url), jobFile, [...(process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/chatstorm-prof'] : []), ...flagsOf('BENCH_CHILD_FLAGS')]);
  } finally {
    await proxyApi.stop();
  }
}

async function parent(): Promise<void> {
  const customers = numericArg('customers', 100);
  const perCustomer = numericArg('messages', 20);
  const seconds = numericArg('seconds', 30);
  const rounds = numericArg('rounds', 3);
  const judge = judgeArg();
  const control = process.argv.includes('--control');
  const scenario = steadyScenario({ name: 'xmpp-cpu', agents: 10, customers, perCustomer, seconds });
  const plan = buildPlan(scenario);
  const dir = mkdtempSync(join(tmpdir(), 'chatstorm-xmpp-cpu-'));
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const scripts = resolve(dirname(fileURLToPath(import.meta.url)), '../scripts/xmpp');
  const state = join(dir, 'prosody');
  const server = execFileSync('bash', [join(scripts, 'start.sh'), 'prosody', state], { encoding: 'utf8', timeout: 180_000 }).trim();
  const results: (Measured & { round: number })[] = [];
  const ratios: number[] = [];
  const controlRatios: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const pair = await pairedRound(round, control, async (mode, side) => {
        const m = await measure(mode, server, dir, planFile, judge);
        results.push({ round, ...m, mode: side });
        return m;
      });
      if (pair.controlRatio !== undefined) controlRatios.push(pair.controlRatio);
      ratios.push(pair.harness!.usPerDelivery / pair.bare!.usPerDelivery);
    }
  } finally {
    execFileSync('bash', [join(scripts, 'stop.sh'), state], { timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`xmpp-cpu-per-message: ${plan.sends.length} sends, ${expectedDeliveries(plan)} expected deliveries over ${seconds} s, ${rounds} round(s), Prosody, judge ${judge}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
  console.table(results);
  console.log(`ratios by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)} (target ≤ 1.5)`);
  if (control) console.log(`control (the method's own noise): the later bare run ÷ the earlier, by round: ${controlRatios.map((r) => r.toFixed(2)).join(', ')}; median ${median(controlRatios).toFixed(2)}`);
}

if (process.argv.includes('--child')) {
  const job = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--child') + 1]!, 'utf8')) as Job;
  const plan = JSON.parse(readFileSync(job.planFile, 'utf8')) as Plan;
  const m = job.mode === 'bare' ? await bare(job, plan) : await harness(job, plan);
  process.stdout.write(JSON.stringify(m));
  process.exit(0);
} else {
  await parent();
}
