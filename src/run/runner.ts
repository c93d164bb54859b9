/**
 * The runner: plays a plan against a chat server through Toxiproxy networks and records the
 * history. It never judges; the live judge only listens to the recorder. A run is four named
 * steps, each a method of {@link Run}; anything that ends it early reports to one
 * {@link RunEndLatch} (first cause kept) and halts it.
 *
 *   setup:    Toxiproxy (given, or embedded children: as many as the open-file limit needs for the
 *             devices per network; a load that cannot fit is refused here) -> server (given or
 *             child) -> networks (each on its proxy process)
 *             -> provision -> preload history -> connect every device (through its network) -> run-start
 *             (before the networks: every toxic of the scenario is tried on a scratch proxy,
 *             a rejected one is a bad scenario, exit 2)
 *   play:     timeline (sends, reads, history loads, sweeps, faults) at planned times, open model
 *   drain:    faults lifted; wait until every send is acknowledged, history loads are done and
 *             deliveries go quiet,
 *             at most the grace period
 *   teardown: stop the self-monitor -> close devices -> run-end -> remove proxies -> stop children
 *             (always, also on error)
 */
import { randomBytes } from 'node:crypto';
import type { Plan, PlannedHistoryLoad, PlannedRead, PlannedSend, PlannedSweep } from '../plan/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { declarationOf } from '../drivers/capabilities.ts';
import { referenceDriver } from '../drivers/reference.ts';
import { encodeMarker } from '../drivers/marker.ts';
import { messageBody } from '../drivers/body.ts';
import { counterOf } from '../domain/index.ts';
import { ReplyGate } from './reply-gate.ts';
import { AttachmentProbe } from './attachment-probe.ts';
import { runProxyPrefix } from '../net/proxy-name.ts';
import { Recorder } from '../history/recorder.ts';
import { HISTORY_SCHEMA, type HistoryEvent } from '../history/events.ts';
import { openToxiproxy, type ToxiproxyHandle } from '../net/toxiproxy.ts';
import { createNetworks, leftBehind, removeNetworks, proxyAddressing, type Network } from '../net/networks.ts';
import { TOXIPROXY_TIMEOUT_MS } from '../net/toxiproxy-call.ts';
import { checkHttpTarget, checkTarget, makeTarget, upstreamOf, type TlsTrust } from '../net/target.ts';
import { startChild, type ChildService } from '../net/child.ts';
import { HarnessError, InvalidScenarioError } from '../errors.ts';
import { Random } from '../plan/random.ts';
import { RunEndLatch, endReasonOf, type RunEnd, type RunStep } from './run-end.ts';
import { VirtualDevice, type HistoryWalk } from './device.ts';
import { SelfMonitor, type SelfMonitorOptions, type SelfReport } from './self-monitor.ts';
import { Timeline } from './timeline.ts';
import { FaultPlayer } from './fault-player.ts';
import { preflightToxics, refuseExtensionToxics } from './toxic-preflight.ts';
import { attachmentsFor } from './attachment-content.ts';
import { devicesPerNetwork } from './proxy-load.ts';
import { preloadHistories, type PreloadDone } from './history-preload.ts';

/** Longest a replayed reply waits past its planned time for the message it answers, ms. */
const REPLY_WAIT_MS = 10_000;

export interface RunOptions {
  plan: Plan;
  /** Run id; default `<scenario>-<utc time>-<random>`. */
  runId?: string;
  /** Server URL (`ws://host:port`); default: start the reference server in a child process. */
  target?: string;
  /** Toxiproxy URL or `embedded`; default `TOXIPROXY_URL` when reachable, else embedded. */
  toxiproxy?: string;
  /** HTTP(S) base URL of the server's API for drivers that call one (default: the target with http(s)). */
  httpTarget?: string;
  /** Trust for a `wss://` target's certificate: an extra CA (PEM) or none at all (default: system CAs). */
  tls?: TlsTrust;
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
   * A batch is handed over in time slices of about 2 ms, so no hand-over holds the event loop
   * that timestamps arrivals (docs/performance.md, "Stalls").
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
  /**
   * Awaited once every device is live, before the plan starts playing: local workers wait here
   * for each other so that their fault timelines start at the same moment.
   */
  beforePlay?: () => Promise<void>;
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
  /** How the run ended (the first cause). */
  end: RunEnd;
  /** `complete`, or why the run ended early: {@link endReasonOf} of `end`. */
  endReason: string;
  /** Set when the harness or its infrastructure failed (exit 3): see {@link RunEndLatch.error}. */
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
  const run = new Run(opts);
  try {
    await run.setUp();
    await run.play();
    await run.drain();
  } catch (err) {
    run.failed(err);
  } finally {
    await run.tearDown();
  }
  return run.outcome();
}

