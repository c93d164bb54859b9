/**
 * Quick mode (`chatstorm run --quick`): the same scenario, shorter and smaller, with the same shape,
 * so CI can run every shipped scenario on every change.
 *
 *   scenario ──time factor k = quick window / send window──┐
 *      duration, grace            × k  (grace never below QUICK_MIN_GRACE_MS, never above the original)
 *      arrivals                   constant `over` × k, ramping stage durations × k, Poisson rate kept
 *      faults                     `at` × k; durations, ramp durations and holds × k (at least 1 s,
 *                                 or the original when shorter); ramp steps ≥ 250 ms apart
 *   ──population factor p (default k)──┐
 *      agents, customers, groups  × p, rounded up, at least 1 (group sizes clamped to what exists)
 *      fault counts               kill-after-send / kill-during-upload counts × p, at least 1
 *      history sweep `at`         × k
 *   ──preload factor (default 1)──┐
 *      preloaded messages         × the factor, rounded up (conversations clamped to what exists)
 *   kept as they are: every rate (arrival rate, think times, bursts, reads, history loads, group
 *   messages per minute, agent concurrency caps), every toxic attribute, every SLA, the seed.
 *
 * Rates are kept, so load per second and the network's behaviour are those of the full scenario;
 * only fewer customers arrive in the shorter window. Conversations longer than the quick window
 * are cut at its end, as any conversation is at the end of a send window.
 *
 * A scenario file may tune this with a named export next to its default export:
 *   `export const quick = defineQuick({ duration: '6s', population: 0.2, preload: 0.25 })`.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InvalidScenarioError } from '../errors.ts';
import { durationSchema, type FaultSpec, type HistorySpec, type PreloadSpec, type Scenario } from './schema.ts';
import type { DurationInput } from './duration.ts';
import { formatMs } from './duration.ts';
import { validateScenario } from './validate.ts';

/** Send window of a quick run unless the scenario says otherwise: 8 s (a run of about 10–15 s in all). */
export const QUICK_DURATION_MS = 8000;
/** Shortest grace of a quick run: stragglers behind a lifted fault still get this long. */
export const QUICK_MIN_GRACE_MS = 5000;
/** Shortest fault duration after scaling: a shorter outage or spike is no longer the same fault. */
export const QUICK_MIN_FAULT_MS = 1000;
/** Shortest interval between two steps of a ramp after scaling (each step is a Toxiproxy call). */
export const QUICK_MIN_RAMP_STEP_MS = 250;

/** How a scenario file tunes its quick mode (every field optional). */
export interface QuickSpec {
  /** Send window of the quick run (default 8 s; never longer than the scenario's own). */
  duration?: DurationInput;
  /** Share of the population kept, 0 < p ≤ 1 (default: the time factor, so arrival rates are kept). */
  population?: number;
  /** Grace of the quick run (default: the scenario's grace × the time factor, at least 5 s). */
  grace?: DurationInput;
  /** Share of each conversation's preloaded messages kept, 0 < f ≤ 1 (default 1: as many as the full run). */
  preload?: number;
}

const quickSpecSchema = z
  .object({
    duration: durationSchema.refine((ms) => ms > 0, { message: 'expected a duration above zero' }).optional(),
    population: z.number().gt(0).max(1).optional(),
    grace: durationSchema.optional(),
    preload: z.number().gt(0).max(1).optional(),
  })
  .strict();

/** Declare a scenario's quick mode (`export const quick = defineQuick({...})`); only gives types. */
export function defineQuick(spec: QuickSpec): QuickSpec {
  return spec;
}

/** What quick mode did, for the note the CLI prints. */
export interface QuickResult {
  scenario: Scenario;
  /** Time factor applied to durations and fault times. */
  timeFactor: number;
  /** Factor applied to population counts. */
  populationFactor: number;
  /** One line saying what changed. */
  note: string;
}

/** Validate a quick spec where it enters; throws InvalidScenarioError naming the field (`quick.<field>`). */
export function validateQuickSpec(input: unknown, source = 'scenario'): { durationMs?: number; population?: number; graceMs?: number; preload?: number } {
  const r = quickSpecSchema.safeParse(input);
  if (!r.success) {
    throw new InvalidScenarioError(
      r.error.issues.map((i) => ({ path: ['quick', ...i.path.map(String)].join('.'), message: i.message })),
      source,
    );
  }
  return { durationMs: r.data.duration, population: r.data.population, graceMs: r.data.grace, preload: r.data.preload };
}

/**
 * The `quick` export of a scenario file, validated (undefined when the file has none). The module
 * is already in Node's cache when `loadScenario` loaded it, so this costs no second evaluation.
 */
export async function loadQuickSpec(file: string): Promise<QuickSpec | undefined> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  if (mod.quick === undefined) return undefined;
  validateQuickSpec(mod.quick, file);
  return mod.quick as QuickSpec;
}

