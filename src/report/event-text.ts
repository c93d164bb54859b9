/**
 * History events as sentences, for witness trails in report.html:
 * `31.8 s  a0008.desktop0 sent a0008.desktop0#12 (text, 86 B), planned for 31.7 s`.
 */
import type { HistoryEvent } from '../history/events.ts';
import { formatMs } from './units.ts';

/** Run time as `31.8 s`. */
export const runTime = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** ` as seq 41 (id m9)`: what the server said of a stored copy, as far as the driver tells. */
function where(e: { seq?: number; pos?: string; id?: string }): string {
  const at = e.seq !== undefined ? ` as seq ${e.seq}` : e.pos !== undefined ? ` at position ${e.pos}` : '';
  return `${at}${e.id !== undefined ? ` (id ${e.id})` : ''}`;
}

/** One event as a sentence, without its time. */
export function describeEvent(e: HistoryEvent): string {
  switch (e.type) {
    case 'run-start':
      return `run ${e.runId} of ${e.scenario} started (seed ${e.seed})`;
    case 'run-end':
      return `run ended: ${e.reason}`;
    case 'account':
      return `account ${e.account} (${e.role}) on ${e.network}: ${e.devices.join(', ')}`;
    case 'conv':
      return `${e.kind} conversation ${e.conv}: ${e.members.join(', ')}`;
    case 'preload':
      return `${e.conv} preloaded with ${e.count} messages (seqs ${e.first}..${e.last}) in ${formatMs(e.tookMs)}`;
    case 'connect':
      return `${e.device} connecting (attempt ${e.attempt})`;
    case 'connect-failed':
      return `${e.device} failed to connect (attempt ${e.attempt}) at step ${e.step} after ${formatMs(e.tookMs)}: ${e.reason}`;
    case 'connected':
      return `${e.device} connected (took ${formatMs(e.tookMs)})`;
    case 'disconnect':
      return `${e.device} disconnected: ${e.reason}${e.intentional ? ' (closed by the harness)' : ''}`;
    case 'send':
      return `${e.device} sent ${e.key} in ${e.conv} (${e.kind}, ${e.bytes} B${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}), planned for ${runTime(e.intendedMs)}`;
    case 'ack':
      return `server acked ${e.key} to ${e.device}${where(e)}`;
    case 'nack':
      return `server rejected ${e.key} from ${e.device}: ${e.code}${e.final ? '' : ' (retried)'}`;
    case 'deliver':
      return `${e.device} received ${e.key} in ${e.conv}${where(e)}${e.replay ? ' by sync replay' : ''}`;
    case 'unread':
      return `${e.device} told ${e.conv} has ${e.count} unread${e.readSeq === undefined ? '' : ` (read up to seq ${e.readSeq})`}${e.source === 'welcome' ? ' on connect' : ''}`;
    case 'read':
      return `${e.device} marked ${e.conv} read up to seq ${e.seq}`;
    case 'page': {
      const range = e.seqs.length ? `seqs ${e.seqs[0]}..${e.seqs[e.seqs.length - 1]}` : 'no messages';
      return `${e.device} loaded a history page of ${e.conv}: ${range} (${e.seqs.length} of limit ${e.limit}) in ${formatMs(e.tookMs)}${e.hasMore ? ', more available' : ''}`;
    }
    case 'fault':
      return `fault ${e.fault} ${e.phase === 'start' ? 'started' : 'ended'} on ${e.network}: ${e.description}${e.devices?.length ? ` (devices ${e.devices.join(', ')})` : ''}${e.key ? ` after ${e.key}` : ''}`;
    case 'fault-update':
      return `fault ${e.fault} on ${e.network} changed: ${e.description}`;
    case 'fetch':
      return `${e.device} asked for attachment ${e.attachment} of ${e.key} in ${e.conv}: ${e.outcome}${e.code ? ` (${e.code})` : ''}`;
    case 'lag':
      return `harness lag: event loop p99 ${formatMs(e.eventLoopP99Ms)}, sender lag p99 ${formatMs(e.senderLagP99Ms)}`;
    case 'sweep-cut':
      return `${e.device}'s walk through ${e.conv}'s history was cut by the end of the run after ${e.loaded} of ${e.pages} pages`;
  }
}

/** A witness trail as lines: `31.8 s  <sentence>`. */
export function describeTrail(trail: readonly HistoryEvent[]): string[] {
  return trail.map((e) => `${runTime(e.atMs).padStart(8)}  ${describeEvent(e)}`);
}
