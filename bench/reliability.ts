/**
 * What happens to a run when it is killed, or when the harness's own dependencies fail. Each
 * experiment starts `chatstorm run` as a process (the way CI does), does the damage on an event
 * (a progress line, a pid appearing or going), and records what held: exit code, children left,
 * proxies left on the Toxiproxy, files written, and what `chatstorm check` says afterwards.
 * Results are printed as Markdown table rows for docs/reliability.md.
 *
 *   node --import tsx bench/reliability.ts kills            # SIGINT/SIGTERM/SIGKILL x connect/play/drain/report
 *   node --import tsx bench/reliability.ts toxiproxy-down   # the Toxiproxy API killed / paused mid-run
 *   node --import tsx bench/reliability.ts disk-full DIR    # --out on a full file system (e.g. a 64k tmpfs at DIR)
 *   node --import tsx bench/reliability.ts server-restart   # reference server (SQLite) SIGKILLed and restarted mid-run
 *
 * Linux only (/proc). Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { allGone, chatstormChildren, startChatstorm, waitFor, BIN, type Started } from '../test/net/processes.ts';
import { parseProxyName } from '../src/net/proxy-name.ts';

const SCENARIO = 'test/fixtures/small.ts';

interface Observed {
  exit: string;
  exitMs: number;
  childrenLeft: number;
  proxiesLeft: number | string;
  files: string;
  verdict: string;
  check: string;
  note: string;
}

/** A `chatstorm proxy` in its own process, as a stand-in for a real Toxiproxy. */
async function proxyProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'proxy', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let o = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      o += d;
      const m = /listening on (http:\/\/\S+)/.exec(o);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (c) => reject(new Error(`proxy exited ${c}`)));
  });
  return { url, child };
}

async function chatstormProxiesOn(url: string): Promise<number | string> {
  try {
    return Object.keys(await new Toxiproxy(url).getAll()).filter((n) => parseProxyName(n) !== null).length;
  } catch (err) {
    return `API down (${(err as Error).message.slice(0, 40)})`;
  }
}

function runDir(out: string): string | null {
  if (!existsSync(out)) return null;
  const d = readdirSync(out);
  return d.length === 1 ? join(out, d[0] as string) : null;
}

async function observe(run: Started, out: string, api: string | null, children: number[], started: number, note: string): Promise<Observed> {
  const end = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 120_000))]);
  const exitMs = Date.now() - started;
  if (end === null) run.child.kill('SIGKILL');
  await waitFor(() => allGone(children), 15_000);
  const childrenLeft = children.filter((p) => !allGone([p])).length;
  const dir = runDir(out);
  let files = 'no run folder';
  let verdict = '-';
  let check = '-';
  if (dir) {
    const names = readdirSync(dir).sort();
    files = names.join(' ');
    if (names.includes('summary.json')) {
      try {
        const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { verdict: string; endReason: string; error?: string };
        verdict = `${s.verdict} (${s.endReason})`;
      } catch {
        verdict = 'summary.json unreadable';
      }
    }
    if (names.includes('history.jsonl')) {
      const c = startChatstorm(['check', dir]);
      const r = await c.exited;
      const loss = /loss\s*:?\s*([^\n]*)/i.exec(c.stdout())?.[1]?.trim() ?? '';
      check = `exit ${r.code}; ${/verdict: (\w+)/.exec(c.stdout())?.[1] ?? '?'}; loss ${loss.slice(0, 40)}`;
    }
  }
  return {
    exit: end === null ? 'did not exit in 120 s' : end.signal ?? String(end.code),
    exitMs,
    childrenLeft,
    proxiesLeft: api ? await chatstormProxiesOn(api) : 'n/a',
    files,
    verdict,
    check,
    note,
  };
}

function row(cells: (string | number)[]): void {
  process.stdout.write(`| ${cells.join(' | ')} |\n`);
}

