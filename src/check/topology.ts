/**
 * Who is who: accounts, their devices and networks, and conversation membership, folded from
 * `account` and `conv` events. Memory is proportional to the population, not to the run length.
 */
import type { HistoryEvent } from '../history/events.ts';

/** The population as known at the current point of the history. */
export class Topology {
  private readonly devicesByAccount = new Map<string, readonly string[]>();
  private readonly accountByDevice = new Map<string, string>();
  private readonly networkByAccount = new Map<string, string>();
  private readonly membersByConv = new Map<string, ReadonlySet<string>>();

  /** Fold one event; returns true when it was a topology event. */
  step(e: HistoryEvent): boolean {
    if (e.type === 'account') {
      this.devicesByAccount.set(e.account, [...e.devices]);
      this.networkByAccount.set(e.account, e.network);
      for (const d of e.devices) this.accountByDevice.set(d, e.account);
      return true;
    }
    if (e.type === 'conv') {
      this.membersByConv.set(e.conv, new Set(e.members));
      return true;
    }
    return false;
  }

  accountOf(device: string): string | undefined {
    return this.accountByDevice.get(device);
  }

  /** Network profile of a device's account, or `unknown`. */
  networkOf(device: string): string {
    const account = this.accountByDevice.get(device);
    return (account === undefined ? undefined : this.networkByAccount.get(account)) ?? 'unknown';
  }

  devicesOf(account: string): readonly string[] {
    return this.devicesByAccount.get(account) ?? [];
  }

  /** Member accounts of `conv` now, or undefined when no `conv` event named it. */
  membersOf(conv: string): ReadonlySet<string> | undefined {
    return this.membersByConv.get(conv);
  }

  isMember(conv: string, account: string): boolean {
    return this.membersByConv.get(conv)?.has(account) ?? false;
  }

  /**
   * Devices that must receive a message sent now by `senderDevice` in `conv`: every device of
   * every member, except the sending device itself (it gets the ack, not a delivery).
   */
  expectedRecipients(conv: string, senderDevice: string): string[] {
    const out: string[] = [];
    for (const account of this.membersByConv.get(conv) ?? []) {
      for (const d of this.devicesOf(account)) if (d !== senderDevice) out.push(d);
    }
    return out;
  }

  /** Entries held (for the bounded-memory test). */
  retained(): number {
    return this.devicesByAccount.size + this.accountByDevice.size + this.membersByConv.size;
  }
}
