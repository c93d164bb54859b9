/**
 * Who may download an attachment: the account that uploaded it, and the members of every
 * conversation in which a committed message carries it. Nobody else, whatever id they present
 * (attachment ids are unguessable, but they travel in messages and logs, so they are not secrets).
 *
 * The `leak` defect pushes a message to a stranger; it grants that stranger its attachments too,
 * so the leak is one whole message and only `isolation` sees it (not `integrity` as well).
 */
import type { Store, StoredAttachment } from './store.ts';

/** The download rule of one server, plus the grants made by the `leak` defect. */
export class AttachmentAccess {
  private readonly leaked = new Set<string>();

  constructor(private readonly store: Store) {}

  /** Whether `account` may download (or send on) attachment `att`. */
  allows(account: string, att: StoredAttachment): boolean {
    if (att.owner === account) return true;
    for (const conv of this.store.attachmentConversations(att.ref.id)) {
      if (this.store.conversation(conv)?.members.includes(account)) return true;
    }
    return this.leaked.size > 0 && this.leaked.has(grantKey(account, att.ref.id));
  }

  /** `leak` defect: `account` was shown a message carrying attachment `id`. */
  grant(account: string, id: string): void {
    this.leaked.add(grantKey(account, id));
  }
}

function grantKey(account: string, id: string): string {
  return `${account}\u0000${id}`;
}
