import { ChatstormError } from '../errors.ts';

/**
 * A request the embedded Toxiproxy API refuses. `status` is the HTTP status Toxiproxy answers
 * with; `message` is the `error` field of the JSON body.
 */
export class ToxiproxyApiError extends ChatstormError {
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super('CHATSTORM_ERR_PROXY_API', message, options);
    this.status = status;
  }
}

/** The embedded Toxiproxy (its API or one proxy) could not listen on the address asked for. */
export class ProxyListenError extends ChatstormError {
  constructor(address: string, cause: unknown) {
    super('CHATSTORM_ERR_PROXY_LISTEN', `cannot listen on ${address}: ${describeListenError(cause)}`, { cause });
  }
}

function describeListenError(cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === 'EADDRINUSE') return 'address already in use (EADDRINUSE); is a Toxiproxy already running there? Pick another port';
  if (code === 'EACCES') return 'permission denied (EACCES); ports below 1024 need privileges, pick a higher port';
  if (code === 'EADDRNOTAVAIL') return 'address not available on this machine (EADDRNOTAVAIL); use 127.0.0.1 or a local interface address';
  return cause instanceof Error ? cause.message : String(cause);
}

/** Toxiproxy's fixed error messages (api.go), with their statuses. */
export const apiErrors = {
  badRequestBody: (detail: string) => new ToxiproxyApiError(400, `bad request body: ${detail}`),
  missingField: (field: string) => new ToxiproxyApiError(400, `missing required field: ${field}`),
  proxyNotFound: () => new ToxiproxyApiError(404, 'proxy not found'),
  proxyAlreadyExists: () => new ToxiproxyApiError(409, 'proxy already exists'),
  invalidStream: () => new ToxiproxyApiError(400, 'stream was invalid, can be either upstream or downstream'),
  invalidToxicType: () => new ToxiproxyApiError(400, 'invalid toxic type'),
  toxicAlreadyExists: () => new ToxiproxyApiError(409, 'toxic already exists'),
  toxicNotFound: () => new ToxiproxyApiError(404, 'toxic not found'),
} as const;
