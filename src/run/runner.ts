/**
 * The runner: plays a plan against a chat server through Toxiproxy networks and records the
 * history. It never judges; the live judge only listens to the recorder.
 *
 *   setup:    Toxiproxy (given, or embedded children: as many as the open-file limit needs for the
 *             devices per network; a load that cannot fit is refused here) -> server (given or
 *             child) -> networks (each on its proxy process)
 *             -> provision -> connect every device (through its network) -> run-start
 *             (before the networks: every toxic of the scenario is tried on a scratch proxy,
 *             a rejected one is a bad scenario, exit 2)
 *   play:     timeline (sends, reads, history loads, faults) at planned times, open model
 *   drain:    faults lifted; wait until every send is acknowledged, history loads are done and
 *             deliveries go quiet,
 *             at most the grace period
 *   teardown: close devices -> run-end -> remove proxies -> stop children (always, also on error)
 */
import { randomBytes } from 'node:crypto';
import type { Plan, PlannedHistoryLoad, PlannedRead, PlannedSend } from '../plan/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { referenceDriver } from '../drivers/reference.ts';
import { encodeMarker } from '../drivers/marker.ts';
import { messageBody } from '../drivers/body.ts';
import { counterOf } from '../domain/index.ts';
import { Recorder } from '../history/recorder.ts';
import { HISTORY_SCHEMA, type HistoryEvent } from '../history/events.ts';
import { openToxiproxy, type ToxiproxyHandle } from '../net/toxiproxy.ts';
import { createNetworks, leftBehind, removeNetworks, proxyAddressing, type Network } from '../net/networks.ts';
import { TOXIPROXY_TIMEOUT_MS } from '../net/toxiproxy-call.ts';
import { checkTarget } from '../net/target.ts';
import { startChild, type ChildService } from '../net/child.ts';
import { HarnessError, InvalidScenarioError } from '../errors.ts';
import { Random } from '../plan/random.ts';
import { VirtualDevice } from './device.ts';
import { SelfMonitor, type SelfMonitorOptions, type SelfReport } from './self-monitor.ts';
import { Timeline } from './timeline.ts';
import { FaultPlayer } from './fault-player.ts';
import { preflightToxics } from './toxic-preflight.ts';
import { attachmentsFor } from './attachment-content.ts';
import { devicesPerNetwork } from './proxy-load.ts';

export interface RunOptions {
  plan: Plan;
  /** Run id; default `<scenario>-<utc time>-<random>`. */
  runId?: string;
  /** Server URL (`ws://host:port`); default: start the reference server in a child process. */
  target?: string;
  /** Toxiproxy URL or `embedded`; default `TOXIPROXY_URL` when reachable, else embedded. */
  toxiproxy?: string;
  driver?: Driver;
  /**
   * Every event, in order (history writer, live judge, progress): handed over in batches, each
   * within `listenerBatchMs` of the event, and all of them before runPlan resolves.
   */
  listeners?: ((e: HistoryEvent) => void)[];
  /**
   * How long events may wait before listeners get them, ms (default 250, at most 1,024 events;
   * 0: each at once). Batches keep the judge's and the writer's tables warm in cache (see
   * Recorder): 250 ms cost about 8 % less harness CPU per message than 50 ms (4 paired runs).
   */
  listenerBatchMs?: number;
  selfMonitor?: SelfMonitorOptions;
  /** Parallel connection attempts during setup, default 64. */
  connectConcurrency?: number;
  /** Setup must have every device live within this, default 60 s. */
  connectDeadlineMs?: number;
  /** Extra arguments for the child reference server (e.g. `['--defect', 'no-dedup']`). */
  serverArgs?: string[];
  /** Progress callback, about once a second. */
  onProgress?: (p: Progress) => void;
  /** Called once, right before the plan starts playing (every device is live). */
  onPlay?: () => void;
  /** Aborts the run (Ctrl-C): it still tears down and ends its history. */
  signal?: AbortSignal;
  /**
   * Open-file limit the embedded proxy is planned with (default: this process's soft limit,
   * which its children inherit): networks are spread over as many proxy processes as it needs.
   */
  fileLimit?: number | null;
  /** Bound of each Toxiproxy API call, ms (default TOXIPROXY_TIMEOUT_MS, 10 s); a timeout is exit 3. */
  toxiproxyTimeoutMs?: number;
}

