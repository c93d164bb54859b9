/**
 * Artillery 2 (its ws engine) as a side of the honesty ladder: finding the binary, its scripts for
 * one plan, running it with telemetry off, and reading what its listen-only devices received.
 *
 *   fireAndForgetScript:  the plan's customer devices connect, wait, send their share, leave
 *   receiversScript:      the same customers (synced, so the server stores and fans out their
 *                         sends) + the plan's agent devices connected listen-only for the length
 *                         of play; every VU tallies what it receives (artillery-tally.mjs)
 *   runArtillery:         `artillery run` in a shell that records its whole-life CPU
 *   readTallies:          the tally file -> frames received by type and role, last frame, last send
 *
 * A plan's sends are spread evenly over the customer devices (agents' replies too): the same
 * frames per second as the plan, all from customers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plan } from '../../src/plan/plan.ts';
import { clockTicksPerSecond, parseProcStat } from './proc-cpu.ts';
import type { VuTally } from './artillery-tally.mjs';

/** Seconds every Artillery VU waits after connecting, so that all have connected before any sends. */
export const ARTILLERY_SETTLE_S = 3;

/** The Artillery binary: ARTILLERY_BIN, else `artillery` on PATH, else null. */
export function artilleryBin(): string | null {
  const given = process.env.ARTILLERY_BIN;
  if (given) return existsSync(given) ? given : null;
  const found = spawnSync('sh', ['-c', 'command -v artillery'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/** An Artillery script (JSON) and the CSV payload it reads, by file name in the run's directory. */
export interface ArtilleryScript {
  script: object;
  csv?: { file: string; rows: string[] };
}

/** The plan's customers, each with its device URL through `base` and its (first) conversation; the frames each sends and the think before each. */
function customerLoad(plan: Plan, base: string) {
  const customers = plan.accounts.filter((a) => a.role === 'customer');
  const convOf = new Map<string, string>();
  for (const c of plan.conversations) for (const m of c.members) if (!convOf.has(m)) convOf.set(m, c.id);
  const perVu = Math.max(1, Math.round(plan.sends.length / customers.length));
  // Artillery reads a non-integer think as milliseconds through `ms()`: give it a unit.
  const think = `${Math.round(plan.sendWindowMs / perVu)}ms`;
  return { customers: customers.map((a) => ({ url: deviceUrl(base, a.devices[0]!), conv: convOf.get(a.id)! })), perVu, think };
}

function deviceUrl(base: string, d: { id: string; token: string }): string {
  return `${base}/ws?device=${encodeURIComponent(d.id)}&token=${d.token}`;
}

const SEND = '{"t":"send","cid":"a{{ $loopCount }}","conv":"{{ conv }}","kind":"text","body":"artillery"}';

/**
 * Fire and forget: each customer device connects, waits ARTILLERY_SETTLE_S, and sends its share
 * with the plan's mean think time (think first: a VU ends right after its last send, so its last
 * counter marks the end of sending). It sends no `sync`, so the reference server answers every
 * send with a nack ("send before sync") and stores, delivers and pushes nothing.
 */
export function fireAndForgetScript(plan: Plan, base: string): ArtilleryScript {
  const { customers, perVu, think } = customerLoad(plan, base);
  return {
    csv: { file: 'devices.csv', rows: customers.map((c) => `${c.url},${c.conv}`) },
    script: {
      config: { target: base, phases: [{ duration: 1, arrivalCount: customers.length }], payload: { path: 'devices.csv', fields: ['url', 'conv'], order: 'sequence' } },
      scenarios: [
        {
          engine: 'ws',
          flow: [{ connect: '{{ url }}' }, { think: ARTILLERY_SETTLE_S }, { loop: [{ think }, { send: SEND }], count: perVu }],
        },
      ],
    },
  };
}

/**
 * With receivers, what an Artillery user writes to load a chat server whose messages someone
 * receives: every device (agents first in the payload, so they connect first) sends `sync` with
 * no cursors (live in all its conversations, nothing to replay: the least the reference protocol
 * asks before it fans out to a device or accepts its sends), waits ARTILLERY_SETTLE_S, then
 *   customers: send their share as in {@link fireAndForgetScript}, then stay 1 s for their last acks;
 *   agents:    send nothing and stay connected through the whole send window and
 *              AGENT_TAIL_MS more, receiving every delivery and unread push, doing nothing with them.
 * Every VU tallies its frames into `tallyFile` (artillery-tally.mjs).
 */
export function receiversScript(plan: Plan, base: string, tallyFile: string): ArtilleryScript {
  const { customers, perVu, think } = customerLoad(plan, base);
  const agents = plan.accounts.filter((a) => a.role === 'agent').flatMap((a) => a.devices);
  // The customers arrive over 1 s and may fall behind the plan's pace.
  const agentStayMs = plan.sendWindowMs + 1000 + Math.max(AGENT_TAIL_MS, plan.sendWindowMs / 2);
  const rows = [...agents.map((d) => `${deviceUrl(base, d)},-,agent,0,${agentStayMs}ms`), ...customers.map((c) => `${c.url},${c.conv},customer,${perVu},${CUSTOMER_STAY_MS}ms`)];
  return {
    csv: { file: 'devices-recv.csv', rows },
    script: {
      config: {
        target: base,
        phases: [{ duration: 1, arrivalCount: rows.length }],
        payload: { path: 'devices-recv.csv', fields: ['url', 'conv', 'role', 'count', 'stay'], order: 'sequence' },
        processor: TALLY_PROCESSOR,
        variables: { tallyFile },
      },
      scenarios: [
        {
          engine: 'ws',
          flow: [
            { connect: '{{ url }}' },
            { function: 'listen' },
            { send: '{"t":"sync","cursors":{}}' },
            { think: ARTILLERY_SETTLE_S },
            { loop: [{ think }, { send: SEND }], count: '{{ count }}' },
            { function: 'sent' },
            { think: '{{ stay }}' },
            { function: 'report' },
          ],
        },
      ],
    },
  };
}

/** How long agents stay connected after the send window (and its 1 s arrival ramp), at least. */
const AGENT_TAIL_MS = 5000;
/** How long customers stay connected after their last send, for its ack. */
const CUSTOMER_STAY_MS = 1000;
const TALLY_PROCESSOR = fileURLToPath(new URL('./artillery-tally.mjs', import.meta.url));

/** Frames one role's devices received, by type (welcome apart: it comes at connect, not in play), and how many devices. */
export type FrameTally = Omit<VuTally, 'role' | 'lastAtMs' | 'sentAtMs'> & { vus: number };

/** What the receivers run's devices received, read from its tally file. */
export interface Tallies {
  customer: FrameTally;
  agent: FrameTally;
  /** Frames received in play, both roles: msg + unread + ack + nack + other. */
  received: number;
  /** Epoch ms of the last frame any device received. */
  lastFrameAtMs: number;
  /** Epoch ms of the last customer's last send. */
  lastSendAtMs: number;
}

/** Parse the tally file artillery-tally.mjs appends to: one JSON line per VU. */
export function readTallies(text: string): Tallies {
  const empty = (): FrameTally => ({ vus: 0, msg: 0, unread: 0, ack: 0, nack: 0, welcome: 0, other: 0 });
  const t: Tallies = { customer: empty(), agent: empty(), received: 0, lastFrameAtMs: NaN, lastSendAtMs: NaN };
  const later = (a: number, b: number | null) => (b === null ? a : Number.isNaN(a) ? b : Math.max(a, b));
  for (const line of text.split('\n')) {
    if (!line) continue;
    const v = JSON.parse(line) as VuTally;
    if (v.role !== 'customer' && v.role !== 'agent') throw new Error(`tally line with role ${JSON.stringify(v.role)}, expected "customer" or "agent": ${line.slice(0, 120)}`);
    const r = t[v.role];
    r.vus++;
    for (const k of ['msg', 'unread', 'ack', 'nack', 'welcome', 'other'] as const) r[k] += v[k];
    t.received += v.msg + v.unread + v.ack + v.nack + v.other;
    t.lastFrameAtMs = later(t.lastFrameAtMs, v.lastAtMs);
    if (v.role === 'customer') t.lastSendAtMs = later(t.lastSendAtMs, v.sentAtMs);
  }
  return t;
}

/**
 * `artillery run` on `s` in `dir` (files named after `name`), through a shell that writes its own
 * /proc stat once Artillery has exited: the shell's cutime + cstime is then Artillery's whole-life
 * CPU (every thread, every child it waited for). `onSpawn` gets the shell's pid (to sample its tree).
 */
export function runArtillery(bin: string, dir: string, name: string, s: ArtilleryScript, onSpawn?: (pid: number) => void): Promise<{ report: string; wholeLifeMs: number } | string> {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(s.script));
  if (s.csv) writeFileSync(join(dir, s.csv.file), s.csv.rows.join('\n') + '\n');
  const statFile = join(dir, `${name}.stat`);
  const report = join(dir, `${name}-report.json`);
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', '"$0" "$@"; rc=$?; cat /proc/$$/stat > "$STAT_FILE"; exit $rc', bin, 'run', '--output', report, join(dir, `${name}.json`)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: '1', STAT_FILE: statFile },
    });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let out = '';
    const keep = (d: Buffer) => (out = (out + String(d)).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolve(`artillery exited ${code}: ${out.slice(-300)}`);
      const st = parseProcStat(readFileSync(statFile, 'utf8'));
      resolve({ report, wholeLifeMs: ((st.utime + st.stime + st.cutime + st.cstime) * 1000) / clockTicksPerSecond() });
    });
  });
}

/** Artillery's CPU for loading, starting and reporting with nothing to do: a run with no arrivals. */
export async function artilleryIdle(bin: string, dir: string): Promise<number | string> {
  const r = await runArtillery(bin, dir, 'artillery-idle', {
    script: {
      config: { target: 'ws://127.0.0.1:9', phases: [{ duration: 1, arrivalCount: 0 }] },
      scenarios: [{ engine: 'ws', flow: [{ connect: 'ws://127.0.0.1:9/' }] }],
    },
  });
  return typeof r === 'string' ? r : r.wholeLifeMs;
}
