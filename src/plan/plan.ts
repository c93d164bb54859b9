/**
 * Plan: a validated scenario and its seed expanded into the complete, deterministic list of who
 * talks to whom and when. The same scenario and seed give the same plan, byte for byte
 * (`planHash`), which is how an incident is replayed.
 *
 *   scenario --seed--> population --> conversations (arrivals, agent assignment, queue)
 *                                         |
 *                                         v
 *                    sends (per-device counters) + reads + fault timeline
 */
import { createHash } from 'node:crypto';
import type { MessageKind, Role } from '../protocol/frames.ts';
import type { Scenario, ToxicSpec } from '../scenario/schema.ts';
import { Random } from './random.ts';
import { arrivalTimes } from './arrivals.ts';

export interface PlannedDevice {
  id: string;
  kind: 'desktop' | 'mobile' | 'web';
  token: string;
}
export interface PlannedAccount {
  id: string;
  role: Role;
  network: string;
  devices: PlannedDevice[];
}
export interface PlannedConversation {
  id: string;
  kind: 'direct' | 'group';
  members: string[];
  /** When the customer arrives (first message is at or after this). */
  openMs: number;
}
export interface PlannedSend {
  atMs: number;
  device: string;
  account: string;
  conv: string;
  kind: MessageKind;
  bytes: number;
  /** Harness marker `<device>#<n>`, n counting from 1 per device in send order. */
  key: string;
}
export interface PlannedRead {
  atMs: number;
  device: string;
  account: string;
  conv: string;
}
export interface PlannedFault {
  /** `f<index>` of the scenario's timeline. */
  id: string;
  network: string;
  action: 'toxic' | 'outage';
  startMs: number;
  /** null: stays to the end of the run. */
  endMs: number | null;
  toxic?: ToxicSpec & { name: string };
  description: string;
}
export interface Plan {
  scenario: string;
  seed: number;
  sendWindowMs: number;
  graceMs: number;
  networks: Record<string, { toxics: ToxicSpec[] }>;
  accounts: PlannedAccount[];
  conversations: PlannedConversation[];
  /** Sorted by atMs, then key. */
  sends: PlannedSend[];
  /** Sorted by atMs. */
  reads: PlannedRead[];
  faults: PlannedFault[];
  sla: string[];
}

