/**
 * The isolation probe for attachments: a few devices ask the server for an attachment of a
 * conversation their account is not in, and record what it did (`fetch` events); the isolation
 * check fails if one was served. Without it, a server that hands any attachment to anyone who
 * names its id would pass every check: devices only ever ask for attachments they were sent.
 *
 *   plan --> targets: the first attachment send of each of the first MAX_PROBES sending devices,
 *            each with a prober (a device of an account outside the conversation, seeded choice)
 *   history --first deliver of a target (with attachment ids)--> prober.fetchAttachment(id)
 *                                                                  --> `fetch` event
 *
 * Which messages are probed, and by whom, follows from the plan and its seed alone. A probe is
 * skipped (nothing recorded) when the message is never delivered or the prober is not live then.
 */
import type { HistoryEvent } from '../history/events.ts';
import type { Plan } from '../plan/plan.ts';
import { Random } from '../plan/random.ts';
import type { VirtualDevice } from './device.ts';

/**
 * Most probes per run. Each refused probe is an `error` frame on the prober's connection, and
 * servers limit those (the reference server closes a connection after 32 within 10 s); distinct
 * probers and a handful of probes keep a probe from ever costing a connection.
 */
export const MAX_PROBES = 8;

interface Target {
  conv: string;
  prober: string;
}

/** Plans the probes of a run and fires each at the first delivery of its message. */
export class AttachmentProbe {
  private readonly targets = new Map<string, Target>();
  /** Keys whose probe has fired, and the devices that fired them. */
  private readonly fired = new Set<string>();
  private readonly probing: VirtualDevice[] = [];

  constructor(plan: Plan, private readonly devices: ReadonlyMap<string, VirtualDevice>) {
    if (plan.downloadAttachments === false) return;
    const rnd = new Random(plan.seed ^ 0x0a77ac4e);
    const members = new Map(plan.conversations.map((c) => [c.id, new Set(c.members)]));
    const senders = new Set<string>();
    const probers = new Set<string>();
    for (const s of plan.sends) {
      if (this.targets.size >= MAX_PROBES) break;
      if (!s.attachments?.length || senders.has(s.device)) continue;
      senders.add(s.device);
      const inside = members.get(s.conv);
      const strangers = plan.accounts
        .filter((a) => inside !== undefined && !inside.has(a.id))
        .flatMap((a) => a.devices.map((d) => d.id))
        .filter((d) => !probers.has(d));
      if (strangers.length === 0) continue;
      const prober = strangers[rnd.int(0, strangers.length - 1)] as string;
      probers.add(prober);
      this.targets.set(s.key, { conv: s.conv, prober });
    }
  }

  /** Planned probes (message keys), for tests. */
  get planned(): ReadonlyMap<string, Readonly<Target>> {
    return this.targets;
  }

  /** Probes under way (the drain waits for them). */
  get pending(): number {
    let n = 0;
    for (const d of this.probing) n += d.fetches;
    return n;
  }

  /** History listener: a target's first delivery with attachment ids fires its probe. */
  readonly listen = (e: HistoryEvent): void => {
    if (e.type !== 'deliver' || e.attachments === undefined) return;
    const t = this.targets.get(e.key);
    const id = e.attachments[0];
    if (t === undefined || id === undefined || this.fired.has(e.key)) return;
    this.fired.add(e.key);
    const dev = this.devices.get(t.prober);
    if (dev?.fetchAttachment(t.conv, e.key, id)) this.probing.push(dev);
  };
}
