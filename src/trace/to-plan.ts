/**
 * A trace becomes a plan: the same runner, checkers and reports then replay it.
 *
 *   records --accounts, devices, conversations--> population
 *           --messages / reads / history loads--> timed items (t / speed)
 *           --replicas (scale)-----------------> more conversations of the same shape, fresh ids
 *           --replyTo--------------------------> `after`: a reply waits for what it answers
 *   header or --scenario --networks, faults, sla--> plan networks and fault timeline
 *
 * Causality: a message with `replyTo` is planned with `after` = the key of the answered message;
 * the runner sends it no earlier than its planned time and not before the answered message has
 * reached the replier's account (docs/traces.md).
 */
import { InvalidTraceError } from '../errors.ts';
import { planFaults, type Plan, type PlannedAccount, type PlannedConversation, type PlannedDevice, type PlannedFault, type PlannedHistoryLoad, type PlannedRead, type PlannedSend } from '../plan/index.ts';
import { Random } from '../plan/random.ts';
import type { MessageKind, Role } from '../domain/index.ts';
import type { Driver } from '../drivers/driver.ts';
import { referenceDriver } from '../drivers/reference.ts';
import type { Scenario } from '../scenario/schema.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Trace, TraceRecord } from './format.ts';

export interface TracePlanOptions {
  /** Time factor: 2 replays twice as fast (default 1). */
  speed?: number;
  /** Volume factor: 1.5 adds half as many conversations again, of the same shape (default 1). */
  scale?: number;
  /** Seed of the choices replay makes (which conversations a fractional replica takes, offsets). */
  seed?: number;
  /** A scenario whose networks, faults, SLAs, grace and history policy apply (`--scenario`). */
  scenario?: Scenario;
  /** Name in messages (the trace file). */
  source?: string;
  /** What the run's driver carries: message kinds and payload limits (default: the reference driver's). */
  driver?: Pick<Driver, 'name' | 'capabilities' | 'limits'>;
}

/** Per replica, conversations are shifted by up to this much, so copies do not fire in lockstep. */
const REPLICA_SPREAD_MS = 500;
const DEFAULT_GRACE_MS = 10_000;

type Where = { line?: number };
type AccountInfo = { role?: Role; network?: string; devices: string[] };

