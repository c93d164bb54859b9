/**
 * The trace format, version 1 (docs/traces.md): an anonymised production trace of chat traffic,
 * as JSON Lines (a header line, then one record a line) or CSV (one record a row, columns named
 * in the first row). Records are in time order; `t` is milliseconds since the trace's start.
 *
 *   header {trace: 'chatstorm', version: 1, name?, networks?, faults?, sla?, grace?}
 *   account       {t, type: 'account', account, role, network?, devices?}
 *   conversation  {t, type: 'conversation', conv, kind, members}
 *   message       {t, type: 'message', conv, account, role?, device?, kind, size, attachments?, id?, replyTo?}
 *   read          {t, type: 'read', conv, account, device?}
 *   history       {t, type: 'history', conv, account, device?}
 *   disconnect    {t, type: 'disconnect', account, device?}
 *   connect       {t, type: 'connect', account, device?}
 *   transfer      {t, type: 'transfer', conv, from, to}
 */
import { z } from 'zod';
import { MESSAGE_KINDS } from '../protocol/frames.ts';

/** Version of the trace format this chatstorm reads and writes. */
export const TRACE_VERSION = 1;

/** Ids of accounts, devices and conversations: they become parts of device ids and message keys. */
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1–64 letters, digits, "-" or "_"');
const t = z.number().finite().min(0);
const role = z.enum(['agent', 'customer']);

/** The first line of a JSON Lines trace. `networks`, `faults` and `sla` use the scenario language. */
export const traceHeaderSchema = z
  .object({
    trace: z.literal('chatstorm'),
    version: z.literal(TRACE_VERSION),
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1–64 letters, digits, ".", "-" or "_"').optional(),
    networks: z.record(z.string(), z.unknown()).optional(),
    faults: z.array(z.unknown()).optional(),
    sla: z.array(z.string()).optional(),
    grace: z.union([z.number(), z.string()]).optional(),
  })
  .strict();

export const traceRecordSchema = z.discriminatedUnion('type', [
  z.object({ t, type: z.literal('account'), account: id, role, network: z.string().min(1).optional(), devices: z.array(id).min(1).max(8).optional() }).strict(),
  z.object({ t, type: z.literal('conversation'), conv: id, kind: z.enum(['direct', 'group']), members: z.array(id).min(1) }).strict(),
  z
    .object({
      t,
      type: z.literal('message'),
      conv: id,
      account: id,
      role: role.optional(),
      device: id.optional(),
      kind: z.enum(MESSAGE_KINDS as unknown as [string, ...string[]]),
      /** Body bytes (text of the message). */
      size: z.number().int().min(0).max(1_000_000),
      /** Attachment sizes, bytes. */
      attachments: z.array(z.number().int().min(1).max(100_000_000)).max(16).optional(),
      /** The message's id in the trace (only to be answered by `replyTo`). */
      id: z.string().min(1).max(128).optional(),
      /** Id of the message this one answers: replay sends it only after that one reached this account. */
      replyTo: z.string().min(1).max(128).optional(),
    })
    .strict(),
  z.object({ t, type: z.literal('read'), conv: id, account: id, device: id.optional() }).strict(),
  z.object({ t, type: z.literal('history'), conv: id, account: id, device: id.optional() }).strict(),
  z.object({ t, type: z.literal('disconnect'), account: id, device: id.optional() }).strict(),
  z.object({ t, type: z.literal('connect'), account: id, device: id.optional() }).strict(),
  z.object({ t, type: z.literal('transfer'), conv: id, from: id, to: id }).strict(),
]);

export type TraceHeader = z.output<typeof traceHeaderSchema>;
export type TraceRecord = z.output<typeof traceRecordSchema>;
export type TraceMessage = Extract<TraceRecord, { type: 'message' }>;

/** A trace as read: its header (a default one for CSV) and its records in time order. */
export interface Trace {
  header: TraceHeader;
  records: TraceRecord[];
  /** Line number of each record, parallel to `records` (for messages about a record). */
  lines: number[];
  /** Lines refused and skipped (only with `skipBadLines`). */
  skipped: BadLine[];
}

/** One refused line: where, which field, why. */
export interface BadLine {
  line: number;
  field: string;
  reason: string;
}

/** CSV columns, in the order `trace from-run` and `trace synth` write them. */
export const CSV_COLUMNS = ['t', 'type', 'conv', 'account', 'role', 'device', 'kind', 'size', 'attachments', 'id', 'replyTo', 'network', 'devices', 'members', 'from', 'to'] as const;
