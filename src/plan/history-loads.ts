/**
 * Periodic history loads: each account of the chosen role opens the history of one of its
 * conversations every `every` ms, at a seeded phase, on one of its devices (picked by the seed,
 * so background devices load history too). Only conversations whose first message is planned
 * by then are candidates: an app opens a conversation that exists on screen.
 *
 *   accounts x (phase + k * every < duration) --> started conversations of the account --> pick one
 */
import type { HistorySpec } from '../scenario/schema.ts';
import type { Random } from './random.ts';

/** One history load: `device` loads the configured number of pages of `conv` at `atMs`. */
export interface PlannedHistoryLoad {
  atMs: number;
  device: string;
  account: string;
  conv: string;
}

/** What history planning needs from the rest of the plan. */
export interface HistoryLoadContext {
  accounts: readonly { id: string; role: 'agent' | 'customer'; devices: readonly { id: string }[] }[];
  conversations: readonly { id: string; members: readonly string[] }[];
  /** Sorted by time. */
  sends: readonly { atMs: number; conv: string }[];
  durationMs: number;
}

/** Plan the periodic loads of `h` (none without `every`), sorted by time, then device. */
export function planHistoryLoads(h: HistorySpec, ctx: HistoryLoadContext, rnd: Random): PlannedHistoryLoad[] {
  const every = h.every;
  if (every === undefined) return [];
  const firstSend = new Map<string, number>();
  for (const s of ctx.sends) if (!firstSend.has(s.conv)) firstSend.set(s.conv, s.atMs);
  /** account -> its conversations by first planned message, earliest first. */
  const started = new Map<string, { atMs: number; conv: string }[]>();
  for (const c of ctx.conversations) {
    const atMs = firstSend.get(c.id);
    if (atMs === undefined) continue;
    for (const m of c.members) {
      let list = started.get(m);
      if (list === undefined) started.set(m, (list = []));
      list.push({ atMs, conv: c.id });
    }
  }
  const loads: PlannedHistoryLoad[] = [];
  for (const a of ctx.accounts) {
    if (h.who !== 'all' && a.role !== (h.who === 'agents' ? 'agent' : 'customer')) continue;
    const convs = started.get(a.id);
    if (convs === undefined || a.devices.length === 0) continue;
    convs.sort((x, y) => x.atMs - y.atMs || (x.conv < y.conv ? -1 : x.conv > y.conv ? 1 : 0));
    let open = 0;
    for (let at = rnd.next() * every; at < ctx.durationMs; at += every) {
      while (open < convs.length && (convs[open] as { atMs: number }).atMs <= at) open++;
      if (open === 0) continue;
      const conv = (convs[Math.floor(rnd.next() * open)] as { conv: string }).conv;
      const device = a.devices.length === 1 ? a.devices[0] : a.devices[Math.floor(rnd.next() * a.devices.length)];
      loads.push({ atMs: Math.round(at * 1000) / 1000, device: (device as { id: string }).id, account: a.id, conv });
    }
  }
  return loads.sort((x, y) => x.atMs - y.atMs || (x.device < y.device ? -1 : x.device > y.device ? 1 : 0));
}
