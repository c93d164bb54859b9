/**
 * Fresh ids for a plan: every account, device, conversation and message key gets a suffix.
 *
 * Probes of one capacity search build plans from the same scenario, so they name the same
 * accounts (`a0001`), devices and keys (`a0001.desktop0#1`). Against one long-lived server
 * (`--target`) a second probe would then be answered from the first one's messages: a key the
 * server has stored is acknowledged again and not delivered (measured: every message of the
 * second run of a plan counted as lost). A suffix per probe keeps each probe's traffic its own.
 */
import type { Plan } from '../plan/plan.ts';

/** `plan` with `-<tag>` appended to every account, device and conversation id and to every key's device. */
export function withFreshIds(plan: Plan, tag: string): Plan {
  if (!/^[A-Za-z0-9_]{1,32}$/.test(tag)) throw new RangeError(`id tag must be 1–32 letters, digits or "_", got ${JSON.stringify(tag)}`);
  const id = (x: string) => `${x}-${tag}`;
  const key = (k: string) => {
    const i = k.lastIndexOf('#');
    return i < 0 ? id(k) : `${id(k.slice(0, i))}${k.slice(i)}`;
  };
  return {
    ...plan,
    accounts: plan.accounts.map((a) => ({ ...a, id: id(a.id), devices: a.devices.map((d) => ({ ...d, id: id(d.id) })) })),
    conversations: plan.conversations.map((c) => ({ ...c, id: id(c.id), members: c.members.map(id) })),
    sends: plan.sends.map((s) => ({
      ...s,
      device: id(s.device),
      account: id(s.account),
      conv: id(s.conv),
      key: key(s.key),
      ...(s.after === undefined ? {} : { after: key(s.after) }),
    })),
    reads: plan.reads.map((r) => ({ ...r, device: id(r.device), account: id(r.account), conv: id(r.conv) })),
    ...(plan.historyLoads ? { historyLoads: plan.historyLoads.map((l) => ({ ...l, device: id(l.device), account: id(l.account), conv: id(l.conv) })) } : {}),
    faults: plan.faults.map((f) => ({
      ...f,
      ...(f.devices ? { devices: f.devices.map(id) } : {}),
      ...(f.keys ? { keys: f.keys.map(key) } : {}),
    })),
  };
}