/** Turn a validated scenario into its quick form (see the module comment for every rule). */
export function quickScenario(s: Scenario, spec: QuickSpec = {}): QuickResult {
  const q = validateQuickSpec(spec);
  const window = Math.min(s.duration, q.durationMs ?? QUICK_DURATION_MS);
  const k = s.duration > 0 ? window / s.duration : 1;
  const p = q.population ?? k;
  const t = (ms: number): number => Math.round(ms * k);
  const span = (ms: number): number => Math.min(ms, Math.max(QUICK_MIN_FAULT_MS, t(ms)));
  const n = (count: number): number => Math.max(1, Math.ceil(count * p));

  const agents = s.population.agents.map((a) => ({ ...a, count: n(a.count) }));
  const customers = s.population.customers.map((c) => ({ ...c, count: n(c.count) }));
  const totalAgents = agents.reduce((sum, a) => sum + a.count, 0);
  const totalCustomers = customers.reduce((sum, c) => sum + c.count, 0);
  const g = s.population.groups;
  const groups = g && {
    ...g,
    count: n(g.count),
    agents: Math.min(g.agents, totalAgents),
    customers: Math.min(g.customers, totalCustomers),
  };

  const arrival = s.traffic.arrival;
  const quickArrival =
    arrival.model === 'constant'
      ? { ...arrival, ...(arrival.over === undefined ? {} : { over: t(arrival.over) }) }
      : arrival.model === 'ramping'
        ? { ...arrival, stages: arrival.stages.map((st) => ({ ...st, duration: t(st.duration) })) }
        : arrival;

  const faults = s.faults.map((f): FaultSpec => {
    const at = Math.min(t(f.at), window);
    switch (f.action) {
      case 'toxic':
      case 'update-toxic':
      case 'remove-toxic':
        return { ...f, at, ...(f.duration === undefined ? {} : { duration: span(f.duration) }) };
      case 'outage':
        return { ...f, at, duration: span(f.duration) };
      case 'ramp': {
        const duration = span(f.duration);
        const steps = Math.max(1, Math.min(f.steps, Math.floor(duration / QUICK_MIN_RAMP_STEP_MS)));
        return { ...f, at, duration, steps, ...(f.hold === undefined ? {} : { hold: span(f.hold) }) };
      }
      case 'kill':
        return { ...f, at };
      case 'kill-after-send':
      case 'kill-during-upload':
        return { ...f, at, count: n(f.count) };
    }
  });

  const history = s.traffic.history && quickHistory(s.traffic.history, q.preload ?? 1, totalCustomers + (groups?.count ?? 0), t);

  const grace = q.graceMs ?? Math.min(s.grace, Math.max(QUICK_MIN_GRACE_MS, t(s.grace)));
  const scenario = validateScenario(
    {
      ...s,
      duration: window,
      grace,
      population: { agents, customers, ...(groups ? { groups } : {}) },
      traffic: { ...s.traffic, arrival: quickArrival, ...(history ? { history } : {}) },
      faults,
    },
    `${s.name} (quick mode)`,
  );
  const before = (list: { count: number }[]) => list.reduce((sum, x) => sum + x.count, 0);
  const note =
    `quick mode: send window ${formatMs(s.duration)} -> ${formatMs(window)} (fault times x${k.toFixed(3)}), ` +
    `agents ${before(s.population.agents)} -> ${totalAgents}, customers ${before(s.population.customers)} -> ${totalCustomers}` +
    (g && groups ? `, groups ${g.count} -> ${groups.count}` : '') +
    `, grace ${formatMs(s.grace)} -> ${formatMs(grace)}` +
    (s.traffic.history?.preload && history?.preload ? `, preloaded messages ${preloadedOf(s.traffic.history.preload)} -> ${preloadedOf(history.preload)}` : '') +
    '; rates, toxics and SLAs unchanged';
  return { scenario, timeFactor: k, populationFactor: p, note };
}

/** History in quick mode: preloads scaled by `factor` within the `conversations` that exist, the sweep's start × k. */
function quickHistory(h: HistorySpec, factor: number, conversations: number, t: (ms: number) => number): HistorySpec {
  let left = conversations;
  const preload = h.preload?.flatMap((p) => {
    const n = Math.min(p.conversations, left);
    left -= n;
    return n > 0 ? [{ ...p, conversations: n, messages: Math.max(1, Math.ceil(p.messages * factor)) }] : [];
  });
  return {
    ...h,
    ...(preload ? { preload } : {}),
    ...(h.sweep ? { sweep: { ...h.sweep, at: t(h.sweep.at) } } : {}),
  };
}

/** Preloaded messages over all entries. */
function preloadedOf(preload: readonly PreloadSpec[]): number {
  return preload.reduce((n, p) => n + p.conversations * p.messages, 0);
}
