/**
 * Errors of the reference chat server. Each has a stable `code`; callers branch on it.
 */
import { ChatstormError } from '../errors.ts';

/** `startReferenceServer` / `runServeCli` options failed validation. */
export class InvalidServerOptionsError extends ChatstormError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[]) {
    super(
      'CHATSTORM_ERR_SERVER_OPTIONS',
      'reference server options are invalid:\n' +
        issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.issues = issues;
  }
}

/** The server could not listen (port in use, permission). */
export class ServerListenError extends ChatstormError {
  constructor(host: string, port: number, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? options.cause.message : String(options?.cause);
    super(
      'CHATSTORM_ERR_SERVER_LISTEN',
      `reference server could not listen on ${host}:${port}: ${reason}. Pick another port (0 = any free port).`,
      options,
    );
  }
}

/** A request to the store named something that does not exist (admin preload of an unknown conversation). */
export class UnknownConversationError extends ChatstormError {
  constructor(conv: string) {
    super(
      'CHATSTORM_ERR_UNKNOWN_CONVERSATION',
      `conversation ${JSON.stringify(conv)} does not exist; provision it first (POST /admin/provision)`,
    );
  }
}

/** A provision request contradicts what is stored (a device claimed by two accounts, an unknown member). */
export class ProvisionConflictError extends ChatstormError {
  constructor(message: string) {
    super('CHATSTORM_ERR_PROVISION_CONFLICT', message);
  }
}
