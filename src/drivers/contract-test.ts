/**
 * The driver contract test kit: one short built-in scenario, shaped by what the driver declares,
 * run through the ordinary runner and checkers, and read back as a checklist a driver author can
 * act on.
 *
 *   driver ── capabilities ──> contractScenario() ──> runScenario() ──> run folder
 *                                                                       (summary.json, history.jsonl)
 *                                                                              │
 *   checklist <── judgeContract(summary, facts) <── contractFacts(history) <───┘
 *
 * Each item is `pass`, `fail` or `not-checked` with the reason; an item the driver's declared
 * capabilities cannot support says which capability, never `pass`.
 */
import { join } from 'node:path';
import { runScenario } from '../cli/run-command.ts';
import { readHistory } from '../history/reader.ts';
import type { HistoryEvent } from '../history/events.ts';
import { REPORT_FILES } from '../report/write.ts';
import type { Summary } from '../report/summary.ts';
import type { Driver } from './driver.ts';
import { checkDriver, loadDriver } from './load.ts';
import { checkScenarioForDriver } from './capabilities.ts';
import { validateScenario } from '../scenario/validate.ts';
import { ExitCode } from '../errors.ts';

/** One line of the checklist. */
export type ContractItemStatus = 'pass' | 'fail' | 'not-checked';

/** A checklist item: what was checked, its outcome and why. */
export interface ContractItem {
  /** Stable id: `connect`, `send-ack`, `fan-out`, `reconnect`, `resend`, `history`. */
  id: string;
  title: string;
  status: ContractItemStatus;
  why: string;
}

/** Options of {@link testDriverContract}. */
export interface ContractTestOptions {
  /** A driver object, a built-in name (`reference`) or a module path (`./my-driver.ts`). */
  driver: Driver | string;
  /** The back end's URL; omitted: the built-in reference server (reference driver only). */
  target?: string;
  /** HTTP(S) base URL of the back end's API, for drivers that call one (default: the target's origin). */
  httpTarget?: string;
  /** PEM file of a CA or self-signed certificate to trust for a wss:// target. */
  ca?: string;
  /** Do not verify the wss:// target's certificate. */
  insecure?: boolean;
  /** Parent folder of the run folder (default `reports`). */
  out?: string;
  /** Toxiproxy API URL or `embedded` (default: as `chatstorm run`). */
  toxiproxy?: string;
  /** Defect modes of the built-in server (no `target`), e.g. `['no-dedup']`: to see the kit fail. */
  defects?: string[];
  /** Share of opportunities where a defect fires (default: the server's). */
  defectRate?: number;
  /** Seed of the built-in scenario (default 4242). */
  seed?: number;
  /** Send window in ms (default 8000). */
  durationMs?: number;
  signal?: AbortSignal;
}

/** What {@link testDriverContract} found. */
export interface ContractTestResult {
  items: ContractItem[];
  /** 0 every applicable item passed, 1 one failed, 3 the run itself failed (see `summary.error`). */
  exitCode: number;
  /** The run folder (summary.json, report.html, history.jsonl). */
  dir: string;
  summary: Summary;
  driver: string;
}

/** Kinds the kit sends when the driver lists them: small bodies every back end should carry. */
const PLAIN_KINDS = ['text', 'emoji'] as const;

/**
 * The kit's scenario for `driver`: 2 agents and 3 customers with 2 devices each, a group only
 * with `groups`, images only with `attachments`, history loads only with `historyPages`, a
 * `kill-after-send`, a `kill` and a 1.5 s `outage` on the customers' network, an 8 s send window.
 */