/** Wait for the phase named in the progress line, or (report) for the server child to be stopped. */
async function reach(run: Started, phase: string): Promise<{ children: number[]; note: string }> {
  const pid = run.child.pid as number;
  let children: number[] = [];
  if (phase === 'connect') {
    // Setup: as soon as the reference server child exists (devices connect right after).
    await waitFor(() => (children = chatstormChildren(pid).map((c) => c.pid)).some(Boolean) && chatstormChildren(pid).some((c) => c.command.startsWith('serve')), 60_000);
    return { children: chatstormChildren(pid).map((c) => c.pid), note: 'server child started' };
  }
  if (phase === 'play' || phase === 'drain') {
    await run.waitStderr(new RegExp(`\\[\\s*\\d+s ${phase}\\s*\\]`));
    return { children: chatstormChildren(pid).map((c) => c.pid), note: `progress line "${phase}"` };
  }
  // report: teardown has stopped the server child; the process is judging and writing reports.
  await run.waitStderr(/\[\s*\d+s drain\s*\]/);
  children = chatstormChildren(pid).map((c) => c.pid);
  await waitFor(() => allGone(children) || run.child.exitCode !== null, 60_000);
  return { children, note: run.child.exitCode === null ? 'children stopped, process alive' : 'already exited' };
}

async function kills(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'chatstorm-kills-'));
  const tp = await proxyProcess();
  row(['signal', 'phase', 'landed', 'exit', 'children left', 'chatstorm proxies left', 'run folder', 'summary', '`chatstorm check`']);
  row(['---', '---', '---', '---', '---', '---', '---', '---', '---']);
  try {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      for (const phase of ['connect', 'play', 'drain', 'report']) {
        const out = join(base, `${signal}-${phase}`);
        const started = Date.now();
        const run = startChatstorm(['run', SCENARIO, '--out', out, '--duration', '3s'], { TOXIPROXY_URL: tp.url });
        const { children, note } = await reach(run, phase);
        const kill = Date.now();
        run.child.kill(signal);
        const o = await observe(run, out, tp.url, children, kill, note);
        row([signal, phase, o.note, `${o.exit} after ${o.exitMs} ms`, o.childrenLeft, o.proxiesLeft, o.files, o.verdict, o.check]);
        // Leave the shared Toxiproxy clean for the next row (what `chatstorm cleanup` is for).
        const c = startChatstorm(['cleanup', '--toxiproxy', tp.url]);
        await c.exited;
        void started;
      }
    }
  } finally {
    tp.child.kill('SIGTERM');
    await rm(base, { recursive: true, force: true });
  }
}

