/**
 * Validation of every frame a device sends. A frame is parsed once, here; the rest of the
 * server handles only typed, well-formed frames.
 */
import { z } from 'zod';
import {
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_TRANSFER_ID_BYTES,
  MESSAGE_KINDS,
  type ClientFrame,
  type MessageKind,
} from '../protocol/frames.ts';

const id = z.string().min(1).max(200);
const transferId = z
  .string()
  .min(1)
  .max(MAX_TRANSFER_ID_BYTES)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const seq = z.number().int().min(0);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

const attachmentRef = z.object({
  id,
  name: z.string().max(255),
  mime: z.string().max(255),
  size: z.number().int().min(1).max(MAX_ATTACHMENT_BYTES),
  sha256,
});

// Bodies are checked against MAX_BODY_BYTES after parsing, so an over-long one gets a `nack`
// (`too-large`) that names its cid rather than an anonymous error.
const frame = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('send'),
    cid: id,
    conv: id,
    kind: z.enum(MESSAGE_KINDS as [MessageKind, ...MessageKind[]]),
    body: z.string(),
    attachments: z.array(attachmentRef).max(MAX_ATTACHMENTS_PER_MESSAGE).optional(),
  }),
  z.object({ t: z.literal('sync'), cursors: z.record(z.string(), seq) }),
  z.object({
    t: z.literal('history'),
    req: id,
    conv: id,
    before: seq.optional(),
    after: seq.optional(),
    limit: z.number().int().min(1).max(200).optional(),
  }),
  z.object({ t: z.literal('read'), conv: id, seq }),
  z.object({ t: z.literal('ping'), ts: z.number().optional() }),
  z.object({
    t: z.literal('upload-start'),
    up: transferId,
    name: z.string().min(1).max(255),
    mime: z.string().min(1).max(255),
    size: z.number().int().min(1).max(MAX_ATTACHMENT_BYTES),
    sha256,
  }),
  z.object({ t: z.literal('upload-done'), up: transferId }),
  z.object({ t: z.literal('download'), req: transferId, id }),
]);

const KNOWN_TYPES = new Set(['send', 'sync', 'history', 'read', 'ping', 'upload-start', 'upload-done', 'download']);

/** Outcome of parsing one text frame. */
export type ParsedClientFrame =
  | { state: 'ok'; frame: ClientFrame }
  | { state: 'invalid'; code: 'bad-json' | 'unknown-type' | 'bad-frame'; message: string; ref?: string };

/** Parse and validate one text frame from a device. Never throws. */
export function parseClientFrame(text: string): ParsedClientFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { state: 'invalid', code: 'bad-json', message: `frame is not valid JSON: ${why}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { state: 'invalid', code: 'bad-frame', message: `frame must be a JSON object, got ${describe(raw)}` };
  }
  const rec = raw as Record<string, unknown>;
  const ref = typeof rec.cid === 'string' ? rec.cid : typeof rec.req === 'string' ? rec.req : typeof rec.up === 'string' ? rec.up : undefined;
  if (typeof rec.t !== 'string' || !KNOWN_TYPES.has(rec.t)) {
    return {
      state: 'invalid',
      code: 'unknown-type',
      message: `frame field \`t\` must be one of ${[...KNOWN_TYPES].join(', ')}, got ${describe(rec.t)}`,
      ...(ref !== undefined ? { ref } : {}),
    };
  }
  const parsed = frame.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join('.') : '';
    return {
      state: 'invalid',
      code: 'bad-frame',
      message: `\`${rec.t}\` frame field \`${path || '(root)'}\`: ${issue?.message ?? 'invalid'}`,
      ...(ref !== undefined ? { ref } : {}),
    };
  }
  return { state: 'ok', frame: parsed.data as ClientFrame };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
