/**
 * Literal-history builders for checker tests. Population used throughout:
 *   account `agent`    devices a1, a2   network cn-agents
 *   account `customer` device  c1       network eu-customers
 *   account `other`    device  o1       network eu-customers (member of no conversation)
 *   conversation `conv1` (direct): agent, customer
 */
import type {
  AckEvent,
  DeliverEvent,
  FaultEvent,
  HistoryEvent,
  NackEvent,
  SendEvent,
} from '../../src/history/events.ts';
import { parseMessageKey } from '../../src/domain/index.ts';

/** The sending device of a message key. */
function senderOf(key: string): string {
  return parseMessageKey(key)?.device ?? key;
}

export const accountOf: Record<string, string> = { a1: 'agent', a2: 'agent', c1: 'customer', o1: 'other' };

export function population(): HistoryEvent[] {
  return [
    { type: 'run-start', atMs: 0, schema: 1, runId: 'r1', scenario: 'test', seed: 1, startedAt: '2024-01-01T00:00:00.000Z', sendWindowMs: 10_000, graceMs: 1_000 },
    { type: 'account', atMs: 0, account: 'agent', role: 'agent', devices: ['a1', 'a2'], network: 'cn-agents' },
    { type: 'account', atMs: 0, account: 'customer', role: 'customer', devices: ['c1'], network: 'eu-customers' },
    { type: 'account', atMs: 0, account: 'other', role: 'customer', devices: ['o1'], network: 'eu-customers' },
    { type: 'conv', atMs: 0, conv: 'conv1', kind: 'direct', members: ['agent', 'customer'] },
  ];
}

export function send(key: string, atMs: number, o: Partial<SendEvent> = {}): SendEvent {
  const device = senderOf(key);
  return { type: 'send', atMs, device, account: accountOf[device] ?? '?', conv: 'conv1', key, kind: 'text', bytes: 10, intendedMs: atMs, attempt: 1, ...o };
}

export function ack(key: string, id: string, seq: number, atMs: number, o: Partial<AckEvent> = {}): AckEvent {
  const device = senderOf(key);
  return { type: 'ack', atMs, device, conv: 'conv1', key, id, seq, ...o };
}

export function nack(key: string, atMs: number, final = true): NackEvent {
  const device = senderOf(key);
  return { type: 'nack', atMs, device, conv: 'conv1', key, code: 'unavailable', final };
}

export function deliver(device: string, key: string, id: string, seq: number, atMs: number, o: Partial<DeliverEvent> = {}): DeliverEvent {
  return { type: 'deliver', atMs, device, account: accountOf[device] ?? '?', conv: 'conv1', key, id, seq, from: senderOf(key), replay: false, ...o };
}

export function fault(phase: 'start' | 'end', atMs: number, id = 'f0'): FaultEvent {
  return { type: 'fault', atMs, phase, fault: id, network: 'eu-customers', action: 'latency', description: 'latency 2000ms' };
}

export function runEnd(atMs: number): HistoryEvent {
  return { type: 'run-end', atMs, reason: 'complete' };
}

/** A message from a1 acked and delivered to a2 and c1 (every expected device). */
export function clean(key: string, id: string, seq: number, atMs: number): HistoryEvent[] {
  return [send(key, atMs), ack(key, id, seq, atMs + 5), deliver('c1', key, id, seq, atMs + 10), deliver('a2', key, id, seq, atMs + 12)];
}
