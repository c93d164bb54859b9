/**
 * The in-memory directory both stores keep: devices with their tokens, account roles, and
 * conversations indexed by member. The memory store holds everything here; the SQLite store uses
 * it as the cache of what its tables say.
 */
import type { Role } from '../protocol/frames.ts';
import type { ConversationRecord, DeviceRecord } from './store.ts';

export abstract class Directory<C extends { rec: ConversationRecord }> {
  protected readonly devices = new Map<string, DeviceRecord>();
  protected readonly roles = new Map<string, Role>();
  protected readonly convs = new Map<string, C>();
  protected readonly convsByAccount = new Map<string, Set<string>>();

  device(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }
  accountRole(account: string): Role | undefined {
    return this.roles.get(account);
  }
  accounts(): Iterable<string> {
    return this.roles.keys();
  }
  conversation(id: string): ConversationRecord | undefined {
    return this.convs.get(id)?.rec;
  }
  conversationsOf(account: string): ConversationRecord[] {
    const out: ConversationRecord[] = [];
    for (const id of this.convsByAccount.get(account) ?? []) {
      const c = this.convs.get(id);
      if (c) out.push(c.rec);
    }
    return out;
  }

  /** Record accounts and their devices (after the store has accepted them). */
  protected putAccounts(accounts: readonly { id: string; role: Role; devices: readonly { id: string; token: string }[] }[]): void {
    for (const a of accounts) {
      this.roles.set(a.id, a.role);
      for (const d of a.devices) this.devices.set(d.id, { id: d.id, account: a.id, token: d.token });
    }
  }

  /** Index a conversation under each of its members. */
  protected indexMembers(convId: string, members: readonly string[]): void {
    for (const m of members) {
      let set = this.convsByAccount.get(m);
      if (!set) this.convsByAccount.set(m, (set = new Set()));
      set.add(convId);
    }
  }

  /** Forget a conversation under its old members (before its membership changes). */
  protected unindexMembers(convId: string, members: readonly string[]): void {
    for (const m of members) this.convsByAccount.get(m)?.delete(convId);
  }
}