/** Build the plan of a parsed trace. Throws InvalidTraceError naming what does not fit. */
export function traceToPlan(trace: Trace, o: TracePlanOptions = {}): { plan: Plan; notes: string[] } {
  const source = o.source ?? 'trace';
  const speed = o.speed ?? 1;
  const scale = o.scale ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new InvalidTraceError(source, [{ line: 0, field: '--speed', reason: `must be a number above 0, got ${speed}` }]);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new InvalidTraceError(source, [{ line: 0, field: '--scale', reason: `must be a number above 0, got ${scale}` }]);
  const seed = o.seed ?? 1;
  const driver = o.driver ?? referenceDriver;
  const notes: string[] = [];
  const fail = (line: number, field: string, reason: string): never => {
    throw new InvalidTraceError(source, [{ line, field, reason }]);
  };
  const lineOf = (i: number) => trace.lines[i] ?? 0;

  // ------------------------------------------------------------ carrier scenario: networks, faults, SLAs
  const base = o.scenario;
  const h = trace.header;
  const networks = base?.networks ?? (h.networks as Scenario['networks'] | undefined) ?? { trace: { toxics: [] } };
  const firstNet = Object.keys(networks)[0] as string;
  const carrier = validateScenario(
    {
      name: h.name ?? base?.name ?? 'trace',
      seed,
      // Faults are checked against this window (trace time; a --scenario's own window for its faults).
      duration: Math.ceil(Math.max(0, ...trace.records.map((r) => r.t), base?.duration ?? 0)) + 1,
      grace: base?.grace ?? h.grace ?? DEFAULT_GRACE_MS,
      networks,
      population: { agents: { count: 1, devices: ['desktop'], network: firstNet }, customers: { count: 1, devices: ['mobile'], network: firstNet } },
      faults: base?.faults ?? h.faults ?? [],
      sla: base?.sla ?? h.sla ?? [],
    },
    `${source} (header: networks, faults, sla)`,
  );
  const defaultNetwork: Record<Role, string> = {
    agent: base?.population.agents[0]?.network ?? firstNet,
    customer: base?.population.customers[0]?.network ?? firstNet,
  };

  // ------------------------------------------------------------ accounts and conversations of the trace
  const accounts = new Map<string, AccountInfo>();
  const account = (id: string) => {
    let a = accounts.get(id);
    if (!a) accounts.set(id, (a = { devices: [] }));
    return a;
  };
  const setRole = (id: string, role: Role | undefined, at: Where) => {
    if (!role) return;
    const a = account(id);
    if (a.role && a.role !== role) fail(at.line ?? 0, 'role', `account ${id} is a ${a.role} on an earlier line and a ${role} here`);
    a.role = role;
  };
  const useDevice = (id: string, device: string | undefined) => {
    const a = account(id);
    const d = device ?? '';
    if (d !== '' && !a.devices.includes(d)) a.devices.push(d);
    return d;
  };
  const declared = new Map<string, { kind: 'direct' | 'group'; members: Set<string> }>();
  const seenIn = new Map<string, Set<string>>();
  const member = (conv: string, acc: string) => {
    let s = seenIn.get(conv);
    if (!s) seenIn.set(conv, (s = new Set()));
    s.add(acc);
  };
  const ids = new Map<string, number>();
  trace.records.forEach((r, i) => {
    const at = { line: lineOf(i) };
    switch (r.type) {
      case 'account':
        setRole(r.account, r.role, at);
        if (r.network) {
          if (!(r.network in networks)) fail(at.line, 'network', `network ${r.network} is not one of the trace's networks (${Object.keys(networks).join(', ')})`);
          account(r.account).network = r.network;
        }
        for (const d of r.devices ?? []) useDevice(r.account, d);
        break;
      case 'conversation':
        declared.set(r.conv, { kind: r.kind, members: new Set(r.members) });
        for (const m of r.members) account(m);
        break;
      case 'message':
        setRole(r.account, r.role, at);
        useDevice(r.account, r.device);
        member(r.conv, r.account);
        if (r.kind !== 'image' && r.kind !== 'file' && r.attachments?.length) fail(at.line, 'attachments', `a ${r.kind} message carries no attachments (kind image or file does)`);
        checkCarried(driver, r.kind as MessageKind, r.size, r.attachments, at.line, fail);
        if (r.id !== undefined) {
          if (ids.has(r.id)) fail(at.line, 'id', `message id ${r.id} was used on line ${ids.get(r.id)} already`);
          ids.set(r.id, at.line);
        }
        break;
      case 'read':
      case 'history':
        useDevice(r.account, r.device);
        member(r.conv, r.account);
        break;
      case 'connect':
      case 'disconnect':
        useDevice(r.account, r.device);
        break;
      case 'transfer':
        member(r.conv, r.from);
        member(r.conv, r.to);
        setRole(r.from, 'agent', at);
        setRole(r.to, 'agent', at);
        break;
    }
  });
  for (const [id, a] of accounts) {
    if (!a.role) fail(0, 'role', `account ${id} has no role: give "role" on one of its message lines or an account line`);
    if (a.devices.length === 0) a.devices.push(a.role === 'agent' ? 'desktop' : 'mobile');
    a.network ??= defaultNetwork[a.role as Role];
  }
  const convIds = [...new Set([...declared.keys(), ...seenIn.keys()])];
  const convMembers = new Map<string, string[]>();
  const convKind = new Map<string, 'direct' | 'group'>();
  for (const c of convIds) {
    const d = declared.get(c);
    const seen = seenIn.get(c) ?? new Set<string>();
    const members = new Set([...(d?.members ?? []), ...seen]);
    convMembers.set(c, [...members]);
    const roles = [...members].map((m) => accounts.get(m)?.role);
    convKind.set(c, d?.kind ?? (members.size === 2 && roles.includes('agent') && roles.includes('customer') ? 'direct' : 'group'));
  }

  // ------------------------------------------------------------ replicas (scale)
  const rnd = new Random(seed).fork('replay');
  const whole = Math.floor(scale);
  const frac = scale - whole;
  /** replica index -> conversations it holds; replica 0 is the trace itself (absent when scale < 1). */
  const replicas: { suffix: string; convs: Set<string>; offsetMs: Map<string, number> }[] = [];
  const copies = Math.ceil(scale);
  for (let r = 0; r < copies; r++) {
    const convs = new Set<string>();
    const offsetMs = new Map<string, number>();
    for (const c of convIds) {
      if (r < whole || rnd.chance(frac)) {
        convs.add(c);
        offsetMs.set(c, r === 0 ? 0 : Math.round(rnd.between(0, REPLICA_SPREAD_MS)));
      }
    }
    replicas.push({ suffix: r === 0 ? '' : `-r${r + 1}`, convs, offsetMs });
  }
  if (scale !== 1) notes.push(`--scale ${scale}: ${replicas.reduce((n, r) => n + r.convs.size, 0)} conversations from the trace's ${convIds.length}`);
  const idIn = (id: string, suffix: string) => {
    const out = id + suffix;
    if (out.length > 64) fail(0, 'account', `id ${id} is too long to replicate (${out.length} > 64 characters with ${suffix})`);
    return out;
  };

  // ------------------------------------------------------------ plan items
  const planned = new Map<string, PlannedAccount>();
  const plannedAccount = (id: string, suffix: string): PlannedAccount => {
    const pid = idIn(id, suffix);
    let p = planned.get(pid);
    if (!p) {
      const a = accounts.get(id) as AccountInfo;
      const devices: PlannedDevice[] = a.devices.map((d) => ({ id: `${pid}.${d}`, kind: deviceKind(d), token: tokenOf(pid, d) }));
      p = { id: pid, role: a.role as Role, network: a.network as string, segment: a.role === 'agent' ? 'agents' : 'customers', devices };
      planned.set(pid, p);
    }
    return p;
  };
  const deviceOf = (acc: PlannedAccount, device: string | undefined): string => {
    const d = device ? acc.devices.find((x) => x.id === `${acc.id}.${device}`) : acc.devices[0];
    return (d as PlannedDevice).id;
  };
  const at = (t: number, offsetMs: number) => Math.round(((t + offsetMs) / speed) * 1000) / 1000;

  const conversations: PlannedConversation[] = [];
  const raw: (Omit<PlannedSend, 'key'> & { traceId?: string; replyTo?: string; replica: number })[] = [];
  const reads: PlannedRead[] = [];
  const loads: PlannedHistoryLoad[] = [];
  const kills: { atMs: number; device: string; network: string }[] = [];
  let unansweredReplies = 0;
  replicas.forEach((rep, ri) => {
    for (const c of convIds) {
      if (!rep.convs.has(c)) continue;
      const members = (convMembers.get(c) as string[]).map((m) => plannedAccount(m, rep.suffix).id);
      conversations.push({ id: idIn(c, rep.suffix), kind: convKind.get(c) as 'direct' | 'group', members, openMs: 0, closeMs: null });
    }
    trace.records.forEach((r) => {
      if (r.type === 'account' || r.type === 'conversation' || r.type === 'transfer' || r.type === 'connect') return;
      if (r.type === 'disconnect') {
        // A device's drop belongs to every replica holding one of its account's conversations.
        if (!planned.has(idIn(r.account, rep.suffix))) return;
        const acc = plannedAccount(r.account, rep.suffix);
        kills.push({ atMs: at(r.t, 0), device: deviceOf(acc, r.device), network: acc.network });
        return;
      }
      if (!rep.convs.has(r.conv)) return;
      const acc = plannedAccount(r.account, rep.suffix);
      const conv = idIn(r.conv, rep.suffix);
      const atMs = at(r.t, rep.offsetMs.get(r.conv) ?? 0);
      const device = deviceOf(acc, r.device);
      if (r.type === 'message') {
        raw.push({
          atMs,
          device,
          account: acc.id,
          conv,
          kind: r.kind as MessageKind,
          bytes: r.size,
          ...(r.attachments?.length ? { attachments: r.attachments } : {}),
          ...(r.id !== undefined ? { traceId: r.id } : {}),
          ...(r.replyTo !== undefined ? { replyTo: r.replyTo } : {}),
          replica: ri,
        });
      } else if (r.type === 'read') reads.push({ atMs, device, account: acc.id, conv });
      else loads.push({ atMs, device, account: acc.id, conv });
    });
  });

  // Keys in time order per device (as buildPlan numbers them), then replies point at keys.
  const byTimeThenDevice = (a: { atMs: number; device: string }, b: { atMs: number; device: string }) =>
    a.atMs - b.atMs || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0);
  raw.sort(byTimeThenDevice);
  const counters = new Map<string, number>();
  const keyOfTraceId = new Map<string, string>();
  const keyed = raw.map((r) => {
    const n = (counters.get(r.device) ?? 0) + 1;
    counters.set(r.device, n);
    const key = `${r.device}#${n}`;
    if (r.traceId !== undefined) keyOfTraceId.set(`${r.replica}\u0000${r.traceId}`, key);
    return { r, key };
  });
  const sends: PlannedSend[] = keyed.map(({ r, key }) => {
    const { traceId: _id, replyTo, replica, ...send } = r;
    const after = replyTo === undefined ? undefined : keyOfTraceId.get(`${replica}\u0000${replyTo}`);
    if (replyTo !== undefined && after === undefined) unansweredReplies++;
    return { ...send, key, ...(after !== undefined ? { after } : {}) };
  });
  if (unansweredReplies > 0) notes.push(`${unansweredReplies} message(s) answer a message that is not in the trace; they are sent at their time without waiting`);
  reads.sort(byTimeThenDevice);
  loads.sort(byTimeThenDevice);

  // ------------------------------------------------------------ window, faults
  const lastMs = Math.max(0, ...sends.map((s) => s.atMs), ...reads.map((r) => r.atMs), ...loads.map((l) => l.atMs), ...kills.map((k) => k.atMs));
  const sendWindowMs = Math.ceil(lastMs) + 1;
  const accountsList = [...planned.values()];
  const devicesByNetwork = new Map<string, string[]>();
  const networkOfDevice = new Map<string, string>();
  for (const a of accountsList) {
    const list = devicesByNetwork.get(a.network) ?? [];
    for (const d of a.devices) {
      list.push(d.id);
      networkOfDevice.set(d.id, a.network);
    }
    devicesByNetwork.set(a.network, list);
  }
  // Header faults are in trace time and scale with --speed; a --scenario's are in replay time.
  const faultScale = base ? 1 : 1 / speed;
  const scaled: Scenario = { ...carrier, duration: sendWindowMs, faults: carrier.faults.map((f) => scaleFault(f, faultScale)) };
  const faults: PlannedFault[] = [
    ...planFaults(scaled, { devicesByNetwork, sends, networkOfDevice: (d) => networkOfDevice.get(d) }, new Random(seed).fork('faults')),
    ...kills.map(
      (k, i): PlannedFault => ({
        id: `d${i}`,
        network: k.network,
        action: 'kill',
        startMs: k.atMs,
        endMs: null,
        devices: [k.device],
        description: `trace: ${k.device} disconnects`,
      }),
    ),
  ];
  const historyPolicy = base?.traffic.history;
  const plan: Plan = {
    scenario: carrier.name,
    seed,
    sendWindowMs,
    graceMs: carrier.grace,
    networks: carrier.networks,
    accounts: accountsList,
    conversations,
    sends,
    reads,
    ...(loads.length > 0
      ? {
          history: historyPolicy
            ? { who: historyPolicy.who, onReconnect: historyPolicy.onReconnect, pageSize: historyPolicy.pageSize, pages: historyPolicy.pages }
            : { who: 'all' as const, onReconnect: false, pageSize: 50, pages: 1 },
          historyLoads: loads,
        }
      : {}),
    faults,
    sla: carrier.sla,
  };
  if (sends.length === 0) fail(0, '', 'the trace has no message lines: nothing to replay');
  return { plan, notes };
}

