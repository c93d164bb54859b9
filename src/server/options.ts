/**
 * Options of the reference chat server, validated once where they enter (library and CLI share
 * this schema).
 */
import { z } from 'zod';
import { InvalidServerOptionsError } from './server-errors.ts';
import { generateServerToken, isLoopbackHost } from './server-token.ts';

/** Deliberate bugs the server can be started with, so each checker can be shown to catch one. */
export type DefectName =
  | 'drop-fanout'
  | 'no-dedup'
  | 'reorder'
  | 'stale-unread'
  | 'history-gap'
  | 'history-cutoff'
  | 'leak'
  | 'corrupt-attachment'
  | 'leak-attachment';

/** Every defect name, in documentation order. */
export const DEFECT_NAMES: readonly DefectName[] = [
  'drop-fanout',
  'no-dedup',
  'reorder',
  'stale-unread',
  'history-gap',
  'history-cutoff',
  'leak',
  'corrupt-attachment',
  'leak-attachment',
];

/** Options of {@link startReferenceServer}. */
export interface ReferenceServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; `0` picks a free one. Default `7420`. */
  port?: number;
  /** Where messages live. Default `'sqlite'`. */
  store?: 'memory' | 'sqlite';
  /** SQLite file. Default: a fresh file in a fresh temp directory, removed on close. */
  dbPath?: string;
  /** Deliberate defects. Default none. */
  defects?: DefectName[];
  /** Share (0..1) of opportunities at which an enabled defect fires. Default `0.02`. */
  defectRate?: number;
  /** Seed of the defect randomness. Default `1`. */
  seed?: number;
  /** Per-account token bucket on `send`; `null` turns it off. Default 50/s, burst 100. */
  rateLimit?: { perSecond: number; burst: number } | null;
  /** Largest WebSocket frame (text or binary) in bytes; larger ones close with 4413. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Most bytes queued for one device before it is closed with 4429 (slow consumer). Default 64 MiB. */
  maxBufferedBytes?: number;
  /**
   * Server token: admin calls and device connections must present it (`Authorization: Bearer`,
   * see docs/protocol.md §1). Default: none on a loopback `host`; a fresh random one (see
   * `ReferenceServer.token`) on any other host, so that the admin API is never open to a network.
   */
  token?: string;
  /** Where diagnostic lines go. Default: nowhere. */
  log?: (line: string) => void;
}

/** Options with every default applied. */
export interface ResolvedServerOptions {
  host: string;
  port: number;
  store: 'memory' | 'sqlite';
  dbPath: string | undefined;
  defects: readonly DefectName[];
  defectRate: number;
  seed: number;
  rateLimit: { perSecond: number; burst: number } | null;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  /** `null`: no token (loopback only). */
  token: string | null;
  log: (line: string) => void;
}

const schema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(7420),
  store: z.enum(['memory', 'sqlite']).default('sqlite'),
  dbPath: z.string().min(1).optional(),
  defects: z.array(z.enum(DEFECT_NAMES as [DefectName, ...DefectName[]])).default([]),
  defectRate: z.number().min(0).max(1).default(0.02),
  seed: z.number().int().default(1),
  rateLimit: z
    .object({ perSecond: z.number().positive(), burst: z.number().int().positive() })
    .nullable()
    .default({ perSecond: 50, burst: 100 }),
  maxFrameBytes: z.number().int().min(1024).default(1024 * 1024),
  maxBufferedBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  token: z
    .string()
    .min(16, 'must be at least 16 characters (omit it for a random one)')
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
});

/** Validate options and apply defaults; throws {@link InvalidServerOptionsError} naming each bad field. */
export function resolveServerOptions(opts: ReferenceServerOptions = {}): ResolvedServerOptions {
  const { log, ...rest } = opts;
  const parsed = schema.safeParse(rest);
  if (!parsed.success) {
    throw new InvalidServerOptionsError(
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const { token, ...data } = parsed.data;
  const resolvedToken = token ?? (isLoopbackHost(data.host) ? null : generateServerToken());
  return { ...data, dbPath: data.dbPath, token: resolvedToken, log: log ?? (() => {}) };
}
