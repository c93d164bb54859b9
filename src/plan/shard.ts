/**
 * Shards of a plan: disjoint parts that run in separate processes, each judged alone, so that
 * every check of a message stays inside one process and one clock.
 *
 *   plan --conversations link their members--> units (union-find over accounts: an agent with the
 *        |                                      customers the agent pool gave it, a group chat with
 *        |                                      all its members; an account is whole, so are its
 *        |                                      devices)
 *        v
 *   units --heaviest first, onto the lightest shard--> n shards
 *        |
 *        v
 *   shard plan = the whole plan filtered to the shard's accounts: same sends, same times, same
 *   keys; reads and history loads of its accounts; preloads and sweeps of its conversations; every
 *   network and fault (the fault timeline is one timeline: each shard applies it to its own
 *   devices), kills narrowed to its devices and sends.
 *
 * A shard is never re-planned: the agent pool's queueing was decided over every customer, so a
 * shard replays exactly its part of the whole plan.
 */
import { UsageError } from '../errors.ts';
import type { Plan, PlannedAccount, PlannedFault } from './plan.ts';
import { planHash } from './plan.ts';

/** Which shard of how many (1-based, as `--shard 2/4` and Jest's and Playwright's `--shard`). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** What a shard plan carries about its place in the whole (absent from a whole plan). */
export interface PlanShardInfo extends ShardSpec {
  /** `planHash` of the whole plan: shards of different plans are never merged. */
  wholePlanHash: string;
  /** Accounts of the whole plan (to tell a merge how many a missing shard held). */
  wholeAccounts: number;
}

/** An indivisible part of a plan: accounts that share a conversation, directly or through others. */
export interface ShardUnit {
  accounts: string[];
  /** Work estimate: planned deliveries (a send times the other members' devices) plus devices. */
  weight: number;
  agents: number;
  customers: number;
  groups: number;
}

/** How a plan splits: its units and the most shards it can feed. */
export interface ShardLayout {
  units: ShardUnit[];
  /** The most non-empty shards the plan splits into (the number of units). */
  maxShards: number;
  /** Why the plan splits no further, for messages (e.g. `1 agent serves every customer`). */
  limit: string;
}

