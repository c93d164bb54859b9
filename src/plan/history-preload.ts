/**
 * Preloaded history: which conversations start the run with months of messages already in them,
 * and the sweep that pages through all of them during the run, so that the `history` check can
 * judge the whole preloaded range (not only the newest pages an app opens).
 *
 *   preload entries --seed--> distinct conversations (each entry its own) --> PlannedPreload
 *                                                                                 |
 *   sweep (at, readers, pageSize) --> each preloaded range cut into `readers` segments, each walked
 *                                     ascending from its start by a device of a member (agents'
 *                                     devices first, round robin from a seeded start) --> PlannedSweep
 *
 * The messages themselves are the driver's to create; the plan names the n-th one
 * `<keyDevice>#<n>` so that a page showing the wrong message at a seq is caught.
 */
import { messageKey } from '../domain/index.ts';
import { DEFAULT_SWEEP, type HistorySpec } from '../scenario/schema.ts';
import type { HistoryLoadContext, PlannedHistoryLoad } from './history-loads.ts';
import type { Random } from './random.ts';

/** One conversation's preloaded history (created at set-up, before any device connects). */
export interface PlannedPreload {
  conv: string;
  messages: number;
  bodyBytes: number;
  spanDays: number;
  /** The n-th preloaded message (n = 1, 2, ...) has key `<keyDevice>#<n>` ({@link preloadKey}). */
  keyDevice: string;
  /** The plan sweeps the whole range (the history check then expects every seq of it shown). */
  swept: boolean;
}

/**
 * One segment of a sweep: at `atMs`, `device` pages ascending through the preloaded messages of
 * `conv` from offset `from` (0-based: the first page asks for what follows the `from`-th message),
 * `pages` pages of `pageSize`.
 */
export interface PlannedSweep extends PlannedHistoryLoad {
  from: number;
  pages: number;
  pageSize: number;
}

/** What preload planning needs from the rest of the plan. */
export type PreloadContext = Pick<HistoryLoadContext, 'accounts' | 'conversations'>;

/** The pseudo-device whose keys name the preloaded messages of `conv`. */
export function preloadKeyDevice(conv: string): string {
  return `preload-${conv}`;
}

/** Key of the n-th (1-based) preloaded message of `conv`. */
export function preloadKey(conv: string, n: number): string {
  return messageKey(preloadKeyDevice(conv), n);
}

/**
 * Plan the preloads and sweeps of `h` (empty without `h.preload`). Throws a plain Error when the
 * plan has fewer conversations than the entries ask for (the schema checks it against the
 * population first, so this is a bug guard, not a user message).
 */
export function planPreloads(h: HistorySpec, ctx: PreloadContext, rnd: Random): { preloads: PlannedPreload[]; sweeps: PlannedSweep[] } {
  const entries = h.preload ?? [];
  if (entries.length === 0) return { preloads: [], sweeps: [] };
  const swept = h.sweep !== false;
  const left = ctx.conversations.map((c) => c.id);
  const preloads: PlannedPreload[] = [];
  for (const e of entries) {
    if (e.conversations > left.length) throw new Error(`preload asks for ${e.conversations} more conversations, the plan has ${left.length} left`);
    for (let i = 0; i < e.conversations; i++) {
      // A partial Fisher–Yates over the conversations not preloaded yet.
      const j = i + Math.floor(rnd.next() * (left.length - i));
      [left[i], left[j]] = [left[j] as string, left[i] as string];
      const conv = left[i] as string;
      preloads.push({ conv, messages: e.messages, bodyBytes: e.bodyBytes, spanDays: e.spanDays, keyDevice: preloadKeyDevice(conv), swept });
    }
    left.splice(0, e.conversations);
  }
  preloads.sort((a, b) => (a.conv < b.conv ? -1 : a.conv > b.conv ? 1 : 0));
  if (!swept) return { preloads, sweeps: [] };
  const sweep = h.sweep === undefined || h.sweep === false ? DEFAULT_SWEEP : h.sweep;
  const accounts = new Map(ctx.accounts.map((a) => [a.id, a]));
  const members = new Map(ctx.conversations.map((c) => [c.id, c.members]));
  const sweeps: PlannedSweep[] = [];
  for (const p of preloads) {
    const who = (members.get(p.conv) ?? []).flatMap((m) => {
      const a = accounts.get(m);
      return a ? [a] : [];
    });
    // Agents scroll back through long customer histories; customers only when no agent is a member.
    const readers = who.some((a) => a.role === 'agent') ? who.filter((a) => a.role === 'agent') : who;
    const devices = readers.flatMap((a) => a.devices.map((d) => ({ device: d.id, account: a.id })));
    if (devices.length === 0) continue;
    const start = Math.floor(rnd.next() * devices.length);
    const segments = Math.min(sweep.readers, p.messages);
    for (let k = 0; k < segments; k++) {
      const from = Math.floor((k * p.messages) / segments);
      const to = Math.floor(((k + 1) * p.messages) / segments);
      const d = devices[(start + k) % devices.length] as { device: string; account: string };
      sweeps.push({ atMs: sweep.at, device: d.device, account: d.account, conv: p.conv, from, pages: Math.ceil((to - from) / sweep.pageSize), pageSize: sweep.pageSize });
    }
  }
  return { preloads, sweeps };
}
