/**
 * The message key: `<device>#<n>`, the sending device and its per-sender counter (1, 2, ...).
 * It names one planned message on every side (send, ack, each recipient's copy), whatever ids the
 * back end assigns. Built and parsed here only: a device id may itself contain `#`, so the
 * counter is what follows the *last* `#`.
 */

/** The parts of a message key. */
export interface MessageKeyParts {
  /** Sending device id. */
  device: string;
  /** Per-sender counter, a non-negative integer (the plan counts from 1). */
  counter: number;
}

/** The key of the `counter`-th message of `device`. */
export function messageKey(device: string, counter: number): string {
  return `${device}#${counter}`;
}

/** Split a key into device and counter; null when it is not `<device>#<digits>`. */
export function parseMessageKey(key: string): MessageKeyParts | null {
  const i = key.lastIndexOf('#');
  if (i <= 0) return null;
  const digits = key.slice(i + 1);
  if (!/^[0-9]+$/.test(digits)) return null;
  return { device: key.slice(0, i), counter: Number(digits) };
}

/** The per-sender counter of `key`; NaN when the key is malformed. */
export function counterOf(key: string): number {
  return parseMessageKey(key)?.counter ?? NaN;
}
