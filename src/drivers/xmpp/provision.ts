/**
 * Accounts for a run, registered by in-band registration (XEP-0077) over a pool of WebSocket
 * streams, each registering a share of the accounts one after another: no admin access to the
 * server is needed, only registration allowed from loopback without throttling (the project's
 * configs in scripts/xmpp/ do that). An account that exists already ("conflict") with the same
 * run id is taken as registered: passwords derive from the run id.
 */
import { Element } from 'ltx';
import { ChatstormError } from '../../errors.ts';
import { NS, XmppStream } from './stream.ts';

/** Registration failed for an account (registration closed, throttled, or the server refused). */
export class XmppProvisionError extends ChatstormError {
  constructor(message: string) {
    super('CHATSTORM_ERR_XMPP_PROVISION', message);
  }
}

export interface Registration {
  user: string;
  password: string;
}

/**
 * Register `accounts` on the server at `url` with `parallel` streams (default 16). Resolves when
 * all are registered; rejects with the first failure, naming the account and the server's answer.
 */
export async function registerAccounts(url: string, domain: string, accounts: readonly Registration[], o: { parallel?: number; timeoutMs?: number } = {}): Promise<void> {
  const queue = [...accounts];
  const parallel = Math.max(1, Math.min(o.parallel ?? 16, queue.length));
  const timeoutMs = o.timeoutMs ?? 10_000;
  const worker = async () => {
    let stream: XmppStream | null = null;
    try {
      while (queue.length > 0) {
        const a = queue.shift()!;
        if (stream === null || !stream.open) stream = (await XmppStream.open({ url, domain, timeoutMs })).stream;
        const iq = new Element('iq', { type: 'set', to: domain }).c('query', { xmlns: NS.register }).c('username').t(a.user).up().c('password').t(a.password).root();
        try {
          await stream.iq(iq);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          if (/conflict/.test(why)) continue; // registered before (same run id): same password.
          throw new XmppProvisionError(
            `in-band registration of ${a.user}@${domain} failed (${why}); the server must allow registration from 127.0.0.1 without throttling (see scripts/xmpp/)`,
          );
        }
      }
    } finally {
      stream?.close();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
