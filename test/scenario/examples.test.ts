import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';
import { buildPlan, planHash } from '../../src/plan/plan.ts';

const dir = new URL('../../scenarios/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('shipped scenarios', () => {
  it('include the demo and the peak-hour example', () => {
    expect(files).toEqual(expect.arrayContaining(['demo.ts', 'peak-hour.ts']));
  });

  it.each(files)('%s validates and expands to the same plan twice', async (file) => {
    const { scenario } = await loadScenario(new URL(file, dir).pathname);
    const a = buildPlan(scenario);
    expect(a.sends.length).toBeGreaterThan(0);
    expect(planHash(buildPlan(scenario))).toBe(planHash(a));
  });
});
