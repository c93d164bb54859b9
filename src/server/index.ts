/** The reference chat server: the system under test of chatstorm's demo and end-to-end tests. */
export { startReferenceServer } from './reference-server.ts';
export type { ReferenceServer } from './reference-server.ts';
export { runServeCli, PRELOAD_BOT } from './serve-cli.ts';
export { resolveServerOptions, DEFECT_NAMES } from './options.ts';
export type { DefectName, ReferenceServerOptions, ResolvedServerOptions } from './options.ts';
export { InvalidServerOptionsError, ServerListenError, UnknownConversationError, ProvisionConflictError } from './server-errors.ts';
export type { PreloadRequest } from './admin-schema.ts';
export type { Store, StoredMessage, ConversationRecord, DeviceRecord, HistoryPage, PreloadResult } from './store.ts';
export { MemoryStore } from './memory-store.ts';
export { SqliteStore } from './sqlite-store.ts';
