/**
 * Domain words every part of the harness shares (plan, runner, drivers, history, checkers),
 * independent of any chat protocol: message kinds, roles, the message key, send outcomes.
 */
export type { MessageKind } from './message-kind.ts';
export { MESSAGE_KINDS } from './message-kind.ts';
export type { Role } from './role.ts';
export type { MessageKeyParts } from './message-key.ts';
export { messageKey, parseMessageKey, counterOf } from './message-key.ts';
export type { SendOutcome } from './send-outcome.ts';
export type { Position } from './position.ts';
export { positionBefore } from './position.ts';
