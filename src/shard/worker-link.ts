/**
 * The channel between `run --workers N` and its worker processes (Node's IPC channel of a forked
 * child). A worker is an ordinary `run --shard i/n`; the link only adds two things:
 *
 *   worker --{ready}-->  parent   every device of the shard is live
 *   parent --{play}-->   worker   all shards are ready: play now (one fault timeline for all)
 *   worker --{progress}-> parent  once a second, merged into one progress line
 */
import { HarnessError } from '../errors.ts';
import type { LiveProgress } from '../report/progress.ts';

/** Set in a worker's environment by the parent. */
export const WORKER_ENV = 'CHATSTORM_WORKER';

export type WorkerMessage = { type: 'ready' } | { type: 'progress'; progress: LiveProgress };
export type ParentMessage = { type: 'play' };

export interface WorkerLink {
  /** Tell the parent this shard is ready, then wait for the word to play. */
  beforePlay(): Promise<void>;
  onProgress(p: LiveProgress): void;
}

/** The link to the parent when this process is a worker of `run --workers`; null otherwise. */
export function workerLink(signal: AbortSignal): WorkerLink | null {
  const send = process.send?.bind(process);
  if (!send || process.env[WORKER_ENV] !== '1') return null;
  const post = (m: WorkerMessage) => {
    if (process.connected) send(m);
  };
  return {
    beforePlay: () =>
      new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          process.off('message', onMessage);
          process.off('disconnect', onGone);
          signal.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve();
        };
        const onMessage = (m: ParentMessage) => {
          if (m?.type === 'play') done();
        };
        // The parent died, or stopped this worker: never wait for a word that cannot come.
        const onGone = () => done(new HarnessError('the parent of this worker went away before play'));
        const onAbort = () => done(new HarnessError('stopped while waiting for the other workers'));
        process.on('message', onMessage);
        process.once('disconnect', onGone);
        signal.addEventListener('abort', onAbort, { once: true });
        post({ type: 'ready' });
      }),
    onProgress: (progress) => post({ type: 'progress', progress }),
  };
}
