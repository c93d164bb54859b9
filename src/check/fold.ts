/**
 * One checker on its own: a fresh ledger and the checker built on it, stepped together over a
 * history. How a checker is unit-tested on a literal history, without the judge or the others.
 */
import type { HistoryEvent } from '../history/events.ts';
import { Ledger, type LedgerNote, type LedgerOptions } from './ledger.ts';

/** Anything folded over `(event, note)`: a checker or the delay metrics. */
export interface NoteFold {
  step(e: HistoryEvent, note: LedgerNote): void;
}

/** Step `events` through a new ledger and `make(ledger)`; returns the folded checker. */
export function foldChecker<C extends NoteFold>(make: (ledger: Ledger) => C, events: Iterable<HistoryEvent>, options?: LedgerOptions): C {
  const ledger = new Ledger(options);
  const c = make(ledger);
  for (const e of events) c.step(e, ledger.step(e));
  return c;
}
