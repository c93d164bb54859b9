export { openToxiproxy, type ToxiproxyHandle } from './toxiproxy.ts';
export {
  createNetworks,
  createProxy,
  proxyAddressing,
  removeNetworks,
  removeProxy,
  leftBehind,
  addToxic,
  removeToxic,
  readToxic,
  updateToxic,
  setEnabled,
  NetworkError,
  type Network,
  type ToxicSnapshot,
} from './networks.ts';
export { describeToxiproxyError } from './toxiproxy-error.ts';
export { toxiproxyCall, ToxiproxyTimeoutError, TOXIPROXY_TIMEOUT_MS } from './toxiproxy-call.ts';
export { startChild, type ChildService } from './child.ts';
export { checkTarget, checkHttpTarget, makeTarget, endpointOf, upstreamOf, clientOptions, readTrust, certificateHint } from './target.ts';
export type { Target, Endpoint, TargetTls, TlsSettings, TlsTrust } from './target.ts';
export { requestEndpoint, type HttpResponse } from './http-request.ts';
