/** Public exports of the embedded Toxiproxy-compatible server. */
export { startEmbeddedToxiproxy, runProxyCli } from './embedded.ts';
export type { EmbeddedToxiproxy, EmbeddedToxiproxyOptions } from './embedded.ts';
export { ToxiproxyApiError, ProxyListenError } from './errors.ts';
export { TOXIPROXY_API_VERSION } from './api.ts';
export { registerToxic, findToxic, toxicTypes } from './toxics/registry.ts';
export type { Toxic, StatefulToxic, CleanupToxic, StageIo, AttributeSpec, Attributes, Chunk, End, Item } from './toxics/toxic.ts';
export { createLoss, LOSS_DEFAULTS, type LossOptions } from './toxics/loss.ts';