const KIND_BYTES: Record<MessageKind, [number, number]> = {
  text: [8, 280],
  emoji: [4, 48],
  'long-text': [2_000, 64_000],
  image: [30_000, 2_000_000],
  file: [100_000, 10_000_000],
};

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Expand a validated scenario into its plan. Pure and deterministic. */
export function buildPlan(s: Scenario, seedOverride?: number): Plan {
  const seed = seedOverride ?? s.seed;
  const root = new Random(seed);
  const rPop = root.fork('population');
  const rArr = root.fork('arrivals');
  const rTalk = root.fork('talk');

  const token = () => rPop.uint32().toString(36) + rPop.uint32().toString(36);
  const agents: PlannedAccount[] = [];
  for (let i = 1; i <= s.population.agents.count; i++) {
    const id = `a${pad(i, 4)}`;
    agents.push({
      id,
      role: 'agent',
      network: s.population.agents.network,
      devices: s.population.agents.devices.map((kind, d) => ({ id: `${id}.${kind}${d}`, kind, token: token() })),
    });
  }
  const customers: PlannedAccount[] = [];
  for (let i = 1; i <= s.population.customers.count; i++) {
    const id = `c${pad(i, 5)}`;
    customers.push({
      id,
      role: 'customer',
      network: s.population.customers.network,
      devices: s.population.customers.devices.map((kind, d) => ({ id: `${id}.${kind}${d}`, kind, token: token() })),
    });
  }

  const arrivals = arrivalTimes(s.traffic.arrival, customers.length, s.duration, rArr);
  const mix = Object.entries(s.traffic.mix).filter(([, w]) => (w ?? 0) > 0) as [MessageKind, number][];
  const { min: thinkMin, max: thinkMax } = s.traffic.thinkTime;

  // Agent assignment: least-loaded agent under its cap; when all are full the customer waits
  // in a FIFO queue until a conversation ends.
  const busyUntil: number[][] = agents.map(() => []);
  const conversations: PlannedConversation[] = [];
  const raw: Omit<PlannedSend, 'key'>[] = [];
  const reads: PlannedRead[] = [];
  const cap = s.population.agents.maxConcurrent;

  customers.forEach((customer, ci) => {
    const arrive = arrivals[ci] as number;
    let start = arrive;
    let agentIndex = -1;
    for (;;) {
      let best = -1;
      let bestLoad = Infinity;
      agents.forEach((_, ai) => {
        const load = (busyUntil[ai] as number[]).filter((t) => t > start).length;
        if (load < cap && load < bestLoad) {
          best = ai;
          bestLoad = load;
        }
      });
      if (best >= 0) {
        agentIndex = best;
        break;
      }
      // Everyone is full: wait for the earliest conversation to end.
      start = Math.min(...busyUntil.flat().filter((t) => t > start));
    }
    const agent = agents[agentIndex] as PlannedAccount;
    const conv: PlannedConversation = { id: `dm${pad(ci + 1, 5)}`, kind: 'direct', members: [customer.id, agent.id], openMs: round(start) };
    conversations.push(conv);

    const count = rTalk.int(s.traffic.messagesPerCustomer.min, s.traffic.messagesPerCustomer.max);
    let t = start;
    let last = start;
    const customerDevice = (customer.devices[0] as PlannedDevice).id;
    const agentDevice = (agent.devices[0] as PlannedDevice).id;
    for (let m = 0; m < count && t < s.duration; m++) {
      const kind = rTalk.weighted(mix);
      const [lo, hi] = KIND_BYTES[kind];
      raw.push({ atMs: round(t), device: customerDevice, account: customer.id, conv: conv.id, kind, bytes: rTalk.int(lo, hi) });
      reads.push({ atMs: round(t + s.traffic.readAfter), device: agentDevice, account: agent.id, conv: conv.id });
      last = t;
      if (rTalk.chance(s.traffic.agentReplyProbability)) {
        const reply = t + rTalk.between(thinkMin, thinkMax);
        if (reply < s.duration) {
          const rk = rTalk.weighted(mix);
          const [rlo, rhi] = KIND_BYTES[rk];
          raw.push({ atMs: round(reply), device: agentDevice, account: agent.id, conv: conv.id, kind: rk, bytes: rTalk.int(rlo, rhi) });
          reads.push({ atMs: round(reply + s.traffic.readAfter), device: customerDevice, account: customer.id, conv: conv.id });
          last = reply;
        }
      }
      t += rTalk.between(thinkMin, thinkMax);
    }
    (busyUntil[agentIndex] as number[]).push(last + thinkMin);
  });

  raw.sort((a, b) => a.atMs - b.atMs || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  const counters = new Map<string, number>();
  const sends: PlannedSend[] = raw.map((r) => {
    const n = (counters.get(r.device) ?? 0) + 1;
    counters.set(r.device, n);
    return { ...r, key: `${r.device}#${n}` };
  });
  reads.sort((a, b) => a.atMs - b.atMs || (a.device < b.device ? -1 : 1));

  const faults: PlannedFault[] = s.faults.map((f, i) => {
    const id = `f${i}`;
    const endMs = f.duration === undefined ? null : f.at + f.duration;
    if (f.action === 'outage') {
      return { id, network: f.network, action: 'outage', startMs: f.at, endMs, description: `outage of ${f.network}` };
    }
    const toxic = { ...f.toxic, name: f.toxic.name ?? `chatstorm_${id}_${f.toxic.type}` };
    const attrs = Object.entries(toxic.attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return { id, network: f.network, action: 'toxic', startMs: f.at, endMs, toxic, description: `${toxic.type} ${toxic.stream} ${attrs}`.trim() };
  });

  return {
    scenario: s.name,
    seed,
    sendWindowMs: s.duration,
    graceMs: s.grace,
    networks: s.networks,
    accounts: [...agents, ...customers],
    conversations,
    sends,
    reads: reads.filter((r) => r.atMs <= s.duration + s.grace / 2),
    faults,
    sla: s.sla,
  };
}

/** Times are kept to 0.001 ms so the serialised plan is stable. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** sha256 of the plan's canonical JSON: equal hashes mean byte-identical plans. */
export function planHash(plan: Plan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}