/** Thrown between steps once the run was halted: a consequence of the end already reported. */
class Halted extends Error {}

/** One run of a plan: its state, and its life as named steps. */
class Run {
  private readonly plan: Plan;
  private readonly driver: Driver;
  readonly runId: string;
  private readonly recorder: Recorder;
  private readonly random: () => number;
  private readonly toxiproxyTimeoutMs: number;
  private readonly monitor: SelfMonitor;
  /** The self-monitor's report, taken when teardown stops it. */
  private self: SelfReport | null = null;
  private readonly end = new RunEndLatch();
  /** Aborted when the run must end early: setup stops at its next step, connecting devices stop, the timeline stops. */
  private readonly halt = new AbortController();
  private step: RunStep = 'set-up';
  /** What the driver's `provision` returned: every device's connections get it. */
  private context: unknown;
  /** The sweep's walks under way (device, conversation, progress). */
  private readonly walks = new Set<{ device: string; conv: string; walk: HistoryWalk }>();
  /** Preloaded conversations by id (where the driver put their history): sweeps start from there. */
  private readonly preloaded = new Map<string, PreloadDone>();
  private server: ChildService | null = null;
  private proxy: ToxiproxyHandle | null = null;
  private nets = new Map<string, Network>();
  private readonly devices: VirtualDevice[] = [];
  private readonly byId = new Map<string, VirtualDevice>();
  /** True once `run-start` is recorded: the history then gets its `run-end`. */
  private started = false;
  private timeline: Timeline | null = null;
  private faults: FaultPlayer | null = null;
  /** The proxy refused a toxic of the scenario during set-up: rethrown (exit 2), nothing recorded. */
  private invalid: InvalidScenarioError | null = null;
  /**
   * Sends still being prepared (attachments hashing, a replayed reply waiting for what it
   * answers), per device, to keep each device's order; each resolves with its intended time, ms.
   */
  private readonly preparing = new Map<string, Promise<number>>();
  /** Replayed traces: replies wait for the message they answer (null when the plan has none). */
  private readonly replies: ReplyGate | null;
  /** The isolation probe: a few strangers ask for attachments of conversations they are not in. */
  private probe: AttachmentProbe | null = null;
  private readonly counters = { sent: 0, acked: 0, delivered: 0 };
  /**
   * Deliveries still owed: each first send adds its expected recipients (every device of every
   * member of its conversation but the sending one, as the ledger expects them), each delivery
   * and each final refusal's recipients take them off. Only a reason for the drain not to end
   * early: duplicates and replays count as deliveries, so it errs towards zero.
   */
  private owed = 0;
  private readonly recipients: (conv: string, account: string) => number;
  private readonly accountOf: ReadonlyMap<string, string>;
  private readonly progressTimer: NodeJS.Timeout | null;
  private readonly onAbort = (): void => {
    const reason: unknown = this.opts.signal?.reason;
    // A caller that aborts with its own Error (a broken history listener) reports a failure; a
    // plain abort (Ctrl-C) is an interrupt.
    if (reason instanceof Error && reason.name !== 'AbortError') this.fail('harness', reason.message);
    else this.stopEarly({ kind: 'interrupted', step: this.step });
  };

