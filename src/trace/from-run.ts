/**
 * A saved run becomes a trace (`chatstorm trace from-run <run-dir>`), so the traffic of one run
 * can be replayed on another back end: every first send (at its intended time), with its
 * conversation, account, device, kind and sizes; the conversations with their members; reads;
 * and the run's networks and SLAs in the header. Faults are not carried over (the plan holds
 * them in planned, not scenario, form): replay with `--scenario` to apply the original ones.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readHistory } from '../history/reader.ts';
import type { Plan } from '../plan/index.ts';
import { UsageError } from '../errors.ts';
import { TRACE_VERSION, type TraceHeader, type TraceRecord } from './format.ts';

/** Read `<dir>/history.jsonl` (and `plan.json` for networks and SLAs) into a trace. */
export async function traceFromRun(dir: string): Promise<{ header: TraceHeader; records: TraceRecord[] }> {
  let plan: Plan;
  try {
    plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as Plan;
  } catch (err) {
    throw new UsageError(`${dir} is not a chatstorm run folder: could not read its plan.json (${(err as Error).message})`);
  }
  // Sizes as planned: a body shorter than the harness marker goes out marker-long, and a replay
  // of the recorded size would grow it again.
  const planned = new Map(plan.sends.map((s) => [s.key, s] as const));
  const records: TraceRecord[] = [];
  const deviceName = (account: string, device: string) => (device.startsWith(account + '.') ? device.slice(account.length + 1) : device);
  for await (const e of readHistory(join(dir, 'history.jsonl'))) {
    switch (e.type) {
      case 'account':
        records.push({ t: 0, type: 'account', account: e.account, role: e.role, network: e.network, devices: e.devices.map((d) => deviceName(e.account, d)) });
        break;
      case 'conv':
        if (!records.some((r) => r.type === 'conversation' && r.conv === e.conv)) records.push({ t: 0, type: 'conversation', conv: e.conv, kind: e.kind, members: e.members });
        break;
      case 'send': {
        if (e.attempt !== 1) break;
        const p = planned.get(e.key);
        const att = p ? (p.attachments ?? []) : (e.attachmentBytes ?? []);
        const body = p ? p.bytes : e.bytes - att.reduce((a, b) => a + b, 0);
        records.push({
          t: round(e.intendedMs),
          type: 'message',
          conv: e.conv,
          account: e.account,
          device: deviceName(e.account, e.device),
          kind: e.kind,
          size: Math.max(0, body),
          ...(att.length > 0 ? { attachments: att } : {}),
        });
        break;
      }
      case 'read':
        records.push({ t: round(e.atMs), type: 'read', conv: e.conv, account: e.account, device: deviceName(e.account, e.device) });
        break;
      default:
        break;
    }
  }
  // Sends are recorded when written: in intended-time order per device, not across devices.
  records.sort((a, b) => a.t - b.t);
  const header: TraceHeader = { trace: 'chatstorm', version: TRACE_VERSION, name: plan.scenario, networks: plan.networks, sla: plan.sla, grace: plan.graceMs };
  return { header, records };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
