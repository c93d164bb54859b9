/** The reference chat server: the system under test of chatstorm's demo and end-to-end tests. */

/** Start a server (HTTP + WebSocket on one port); see docs/protocol.md. */
export { startReferenceServer } from './reference-server.ts';
export type { ReferenceServer } from './reference-server.ts';
/** Foreground server for `chatstorm serve`, with `--preload`; `PRELOAD_BOT` authors preloaded history. */
export { runServeCli, PRELOAD_BOT } from './serve-cli.ts';
/** Options, their validation, and the defect names. */
export { resolveServerOptions, DEFECT_NAMES } from './options.ts';
export type { DefectName, ReferenceServerOptions, ResolvedServerOptions } from './options.ts';
/** The server token (required beyond loopback) and the environment variable clients read it from. */
export { SERVER_TOKEN_ENV, isLoopbackHost } from './server-token.ts';
/** Errors (each with a stable `code`). */
export { InvalidServerOptionsError, ServerListenError, UnknownConversationError, ProvisionConflictError } from './server-errors.ts';
export type { PreloadRequest } from './admin-schema.ts';
/** The storage interface and its two implementations. */
export type { Store, StoredMessage, ConversationRecord, DeviceRecord, HistoryPage, PreloadResult } from './store.ts';
export { MemoryStore } from './memory-store.ts';
export { SqliteStore } from './sqlite-store.ts';
