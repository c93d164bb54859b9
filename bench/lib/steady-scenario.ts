/**
 * The CPU-per-message benchmarks' load shape (bench/cpu-per-message.ts and
 * bench/xmpp-cpu-per-message.ts): `agents` agents with a desktop and a mobile each, `customers`
 * customers with one device, all on one network `lan`, each customer sending `perCustomer`
 * messages (80 % text, 20 % emoji) over `seconds`, agents answering; reads long after the window.
 */
import { validateScenario } from '../../src/scenario/validate.ts';
import type { Scenario } from '../../src/scenario/schema.ts';

export interface SteadyShape {
  name: string;
  agents: number;
  customers: number;
  perCustomer: number;
  seconds: number;
}

export function steadyScenario(s: SteadyShape): Scenario {
  return validateScenario({
    name: s.name,
    seed: 3,
    duration: s.seconds * 1000,
    grace: 10_000,
    networks: { lan: {} },
    population: { agents: { count: s.agents, devices: ['desktop', 'mobile'], network: 'lan', maxConcurrent: 1000 }, customers: { count: s.customers, network: 'lan' } },
    traffic: {
      arrival: { model: 'constant', over: 1000 },
      messagesPerCustomer: { min: s.perCustomer, max: s.perCustomer },
      thinkTime: { min: 200, max: (s.seconds * 1000) / s.perCustomer },
      mix: { text: 0.8, emoji: 0.2 },
      readAfter: s.seconds * 1000 * 10,
    },
  });
}
