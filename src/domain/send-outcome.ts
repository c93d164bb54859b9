/**
 * A send's outcome, three-valued as in Jepsen: `ok` (acknowledged), `fail` (definitely
 * rejected), `unknown` (no answer yet, or never: a timed-out or cut-off send). An unknown send
 * that never arrives is not a loss; one that arrives twice is still a duplicate.
 */
export type SendOutcome = 'ok' | 'fail' | 'unknown';
