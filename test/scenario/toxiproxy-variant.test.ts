import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.ts';

describe('scenarios/cross-border-peak-toxiproxy.ts', () => {
  it('is cross-border-peak without its loss toxics (which a real Toxiproxy refuses), everything else kept', async () => {
    const { scenario: peak } = await loadScenario('scenarios/cross-border-peak.ts');
    const { scenario: real } = await loadScenario('scenarios/cross-border-peak-toxiproxy.ts');
    const lossFaults = peak.faults.filter((f) => f.action === 'toxic' && f.toxic.type === 'loss');
    expect(lossFaults.length).toBeGreaterThan(0);
    expect(JSON.stringify(real)).not.toContain('"loss"');
    expect(real.faults).toEqual(peak.faults.filter((f) => !lossFaults.includes(f)));
    expect(real.population).toEqual(peak.population);
    expect(real.traffic).toEqual(peak.traffic);
    expect(real.sla).toEqual(peak.sla);
    for (const [name, n] of Object.entries(peak.networks)) expect(real.networks[name]?.toxics).toEqual(n.toxics.filter((t) => t.type !== 'loss'));
  });
});
