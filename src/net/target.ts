/**
 * Targets as users have them: `ws://` or `wss://`, with a host name, a path and a query
 * (`wss://chat.staging.example.com/socket?tenant=eu`), plus an optional HTTP(S) base URL for
 * drivers that also call a REST API.
 *
 *   device --TCP--> proxy 127.0.0.1:P (toxics) --TCP--> chat.staging.example.com:443
 *      \__________________ TLS end to end, through the proxy ___________________/
 *
 * Devices reach the server through their network's TCP proxy, so the address they dial is the
 * proxy's; TLS passes through it untouched. Everything else must be the target's: the URL's
 * path and query, the `Host` header, the TLS server name (SNI) and the name the certificate is
 * checked against. A `Target` carries all of it to the driver, protocol-neutral; `clientOptions`
 * turns it into the options `ws` and `https.request` take.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { UsageError } from '../errors.ts';

/** How far to trust the target's certificate (`--ca FILE`, `--insecure`); default: the system CAs. */
export interface TlsSettings {
  /** Path of a PEM file with the CA (or self-signed certificate) to trust in addition to the system's. */
  caFile?: string;
  /** Skip certificate verification altogether (self-signed staging servers). */
  insecure?: boolean;
}

/** Trust settings with the CA file read (what the runner hands on). */
export interface TlsTrust {
  /** PEM text of the extra CA, when `--ca` was given. */
  ca?: string;
  insecure: boolean;
}

/** TLS options for a client that dials a proxy but must talk TLS to the target (Node `tls.connect` options). */
export interface TargetTls {
  /** SNI: the target's host name (absent for an IP address, which SNI cannot carry, RFC 6066 §3). */
  servername?: string;
  /** Extra CA to trust (PEM). */
  ca?: string;
  /** False with `--insecure`. */
  rejectUnauthorized: boolean;
  /** Checks the certificate against the target's host, not the proxy address the socket dialled. */
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** One server address as a client of this run must use it. */
export interface Endpoint {
  /** What to dial: through the network's proxy when there is one, with the target's scheme, path and query. */
  url: string;
  /** The address as the user gave it. */
  direct: string;
  /** The `Host` header: the target's host (and port when not the scheme's default). */
  host: string;
  /** TLS options, for `wss:` and `https:`; null for plain `ws:` and `http:`. */
  tls: TargetTls | null;
}

/** The chat server as one network sees it, and its HTTP(S) API when there is one. */
export interface Target extends Endpoint {
  /**
   * HTTP(S) base URL for REST calls (`--http-target`; default: the chat target with `http(s)`).
   * Through the same proxy when it has the chat target's host and port, otherwise direct.
   */
  http: Endpoint | null;
}

/** Check a chat server target: `ws://` or `wss://` with a host. Throws UsageError naming `--target`. */
export function checkTarget(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`--target must be a URL such as ws://127.0.0.1:7420 or wss://chat.example.com/ws, got ${JSON.stringify(target)}`);
  }
  if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.hostname === '') {
    throw new UsageError(`--target must be a ws:// or wss:// URL with a host, such as ws://127.0.0.1:7420 or wss://chat.example.com/ws, got ${JSON.stringify(target)}`);
  }
  if (url.username || url.password) throw new UsageError(`--target ${target}: credentials in the URL are not supported; the driver's provision step handles accounts`);
  return url;
}

/** Check an HTTP(S) base URL (`--http-target`). Throws UsageError naming the flag. */
export function checkHttpTarget(target: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(target);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new UsageError(`--http-target must be an http:// or https:// URL such as https://api.example.com/v1, got ${JSON.stringify(target)}`);
  }
  return url;
}