export function contractScenario(driver: Driver, o: { seed?: number; durationMs?: number } = {}): unknown {
  const c = driver.capabilities;
  const durationMs = o.durationMs ?? 8000;
  const kinds = PLAIN_KINDS.filter((k) => (c.kinds as readonly string[]).includes(k));
  // A driver that lists neither text nor emoji: send the first kind it lists.
  const mix: Record<string, number> = kinds.length > 0 ? Object.fromEntries(kinds.map((k) => [k, k === 'text' ? 0.8 : 0.2])) : { [c.kinds[0] ?? 'text']: 1 };
  const sizes: Record<string, { min: number; max: number }> = {};
  if (c.attachments && driver.limits.maxAttachmentBytes > 0) {
    mix.image = 0.1;
    sizes.image = { min: Math.min(1024, driver.limits.maxAttachmentBytes), max: Math.min(16 * 1024, driver.limits.maxAttachmentBytes) };
  }
  return {
    name: `driver-test-${driver.name.replace(/[^A-Za-z0-9_-]+/g, '-')}`,
    seed: o.seed ?? 4242,
    duration: durationMs,
    grace: '5s',
    networks: { wan: { toxics: [{ type: 'latency', attributes: { latency: 10, jitter: 5 } }] }, lan: {} },
    population: {
      agents: { count: 2, devices: ['desktop', 'mobile'], network: 'lan', maxConcurrent: 4 },
      customers: { count: 3, devices: ['mobile', 'web'], network: 'wan' },
      ...(c.groups ? { groups: { count: 1, agents: 1, customers: 2, messagesPerMinute: 120 } } : {}),
    },
    traffic: {
      arrival: { model: 'constant', over: `${Math.round(durationMs / 4)}ms` },
      messagesPerCustomer: { min: 4, max: 6 },
      thinkTime: { min: '300ms', max: '900ms' },
      mix,
      sizes,
      readAfter: '300ms',
      ...(c.historyPages ? { history: { who: 'all', onReconnect: true, pageSize: 20, pages: 2 } } : {}),
    },
    faults: [
      { action: 'kill-after-send', at: `${Math.round(durationMs * 0.2)}ms`, network: 'wan', count: 4 },
      // The kill before the outage: devices still backing off after an outage are not live, and a
      // kill then finds nothing to cut (measured on tiny chat: reconnects took up to 3.3 s).
      { action: 'kill', at: `${Math.round(durationMs * 0.35)}ms`, network: 'wan', share: 0.5 },
      // Customers away for 1.5 s while agents keep writing: their catch-up has work to do.
      { action: 'outage', at: `${Math.round(durationMs * 0.55)}ms`, network: 'wan', duration: '1500ms' },
    ],
  };
}

/** What the checklist needs from the history, beyond what summary.json says. */
export interface ContractFacts {
  devices: Set<string>;
  accountOf: Map<string, string>;
  connected: Set<string>;
  /** Devices whose last connection attempt failed and never connected again. */
  stuck: Map<string, string>;
  sent: Set<string>;
  acked: Set<string>;
  finalNacked: Set<string>;
  /** Deliveries to another device of the sender's own account. */
  toOwnOtherDevice: number;
  /** Deliveries to devices of other accounts. */
  toOthers: number;
  /** Devices killed by a `kill` fault, and those that connected again after it. */
  killed: Set<string>;
  killedBack: Set<string>;
  /** Copies shown by catch-up (`replay`) to a device after it lost a connection. */
  replayAfterDrop: number;
  /** Sends a `kill-after-send` fault followed, and those of them sent again (attempt > 1). */
  killedAfterSend: Set<string>;
  resent: Set<string>;
}

/** Fold a history into the facts the checklist reads. */
export function contractFacts(events: Iterable<HistoryEvent>): ContractFacts {
  const f: ContractFacts = {
    devices: new Set(),
    accountOf: new Map(),
    connected: new Set(),
    stuck: new Map(),
    sent: new Set(),
    acked: new Set(),
    finalNacked: new Set(),
    toOwnOtherDevice: 0,
    toOthers: 0,
    killed: new Set(),
    killedBack: new Set(),
    replayAfterDrop: 0,
    killedAfterSend: new Set(),
    resent: new Set(),
  };
  const killAt = new Map<string, number>();
  const dropped = new Set<string>();
  const resends: string[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'account':
        for (const d of e.devices) {
          f.devices.add(d);
          f.accountOf.set(d, e.account);
        }
        break;
      case 'connected':
        f.connected.add(e.device);
        f.stuck.delete(e.device);
        if (killAt.has(e.device)) f.killedBack.add(e.device);
        break;
      case 'disconnect':
        dropped.add(e.device);
        break;
      case 'connect-failed':
        f.stuck.set(e.device, `${e.step}: ${e.reason}`);
        break;
      case 'send':
        f.sent.add(e.key);
        if (e.attempt > 1) resends.push(e.key);
        break;
      case 'ack':
        f.acked.add(e.key);
        break;
      case 'nack':
        if (e.final) f.finalNacked.add(e.key);
        break;
      case 'deliver':
        if (e.device === e.from) break;
        if (f.accountOf.get(e.from) === e.account) f.toOwnOtherDevice++;
        else f.toOthers++;
        if (e.replay && dropped.has(e.device)) f.replayAfterDrop++;
        break;
      case 'fault':
        if (e.phase !== 'start') break;
        if (e.action === 'kill') for (const d of e.devices ?? []) {
          f.killed.add(d);
          killAt.set(d, e.atMs);
        }
        if (e.action === 'kill-after-send' && e.key !== undefined) f.killedAfterSend.add(e.key);
        break;
      default:
        break;
    }
  }
  for (const k of resends) if (f.killedAfterSend.has(k)) f.resent.add(k);
  return f;
}

