import { describe, expect, it } from 'vitest';
import { decodeMarker, encodeMarker } from '../../src/drivers/marker.ts';
import { messageBody } from '../../src/drivers/body.ts';

describe('harness marker', () => {
  it('round-trips run id, key and intended time through a message body', () => {
    const m = { runId: 'demo-1', key: 'c00001.mobile0#12', intendedMs: 1234.5 };
    const body = messageBody(encodeMarker(m), 'text', 200, 12);
    expect(decodeMarker(body)).toEqual(m);
  });

  it('returns null for a body without a marker or with a broken one', () => {
    expect(decodeMarker('hello')).toBeNull();
    expect(decodeMarker('\u27e6cs1 run key-without-hash 1\u27e7')).toBeNull();
    expect(decodeMarker('\u27e6cs1 run a#1 notanumber\u27e7')).toBeNull();
    expect(decodeMarker('\u27e6cs1 run a#1 1')).toBeNull();
  });

  it('builds bodies of about the requested size for each kind', () => {
    const marker = encodeMarker({ runId: 'r', key: 'd#1', intendedMs: 0 });
    for (const kind of ['text', 'emoji', 'long-text'] as const) {
      const bytes = Buffer.byteLength(messageBody(marker, kind, 5000, 3));
      expect(bytes).toBeGreaterThanOrEqual(5000);
      expect(bytes).toBeLessThan(5000 + 8);
    }
  });
});