  constructor(private readonly opts: RunOptions) {
    this.plan = opts.plan;
    this.driver = opts.driver ?? referenceDriver;
    this.runId = opts.runId ?? makeRunId(this.plan.scenario);
    this.recorder = new Recorder(undefined, { batchMs: opts.listenerBatchMs ?? 250 });
    for (const l of opts.listeners ?? []) this.recorder.listen(l);
    const rnd = new Random(this.plan.seed ^ 0x5eed);
    this.random = () => rnd.next();
    this.toxiproxyTimeoutMs = opts.toxiproxyTimeoutMs ?? TOXIPROXY_TIMEOUT_MS;
    // A synchronous hook: a reply is released by the delivery itself, not a batch later.
    const awaited = ReplyGate.awaitedOf(this.plan.sends);
    this.replies = awaited.size > 0 ? new ReplyGate(awaited, () => this.recorder.now()) : null;
    if (this.replies) this.recorder.listenNow(this.replies.step);
    this.monitor = new SelfMonitor(this.recorder, (why) => this.stopEarly({ kind: 'overloaded', reason: why }), opts.selfMonitor);
    this.recipients = recipientCounter(this.plan);
    this.accountOf = new Map(this.plan.accounts.flatMap((a) => a.devices.map((d) => [d.id, a.id] as const)));
    this.recorder.listen((e) => {
      if (e.type === 'send' && e.attempt === 1) {
        this.counters.sent++;
        this.owed += this.recipients(e.conv, e.account);
      } else if (e.type === 'ack') this.counters.acked++;
      else if (e.type === 'deliver') {
        this.counters.delivered++;
        this.owed--;
      } else if (e.type === 'nack' && e.final) this.owed -= this.recipients(e.conv, this.accountOf.get(e.device) ?? '');
    });
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.progressTimer = opts.onProgress ? setInterval(() => this.reportProgress(), 1000) : null;
    this.progressTimer?.unref();
  }

  /** Report an early end (the first one is kept) and halt the run. */
  private stopEarly(end: Exclude<RunEnd, { kind: 'complete' }>): void {
    this.end.report(end);
    this.timeline?.stop();
    this.halt.abort();
  }

  /** The harness or its infrastructure failed during the current step. */
  private fail(source: 'harness' | 'fault', cause: string): void {
    this.stopEarly({ kind: 'infrastructure', step: this.step, source, cause });
  }

  /** Between set-up steps: stop here if the run was halted meanwhile. */
  private checkHalt(): void {
    if (this.halt.signal.aborted) throw new Halted();
  }

  private reportProgress(): void {
    this.opts.onProgress?.({
      elapsedMs: this.recorder.now(),
      ...this.counters,
      live: this.devices.filter((d) => d.state === 'live').length,
      devices: this.devices.length,
      phase: this.step === 'set-up' ? 'connect' : this.step === 'play' ? 'play' : 'drain',
    });
  }

