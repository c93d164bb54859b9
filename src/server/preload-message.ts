/**
 * The synthetic messages `preload` writes: months of history, spread evenly over time, sent in
 * turn by the conversation's members. Shared by both stores so they preload the same content.
 */
import type { ConversationRecord, NewMessage } from './store.ts';
import type { PreloadRequest } from './admin-schema.ts';

/** Produces the i-th preloaded message of a request (0-based). */
export interface PreloadPlan {
  message(i: number): NewMessage & { ts: number };
}

/** The deterministic plan of `req.count` preloaded messages for `conv`, ending at `nowMs`. */
export function preloadPlan(conv: ConversationRecord, req: PreloadRequest, nowMs: number): PreloadPlan {
  const bodyLen = req.bodyBytes ?? 64;
  const spanMs = (req.spanDays ?? 90) * 86_400_000;
  const stepMs = req.count > 1 ? spanMs / (req.count - 1) : 0;
  const start = nowMs - spanMs;
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bodyLen / 27) + 1);
  const members = conv.members;
  const runTag = nowMs.toString(36);
  return {
    message(i) {
      const from = members[i % members.length] ?? 'preload';
      const head = `#${i} `;
      return {
        conv: conv.id,
        fromAccount: from,
        fromDevice: `preload:${from}`,
        cid: req.cidPrefix === undefined ? `preload-${runTag}-${String(i).padStart(10, '0')}` : `${req.cidPrefix}${i + 1}`,
        kind: 'text',
        body: (head + filler).slice(0, Math.max(bodyLen, head.length)),
        attachments: undefined,
        ts: Math.round(start + i * stepMs),
      };
    },
  };
}