/** Parse `i/n` (1 <= i <= n); the error names the flag and the expected form. */
export function parseShardSpec(text: string, flag = '--shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`${flag} expects i/n, e.g. 2/4 (shard 2 of 4, counting from 1), got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) {
    throw new UsageError(`${flag} expects 1 <= i <= n (shards count from 1), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/** The units of a plan, heaviest first (ties: by first account id), and how far it splits. */
export function shardLayout(plan: Plan): ShardLayout {
  const index = new Map<string, number>();
  plan.accounts.forEach((a, i) => index.set(a.id, i));
  const parent = plan.accounts.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      const p = parent[parent[i] as number] as number;
      parent[i] = p;
      i = p;
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    // The lower index is the root: the layout does not depend on the order of conversations.
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const devicesOf = (id: string) => (plan.accounts[index.get(id) as number] as PlannedAccount).devices.length;
  const membersOf = new Map<string, string[]>();
  for (const c of plan.conversations) {
    membersOf.set(c.id, c.members);
    const first = index.get(c.members[0] as string);
    for (const m of c.members) {
      const i = index.get(m);
      if (i !== undefined && first !== undefined) union(first, i);
    }
  }
  const byRoot = new Map<number, ShardUnit>();
  plan.accounts.forEach((a, i) => {
    const root = find(i);
    let u = byRoot.get(root);
    if (!u) byRoot.set(root, (u = { accounts: [], weight: 0, agents: 0, customers: 0, groups: 0 }));
    u.accounts.push(a.id);
    u.weight += a.devices.length;
    if (a.role === 'agent') u.agents++;
    else u.customers++;
  });
  const unitOf = (account: string) => byRoot.get(find(index.get(account) as number)) as ShardUnit;
  const deviceSum = new Map<string, number>();
  for (const c of plan.conversations) {
    deviceSum.set(c.id, c.members.reduce((n, m) => n + devicesOf(m), 0));
    if (c.kind === 'group' && c.members.length > 0) unitOf(c.members[0] as string).groups++;
  }
  for (const s of plan.sends) {
    // The sender's other devices see the message too (multi-device sync).
    unitOf(s.account).weight += (deviceSum.get(s.conv) ?? 1) - 1;
  }
  const units = [...byRoot.values()].sort((a, b) => b.weight - a.weight || cmp(a.accounts[0] as string, b.accounts[0] as string));
  return { units, maxShards: units.length, limit: describeLimit(units, plan.accounts.length) };
}

/**
 * Assign units to `count` shards: heaviest first onto the lightest shard (ties: the lowest
 * index), the classic LPT rule, which keeps the heaviest shard within 4/3 of the best split.
 * Returns, per shard (0-based), its account ids. Throws a UsageError when the plan has fewer
 * units than shards, saying why it splits no further.
 */
export function assignShards(plan: Plan, count: number, layout = shardLayout(plan)): string[][] {
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`shard count must be a positive integer, got ${count}`);
  if (count > layout.maxShards) {
    throw new UsageError(
      `scenario ${plan.scenario} (seed ${plan.seed}) splits into at most ${layout.maxShards} shard${layout.maxShards === 1 ? '' : 's'}, not ${count}: ${layout.limit}; ` +
        `use ${layout.maxShards === 1 ? 'no --shard (run it whole)' : `at most ${layout.maxShards} shards`}`,
    );
  }
  const load = new Array<number>(count).fill(0);
  const out: string[][] = Array.from({ length: count }, () => []);
  for (const u of layout.units) {
    let best = 0;
    for (let i = 1; i < count; i++) if ((load[i] as number) < (load[best] as number)) best = i;
    load[best] = (load[best] as number) + u.weight;
    (out[best] as string[]).push(...u.accounts);
  }
  return out;
}

/** The plan of shard `spec.index` of `spec.count`: the whole plan filtered to that shard's accounts. */
export function shardPlan(plan: Plan, spec: ShardSpec, layout = shardLayout(plan)): Plan {
  if (plan.shard) throw new UsageError(`plan ${plan.scenario} is already shard ${plan.shard.index}/${plan.shard.count}; shard the whole plan`);
  const mine = new Set((assignShards(plan, spec.count, layout)[spec.index - 1] as string[]));
  const devices = new Set<string>();
  for (const a of plan.accounts) if (mine.has(a.id)) for (const d of a.devices) devices.add(d.id);
  const sends = plan.sends.filter((s) => mine.has(s.account));
  const keys = new Set(sends.map((s) => s.key));
  const faults = plan.faults.map((f): PlannedFault => {
    if (f.devices) return { ...f, devices: f.devices.filter((d) => devices.has(d)) };
    if (f.keys) return { ...f, keys: f.keys.filter((k) => keys.has(k)) };
    return f;
  });
  // Every member of a conversation is in the same unit, so the first one decides.
  const conversations = plan.conversations.filter((c) => mine.has(c.members[0] as string));
  const convs = new Set(conversations.map((c) => c.id));
  return {
    ...plan,
    accounts: plan.accounts.filter((a) => mine.has(a.id)),
    conversations,
    sends,
    reads: plan.reads.filter((r) => mine.has(r.account)),
    ...(plan.historyLoads ? { historyLoads: plan.historyLoads.filter((l) => mine.has(l.account)) } : {}),
    ...(plan.preloads ? { preloads: plan.preloads.filter((p) => convs.has(p.conv)) } : {}),
    ...(plan.sweeps ? { sweeps: plan.sweeps.filter((w) => convs.has(w.conv)) } : {}),
    faults,
    shard: { index: spec.index, count: spec.count, wholePlanHash: planHash(plan), wholeAccounts: plan.accounts.length },
  };
}

function describeLimit(units: readonly ShardUnit[], accounts: number): string {
  const top = units[0];
  if (!top) return 'the plan has no accounts';
  if (units.length === 1) {
    const why =
      top.groups > 0 && top.agents > 1
        ? `group chats (${top.groups}) link every agent's team into one unit`
        : top.agents === 1
          ? 'one agent serves every customer'
          : `its conversations link all ${accounts} accounts`;
    return `${why}, and a unit's messages must be checked in one process`;
  }
  return `its largest indivisible unit has ${top.agents} agent(s), ${top.customers} customer(s) and ${top.groups} group chat(s)`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