/** Read the trust settings (the CA file) once, where they enter. Throws UsageError naming the flag. */
export async function readTrust(s: TlsSettings = {}): Promise<TlsTrust> {
  if (s.caFile !== undefined && s.insecure) throw new UsageError('--ca and --insecure together: --ca trusts one CA, --insecure trusts any certificate; pass one of them');
  if (s.caFile === undefined) return { insecure: s.insecure ?? false };
  let ca: string;
  try {
    ca = await readFile(s.caFile, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca ${s.caFile}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a PEM file with the CA or self-signed certificate to trust`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${s.caFile}: expected a PEM file with at least one "-----BEGIN CERTIFICATE-----" block`);
  return { ca, insecure: false };
}

const DEFAULT_PORT: Record<string, string> = { 'ws:': '80', 'http:': '80', 'wss:': '443', 'https:': '443' };

/** `host:port` to dial for `url` (the proxy's upstream). */
export function upstreamOf(url: URL): string {
  return `${url.hostname}:${url.port || DEFAULT_PORT[url.protocol]}`;
}

/** The endpoint for `direct`, dialled at `via` (a proxy's host and port) when given. */
export function endpointOf(direct: URL, via: { host: string; port: number | string } | null, trust: TlsTrust): Endpoint {
  const secure = direct.protocol === 'wss:' || direct.protocol === 'https:';
  const host = direct.hostname.replace(/^\[|\]$/g, '');
  const url = new URL(direct.href);
  if (via) {
    url.hostname = via.host.includes(':') ? `[${via.host}]` : via.host;
    url.port = String(via.port);
  }
  const tls: TargetTls | null = secure
    ? {
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...(trust.ca !== undefined ? { ca: trust.ca } : {}),
        rejectUnauthorized: !trust.insecure,
        checkServerIdentity: (_dialled, cert) => checkServerIdentity(host, cert),
      }
    : null;
  return { url: bare(url), direct: bare(direct), host: direct.host, tls };
}

/** `url` as text, without the lone `/` path a URL object adds (`ws://h:1`, as drivers have always been given it). */
function bare(url: URL): string {
  return url.pathname === '/' && url.search === '' && url.hash === '' ? url.href.slice(0, -1) : url.href;
}

/**
 * The run's target as one network sees it: the chat URL (and the HTTP URL when it shares the chat
 * target's host and port) through `via`, the proxy of that network.
 */
export function makeTarget(chat: URL, http: URL | null, via: { host: string; port: number | string } | null, trust: TlsTrust): Target {
  const api = http ?? defaultHttp(chat);
  const shared = upstreamOf(api) === upstreamOf(chat);
  return { ...endpointOf(chat, via, trust), http: endpointOf(api, shared ? via : null, trust) };
}

function defaultHttp(chat: URL): URL {
  const u = new URL(chat.href.replace(/^ws/, 'http'));
  u.pathname = '/';
  u.search = '';
  return u;
}

/**
 * Options for `new WebSocket(endpoint.url, options)` (ws) or `https.request(endpoint.url, options)`:
 * the target's `Host` header and its TLS settings. Empty for a plain endpoint dialled directly.
 */
export function clientOptions(e: Endpoint | null | undefined): { headers?: Record<string, string>; servername?: string; ca?: string; rejectUnauthorized?: boolean; checkServerIdentity?: TargetTls['checkServerIdentity'] } {
  if (!e) return {};
  const dialled = new URL(e.url).host;
  return { ...(dialled === e.host ? {} : { headers: { host: e.host } }), ...(e.tls ?? {}) };
}

/** TLS verification failures Node reports by `code` (a certificate the client does not trust or that names another host). */
const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * What to do about a connection error, when it is the target's certificate: trust its CA with
 * `--ca FILE`, or skip verification with `--insecure`. Null for any other error.
 */
export function certificateHint(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERT_ERRORS.has(code)) {
      return `The server's TLS certificate was refused (${code}: ${(e as Error).message}). For a staging server with its own CA or a self-signed certificate, pass --ca FILE (PEM) to trust it, or --insecure to skip verification.`;
    }
  }
  return null;
}
