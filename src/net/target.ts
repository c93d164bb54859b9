import { UsageError } from '../errors.ts';

/**
 * Check a chat server target: a plain ws:// URL with a host (devices reach it through TCP
 * proxies, so TLS is not supported yet). Throws UsageError naming `--target`; returns the URL.
 */
export function checkTarget(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`--target must be a URL such as ws://127.0.0.1:7420, got ${JSON.stringify(target)}`);
  }
  if (url.protocol === 'wss:') {
    throw new UsageError(`--target ${target}: wss:// is not supported yet (devices speak plain ws through TCP proxies); use the server's ws:// address`);
  }
  if (url.protocol !== 'ws:' || url.hostname === '') {
    throw new UsageError(`--target must be a ws://HOST:PORT URL such as ws://127.0.0.1:7420, got ${JSON.stringify(target)}`);
  }
  return url;
}
