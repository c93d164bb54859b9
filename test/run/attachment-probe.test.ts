import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/history/events.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { AttachmentProbe, MAX_PROBES } from '../../src/run/attachment-probe.ts';
import type { VirtualDevice } from '../../src/run/device.ts';
import { base } from '../e2e/fixtures/defect-scenarios.ts';
import { validateScenario } from '../../src/scenario/validate.ts';

const plan = buildPlan(validateScenario(base('probe')));

/** Devices that record the probes asked of them (only what AttachmentProbe uses). */
function fakeDevices(live = true) {
  const asked: { device: string; conv: string; key: string; id: string }[] = [];
  const map = new Map<string, VirtualDevice>();
  for (const a of plan.accounts) {
    for (const d of a.devices) {
      map.set(d.id, {
        fetches: 0,
        fetchAttachment: (conv: string, key: string, id: string) => {
          if (live) asked.push({ device: d.id, conv, key, id });
          return live;
        },
      } as unknown as VirtualDevice);
    }
  }
  return { asked, map };
}

describe('attachment probe', () => {
  it('plans the same probes from the same plan: distinct strangers, at most MAX_PROBES', () => {
    const a = new AttachmentProbe(plan, fakeDevices().map).planned;
    const b = new AttachmentProbe(buildPlan(validateScenario(base('probe'))), fakeDevices().map).planned;
    expect([...a]).toEqual([...b]);
    expect(a.size).toBeGreaterThan(0);
    expect(a.size).toBeLessThanOrEqual(MAX_PROBES);
    const probers = [...a.values()].map((t) => t.prober);
    expect(new Set(probers).size).toBe(probers.length);
    for (const [key, t] of a) {
      const send = plan.sends.find((s) => s.key === key)!;
      expect(send.attachments?.length).toBeGreaterThan(0);
      const members = plan.conversations.find((c) => c.id === t.conv)!.members;
      const owner = plan.accounts.find((acc) => acc.devices.some((d) => d.id === t.prober))!.id;
      expect(members).not.toContain(owner);
    }
  });

  it('fires once, at the first delivery of a probed message that names its attachments', () => {
    const { asked, map } = fakeDevices();
    const probe = new AttachmentProbe(plan, map);
    const [key, t] = [...probe.planned][0]!;
    const deliver = (attachments?: string[]): HistoryEvent => ({
      type: 'deliver', atMs: 1, device: 'x', account: 'y', conv: t.conv, key, id: 'm1', seq: 1, from: 'z', replay: false,
      ...(attachments ? { attachments } : {}),
    });
    probe.listen(deliver());
    expect(asked).toEqual([]);
    probe.listen(deliver(['a1', 'a2']));
    probe.listen(deliver(['a1', 'a2']));
    expect(asked).toEqual([{ device: t.prober, conv: t.conv, key, id: 'a1' }]);
  });

  it('plans nothing when the plan turns attachment downloads off', () => {
    expect(new AttachmentProbe({ ...plan, downloadAttachments: false }, fakeDevices().map).planned.size).toBe(0);
  });
});
