/** Deliveries a plan implies, shared by the macro benchmarks. */
import type { Plan } from '../../src/plan/plan.ts';

/** Every device of every member of the conversation but the sending device. */
export function expectedDeliveries(plan: Plan): number {
  const devices = new Map(plan.accounts.map((a) => [a.id, a.devices.length]));
  const members = new Map(plan.conversations.map((c) => [c.id, c.members]));
  let n = 0;
  for (const s of plan.sends) for (const m of members.get(s.conv) ?? []) n += (devices.get(m) ?? 0) - (m === s.account ? 1 : 0);
  return n;
}