/** A message the driver cannot carry (its kind, body size, attachment count or size): an error naming the line. */
function checkCarried(
  driver: Pick<Driver, 'name' | 'capabilities' | 'limits'>,
  kind: MessageKind,
  size: number,
  attachments: readonly number[] | undefined,
  line: number,
  fail: (line: number, field: string, reason: string) => never,
): void {
  const { limits, capabilities } = driver;
  if (!capabilities.kinds.includes(kind)) fail(line, 'kind', `driver ${driver.name} cannot carry ${kind} messages (it carries ${capabilities.kinds.join(', ')})`);
  if (size > limits.maxBodyBytes) fail(line, 'size', `${kind} body of ${size} bytes is over driver ${driver.name}'s limit of ${limits.maxBodyBytes} bytes`);
  const n = attachments?.length ?? 0;
  if (n > limits.maxAttachmentsPerMessage) fail(line, 'attachments', `${n} attachments in one message; driver ${driver.name} takes at most ${limits.maxAttachmentsPerMessage}`);
  for (const a of attachments ?? []) {
    if (a > limits.maxAttachmentBytes) fail(line, 'attachments', `attachment of ${a} bytes is over driver ${driver.name}'s limit of ${limits.maxAttachmentBytes} bytes`);
  }
}

function scaleFault<F extends Scenario['faults'][number]>(f: F, k: number): F {
  if (k === 1) return f;
  const out: Record<string, unknown> = { ...f, at: f.at * k };
  if ('duration' in f && typeof f.duration === 'number') out.duration = f.duration * k;
  if ('hold' in f && typeof f.hold === 'number') out.hold = f.hold * k;
  return out as F;
}

function deviceKind(name: string): PlannedDevice['kind'] {
  if (name.startsWith('mobile') || name.startsWith('phone')) return 'mobile';
  if (name.startsWith('desktop')) return 'desktop';
  return 'web';
}

/** A stable token per device (the reference server's accounts are provisioned from the plan). */
function tokenOf(account: string, device: string): string {
  let h = 2166136261;
  for (const ch of `${account}.${device}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(36) + account.length.toString(36);
}

/** What the records of a trace hold, for notes and docs. */
export function describeTrace(records: readonly TraceRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}
