export { openToxiproxy, externalToxiproxyUrl, type ToxiproxyHandle } from './toxiproxy.ts';
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
export { PARENT_WATCH_ENV, watchParent } from './parent-watch.ts';
export { runProxyName, runProxyPrefix, parseProxyName, currentOwner, type ProxyOwner, type ParsedProxyName } from './proxy-name.ts';
export {
  cleanupProxies,
  judgeProxies,
  judgeProxyName,
  processAlive,
  staleProxyWarning,
  type CleanupResult,
  type JudgeContext,
  type ProxyVerdict,
} from './stale-proxies.ts';
