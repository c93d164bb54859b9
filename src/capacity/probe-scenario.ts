/**
 * A capacity probe's scenario: the user's scenario at one offered message rate, for a short window.
 *
 *   scenario --(window, grace, faults within it)--> shortened
 *            --(customers x f, group rates x f, arrivals spread over the window)--> scaled(f)
 *            --buildPlan--> offered msg/s (second half of the window)
 *            --f <- f * target / offered, a few rounds--> the probe's scenario and plan
 *
 * The knob is one traffic factor `f`: the customer segments' counts and the group chats' message
 * rates are multiplied by it, and customers arrive evenly over the whole probe window, so the
 * arrival rate scales with `f` while each conversation keeps the scenario's shape (turns, think
 * times, payload mix, replies). The agents stay as written: they are the team whose load is
 * measured. The plan is deterministic, so the offered rate is read from it, not estimated.
 *
 * Conversations accumulate during the first part of a window (each lasts its turns times the
 * think time), so the message rate ramps up before it levels off: the offered rate is measured
 * over the second half of the window, where it is closest to its steady value.
 */
import type { Scenario } from '../scenario/schema.ts';
import { validateScenario } from '../scenario/validate.ts';
import { buildPlan, type Plan } from '../plan/plan.ts';
import { UsageError } from '../errors.ts';

/** How long a probe sends and waits. */
export interface ProbeWindow {
  /** Send window of the probe, ms. */
  durationMs: number;
  /** Longest wait for stragglers after it, ms (never longer than the scenario's own grace). */
  graceMs: number;
}

/** One probe's scenario and plan at a target rate. */
export interface ProbeScenario {
  scenario: Scenario;
  plan: Plan;
  /** Traffic factor applied to the customer counts and group message rates. */
  factor: number;
  /** Planned messages per second over the second half of the window (see module comment). */
  offeredPerS: number;
  /** Customers of the probe (all segments). */
  customers: number;
  /**
   * Set when the scenario cannot offer the target: raising `factor` no longer raises the rate
   * (agents at their concurrency cap, or the customer count at its bound). Says why.
   */
  capped: string | null;
}

/** Largest customer count the schema accepts per segment. */
const MAX_CUSTOMERS = 1_000_000;
/** Calibration stops within this share of the target. */
const TOLERANCE = 0.02;
/** A calibrated rate this far below the target means the scenario cannot offer the target. */
const CAP_SHARE = 0.1;
const ROUNDS = 8;
/** Largest change of the factor in one calibration round. */
const MAX_STEP = 8;
/** A round whose rate grew by less than this share of the factor's growth means the scenario is saturated. */
const SATURATED = 0.25;

/** Planned messages per second over the second half of the plan's send window. */
export function offeredRateOf(plan: Plan): number {
  const from = plan.sendWindowMs / 2;
  let n = 0;
  for (const s of plan.sends) if (s.atMs >= from && s.atMs < plan.sendWindowMs) n++;
  return n / ((plan.sendWindowMs - from) / 1000);
}

/** The scenario cut to a probe window: shorter send window and grace, faults after the window dropped. */
export function shortenScenario(s: Scenario, w: ProbeWindow): Scenario {
  return validateScenario({
    ...s,
    duration: w.durationMs,
    grace: Math.min(s.grace, w.graceMs),
    faults: s.faults.filter((f) => f.at <= w.durationMs),
  });
}

/**
 * The (already shortened) scenario at traffic factor `f`: each customer segment `count x f`
 * (at least 1), group chats `messagesPerMinute x f`, customers arriving evenly over the window.
 */
export function scaleScenario(s: Scenario, f: number): Scenario {
  if (!(f > 0) || !Number.isFinite(f)) throw new RangeError(`traffic factor must be above 0, got ${f}`);
  const customers = s.population.customers.map((seg) => ({ ...seg, count: Math.min(MAX_CUSTOMERS, Math.max(1, Math.round(seg.count * f))) }));
  const g = s.population.groups;
  // A group needs its customers to exist: a scaled-down population keeps enough of them.
  const short = g ? g.customers - customers.reduce((n, c) => n + c.count, 0) : 0;
  if (short > 0 && customers[0]) customers[0] = { ...customers[0], count: customers[0].count + short };
  return validateScenario({
    ...s,
    population: { ...s.population, customers, ...(g ? { groups: { ...g, messagesPerMinute: g.messagesPerMinute * f } } : {}) },
    traffic: { ...s.traffic, arrival: { model: 'constant', over: s.duration } },
  });
}

/**
 * The probe of `s` offering `targetPerS` messages per second over `w`: the traffic factor is
 * calibrated on the plan itself (a few rounds of `f <- f * target / offered`). Throws UsageError
 * when the scenario plans no messages at all in the second half of a probe window.
 */
export function probeScenario(s: Scenario, targetPerS: number, w: ProbeWindow, seed?: number): ProbeScenario {
  if (!(targetPerS > 0) || !Number.isFinite(targetPerS)) throw new RangeError(`target rate must be above 0, got ${targetPerS}`);
  const base = shortenScenario(s, w);
  const at = (f: number) => {
    const scenario = scaleScenario(base, f);
    const plan = buildPlan(scenario, seed);
    return { scenario, plan, factor: f, offeredPerS: offeredRateOf(plan) };
  };
  let cur = at(1);
  if (cur.offeredPerS === 0) {
    throw new UsageError(
      `scenario ${s.name} plans no messages in the second half of a ${w.durationMs} ms probe window; ` +
        'lengthen the probes (--probe-duration) or give it traffic (population.customers, traffic.messagesPerCustomer)',
    );
  }
  let best = cur;
  for (let round = 0; round < ROUNDS && Math.abs(cur.offeredPerS - targetPerS) > TOLERANCE * targetPerS; round++) {
    // At most x8 a round: a plan of a huge population is slow to build, and rarely needed.
    const step = Math.min(MAX_STEP, Math.max(1 / MAX_STEP, targetPerS / Math.max(cur.offeredPerS, 1e-9)));
    const next = cur.factor * step;
    if (next === cur.factor) break;
    const prev = cur;
    cur = at(next);
    if (Math.abs(cur.offeredPerS - targetPerS) < Math.abs(best.offeredPerS - targetPerS)) best = cur;
    // Saturated: more customers barely raise the rate (agents at their cap, customers queueing).
    if (step > 1 && cur.offeredPerS / prev.offeredPerS - 1 < SATURATED * (step - 1)) break;
  }
  const customers = best.scenario.population.customers.reduce((n, c) => n + c.count, 0);
  let capped: string | null = null;
  if (best.offeredPerS < (1 - CAP_SHARE) * targetPerS) {
    const agents = best.scenario.population.agents;
    capped = best.scenario.population.customers.some((c) => c.count >= MAX_CUSTOMERS)
      ? `the customer count reached its bound (${MAX_CUSTOMERS} per segment)`
      : `it offers at most about ${best.offeredPerS.toFixed(1)} msg/s in a ${w.durationMs} ms probe: its ` +
        `${agents.reduce((n, a) => n + a.count, 0)} agent(s) take ${agents.map((a) => a.maxConcurrent).join('/')} conversations each at once ` +
        '(raise population.agents count or maxConcurrent to offer more)';
  }
  return { ...best, customers, capped };
}
