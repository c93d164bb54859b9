/**
 * The fault timeline of a plan: each scenario fault becomes one `PlannedFault` with everything
 * the runner needs decided in advance (toxic names, ramp steps, which devices are killed and
 * which sends trigger a kill), so a replay injects the same faults at the same points.
 */
import { InvalidScenarioError } from '../errors.ts';
import type { FaultSpec, Scenario, ToxicSpec } from '../scenario/schema.ts';
import type { Random } from './random.ts';

/** What a fault does; `kill*` actions act on the harness's own connections, the rest on Toxiproxy. */
export type FaultAction = FaultSpec['action'];

export interface PlannedFault {
  /** `f<index>` of the scenario's timeline. */
  id: string;
  network: string;
  action: FaultAction;
  /** When it starts (for `kill-after-send` / `kill-during-upload`: when it is armed; it starts at the kill). */
  startMs: number;
  /**
   * When the runner lifts it; null: it stays to the end of the send window. Kills have no planned
   * end: they end when every killed device is live again.
   */
  endMs: number | null;
  /** The toxic added (`toxic`, `ramp` of a new toxic), with its name on the proxy. */
  toxic?: ToxicSpec & { name: string };
  /** Name of an existing toxic (`update-toxic`, `remove-toxic`, `ramp` by name). */
  target?: string;
  /** New attributes (`update-toxic`). */
  attributes?: Record<string, number>;
  toxicity?: number;
  /** Updates of a ramp, the first at `startMs`, the last at the end of the ramp window. */
  ramp?: { attribute: string; steps: { atMs: number; value: number }[] };
  /** Devices killed at `startMs` (`kill`). */
  devices?: string[];
  /** Sends whose write triggers a kill of the sending device (`kill-after-send`, `kill-during-upload`). */
  keys?: string[];
  description: string;
}

/** What fault planning needs from the rest of the plan. */
export interface FaultContext {
  /** Device ids per network, in plan order. */
  devicesByNetwork: ReadonlyMap<string, readonly string[]>;
  /** Sends sorted by time, with the network of the sender. */
  sends: readonly { atMs: number; device: string; key: string; attachments?: number[] }[];
  networkOfDevice: (device: string) => string | undefined;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const attrs = (a: Record<string, number>) =>
  Object.entries(a)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function planFaults(s: Scenario, ctx: FaultContext, rnd: Random): PlannedFault[] {
  const usedKeys = new Set<string>();
  return s.faults.map((f, i): PlannedFault => {
    const id = `f${i}`;
    const base = { id, network: f.network, action: f.action, startMs: f.at };
    switch (f.action) {
      case 'toxic': {
        const toxic = { ...f.toxic, name: f.toxic.name ?? `chatstorm_${id}_${f.toxic.type}` };
        return { ...base, endMs: end(f.at, f.duration), toxic, description: `${toxic.type} ${toxic.stream} ${attrs(toxic.attributes)}`.trim() };
      }
      case 'update-toxic':
        return {
          ...base,
          endMs: end(f.at, f.duration),
          target: f.toxic,
          attributes: f.attributes,
          ...(f.toxicity === undefined ? {} : { toxicity: f.toxicity }),
          description: `update ${f.toxic} ${attrs(f.attributes)}${f.toxicity === undefined ? '' : ` toxicity=${f.toxicity}`}`.trim(),
        };
      case 'remove-toxic':
        return { ...base, endMs: end(f.at, f.duration), target: f.toxic, description: `remove ${f.toxic}` };
      case 'ramp': {
        const from = f.from ?? (typeof f.toxic === 'string' ? 0 : (f.toxic.attributes[f.attribute] as number));
        const steps: { atMs: number; value: number }[] = [];
        for (let k = 0; k <= f.steps; k++) {
          steps.push({ atMs: round(f.at + (f.duration * k) / f.steps), value: Math.round(from + ((f.to - from) * k) / f.steps) });
        }
        const endMs = f.hold === undefined ? null : f.at + f.duration + f.hold;
        const ramp = { attribute: f.attribute, steps };
        if (typeof f.toxic === 'string') {
          return { ...base, endMs, target: f.toxic, ramp, description: `ramp ${f.toxic} ${f.attribute} ${from}→${f.to} over ${f.duration} ms` };
        }
        const toxic = { ...f.toxic, name: f.toxic.name ?? `chatstorm_${id}_${f.toxic.type}`, attributes: { ...f.toxic.attributes, [f.attribute]: from } };
        return { ...base, endMs, toxic, ramp, description: `ramp ${toxic.type} ${toxic.stream} ${f.attribute} ${from}→${f.to} over ${f.duration} ms` };
      }
      case 'outage':
        return { ...base, endMs: f.at + f.duration, description: `outage of ${f.network}` };
      case 'kill': {
        const all = ctx.devicesByNetwork.get(f.network) ?? [];
        const n = Math.max(1, Math.round(all.length * f.share));
        const devices = sample(all, n, rnd);
        return { ...base, endMs: null, devices, description: `kill ${devices.length} of ${all.length} connections on ${f.network}` };
      }
      case 'kill-after-send':
      case 'kill-during-upload': {
        const upload = f.action === 'kill-during-upload';
        const keys: string[] = [];
        const devices = new Set<string>();
        for (const send of ctx.sends) {
          if (keys.length >= f.count) break;
          if (send.atMs < f.at || usedKeys.has(send.key) || devices.has(send.device)) continue;
          if (f.device !== undefined ? send.device !== f.device : ctx.networkOfDevice(send.device) !== f.network) continue;
          if (upload && !(send.attachments && send.attachments.length > 0)) continue;
          keys.push(send.key);
          devices.add(send.device);
          usedKeys.add(send.key);
        }
        if (keys.length === 0) {
          throw new InvalidScenarioError([
            {
              path: `faults[${i}]`,
              message:
                `no ${upload ? 'attachment ' : ''}send on network ${f.network}${f.device ? ` from ${f.device}` : ''} at or after ${f.at} ms to kill after` +
                (upload ? '; add image, file or multi-attachment to traffic.mix' : ''),
            },
          ]);
        }
        const what = upload ? 'during the upload of' : 'right after';
        return { ...base, endMs: null, keys, description: `kill ${what} ${keys.length === 1 ? keys[0] : `${keys.length} sends`} on ${f.network}` };
      }
    }
  });
}

function end(at: number, duration: number | undefined): number | null {
  return duration === undefined ? null : at + duration;
}

/** `n` distinct items in a seeded order (partial Fisher–Yates on a copy). */
function sample<T>(items: readonly T[], n: number, rnd: Random): T[] {
  const a = [...items];
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rnd.next() * (a.length - i));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a.slice(0, k);
}
