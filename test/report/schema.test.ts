import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/cli/summarize.ts';
import type { CheckResult, Verdict } from '../../src/check/index.ts';
import { expectValidSummary, summaryErrors } from './summary-schema.ts';

const check = (name: string, status: CheckResult['status'], count = 0): CheckResult => ({ name, status, count, witnesses: [] });

function sample() {
  const verdict: Verdict = {
    checks: {
      loss: {
        ...check('loss', 'fail', 1),
        metrics: { messages: 3 },
        witnesses: [
          {
            summary: 'c1.mobile0 never received a1.desktop0#1',
            key: 'a1.desktop0#1',
            device: 'c1.mobile0',
            atMs: 12,
            trail: [
              { type: 'send', atMs: 1, device: 'a1.desktop0', account: 'a1', conv: 'dm1', key: 'a1.desktop0#1', kind: 'text', bytes: 10, intendedMs: 1, attempt: 1 },
              { type: 'ack', atMs: 2, device: 'a1.desktop0', conv: 'dm1', key: 'a1.desktop0#1', id: 'm1', seq: 1 },
            ],
          },
        ],
      },
      duplicates: check('duplicates', 'pass'),
      ordering: check('ordering', 'pass'),
      integrity: { ...check('integrity', 'not-checked'), note: 'no attachments in the run' },
    },
    metrics: { delivery: { count: 2, p50Ms: 1, p90Ms: 2, p95Ms: 2, p99Ms: 2, p999Ms: 2, maxMs: 2, meanMs: 1.5 } },
  };
  return summarize({
    verdict,
    slas: [],
    infraError: null,
    run: { runId: 'r', scenario: 's', seed: 1, startedAt: '2026-01-01T00:00:00.000Z', endReason: 'complete' },
    harness: { worstEventLoopP99Ms: 1, worstSenderLagP99Ms: 1, senderLagMaxMs: 1, overloaded: null, events: 10 },
    target: 'ws://127.0.0.1:1',
    toxiproxy: { url: 'http://127.0.0.1:2', kind: 'embedded' },
    faults: [{ fault: 'f0', network: 'n', action: 'toxic', description: 'latency', startMs: 1, endMs: null }],
  });
}

describe('docs/summary.schema.json', () => {
  it('is a draft 2020-12 schema', () => {
    const raw = JSON.parse(readFileSync(new URL('../../docs/summary.schema.json', import.meta.url), 'utf8')) as { $schema: string };
    expect(raw.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('accepts a summary the code writes, witnesses and faults included', () => {
    expectValidSummary(sample());
  });

  it('rejects a renamed top-level field', () => {
    const { verdict, ...rest } = sample();
    const errors = summaryErrors({ ...rest, outcome: verdict });
    expect(errors.join('\n')).toContain("must have required property 'verdict'");
    expect(errors.join('\n')).toContain('must NOT have additional properties');
  });

  it('rejects a renamed latency statistic', () => {
    const s = sample();
    const { p99Ms, ...d } = s.metrics.delivery!;
    const errors = summaryErrors({ ...s, metrics: { delivery: { ...d, p99: p99Ms } } });
    expect(errors.join('\n')).toMatch(/\/metrics\/delivery must have required property 'p99Ms'/);
  });

  it('rejects a renamed witness field and an unknown check status', () => {
    const s = sample();
    const loss = s.checks.loss!;
    const w = loss.witnesses[0]!;
    expect(summaryErrors({ ...s, checks: { ...s.checks, loss: { ...loss, witnesses: [{ ...w, events: w.trail, trail: undefined }] } } }).join('\n')).toContain('/checks/loss/witnesses/0');
    expect(summaryErrors({ ...s, checks: { ...s.checks, loss: { ...loss, status: 'passed' } } }).join('\n')).toContain('/checks/loss/status');
  });

  it('rejects another schema version', () => {
    expect(summaryErrors({ ...sample(), schema: 2 }).join('\n')).toContain('/schema');
  });
});