export interface Progress {
  elapsedMs: number;
  sent: number;
  acked: number;
  delivered: number;
  live: number;
  devices: number;
  phase: 'connect' | 'play' | 'drain';
}

export interface RunOutcome {
  runId: string;
  /** `complete`, or why the run ended early. */
  endReason: string;
  /** Set when the harness or its infrastructure failed (exit 3). */
  infraError: string | null;
  self: SelfReport;
  target: string;
  /** The Toxiproxy API used (the first one when the embedded proxy runs in several processes). */
  toxiproxy: { url: string; kind: 'external' | 'embedded' } | null;
  /** Toxiproxy processes the networks were spread over (1 for an external server, 0 when none opened). */
  proxyProcesses: number;
  events: number;
}

/** Default run id: sortable, unique enough for a reports folder. */
export function makeRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${scenario}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * Run a plan. Resolves (never rejects for run failures) once everything is torn down; rejects
 * with InvalidScenarioError, before anything is recorded, when the proxy refuses a toxic of the
 * scenario.
 */
export async function runPlan(opts: RunOptions): Promise<RunOutcome> {
  const { plan } = opts;
  const driver = opts.driver ?? referenceDriver;
  const runId = opts.runId ?? makeRunId(plan.scenario);
  const recorder = new Recorder(undefined, { batchMs: opts.listenerBatchMs ?? 250 });
  for (const l of opts.listeners ?? []) recorder.listen(l);
  const rnd = new Random(plan.seed ^ 0x5eed);
  const random = () => rnd.next();
  const toxiproxyTimeoutMs = opts.toxiproxyTimeoutMs ?? TOXIPROXY_TIMEOUT_MS;

  let server: ChildService | null = null;
  let proxy: ToxiproxyHandle | null = null;
  let nets = new Map<string, Network>();
  const devices: VirtualDevice[] = [];
  let endReason = 'complete';
  let infraError: string | null = null;
  let started = false;
  let timeline: Timeline | null = null;
  let faults: FaultPlayer | null = null;
  let invalid: InvalidScenarioError | null = null;
  /** Attachment sends still being prepared (hashing), per device, to keep each device's order. */
  const preparing = new Map<string, Promise<void>>();
  const counters = { sent: 0, acked: 0, delivered: 0 };
  let phase: Progress['phase'] = 'connect';
  /**
   * Aborted when the run must end early (overload, Ctrl-C, a failed fault): setup stops at its
   * next step, connecting devices are stopped, the timeline stops.
   */
  const halt = new AbortController();
  const halted = () => {
    timeline?.stop();
    halt.abort();
  };
  /** Between setup steps: end the run now if it was halted meanwhile. */
  const checkHalt = (step: string) => {
    if (halt.signal.aborted) throw new HarnessError(`run ended while ${step}`);
  };

  const monitor = new SelfMonitor(
    recorder,
    (why) => {
      endReason = 'harness-overloaded';
      infraError = why;
      halted();
    },
    opts.selfMonitor,
  );
  recorder.listen((e) => {
    if (e.type === 'send' && e.attempt === 1) counters.sent++;
    else if (e.type === 'ack') counters.acked++;
    else if (e.type === 'deliver') counters.delivered++;
  });
  const onAbort = () => {
    if (endReason === 'complete') endReason = 'interrupted';
    halted();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const progressTimer = opts.onProgress
    ? setInterval(() => {
        opts.onProgress?.({
          elapsedMs: recorder.now(),
          ...counters,
          live: devices.filter((d) => d.state === 'live').length,
          devices: devices.length,
          phase,
        });
      }, 1000)
    : null;
  progressTimer?.unref();

  try {
    // ---------------------------------------------------------------- setup
    // First, because a load the open-file limit cannot carry is refused before anything starts.
    if (opts.signal?.aborted) onAbort();
    checkHalt('starting');
    proxy = await openToxiproxy(opts.toxiproxy, { devicesPerNetwork: devicesPerNetwork(plan), ...(opts.fileLimit === undefined ? {} : { fileLimit: opts.fileLimit }) });
    checkHalt('opening Toxiproxy');
    let target = opts.target;
    if (target === undefined) {
      server = await startChild(['serve', '--port', '0', ...(opts.serverArgs ?? [])], /listening on (ws:\/\/\S+)/, 'reference chat server');
      target = server.url;
      checkHalt('starting the reference server');
    }
    const targetUrl = checkTarget(target);
    await driver.provision(target, plan.accounts, plan.conversations);
    checkHalt('provisioning');
    const upstream = `${targetUrl.hostname}:${targetUrl.port || (targetUrl.protocol === 'wss:' ? 443 : 80)}`;
    await preflightToxics(proxy.client, `chatstorm-${runId}`, upstream, plan, toxiproxyTimeoutMs);
    checkHalt('trying the toxics');
    // Each network on the proxy process planned for it.
    nets = await createNetworks(proxy, runId, upstream, plan.networks, proxyAddressing(proxy.url), toxiproxyTimeoutMs);
    checkHalt('creating the networks');

    recorder.append({
      type: 'run-start',
      atMs: 0,
      schema: HISTORY_SCHEMA,
      runId,
      scenario: plan.scenario,
      seed: plan.seed,
      startedAt: new Date(Date.now() - recorder.now()).toISOString(),
      sendWindowMs: plan.sendWindowMs,
      graceMs: plan.graceMs,
    });
    started = true;
    for (const a of plan.accounts) {
      recorder.emit({ type: 'account', account: a.id, role: a.role, devices: a.devices.map((d) => d.id), network: a.network });
    }
    for (const c of plan.conversations) recorder.emit({ type: 'conv', conv: c.id, kind: c.kind, members: c.members });

    const byId = new Map<string, VirtualDevice>();
    faults = new FaultPlayer({
      nets,
      devices: byId,
      recorder,
      toxiproxyTimeoutMs,
      onError: (why) => {
        infraError ??= why;
        endReason = 'fault-failed';
        halted();
      },
    });
    const hooks = faults.hooks;
    const downloadAttachments = plan.downloadAttachments ?? true;
    const history = plan.history;
    for (const a of plan.accounts) {
      const net = nets.get(a.network) as Network;
      for (const d of a.devices) {
        const dev = new VirtualDevice({
          identity: { account: a.id, role: a.role, device: d.id, token: d.token },
          url: net.url,
          driver,
          recorder,
          random,
          connectTimeoutMs: 10_000,
          hooks,
          downloadAttachments,
          ...(history && historyFor(history.who, a.role) ? { history } : {}),
        });
        devices.push(dev);
        byId.set(d.id, dev);
      }
    }
    monitor.start();
    await connectAll(devices, opts.connectConcurrency ?? 64, opts.connectDeadlineMs ?? 60_000, halt.signal);

    // ---------------------------------------------------------------- play
    phase = 'play';
    timeline = new Timeline(recorder);
    // One shared function per kind of planned item, the item as its argument (see Timeline).
    const sendPlanned = (intendedMs: number, s: PlannedSend): void => {
      const dev = byId.get(s.device) as VirtualDevice;
      const marker = encodeMarker({ runId, key: s.key, intendedMs });
      const n = counterOf(s.key);
      const msg = { key: s.key, conv: s.conv, kind: s.kind, body: messageBody(marker, s.kind, s.bytes, n), bytes: s.bytes, intendedMs, attempts: 0 };
      const before = preparing.get(s.device);
      if (!s.attachments && !before) {
        // Sender lag is the harness's own delay in handing a planned send to its device, not
        // the time the device waits for a connection (that is the system's delay).
        monitor.senderLag(recorder.now() - intendedMs);
        dev.send(msg);
        return;
      }
      // Hash attachments off the event loop; a device's later sends wait so its order holds.
      const ready = (async () => {
        const attachments = s.attachments ? await attachmentsFor(s.key, s.kind, s.attachments) : undefined;
        await before;
        monitor.senderLag(recorder.now() - intendedMs);
        dev.send(attachments ? { ...msg, attachments } : msg);
      })().catch((err: unknown) => {
        infraError ??= `could not prepare the attachments of ${s.key}: ${err instanceof Error ? err.message : String(err)}`;
        endReason = 'error';
        halted();
      });
      preparing.set(s.device, ready);
      void ready.then(() => {
        if (preparing.get(s.device) === ready) preparing.delete(s.device);
      });
    };
    const readPlanned = (_intendedMs: number, r: PlannedRead): void => void byId.get(r.device)?.markRead(r.conv);
    const loadPlanned = (_intendedMs: number, l: PlannedHistoryLoad): void => void byId.get(l.device)?.loadHistory(l.conv);
    for (const s of plan.sends) timeline.at(s.atMs, sendPlanned, s);
    for (const r of plan.reads) timeline.at(r.atMs, readPlanned, r);
    for (const l of plan.historyLoads ?? []) timeline.at(l.atMs, loadPlanned, l);
    faults.schedule(timeline, plan.faults, plan.sendWindowMs);
    const origin = recorder.now();
    opts.onPlay?.();
    await timeline.start(origin);
    await sleepUntil(recorder, origin + plan.sendWindowMs, () => endReason !== 'complete');

    // ---------------------------------------------------------------- drain
    phase = 'drain';
    await faults.liftAll();
    if (endReason === 'complete') {
      const graceEnd = recorder.now() + plan.graceMs;
      let lastDelivered = -1;
      let quietSince = recorder.now();
      while (recorder.now() < graceEnd && endReason === 'complete') {
        await sleep(100);
        if (counters.delivered !== lastDelivered) {
          lastDelivered = counters.delivered;
          quietSince = recorder.now();
        }
        const outstanding = preparing.size > 0 || devices.some((d) => d.outbox.size > 0 || d.state !== 'live' || d.historyLoads > 0);
        if (!outstanding && recorder.now() - quietSince >= 1000) break;
      }
    }
  } catch (err) {
    if (err instanceof InvalidScenarioError && !started) invalid = err;
    // The first cause wins: a halt (overload, failed fault) has already said why.
    infraError ??= err instanceof Error ? err.message : String(err);
    if (endReason === 'complete') endReason = 'error';
  } finally {
    // ---------------------------------------------------------------- teardown
    timeline?.stop();
    for (const d of devices) d.stop();
    faults?.closeAll();
    if (started) recorder.emit({ type: 'run-end', reason: endReason });
    try {
      // Listeners have every event before the run resolves.
      recorder.close();
    } catch (err) {
      infraError ??= `a history listener failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (progressTimer) clearInterval(progressTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Every proxy is tried; the ones left behind are the run's infrastructure error if it had none.
    const left = await removeNetworks(nets, toxiproxyTimeoutMs);
    if (left.length > 0) infraError ??= leftBehind(left);
    await proxy?.stop();
    await server?.stop();
  }
  const self = monitor.stop();
  if (invalid) throw invalid;
  return {
    runId,
    endReason,
    infraError,
    self,
    target: opts.target ?? server?.url ?? '',
    toxiproxy: proxy ? { url: proxy.url, kind: proxy.kind } : null,
    proxyProcesses: proxy?.processes ?? 0,
    events: recorder.events,
  };
}

/**
 * Bring every device live with bounded parallelism; a device that cannot connect in time fails
 * setup. On `signal` (the run is halted) devices still connecting are stopped at once.
 */
async function connectAll(devices: VirtualDevice[], concurrency: number, deadlineMs: number, signal: AbortSignal): Promise<void> {
  let next = 0;
  let failed = 0;
  const stopConnecting = () => {
    for (const d of devices) if (d.state !== 'live') d.stop();
  };
  const deadline = setTimeout(stopConnecting, deadlineMs);
  signal.addEventListener('abort', stopConnecting, { once: true });
  const worker = async () => {
    while (next < devices.length && !signal.aborted) {
      const d = devices[next++] as VirtualDevice;
      if (!(await d.connect())) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
  clearTimeout(deadline);
  signal.removeEventListener('abort', stopConnecting);
  if (signal.aborted) throw new HarnessError('interrupted while connecting devices');
  if (failed > 0) {
    throw new HarnessError(
      `${failed} of ${devices.length} devices could not connect within ${deadlineMs / 1000} s through their networks; ` +
        'is the server up and accepting WebSocket connections at /ws?',
    );
  }
}

/** Whether accounts of `role` load history under the plan's `who`. */
function historyFor(who: 'all' | 'agents' | 'customers', role: 'agent' | 'customer'): boolean {
  return who === 'all' || (who === 'agents') === (role === 'agent');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function sleepUntil(recorder: Recorder, atMs: number, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const left = atMs - recorder.now();
    if (left <= 0) return;
    await sleep(Math.min(left, 100));
  }
}