  /**
   * Toxiproxy (given, or embedded children: as many as the open-file limit needs for the devices
   * per network; a load that cannot fit is refused here) -> server (given or child) -> provision
   * -> preload history (timed; a `preload` event each once run-start is recorded) -> every toxic of the scenario tried on a scratch proxy (a rejected one is a bad scenario,
   * exit 2) -> networks -> run-start, population -> connect every device through its network.
   */
  async setUp(): Promise<void> {
    const { plan, opts, recorder } = this;
    if (opts.signal?.aborted) this.onAbort();
    this.checkHalt();
    // First, because a load the open-file limit cannot carry is refused before anything starts.
    this.proxy = await openToxiproxy(opts.toxiproxy, { devicesPerNetwork: devicesPerNetwork(plan), ...(opts.fileLimit === undefined ? {} : { fileLimit: opts.fileLimit }) });
    this.checkHalt();
    // Extension toxics (loss) against a real Toxiproxy: a bad scenario, before anything starts.
    refuseExtensionToxics(plan, this.proxy);
    let target = opts.target;
    if (target === undefined) {
      this.server = await startChild(['serve', '--port', '0', ...(opts.serverArgs ?? [])], /listening on (ws:\/\/\S+)/, 'reference chat server');
      target = this.server.url;
      this.checkHalt();
    }
    const targetUrl = checkTarget(target);
    // Toxics the proxy would refuse end the run before it provisions or preloads anything.
    const upstream = upstreamOf(targetUrl);
    await preflightToxics(this.proxy.client, runProxyPrefix(this.runId), upstream, plan, this.toxiproxyTimeoutMs);
    this.checkHalt();
    // The server as the user named it: path, query, Host and TLS kept through the proxies.
    const spec = { chat: targetUrl, http: opts.httpTarget === undefined ? null : checkHttpTarget(opts.httpTarget), trust: opts.tls ?? { insecure: false } };
    const named = makeTarget(spec.chat, spec.http, null, spec.trust);
    this.context = await this.driver.provision({ runId: this.runId, url: target, accounts: plan.accounts, conversations: plan.conversations, target: named });
    this.checkHalt();
    const preloads = await preloadHistories(this.driver, plan.preloads ?? [], { context: this.context, runId: this.runId, url: target, target: named, signal: this.halt.signal });
    for (const p of preloads) this.preloaded.set(p.conv, p);
    this.checkHalt();
    // Each network on the proxy process planned for it.
    this.nets = await createNetworks(this.proxy, this.runId, upstream, plan.networks, proxyAddressing(this.proxy.url), this.toxiproxyTimeoutMs, spec);
    this.checkHalt();

    recorder.append({
      type: 'run-start',
      atMs: 0,
      schema: HISTORY_SCHEMA,
      runId: this.runId,
      scenario: plan.scenario,
      seed: plan.seed,
      startedAt: new Date(Date.now() - recorder.now()).toISOString(),
      sendWindowMs: plan.sendWindowMs,
      graceMs: plan.graceMs,
      driver: declarationOf(this.driver),
    });
    this.started = true;
    for (const a of plan.accounts) {
      recorder.emit({ type: 'account', account: a.id, role: a.role, devices: a.devices.map((d) => d.id), network: a.network });
    }
    for (const c of plan.conversations) recorder.emit({ type: 'conv', conv: c.id, kind: c.kind, members: c.members });
    for (const p of this.preloaded.values()) recorder.emit({ ...p });

    this.faults = new FaultPlayer({
      nets: this.nets,
      devices: this.byId,
      recorder,
      toxiproxyTimeoutMs: this.toxiproxyTimeoutMs,
      onError: (why) => this.fail('fault', why),
    });
    const hooks = this.faults.hooks;
    const downloadAttachments = plan.downloadAttachments ?? true;
    const history = plan.history;
    for (const a of plan.accounts) {
      const net = this.nets.get(a.network) as Network;
      for (const d of a.devices) {
        const dev = new VirtualDevice({
          identity: { account: a.id, role: a.role, device: d.id, token: d.token },
          url: net.url,
          ...(net.target ? { target: net.target } : {}),
          driver: this.driver,
          context: this.context,
          recorder,
          random: this.random,
          connectTimeoutMs: 10_000,
          hooks,
          downloadAttachments,
          ...(history && historyFor(history.who, a.role) ? { history } : {}),
        });
        this.devices.push(dev);
        this.byId.set(d.id, dev);
      }
    }
    this.probe = new AttachmentProbe(plan, this.byId);
    // A listener only when there is something to probe: it would otherwise look at every event.
    if (this.probe.planned.size > 0) recorder.listen(this.probe.listen);
    this.monitor.start();
    await connectAll(this.devices, opts.connectConcurrency ?? 64, opts.connectDeadlineMs ?? 60_000, this.halt.signal);
  }

  /** The timeline (sends, reads, history loads, faults) at planned times, open model, to the end of the send window. */
  async play(): Promise<void> {
    const { plan, recorder } = this;
    this.step = 'play';
    const timeline = (this.timeline = new Timeline(recorder));
    // One shared function per kind of planned item, the item as its argument (see Timeline).
    const readPlanned = (_intendedMs: number, r: PlannedRead): void => void this.byId.get(r.device)?.markRead(r.conv);
    const loadPlanned = (_intendedMs: number, l: PlannedHistoryLoad): void => void this.byId.get(l.device)?.loadHistory(l.conv);
    for (const s of plan.sends) timeline.at(s.atMs, this.sendPlanned, s);
    for (const r of plan.reads) timeline.at(r.atMs, readPlanned, r);
    for (const l of plan.historyLoads ?? []) timeline.at(l.atMs, loadPlanned, l);
    for (const w of plan.sweeps ?? []) timeline.at(w.atMs, this.sweepPlanned, w);
    this.faults?.schedule(timeline, plan.faults, plan.sendWindowMs);
    if (this.opts.beforePlay) {
      await this.opts.beforePlay();
      this.checkHalt();
    }
    const origin = recorder.now();
    // Harness lag counts from here: every delay the run reports is measured from now on.
    this.monitor.measure();
    this.opts.onPlay?.();
    await timeline.start(origin);
    await sleepUntil(recorder, origin + plan.sendWindowMs, () => this.end.ended);
  }

