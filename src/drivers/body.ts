import type { MessageKind } from '../domain/index.ts';

const EMOJI = ['😀', '👍', '🙏', '📦', '🚚', '❤️', '😅', '🎉', '✅', '❓'];
const WORDS = ['order', 'refund', 'shipping', 'size', 'colour', 'tracking', 'customs', 'invoice', 'thanks', 'please', 'when', 'arrive'];

/**
 * A message body of about `bytes` UTF-8 bytes for a kind, after the marker. Cheap and
 * deterministic from `n` so replays send the same text.
 */
export function messageBody(marker: string, kind: MessageKind, bytes: number, n: number): string {
  const budget = Math.max(0, bytes - Buffer.byteLength(marker));
  if (kind === 'emoji') {
    let s = '';
    for (let i = 0; Buffer.byteLength(s) < budget; i++) s += EMOJI[(n + i) % EMOJI.length];
    return marker + s;
  }
  const unit = WORDS.map((w, i) => WORDS[(i + n) % WORDS.length] ?? w).join(' ') + ' ';
  return marker + unit.repeat(Math.ceil(budget / unit.length)).slice(0, budget);
}
