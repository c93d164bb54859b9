/**
 * Plan: a validated scenario and its seed expanded into the complete, deterministic list of who
 * talks to whom and when. The same scenario and seed give the same plan, byte for byte
 * (`planHash`), which is how an incident is replayed.
 *
 *   scenario --seed--> population (segments, devices) --> conversations:
 *                        direct: arrivals -> agent pool (cap, FIFO queue) -> turns, bursts,
 *                                replies, device switches, reads, wrap-up
 *                        group:  members -> Poisson messages over the window
 *                                     |
 *                                     v
 *                    sends (per-device counters) + reads + history loads + fault timeline
 *                    + preloaded conversations and the sweep through them (history-preload.ts)
 *
 * Each part draws from its own forked generator, and optional behaviours draw only when enabled,
 * so adding a feature to a scenario does not reshuffle the rest of its plan.
 */
import { createHash } from 'node:crypto';
import { messageKey, type MessageKind, type Role } from '../domain/index.ts';
import type { Scenario, ToxicSpec } from '../scenario/schema.ts';
import { Random } from './random.ts';
import { arrivalTimes } from './arrivals.ts';
import { AgentPool } from './agent-pool.ts';
import { PayloadMix, type Payload } from './payload.ts';
import { planFaults, type PlannedFault } from './faults.ts';
import { planHistoryLoads, type PlannedHistoryLoad } from './history-loads.ts';
import { planPreloads, type PlannedPreload, type PlannedSweep } from './history-preload.ts';
import type { PlanShardInfo } from './shard.ts';

export type { PlannedFault, FaultAction } from './faults.ts';
export type { PlannedHistoryLoad } from './history-loads.ts';
export type { PlannedPreload, PlannedSweep } from './history-preload.ts';

export interface PlannedDevice {
  id: string;
  kind: 'desktop' | 'mobile' | 'web';
  token: string;
}
export interface PlannedAccount {
  id: string;
  role: Role;
  network: string;
  /** Population segment the account belongs to (optional so hand-built plans stay valid). */
  segment?: string;
  /** The first device is the one the account starts active on; the others sit in the background. */
  devices: PlannedDevice[];
}
export interface PlannedConversation {
  id: string;
  kind: 'direct' | 'group';
  members: string[];
  /** When the customer arrives (first message is at or after this); 0 for groups. */
  openMs: number;
  /** When the conversation ends and its agent's slot is free again (direct); null or absent for groups. */
  closeMs?: number | null;
}
export interface PlannedSend {
  atMs: number;
  device: string;
  account: string;
  conv: string;
  kind: MessageKind;
  /** Body bytes, marker included. */
  bytes: number;
  /** Attachment sizes in bytes (images and files). */
  attachments?: number[];
  /** Harness marker `<device>#<n>`, n counting from 1 per device in send order. */
  key: string;
  /**
   * Key of the message this one answers (replayed traces): it is sent no earlier than `atMs` and
   * not before that message has reached the sender's account. Absent in scenario plans.
   */
  after?: string;
}
export interface PlannedRead {
  atMs: number;
  device: string;
  account: string;
  conv: string;
}
/** History loading of a plan: page walk shape and the reconnect rule (periodic loads are planned). */
export interface PlannedHistoryPolicy {
  who: 'all' | 'agents' | 'customers';
  onReconnect: boolean;
  pageSize: number;
  pages: number;
}
export interface Plan {
  scenario: string;
  seed: number;
  sendWindowMs: number;
  graceMs: number;
  networks: Record<string, { toxics: ToxicSpec[] }>;
  /** Recipients download attachments and record their sha256 (default true when absent). */
  downloadAttachments?: boolean;
  accounts: PlannedAccount[];
  conversations: PlannedConversation[];
  /** Sorted by atMs, then device. */
  sends: PlannedSend[];
  /** Sorted by atMs, then device. */
  reads: PlannedRead[];
  /**
   * How devices load history pages; absent when the scenario loads none (so plans of scenarios
   * without `traffic.history` keep their bytes).
   */
  history?: PlannedHistoryPolicy;
  /** Periodic history loads, sorted by atMs, then device (present with `history`). */
  historyLoads?: PlannedHistoryLoad[];
  /** Conversations preloaded with history at set-up, by conversation id (present only when the scenario preloads). */
  preloads?: PlannedPreload[];
  /** Segments of the sweep through the preloaded ranges, sorted by conversation, then offset (present with `preloads`, unless the sweep is off). */
  sweeps?: PlannedSweep[];
  faults: PlannedFault[];
  sla: string[];
  /** Present on a shard's plan only (see `shardPlan`): which shard of the whole plan it is. */
  shard?: PlanShardInfo;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const byTimeThenDevice = (a: { atMs: number; device: string }, b: { atMs: number; device: string }) =>
  a.atMs - b.atMs || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0);

