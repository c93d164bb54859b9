/**
 * Every Toxiproxy API call the harness makes is bounded: a Toxiproxy that accepts and never
 * answers (a paused container, a wedged process) would otherwise hang the run, its teardown
 * included. toxiproxy-node-client takes no abort signal, so the wait is bounded here; the
 * abandoned request ends when the server answers or its socket closes.
 */
import { ChatstormError } from '../errors.ts';

/** How long one Toxiproxy API call may take, ms (default of every `timeoutMs` in src/net). */
export const TOXIPROXY_TIMEOUT_MS = 10_000;

/** A Toxiproxy API call did not answer in time (exit 3: infrastructure). */
export class ToxiproxyTimeoutError extends ChatstormError {
  constructor(what: string, url: string, timeoutMs: number) {
    super(
      'CHATSTORM_ERR_TOXIPROXY_TIMEOUT',
      `Toxiproxy at ${url} did not answer "${what}" within ${timeoutMs / 1000} s. ` +
        'Is it paused or overloaded (`docker ps`, `docker unpause`)? Or run with `--toxiproxy embedded`.',
    );
  }
}

/** Run `call`, a Toxiproxy API call described as `what` against the API at `url`, or throw ToxiproxyTimeoutError after `timeoutMs`. */
export async function toxiproxyCall<T>(what: string, url: string, call: () => Promise<T>, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ToxiproxyTimeoutError(what, url, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([call(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