  /** One segment of the sweep through a preloaded range: an ascending walk from its offset. */
  private readonly sweepPlanned = (_intendedMs: number, w: PlannedSweep): void => {
    const p = this.preloaded.get(w.conv);
    const dev = this.byId.get(w.device);
    if (p === undefined || dev === undefined) return;
    const going = { device: w.device, conv: w.conv, walk: { after: p.first - 1 + w.from, pages: w.pages, pageSize: w.pageSize, loaded: 0 } };
    this.walks.add(going);
    void dev.loadHistory(w.conv, going.walk).finally(() => this.walks.delete(going));
  };

  /** Walks of the sweep still going when the drain ends: each one's `sweep-cut` event. */
  private cutWalks(): void {
    for (const w of this.walks) this.recorder.emit({ type: 'sweep-cut', device: w.device, conv: w.conv, loaded: w.walk.loaded ?? 0, pages: w.walk.pages });
    this.walks.clear();
  }

  private readonly sendPlanned = (intendedMs: number, s: PlannedSend): void => {
    const { recorder, monitor, preparing, replies } = this;
    const dev = this.byId.get(s.device) as VirtualDevice;
    const before = preparing.get(s.device);
    if (!s.attachments && !before && s.after === undefined) {
      // Sender lag is the harness's own delay in handing a planned send to its device, not
      // the time the device waits for a connection (that is the system's delay).
      monitor.senderLag(recorder.now() - intendedMs);
      dev.send(this.message(s, intendedMs));
      return;
    }
    // Hash attachments off the event loop, and let a reply wait for what it answers; a device's
    // later sends wait so its order holds. A reply's wait moves its intended time (a person
    // answers what they have seen), and so that of the sends queued behind it: not harness lag.
    const ready = (async () => {
      let intended = intendedMs;
      if (s.after !== undefined && replies) {
        intended = await replies.whenAnswerable(s.account, s.after, intendedMs, REPLY_WAIT_MS, this.halt.signal);
        if (this.halt.signal.aborted) return intended;
      }
      const attachments = s.attachments ? await attachmentsFor(s.key, s.kind, s.attachments) : undefined;
      if (before) intended = Math.max(intended, await before);
      monitor.senderLag(recorder.now() - intended);
      const msg = this.message(s, intended);
      dev.send(attachments ? { ...msg, attachments } : msg);
      return intended;
    })().catch((err: unknown) => {
      this.fail('harness', `could not prepare the attachments of ${s.key}: ${err instanceof Error ? err.message : String(err)}`);
      return intendedMs;
    });
    preparing.set(s.device, ready);
    void ready.then(() => {
      if (preparing.get(s.device) === ready) preparing.delete(s.device);
    });
  };

  /**
   * The message of planned send `s`, intended at `intendedMs`. A method, not a closure built per
   * send: tsx (esbuild's keepNames) wraps every function expression in a `__name` call, which
   * was 0.8 % of the harness's main-thread CPU in a profile of bench/cpu-per-message.ts.
   */
  private message(s: PlannedSend, intendedMs: number) {
    const marker = encodeMarker({ runId: this.runId, key: s.key, intendedMs });
    return { key: s.key, conv: s.conv, kind: s.kind, body: messageBody(marker, s.kind, s.bytes, counterOf(s.key)), bytes: s.bytes, intendedMs, attempts: 0 };
  }

