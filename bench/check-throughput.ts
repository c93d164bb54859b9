/**
 * Micro benchmark of the checkers: events per second each one folds, over a synthetic clean
 * history (4 accounts × 2 devices in a group, every message acked and delivered to 7 devices,
 * unread reports, reads, pages, faults; see test/check/synthetic-history.ts).
 *
 * Measured in the same run as a baseline that only reads each event (a loop summing `atMs`), so
 * the ratio says what checking costs on top of walking the history. Each standalone checker owns
 * its own ledger (as `chatstorm check` would not: the judge shares one); "judge (all)" is the
 * full composition the runner uses.
 *
 * Usage: node --import tsx bench/check-throughput.ts [--events 200000] [--time 2000]
 */
import { numericArg } from './measure-child.ts';
import { Bench } from 'tinybench';
import { ChatstormJudge } from '../src/check/judge.ts';
import { DelayMetrics } from '../src/check/delay.ts';
import { DuplicatesChecker } from '../src/check/duplicates.ts';
import { HistoryChecker } from '../src/check/history.ts';
import { IntegrityChecker } from '../src/check/integrity.ts';
import { IsolationChecker } from '../src/check/isolation.ts';
import { Ledger } from '../src/check/ledger.ts';
import type { NoteFold } from '../src/check/fold.ts';
import { LossChecker } from '../src/check/loss.ts';
import { OrderingChecker } from '../src/check/ordering.ts';
import { SyncChecker } from '../src/check/sync.ts';
import type { HistoryEvent } from '../src/history/events.ts';
import { syntheticHistory } from '../test/check/synthetic-history.ts';

const events: HistoryEvent[] = [...syntheticHistory(numericArg('events', 200_000))];
const n = events.length;
let sink = 0;

/** One checker with its own ledger, as `foldChecker` steps it. */
const fold = (make: (ledger: Ledger) => NoteFold) => () => {
  const ledger = new Ledger();
  const f = make(ledger);
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    f.step(e, ledger.step(e));
  }
  sink += (f as { retained?: () => number }).retained?.() ?? 0;
};

const bench = new Bench({ time: numericArg('time', 2000), warmupIterations: 2, iterations: 5 });
bench
  .add('baseline (read events)', () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += events[i]!.atMs;
    sink += s;
  })
  .add('ledger', () => {
    const l = new Ledger();
    for (let i = 0; i < n; i++) l.step(events[i]!);
    sink += l.retained();
  })
  .add('loss', fold((l) => new LossChecker(l)))
  .add('duplicates', fold((l) => new DuplicatesChecker(l)))
  .add('ordering', fold((l) => new OrderingChecker(l)))
  .add('delay', fold((l) => new DelayMetrics(l)))
  .add('sync', fold((l) => new SyncChecker(l)))
  .add('history', fold((l) => new HistoryChecker(l)))
  .add('isolation', fold((l) => new IsolationChecker(l)))
  .add('integrity', fold((l) => new IntegrityChecker(l)))
  .add('judge (all)', () => {
    const j = new ChatstormJudge();
    for (let i = 0; i < n; i++) j.step(events[i]!);
    j.result();
    sink += j.retained();
  });

await bench.run();

const rows: { task: string; 'events/s': string; 'ms/run': string; 'vs baseline': string; samples: number }[] = [];
let baseline = 0;
for (const task of bench.tasks) {
  const r = task.result;
  if (r.state !== 'completed') {
    console.error(`${task.name}: ${r.state}`, 'error' in r ? r.error : '');
    continue;
  }
  const perSec = (n / r.latency.mean) * 1000;
  if (baseline === 0) baseline = perSec;
  rows.push({
    task: task.name,
    'events/s': Math.round(perSec).toLocaleString('en-US'),
    'ms/run': r.latency.mean.toFixed(1),
    'vs baseline': task.name.startsWith('baseline') ? '1' : `1/${Math.round(baseline / perSec)}`,
    samples: r.latency.samplesCount,
  });
}
console.log(`${n.toLocaleString('en-US')} events per run, node ${process.version}`);
console.table(rows);
if (sink === Number.MIN_VALUE) console.log(sink);
