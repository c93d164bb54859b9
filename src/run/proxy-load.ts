/**
 * How many connections each network's proxy must carry: one per device of the accounts on it
 * (every declared network, even an empty one, needs a proxy). The runner hands this to
 * `openToxiproxy`, which spreads the networks over as many embedded proxy processes as the
 * open-file limit requires, or refuses the load before anything starts (src/net/capacity.ts).
 */
import type { Plan } from '../plan/plan.ts';
import { planProxyProcesses } from '../net/capacity.ts';

/** Devices per network of a plan, in the scenario's network order. */
export function devicesPerNetwork(plan: Pick<Plan, 'networks' | 'accounts'>): Map<string, number> {
  const load = new Map<string, number>(Object.keys(plan.networks).map((n) => [n, 0]));
  for (const a of plan.accounts) load.set(a.network, (load.get(a.network) ?? 0) + a.devices.length);
  return load;
}

/**
 * The embedded proxy processes a plan needs under `fileLimit` (one list of networks each), as
 * `openToxiproxy` will start them; throws ResourceLimitError for a load that cannot fit.
 */
export function proxyProcessesFor(plan: Pick<Plan, 'networks' | 'accounts'>, fileLimit: number | null): string[][] {
  return planProxyProcesses(devicesPerNetwork(plan), fileLimit);
}
