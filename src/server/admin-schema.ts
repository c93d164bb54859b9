/**
 * Validation of the admin HTTP bodies (`POST /admin/provision`, `POST /admin/preload`).
 */
import { z } from 'zod';
import type { ProvisionRequest } from '../protocol/frames.ts';

const id = z.string().min(1).max(200);

const provisionSchema = z.object({
  accounts: z.array(
    z.object({
      id,
      role: z.enum(['agent', 'customer']),
      devices: z.array(z.object({ id, token: z.string().min(1).max(500) })),
    }),
  ),
  conversations: z.array(
    z.object({ id, kind: z.enum(['direct', 'group']), members: z.array(id).min(1) }),
  ),
});

/** Body of `POST /admin/preload`: bulk-create `count` messages of history in one conversation. */
export interface PreloadRequest {
  conv: string;
  /** Messages to append, 1..10,000,000. */
  count: number;
  /** Body length of each message in characters. Default 64. */
  bodyBytes?: number;
  /** Timestamps are spread evenly over this many days, ending now. Default 90. */
  spanDays?: number;
  /**
   * Client id of the i-th message (0-based) is `cidPrefix + (i + 1)`, so a harness can name each
   * preloaded message (`<device>#` gives harness keys `<device>#1`, `<device>#2`, ...). Default: a
   * per-request prefix `preload-<time>-` with the index padded to 10 digits.
   */
  cidPrefix?: string;
}

const preloadSchema = z.object({
  conv: id,
  count: z.number().int().min(1).max(10_000_000),
  bodyBytes: z.number().int().min(1).max(65_536).optional(),
  spanDays: z.number().min(0).max(3650).optional(),
  cidPrefix: z.string().min(1).max(200).optional(),
});

/** Outcome of validating an admin body. */
export type AdminParse<T> = { state: 'ok'; value: T } | { state: 'invalid'; message: string };

/** Validate a `POST /admin/provision` body; the message names each bad field by path. */
export function parseProvisionRequest(raw: unknown): AdminParse<ProvisionRequest> {
  return toOutcome(provisionSchema.safeParse(raw), 'provision request');
}

/** Validate a `POST /admin/preload` body (also used for `serve --preload`). */
export function parsePreloadRequest(raw: unknown): AdminParse<PreloadRequest> {
  return toOutcome(preloadSchema.safeParse(raw), 'preload request');
}

function toOutcome<T>(r: z.ZodSafeParseResult<T>, what: string): AdminParse<T> {
  if (r.success) return { state: 'ok', value: r.data };
  const lines = r.error.issues.map((i) => `field \`${i.path.join('.') || '(root)'}\`: ${i.message}`);
  return { state: 'invalid', message: `${what} is invalid: ${lines.join('; ')}` };
}