const some = (keys: Iterable<string>): string => {
  const all = [...keys];
  return all.slice(0, 3).join(', ') + (all.length > 3 ? `, ... (${all.length})` : '');
};

/** Turn a run's summary and history facts into the checklist (pure). */
export function judgeContract(driver: Driver, s: Summary, f: ContractFacts): ContractItem[] {
  const c = driver.capabilities;
  const items: ContractItem[] = [];
  const item = (id: string, title: string, status: ContractItemStatus, why: string) => items.push({ id, title, status, why });
  const loss = s.checks.loss;
  const lossOk = loss?.status === 'pass';
  const lossWhy = loss === undefined ? 'the loss check did not run' : `loss check ${loss.status}${loss.count ? ` (${loss.count} message(s) missing somewhere)` : ''}${loss.note ? `: ${loss.note}` : ''}`;

  // connect
  const never = [...f.devices].filter((d) => !f.connected.has(d));
  const failed = s.connections?.failed ?? 0;
  if (f.devices.size === 0) item('connect', 'connect', 'not-checked', 'the history lists no devices');
  else if (never.length > 0) item('connect', 'connect', 'fail', `${never.length} of ${f.devices.size} device(s) never connected: ${some(never)}`);
  else if (f.stuck.size > 0) item('connect', 'connect', 'fail', `${f.stuck.size} device(s) ended the run on a failed connection attempt: ${some([...f.stuck].map(([d, r]) => `${d} (${r})`))}`);
  else item('connect', 'connect', 'pass', `all ${f.devices.size} devices connected${failed > 0 ? ` (${failed} failed attempt(s) retried successfully)` : ''}; ${s.connections?.attempts ?? '?'} attempts`);

  // send/ack
  const unacked = [...f.sent].filter((k) => !f.acked.has(k) && !f.finalNacked.has(k));
  if (f.sent.size === 0) item('send-ack', 'send/ack', 'not-checked', 'nothing was sent');
  else if (unacked.length > 0) item('send-ack', 'send/ack', 'fail', `${unacked.length} of ${f.sent.size} send(s) never acknowledged: ${some(unacked)}`);
  else if (f.finalNacked.size > 0) item('send-ack', 'send/ack', 'fail', `${f.finalNacked.size} send(s) refused for good: ${some(f.finalNacked)}`);
  else item('send-ack', 'send/ack', 'pass', `${f.sent.size} sends, each acknowledged`);

  // fan-out
  if (loss === undefined || loss.status === 'not-checked') item('fan-out', 'fan-out to other devices', 'not-checked', lossWhy);
  else if (!lossOk) item('fan-out', 'fan-out to other devices', 'fail', lossWhy);
  else if (f.toOwnOtherDevice === 0 || f.toOthers === 0) {
    item('fan-out', 'fan-out to other devices', 'fail', `loss check passed, but ${f.toOwnOtherDevice === 0 ? "no message reached another device of its sender's account" : 'no message reached another account'}`);
  } else item('fan-out', 'fan-out to other devices', 'pass', `every message reached every expected device: ${f.toOwnOtherDevice} copies to the sender's other device, ${f.toOthers} to recipients`);

  // reconnect and catch-up
  const notBack = [...f.killed].filter((d) => !f.killedBack.has(d));
  if (f.killed.size === 0) item('reconnect', 'reconnect and catch-up', 'not-checked', 'the kill fault acted on no device');
  else if (notBack.length > 0) item('reconnect', 'reconnect and catch-up', 'fail', `${notBack.length} of ${f.killed.size} killed device(s) never connected again: ${some(notBack)}`);
  else if (loss === undefined || loss.status === 'not-checked') item('reconnect', 'reconnect and catch-up', 'not-checked', `all ${f.killed.size} killed devices reconnected, but catch-up is unjudged: ${lossWhy}`);
  else if (!lossOk) item('reconnect', 'reconnect and catch-up', 'fail', `all ${f.killed.size} killed devices reconnected, but ${lossWhy}`);
  else if (f.replayAfterDrop === 0) {
    // Every copy arrived, but none by catch-up: a reconnect that needed no catch-up proves nothing about it.
    item('reconnect', 'reconnect and catch-up', 'not-checked', `every killed device (${f.killed.size}) reconnected (loss check pass), but no copy was shown by catch-up (replay) after a drop: catch-up was not exercised`);
  } else item('reconnect', 'reconnect and catch-up', 'pass', `every killed device (${f.killed.size}) reconnected; ${f.replayAfterDrop} copies caught up after a drop (outage, kill); loss check pass`);

  // resend after a kill
  const dup = s.checks.duplicates;
  const title = 'resend after a kill';
  const fired = `${f.killedAfterSend.size} send(s) killed right after the write, ${f.resent.size} resent by the runner`;
  if (f.killedAfterSend.size === 0) item('resend', title, 'not-checked', 'the kill-after-send fault fired on no send');
  else if (dup === undefined || dup.status === 'not-checked') item('resend', title, 'not-checked', `${fired}; duplicates not checked: ${dup?.note ?? 'the check did not run'}`);
  else if (dup.status === 'fail') {
    const whose = c.resumption
      ? `the driver declares resumption: true, yet ${dup.count} message(s) were stored twice`
      : `${dup.count} message(s) stored twice: the back end does not deduplicate a resend and the driver declares resumption: false, so these duplicates are the back end's (trail in the report's duplicates witnesses)`;
    item('resend', title, 'fail', `${fired}; ${whose}`);
  } else item('resend', title, dup.status === 'pass' ? 'pass' : 'fail', `${fired}; duplicates check ${dup.status}: nothing stored twice`);

  // history
  const h = s.checks.history;
  if (!c.historyPages) item('history', 'history', 'not-checked', `the driver declares capabilities.historyPages: false`);
  else if (h === undefined) item('history', 'history', 'not-checked', 'the history check did not run');
  else item('history', 'history', h.status === 'pass' ? 'pass' : h.status === 'fail' ? 'fail' : 'not-checked', `history check ${h.status}${h.count ? ` (${h.count} anomalies)` : ''}${h.note ? `: ${h.note}` : ''}`);
  return items;
}

