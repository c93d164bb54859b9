/** Types of artillery-tally.mjs (an Artillery processor, plain JS so Artillery loads it as is). */

/** One VU's tally: frames received by type, when the last came and when it last sent (epoch ms). */
export interface VuTally {
  role: string;
  msg: number;
  unread: number;
  ack: number;
  nack: number;
  welcome: number;
  other: number;
  lastAtMs: number | null;
  sentAtMs: number | null;
}

/** The part of an Artillery ws VU's context the processor reads and writes. */
export interface TallyContext {
  vars: { role: string; tallyFile: string };
  ws: { on(event: 'message', listener: (data: string | Buffer) => void): unknown };
  ladderTally?: VuTally;
}

export function listen(context: TallyContext, events: unknown, next: () => void): void;
export function sent(context: TallyContext, events: unknown, next: () => void): void;
export function report(context: TallyContext, events: unknown, next: () => void): void;
