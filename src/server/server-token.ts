/**
 * The server token: a shared secret that admin calls and device connections must present when
 * the reference server listens beyond loopback. On a loopback address nothing but the local
 * machine can reach it, and no token is needed (unless one is given).
 *
 *   Authorization: Bearer <token>        admin HTTP calls, and the WebSocket upgrade
 *   /ws?device=D&token=T&key=<token>     the WebSocket upgrade, for clients that cannot set headers
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Environment variable `chatstorm serve` and the reference driver read the token from. */
export const SERVER_TOKEN_ENV = 'CHATSTORM_SERVER_TOKEN';

export { isLoopbackHost } from '../net/loopback.ts';

/** A fresh random token (192 bits, hex). */
export function generateServerToken(): string {
  return randomBytes(24).toString('hex');
}

/** Checks what a request presents against the token (constant time). */
export class TokenGate {
  private readonly digest: Buffer;

  constructor(readonly token: string) {
    this.digest = sha(token);
  }

  /**
   * The token a request presents: a `Bearer` authorization header, or (WebSocket upgrades only,
   * since browsers cannot set headers there) the `key` query parameter.
   */
  static presented(req: IncomingMessage, url: URL, allowQuery: boolean): string | undefined {
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
    return allowQuery ? (url.searchParams.get('key') ?? undefined) : undefined;
  }

  /** Whether `presented` is the token. */
  accepts(presented: string | undefined): boolean {
    return presented !== undefined && timingSafeEqual(sha(presented), this.digest);
  }
}

function sha(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
