/**
 * How harness names become XMPP addresses: accounts, resources, rooms and passwords, all
 * namespaced by the run so repeated runs on one server never collide.
 */
import { createHash } from 'node:crypto';

/** The run's prefix for every local part: short, lower case, nodeprep-safe. */
export function runPrefix(runId: string): string {
  return `cs${createHash('sha256').update(runId).digest('hex').slice(0, 10)}`;
}

/** Make a harness id safe as a JID local part or resource (RFC 7622 forbids `@ / " & ' : < >` and spaces). */
export function safePart(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9._-]/g, '_');
}

/** The bare JID of an account in this run. */
export function accountJid(prefix: string, account: string, domain: string): string {
  return `${prefix}-${safePart(account)}@${domain}`;
}

/** The MUC room of a group conversation in this run. */
export function roomJid(prefix: string, conv: string, mucDomain: string): string {
  return `${prefix}-${safePart(conv)}@${mucDomain}`;
}

/** The account's password: derived from the run id, so nothing needs storing. */
export function passwordOf(runId: string, account: string): string {
  return createHash('sha256').update(`chatstorm\0${runId}\0${account}`).digest('base64url').slice(0, 20);
}

/** The bare part of a JID (`user@host/res` -> `user@host`). */
export function bare(jid: string): string {
  const i = jid.indexOf('/');
  return i < 0 ? jid : jid.slice(0, i);
}

/** The resource part of a JID, or '' without one. */
export function resourceOf(jid: string): string {
  const i = jid.indexOf('/');
  return i < 0 ? '' : jid.slice(i + 1);
}