  /**
   * Faults lifted; then wait until every send is acknowledged, history loads are done, no
   * delivery is owed and deliveries go quiet, at most the grace period. Without the owed
   * deliveries, 1 s of quiet ended the drain while a delivery sat in TCP retransmission backoff
   * (the `loss` toxic), and the run reported as lost what the grace period would have seen arrive.
   */
  async drain(): Promise<void> {
    const { recorder } = this;
    this.step = 'drain';
    await this.faults?.liftAll();
    if (this.end.ended) return;
    const graceEnd = recorder.now() + this.plan.graceMs;
    let lastDelivered = -1;
    let quietSince = recorder.now();
    while (recorder.now() < graceEnd && !this.end.ended) {
      await sleep(100);
      if (this.counters.delivered !== lastDelivered) {
        lastDelivered = this.counters.delivered;
        quietSince = recorder.now();
      }
      const outstanding = this.owed > 0 || this.preparing.size > 0 || (this.probe?.pending ?? 0) > 0 || this.devices.some((d) => d.outbox.size > 0 || d.state !== 'live' || d.historyLoads > 0);
      if (!outstanding && recorder.now() - quietSince >= 1000) break;
    }
    this.cutWalks();
  }

  /** A step threw: the first cause is kept (a halt has already said why). */
  failed(err: unknown): void {
    if (err instanceof Halted) return;
    if (err instanceof InvalidScenarioError && !this.started) this.invalid = err;
    this.fail('harness', err instanceof Error ? err.message : String(err));
  }

  /**
   * Stop the self-monitor -> close devices -> run-end -> remove proxies -> stop children: always,
   * also after a failure.
   */
  async tearDown(): Promise<void> {
    this.step = 'teardown';
    // First: its figures end with the measured part of the run, and no `lag` event may follow
    // `run-end` (the teardown awaits below would otherwise let its window timer fire).
    this.self = this.monitor.stop();
    this.timeline?.stop();
    for (const d of this.devices) d.stop();
    this.faults?.closeAll();
    if (this.started) this.recorder.emit({ type: 'run-end', reason: endReasonOf(this.end.end) });
    try {
      // Listeners have every event before the run resolves.
      this.replies?.close();
      this.recorder.close();
    } catch (err) {
      this.fail('harness', `a history listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    // Every proxy is tried; the ones left behind are the run's infrastructure error if it had none.
    const left = await removeNetworks(this.nets, this.toxiproxyTimeoutMs);
    if (left.length > 0) this.fail('harness', leftBehind(left));
    await this.proxy?.stop();
    await this.server?.stop();
  }

  /** The outcome, once torn down; rethrows a scenario the proxy refused (exit 2). */
  outcome(): RunOutcome {
    const self = this.self ?? this.monitor.stop();
    if (this.invalid) throw this.invalid;
    const end = this.end.end;
    return {
      runId: this.runId,
      end,
      endReason: endReasonOf(end),
      infraError: this.end.error,
      self,
      target: this.opts.target ?? this.server?.url ?? '',
      toxiproxy: this.proxy ? { url: this.proxy.url, kind: this.proxy.kind } : null,
      proxyProcesses: this.proxy?.processes ?? 0,
      events: this.recorder.events,
    };
  }
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
  if (signal.aborted) throw new Halted();
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

/**
 * Expected recipients of a send in `conv` by `account`'s device: every device of every member of
 * `conv` but the sending one (the ledger's rule, src/check/topology.ts), memoised per conversation
 * and account.
 */
function recipientCounter(plan: Plan): (conv: string, account: string) => number {
  const devices = new Map(plan.accounts.map((a) => [a.id, a.devices.length]));
  const members = new Map(plan.conversations.map((c) => [c.id, c.members]));
  const memo = new Map<string, Map<string, number>>();
  return (conv, account) => {
    let byAccount = memo.get(conv);
    if (byAccount === undefined) memo.set(conv, (byAccount = new Map()));
    let n = byAccount.get(account);
    if (n === undefined) {
      n = 0;
      for (const m of members.get(conv) ?? []) n += (devices.get(m) ?? 0) - (m === account ? 1 : 0);
      byAccount.set(account, n);
    }
    return n;
  };
}