async function toxiproxyDown(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'chatstorm-tpdown-'));
  row(['what', 'exit', 'children left', 'summary', 'error (first 160 chars)']);
  row(['---', '---', '---', '---', '---']);
  try {
    // small.ts has a fault in play (the next Toxiproxy call); crowded.ts has none, so only the
    // devices' connections see the Toxiproxy go.
    for (const [how, scenario] of [['SIGKILL', SCENARIO], ['SIGSTOP', SCENARIO], ['SIGKILL', 'test/fixtures/crowded.ts']] as const) {
      const tp = await proxyProcess();
      const out = join(base, `${how}-${scenario.replace(/\W/g, '_')}`);
      const run = startChatstorm(['run', scenario, '--out', out, '--duration', '6s'], { TOXIPROXY_URL: tp.url });
      await run.waitStderr(/\[\s*\d+s play\s*\]/);
      const children = chatstormChildren(run.child.pid as number).map((c) => c.pid);
      const t0 = Date.now();
      tp.child.kill(how);
      const o = await observe(run, out, null, children, t0, '');
      const dir = runDir(out);
      const s = dir && existsSync(join(dir, 'summary.json')) ? (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { error?: string }) : {};
      row([`Toxiproxy ${how === 'SIGKILL' ? 'killed' : 'paused (SIGSTOP)'} in play (${scenario.split('/').pop()})`, `${o.exit} after ${o.exitMs} ms`, o.childrenLeft, o.verdict, (s.error ?? '').slice(0, 160).replace(/\|/g, '/')]);
      tp.child.kill('SIGKILL');
      if (how === 'SIGSTOP') tp.child.kill('SIGCONT');
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function diskFull(dir: string): Promise<void> {
  const out = join(dir, 'reports');
  const run = startChatstorm(['run', SCENARIO, '--out', out, '--duration', '3s', '--quiet']);
  const t0 = Date.now();
  const o = await observe(run, out, null, [], t0, '');
  process.stdout.write(`exit ${o.exit} after ${o.exitMs} ms; files: ${o.files}; summary: ${o.verdict}\n--- stdout\n${run.stdout().slice(0, 1500)}\n--- stderr\n${run.stderr().slice(0, 1500)}\n`);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function startServe(port: number, db: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--store', 'sqlite', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let o = '';
    let e = '';
    c.stderr!.on('data', (d) => (e += d));
    c.stdout!.setEncoding('utf8').on('data', (d: string) => {
      o += d;
      if (/listening on/.test(o)) resolve(c);
    });
    c.once('exit', (code) => reject(new Error(`serve exited ${code}: ${e}`)));
  });
}

async function serverRestart(rounds: number): Promise<void> {
  row(['round', 'server down for', 'exit', 'summary', 'loss', 'failed checks / SLAs', 'acks / deliveries', 'connects']);
  row(['---', '---', '---', '---', '---', '---', '---', '---']);
  for (let i = 0; i < rounds; i++) {
    const base = await mkdtemp(join(tmpdir(), 'chatstorm-restart-'));
    const port = await freePort();
    const db = join(base, 'chat.db');
    let server = await startServe(port, db);
    const out = join(base, 'reports');
    const run = startChatstorm(['run', SCENARIO, '--target', `ws://127.0.0.1:${port}`, '--out', out, '--duration', '8s']);
    try {
      // Kill once the run has played a while (acked messages exist), restart on the same port and file.
      await run.waitStderr(/\[\s*\d+s play\s*\]/);
      await new Promise((r) => setTimeout(r, 1500));
      const down = Date.now();
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      server = await startServe(port, db);
      const downMs = Date.now() - down;
      const o = await observe(run, out, null, [], Date.now(), '');
      const dir = runDir(out);
      const s = dir ? (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { checks: Record<string, { status: string; count?: number }>; metrics: Record<string, { count?: number }>; error?: string }) : null;
      const history = dir ? readFileSync(join(dir, 'history.jsonl'), 'utf8') : '';
      const acks = (history.match(/"type":"ack"/g) ?? []).length;
      const delivered = (history.match(/"type":"deliver"/g) ?? []).length;
      const reconnects = (history.match(/"type":"connect"/g) ?? []).length;
      const failed = s ? Object.entries(s.checks).filter(([, c]) => c.status === 'fail').map(([n, c]) => `${n} (${c.count ?? '?'})`) : [];
      const slas = s ? ((s as unknown as { sla: { expr: string; actual: number; pass: boolean }[] }).sla ?? []).filter((x) => !x.pass).map((x) => `${x.expr} (actual ${x.actual})`) : [];
      row([i + 1, `${downMs} ms`, o.exit, o.verdict + (s?.error ? ` — ${s.error.slice(0, 80)}` : ''), `${s?.checks.loss?.status} (${s?.checks.loss?.count ?? '?'})`, [...failed, ...slas].join(', ') || '-', `${acks} / ${delivered}`, reconnects]);
    } finally {
      server.kill('SIGTERM');
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await rm(base, { recursive: true, force: true });
    }
  }
}

const [what, arg] = process.argv.slice(2);
if (what === 'kills') await kills();
else if (what === 'toxiproxy-down') await toxiproxyDown();
else if (what === 'disk-full') await diskFull(arg ?? '/tmp/full');
else if (what === 'server-restart') await serverRestart(Number(arg ?? 3));
else {
  process.stderr.write('usage: node --import tsx bench/reliability.ts kills | toxiproxy-down | disk-full DIR | server-restart [ROUNDS]\n');
  process.exitCode = 2;
}
