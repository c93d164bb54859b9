/**
 * The macro benchmarks' load shape: `connections` devices (20 agents with one desktop each, the
 * rest customers with one mobile each, all on one network `lan`), about `rate` sends per second
 * spread over `seconds`, text only, with an optional latency toxic on the network.
 */
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import type { ScenarioInput } from '../../src/scenario/index.ts';

export const AGENTS = 20;

/**
 * About `rate` sends per second over `seconds` from `connections` devices. Agents answer
 * customers, so the plan has more sends than customers × messages: the messages per customer are
 * scaled once by what a first plan offered.
 */
export function rateScenario(rate: number, seconds: number, connections: number, latencyMs: number, name = 'ladder'): ScenarioInput {
  const first = scenarioWith(Math.max(1, Math.round((rate * seconds) / (connections - AGENTS))), seconds, connections, latencyMs, name);
  const plan = buildPlan(validateScenario(first));
  const offered = plan.sends.length / (plan.sendWindowMs / 1000);
  const perCustomer = Math.max(1, Math.round(first.traffic.messagesPerCustomer.min * (rate / offered)));
  return scenarioWith(perCustomer, seconds, connections, latencyMs, name);
}

function scenarioWith(perCustomer: number, seconds: number, connections: number, latencyMs: number, name: string) {
  const customers = connections - AGENTS;
  const meanThinkMs = (seconds * 1000) / perCustomer;
  return {
    name,
    seed: 5,
    duration: seconds * 1000,
    grace: 10_000,
    networks: { lan: latencyMs > 0 ? { toxics: [{ type: 'latency', attributes: { latency: latencyMs } }] } : {} },
    population: { agents: { count: AGENTS, devices: ['desktop'], network: 'lan', maxConcurrent: 100_000 }, customers: { count: customers, devices: ['mobile'], network: 'lan' } },
    traffic: {
      arrival: { model: 'constant', over: 1000 },
      messagesPerCustomer: { min: perCustomer, max: perCustomer },
      thinkTime: { min: Math.round(meanThinkMs * 0.5), max: Math.round(meanThinkMs * 1.5) },
      mix: { text: 1 },
      readAfter: seconds * 1000 * 10,
    },
  } satisfies ScenarioInput;
}
