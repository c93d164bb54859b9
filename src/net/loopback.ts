import { isIP } from 'node:net';

/**
 * Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`, IPv4-mapped
 * `::ffff:127.x`): only the local machine can reach a socket bound there. The reference server
 * requires its token, and `chatstorm proxy` refuses to start, anywhere else.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return /^::ffff:127\./.test(h);
}