/** Expand a validated scenario into its plan. Pure and deterministic. */
export function buildPlan(s: Scenario, seedOverride?: number): Plan {
  const seed = seedOverride ?? s.seed;
  const root = new Random(seed);
  const rPop = root.fork('population');
  const rArr = root.fork('arrivals');
  const rTalk = root.fork('talk');
  const rGroups = root.fork('groups');
  const rFaults = root.fork('faults');

  // ------------------------------------------------------------ population
  const token = () => rPop.uint32().toString(36) + rPop.uint32().toString(36);
  const agents: PlannedAccount[] = [];
  const caps: number[] = [];
  s.population.agents.forEach((seg, si) => {
    const segment = seg.name ?? (si === 0 ? 'agents' : `agents-${si + 1}`);
    for (let i = 0; i < seg.count; i++) {
      const id = `a${pad(agents.length + 1, 4)}`;
      agents.push({ id, role: 'agent', network: seg.network, segment, devices: seg.devices.map((kind, d) => ({ id: `${id}.${kind}${d}`, kind, token: token() })) });
      caps.push(seg.maxConcurrent);
    }
  });
  const customers: PlannedAccount[] = [];
  s.population.customers.forEach((seg, si) => {
    const segment = seg.name ?? (si === 0 ? 'customers' : `customers-${si + 1}`);
    for (let i = 0; i < seg.count; i++) {
      const id = `c${pad(customers.length + 1, 5)}`;
      customers.push({ id, role: 'customer', network: seg.network, segment, devices: seg.devices.map((kind, d) => ({ id: `${id}.${kind}${d}`, kind, token: token() })) });
    }
  });
  // Several segments arrive interleaved, not one region after the other.
  const arrivalOrder = customers.map((_, i) => i);
  if (s.population.customers.length > 1) shuffle(arrivalOrder, root.fork('segments'));

  // ------------------------------------------------------------ direct conversations
  const t = s.traffic;
  const mix = new PayloadMix(t);
  const arrivals = arrivalTimes(t.arrival, customers.length, s.duration, rArr);
  const { min: thinkMin, max: thinkMax } = t.thinkTime;
  const wrapUp = t.wrapUp ?? thinkMin;
  const pool = new AgentPool(caps);
  const conversations: PlannedConversation[] = [];
  const raw: Omit<PlannedSend, 'key'>[] = [];
  const reads: PlannedRead[] = [];
  const send = (atMs: number, device: string, account: string, conv: string, p: Payload) => {
    raw.push({ atMs: round(atMs), device, account, conv, kind: p.kind, bytes: p.bytes, ...(p.attachments ? { attachments: p.attachments } : {}) });
  };
  const readBy = (acc: PlannedAccount, active: number, atMs: number, conv: string) => {
    let d = active;
    const p = t.multiDevice.readOnOtherDevice;
    if (p > 0 && acc.devices.length > 1 && rTalk.chance(p)) d = (active + 1 + Math.floor(rTalk.next() * (acc.devices.length - 1))) % acc.devices.length;
    reads.push({ atMs: round(atMs), device: (acc.devices[d] as PlannedDevice).id, account: acc.id, conv });
  };

  for (let ci = 0; ci < customers.length; ci++) {
    const customer = customers[arrivalOrder[ci] as number] as PlannedAccount;
    const { agent: agentIndex, startMs: start } = pool.assign(arrivals[ci] as number);
    const agent = agents[agentIndex] as PlannedAccount;
    const conv: PlannedConversation = { id: `dm${pad(ci + 1, 5)}`, kind: 'direct', members: [customer.id, agent.id], openMs: round(start), closeMs: null };
    conversations.push(conv);

    const turns = rTalk.int(t.messagesPerCustomer.min, t.messagesPerCustomer.max);
    let now = start;
    let last = start;
    let active = 0;
    for (let m = 0; m < turns && now < s.duration; m++) {
      // The customer picks up another device mid-conversation and continues there.
      const sw = t.multiDevice.switchProbability;
      if (sw > 0 && m > 0 && customer.devices.length > 1 && rTalk.chance(sw)) {
        active = (active + 1 + Math.floor(rTalk.next() * (customer.devices.length - 1))) % customer.devices.length;
      }
      const device = (customer.devices[active] as PlannedDevice).id;
      const burst = t.burst.probability > 0 && rTalk.chance(t.burst.probability) ? rTalk.int(t.burst.size.min, t.burst.size.max) : 1;
      for (let b = 0; b < burst && now < s.duration; b++) {
        if (b > 0) now += rTalk.between(t.burst.gap.min, t.burst.gap.max);
        if (now >= s.duration) break;
        send(now, device, customer.id, conv.id, mix.draw(rTalk));
        last = Math.max(last, now);
      }
      readBy(agent, 0, now + t.readAfter, conv.id);
      if (rTalk.chance(t.agentReplyProbability)) {
        let reply = now + rTalk.between(thinkMin, thinkMax);
        const n = t.agentReplyMessages.min === t.agentReplyMessages.max ? t.agentReplyMessages.min : rTalk.int(t.agentReplyMessages.min, t.agentReplyMessages.max);
        let lastReply = -1;
        for (let r = 0; r < n; r++) {
          if (r > 0) reply += rTalk.between(t.burst.gap.min, t.burst.gap.max);
          if (reply >= s.duration) break;
          send(reply, (agent.devices[0] as PlannedDevice).id, agent.id, conv.id, mix.draw(rTalk));
          lastReply = reply;
        }
        if (lastReply >= 0) {
          last = Math.max(last, lastReply);
          readBy(customer, active, lastReply + t.readAfter, conv.id);
        }
      }
      now += rTalk.between(thinkMin, thinkMax);
    }
    conv.closeMs = round(last + wrapUp);
    pool.release(agentIndex, last + wrapUp);
  }

  // ------------------------------------------------------------ group chats
  const g = s.population.groups;
  if (g) {
    const perMs = g.messagesPerMinute / 60_000;
    for (let gi = 0; gi < g.count; gi++) {
      const members = [...pick(agents, g.agents, rGroups), ...pick(customers, g.customers, rGroups)];
      const conv: PlannedConversation = { id: `grp${pad(gi + 1, 4)}`, kind: 'group', members: members.map((a) => a.id), openMs: 0, closeMs: null };
      conversations.push(conv);
      if (perMs <= 0) continue;
      for (let at = rGroups.exponential(1 / perMs); at < s.duration; at += rGroups.exponential(1 / perMs)) {
        const si = Math.floor(rGroups.next() * members.length);
        const sender = members[si] as PlannedAccount;
        send(at, (sender.devices[0] as PlannedDevice).id, sender.id, conv.id, mix.draw(rGroups));
        const reader = members[(si + 1 + Math.floor(rGroups.next() * (members.length - 1))) % members.length] as PlannedAccount;
        reads.push({ atMs: round(at + t.readAfter), device: (reader.devices[0] as PlannedDevice).id, account: reader.id, conv: conv.id });
      }
    }
  }

  // ------------------------------------------------------------ keys, order, faults
  raw.sort(byTimeThenDevice);
  const counters = new Map<string, number>();
  const sends: PlannedSend[] = raw.map((r) => {
    const n = (counters.get(r.device) ?? 0) + 1;
    counters.set(r.device, n);
    return { ...r, key: messageKey(r.device, n) };
  });
  reads.sort(byTimeThenDevice);

  const accounts = [...agents, ...customers];
  const devicesByNetwork = new Map<string, string[]>();
  const networkOfDevice = new Map<string, string>();
  for (const a of accounts) {
    const list = devicesByNetwork.get(a.network) ?? [];
    for (const d of a.devices) {
      list.push(d.id);
      networkOfDevice.set(d.id, a.network);
    }
    devicesByNetwork.set(a.network, list);
  }
  const faults = planFaults(s, { devicesByNetwork, sends, networkOfDevice: (d) => networkOfDevice.get(d) }, rFaults);
  // Forked only when used, after every other fork: plans without history are unchanged.
  const h = t.history;
  const history = h
    ? {
        history: { who: h.who, onReconnect: h.onReconnect, pageSize: h.pageSize, pages: h.pages },
        historyLoads: planHistoryLoads(h, { accounts, conversations, sends, durationMs: s.duration }, root.fork('history')),
      }
    : {};
  // Likewise: plans of scenarios that preload nothing keep their bytes.
  const preloaded = h?.preload ? planPreloads(h, { accounts, conversations }, root.fork('preload')) : null;
  const preload = preloaded ? { preloads: preloaded.preloads, ...(h?.sweep === false ? {} : { sweeps: preloaded.sweeps }) } : {};

  return {
    scenario: s.name,
    seed,
    sendWindowMs: s.duration,
    graceMs: s.grace,
    networks: s.networks,
    downloadAttachments: t.downloadAttachments,
    accounts,
    conversations,
    sends,
    reads: reads.filter((r) => r.atMs <= s.duration + s.grace / 2),
    ...history,
    ...preload,
    faults,
    sla: s.sla,
  };
}

/** Times are kept to 0.001 ms so the serialised plan is stable. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function shuffle<T>(a: T[], rnd: Random): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd.next() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
}

/** `n` distinct items, without copying the whole list (sparse Fisher–Yates). */
function pick<T>(items: readonly T[], n: number, rnd: Random): T[] {
  const swapped = new Map<number, number>();
  const out: T[] = [];
  for (let i = 0; i < Math.min(n, items.length); i++) {
    const j = i + Math.floor(rnd.next() * (items.length - i));
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(items[vj] as T);
  }
  return out;
}

/** sha256 of the plan's canonical JSON: equal hashes mean byte-identical plans. */
export function planHash(plan: Plan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}
