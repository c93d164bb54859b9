/**
 * Errors of chatstorm. Every error has a stable `code` (`CHATSTORM_ERR_*`) that callers
 * branch on, and a message that says what was expected, what came, and how to fix it.
 */

/** Base class of every error chatstorm throws on purpose. */
export class ChatstormError extends Error {
  /** Stable machine-readable code, e.g. `CHATSTORM_ERR_INVALID_SCENARIO`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command-line usage or options (exit 2). */
export class UsageError extends ChatstormError {
  constructor(message = 'invalid usage', options?: { cause?: unknown }) {
    super('CHATSTORM_ERR_USAGE', message, options);
  }
}

/** A scenario that fails validation (exit 2). `issues` lists each bad field by path. */
export class InvalidScenarioError extends ChatstormError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[], source = 'scenario') {
    super(
      'CHATSTORM_ERR_INVALID_SCENARIO',
      `${source} is invalid:\n` + issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.issues = issues;
  }
}

/** A malformed SLA expression (exit 2). `position` is the 0-based column of the error. */
export class InvalidSlaError extends ChatstormError {
  readonly position: number;
  constructor(expr: string, position: number, expected: string) {
    super(
      'CHATSTORM_ERR_INVALID_SLA',
      `SLA expression ${JSON.stringify(expr)} is malformed at column ${position + 1}: expected ${expected}\n` +
        `  ${expr}\n  ${' '.repeat(position)}^`,
    );
    this.position = position;
  }
}

/** A trace file with malformed lines (exit 2). `lines` lists each by line number, field and reason. */
export class InvalidTraceError extends ChatstormError {
  readonly lines: readonly { line: number; field: string; reason: string }[];
  constructor(file: string, lines: readonly { line: number; field: string; reason: string }[], more = 0) {
    super(
      'CHATSTORM_ERR_INVALID_TRACE',
      `trace ${file} is invalid:\n` +
        lines.map((l) => `  - line ${l.line}${l.field ? `, ${l.field}` : ''}: ${l.reason}`).join('\n') +
        (more > 0 ? `\n  ... and ${more} more` : '') +
        '\n  (fix the lines, or pass --skip-bad-lines to replay without them)',
    );
    this.lines = lines;
  }
}

/** A driver module that does not load or does not export a driver (exit 2). */
export class InvalidDriverError extends ChatstormError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHATSTORM_ERR_INVALID_DRIVER', message, options);
  }
}

/** The system under test (or a proxy) could not be reached (exit 3). */
export class UnreachableError extends ChatstormError {
  constructor(what: string, address: string, hint: string, options?: { cause?: unknown }) {
    super('CHATSTORM_ERR_UNREACHABLE', `${what} at ${address} is unreachable. ${hint}`, options);
  }
}

/** The harness itself was the bottleneck or failed (exit 3). */
export class HarnessError extends ChatstormError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHATSTORM_ERR_HARNESS', message, options);
  }
}

/** An operating-system limit (open files, ports) is too low for the requested load (exit 3). */
export class ResourceLimitError extends ChatstormError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHATSTORM_ERR_RESOURCE_LIMIT', message, options);
  }
}

/** Exit codes, as documented in the README. */
export const ExitCode = { pass: 0, fail: 1, usage: 2, infrastructure: 3 } as const;

/** Map any thrown value to the exit code it deserves. */
export function exitCodeFor(err: unknown): number {
  if (
    err instanceof UsageError ||
    err instanceof InvalidScenarioError ||
    err instanceof InvalidSlaError ||
    err instanceof InvalidTraceError ||
    err instanceof InvalidDriverError
  ) {
    return ExitCode.usage;
  }
  return ExitCode.infrastructure;
}