/**
 * Run the contract test kit against a driver: the built-in scenario shaped by its capabilities
 * (traffic it cannot carry is never planned), run with `allowHarnessLag` (this judges the
 * contract, not delays), then the checklist. Throws, as `runScenario` does, on a bad driver
 * (InvalidDriverError, exit 2) or an unreachable target (exit 3).
 */
export async function testDriverContract(o: ContractTestOptions): Promise<ContractTestResult> {
  const driver = typeof o.driver === 'string' ? await loadDriver(o.driver, { from: 'driver-test' }) : checkDriver(o.driver, 'options.driver');
  const scenario = validateScenario(contractScenario(driver, { seed: o.seed, durationMs: o.durationMs }));
  // The scenario only asks for what the driver declares; this catches a driver whose limits are
  // below even the kit's small messages (exit 2, naming the limit).
  checkScenarioForDriver(scenario, driver);
  const r = await runScenario({
    scenario,
    driver,
    target: o.target,
    httpTarget: o.httpTarget,
    ca: o.ca,
    insecure: o.insecure,
    toxiproxy: o.toxiproxy ?? 'embedded',
    out: o.out,
    defects: o.defects,
    defectRate: o.defectRate,
    allowHarnessLag: true,
    signal: o.signal,
  });
  const events: HistoryEvent[] = [];
  for await (const e of readHistory(join(r.dir, REPORT_FILES.history))) events.push(e);
  const items = judgeContract(driver, r.summary, contractFacts(events));
  const exitCode = r.summary.error !== null || r.summary.verdict === 'error'
    ? ExitCode.infrastructure
    : items.some((i) => i.status === 'fail') ? ExitCode.fail : ExitCode.pass;
  return { items, exitCode, dir: r.dir, summary: r.summary, driver: driver.name };
}

/** The checklist as text, one line per item, and where the report is. */
export function describeContractResult(r: ContractTestResult): string {
  const mark = { pass: 'pass', fail: 'FAIL', 'not-checked': 'not-checked' } as const;
  const lines = [`driver-test: ${r.driver}`];
  for (const i of r.items) lines.push(`  ${mark[i.status].padEnd(11)} ${i.title}: ${i.why}`);
  if (r.exitCode === ExitCode.infrastructure) lines.push(`  the run itself failed: ${r.summary.error ?? r.summary.reasons.join('; ')}`);
  lines.push(`report: ${join(r.dir, REPORT_FILES.html)} (summary.json, history.jsonl beside it)`);
  return lines.join('\n');
}
