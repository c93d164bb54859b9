/**
 * Artillery processor for the honesty ladder's `artillery+recv` side (bench/honesty-ladder.ts,
 * script from bench/lib/artillery.ts): Artillery's ws engine counts no received frame unless a
 * step captures or matches one, so this tallies them, to show that the listen-only devices
 * received what the server sent them.
 *
 *   listen (after connect):    a 'message' listener counting frames by type, never parsing them
 *   sent   (after the sends):  when this VU's last send was written (epoch ms)
 *   report (at the VU's end):  one JSON line per VU appended to the file `vars.tallyFile`
 *
 * The reference server serializes every frame with `t` first (`{"t":"msg",…`), so the first
 * letter of its type is character 6: the tally costs one charCodeAt, one increment and one
 * Date.now() per frame, next to `ws`'s own unframing and UTF-8 decoding of it.
 */
import { appendFileSync } from 'node:fs';

/** First letter of a frame type (character code) -> tally field. */
const TYPES = { 109: 'msg', 117: 'unread', 97: 'ack', 110: 'nack', 119: 'welcome' };

/** Artillery `function` step: start counting what arrives on this VU's socket. */
export function listen(context, _events, next) {
  const tally = { role: context.vars.role, msg: 0, unread: 0, ack: 0, nack: 0, welcome: 0, other: 0, lastAtMs: null, sentAtMs: null };
  // `ws` 7 (Artillery's) hands text frames over as strings; a Buffer is read the same way.
  context.ws.on('message', (data) => {
    tally[TYPES[typeof data === 'string' ? data.charCodeAt(6) : data[6]] ?? 'other']++;
    tally.lastAtMs = Date.now();
  });
  context.ladderTally = tally;
  next();
}

/** Artillery `function` step: this VU has written its last send. */
export function sent(context, _events, next) {
  context.ladderTally.sentAtMs = Date.now();
  next();
}

/** Artillery `function` step: append this VU's tally to the tally file. */
export function report(context, _events, next) {
  appendFileSync(context.vars.tallyFile, JSON.stringify(context.ladderTally) + '\n');
  next();
}
