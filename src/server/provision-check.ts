import type { ProvisionRequest } from '../protocol/frames.ts';
import { ProvisionConflictError } from './server-errors.ts';

/**
 * Checks shared by both stores before a provision request is applied: a device may not move
 * between accounts, and every conversation member must be an account (here or already stored).
 */
export function checkProvision(
  req: ProvisionRequest,
  ownerOf: (device: string) => string | undefined,
  accountExists: (account: string) => boolean,
): void {
  const inRequest = new Set(req.accounts.map((a) => a.id));
  const claimed = new Map<string, string>();
  for (const a of req.accounts) {
    for (const d of a.devices) {
      const owner = claimed.get(d.id) ?? ownerOf(d.id);
      if (owner !== undefined && owner !== a.id) {
        throw new ProvisionConflictError(
          `device ${JSON.stringify(d.id)} already belongs to account ${JSON.stringify(owner)}, not ${JSON.stringify(a.id)}; device ids are global`,
        );
      }
      claimed.set(d.id, a.id);
    }
  }
  for (const c of req.conversations) {
    for (const m of c.members) {
      if (!inRequest.has(m) && !accountExists(m)) {
        throw new ProvisionConflictError(
          `conversation ${JSON.stringify(c.id)} names member ${JSON.stringify(m)}, which is not an account; list it under \`accounts\``,
        );
      }
    }
  }
}
