/**
 * How a run ended: one typed union, the first cause kept. Everything that can end a run early
 * (Ctrl-C, the harness's own overload, a fault the proxy refused, a failed step) reports to one
 * {@link RunEndLatch}; the first report is the run's end, later ones are kept as notes (a failure
 * in teardown after an interrupt is still worth saying, but it did not end the run).
 *
 * summary.json and the history's `run-end` event keep their `endReason` and `error` strings;
 * {@link endReasonOf} and {@link errorOf} derive them from the union.
 */

/** The named steps of a run's life (see runner.ts). */
export type RunStep = 'set-up' | 'play' | 'drain' | 'teardown';

/** What broke when the infrastructure or the harness failed. */
export type InfrastructureSource = 'harness' | 'fault';

/** How a run ended. */
export type RunEnd =
  | { kind: 'complete' }
  /** Aborted from outside (Ctrl-C, a caller's signal) during `step`. */
  | { kind: 'interrupted'; step: RunStep }
  /** The harness was its own bottleneck (self-monitor): exit 3, never the server's fault. */
  | { kind: 'overloaded'; reason: string }
  /** The harness or its infrastructure failed during `step`: exit 3. */
  | { kind: 'infrastructure'; step: RunStep; source: InfrastructureSource; cause: string };

/** summary.json's and `run-end`'s `endReason` string for an end. */
export function endReasonOf(end: RunEnd): string {
  switch (end.kind) {
    case 'complete':
      return 'complete';
    case 'interrupted':
      return 'interrupted';
    case 'overloaded':
      return 'harness-overloaded';
    case 'infrastructure':
      return end.source === 'fault' ? 'fault-failed' : 'error';
  }
}

/** The error (exit 3) an end carries, if any: the overload or failure itself, never an interrupt. */
export function causeOf(end: RunEnd): string | null {
  return end.kind === 'overloaded' ? end.reason : end.kind === 'infrastructure' ? end.cause : null;
}

/** Keeps the first way a run ended, and notes what went wrong after it. */
export class RunEndLatch {
  private first: RunEnd | null = null;
  /** Failures reported after the end was decided (e.g. proxies left behind after an interrupt). */
  readonly later: string[] = [];

  /** A latch holding what a finished run reported: its end, and the error it carried. */
  static from(end: RunEnd, error: string | null): RunEndLatch {
    const latch = new RunEndLatch();
    if (end.kind !== 'complete') latch.first = end;
    if (error !== null && error !== causeOf(end)) latch.later.push(error);
    return latch;
  }

  /** Whether the run has ended early (anything but a complete run was reported). */
  get ended(): boolean {
    return this.first !== null;
  }

  /** Report an early end; only the first one counts, a later failure is kept as a note. */
  report(end: Exclude<RunEnd, { kind: 'complete' }>): void {
    if (this.first === null) this.first = end;
    else {
      const cause = causeOf(end);
      if (cause !== null) this.later.push(cause);
    }
  }

  /** The run's end: the first report, or `complete`. */
  get end(): RunEnd {
    return this.first ?? { kind: 'complete' };
  }

  /**
   * The run's infrastructure error for summary.json: the end's own cause, else the first failure
   * noted after an interrupt (the run would have passed no gate anyway, but the user must know
   * the proxies it left behind), else null.
   */
  get error(): string | null {
    return causeOf(this.end) ?? this.later[0] ?? null;
  }
}
