/**
 * The harness marker: `⟦cs1 <runId> <key> <intendedMs>⟧` at the start of a message body, so
 * that checking works on any back end, whatever ids it assigns. Drivers for back ends without
 * client message ids read the key back with `decodeMarker`.
 */
import { parseMessageKey } from '../domain/index.ts';

export interface Marker {
  runId: string;
  key: string;
  intendedMs: number;
}

const OPEN = '\u27e6cs1 ';
const CLOSE = '\u27e7';

export function encodeMarker(m: Marker): string {
  return `${OPEN}${m.runId} ${m.key} ${m.intendedMs.toFixed(3)}${CLOSE}`;
}

/** Parse the marker at the start of `body`; null when there is none or it is malformed. */
export function decodeMarker(body: string): Marker | null {
  if (!body.startsWith(OPEN)) return null;
  const end = body.indexOf(CLOSE, OPEN.length);
  if (end < 0) return null;
  const parts = body.slice(OPEN.length, end).split(' ');
  if (parts.length !== 3) return null;
  const [runId, key, intended] = parts as [string, string, string];
  const intendedMs = Number(intended);
  if (!runId || parseMessageKey(key) === null || !Number.isFinite(intendedMs)) return null;
  return { runId, key, intendedMs };
}
