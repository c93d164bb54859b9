import type { HistoryEvent } from '../history/events.ts';
import type { Summary } from './summary.ts';

/** Pairs fault start and end events for the reports. */
export class FaultLog {
  startedAt: string | null = null;
  private readonly open = new Map<string, Summary['faults'][number]>();
  private readonly done: Summary['faults'] = [];
  step = (e: HistoryEvent): void => {
    if (e.type === 'run-start') this.startedAt = e.startedAt;
    if (e.type !== 'fault') return;
    const f = e;
    if (f.phase === 'start') {
      const entry = { fault: f.fault, network: f.network, action: f.action, description: f.description, startMs: f.atMs, endMs: null as number | null };
      this.open.set(f.fault, entry);
      this.done.push(entry);
    } else {
      const entry = this.open.get(f.fault);
      if (entry) entry.endMs = f.atMs;
      this.open.delete(f.fault);
    }
  };
  list(): Summary['faults'] {
    return this.done;
  }
}
