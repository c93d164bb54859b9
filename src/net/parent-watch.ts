/**
 * Children die with their parent, however it dies. A run starts the reference server and the
 * embedded proxy as child processes; `process.on('exit')` in the parent kills them on a normal
 * exit, but not when the parent is killed with SIGKILL (a CI job timeout, the OOM killer). So a
 * child started by a run gets an IPC channel to its parent and this module ends the child when
 * that channel closes: the kernel closes it whatever way the parent ended.
 *
 *   parent (chatstorm run) ──ipc──> child (chatstorm serve | proxy)
 *        dies (any signal)    'disconnect' -> SIGTERM to itself (its own clean shutdown)
 *                                          -> exit after PARENT_GONE_GRACE_MS at the latest
 *
 * Only children started with PARENT_WATCH_ENV set watch: a `chatstorm serve` a user started in
 * a terminal (or with its stdin closed, e.g. under nohup) keeps running.
 */

/** Set to `1` by `startChild` in a child's environment: end when the parent's IPC channel closes. */
export const PARENT_WATCH_ENV = 'CHATSTORM_EXIT_WITH_PARENT';

/** How long a child whose parent died may take to close cleanly before it exits anyway, ms. */
export const PARENT_GONE_GRACE_MS = 5000;

/**
 * In a child started by `startChild`: end this process when its parent is gone. Removes
 * PARENT_WATCH_ENV from `env` so that processes this one starts do not inherit it. Returns
 * whether it watches (false when the variable is unset). With the variable set and no channel
 * left, the parent is already gone and this process shuts down.
 */
export function watchParent(env: NodeJS.ProcessEnv = process.env): boolean {
  const asked = env[PARENT_WATCH_ENV] === '1';
  delete env[PARENT_WATCH_ENV];
  if (!asked) return false;
  const gone = (): void => {
    process.stderr.write?.(`chatstorm: parent process gone; ${process.argv[2] ?? 'child'} ${process.pid} shutting down\n`);
    // The command's own SIGTERM handler closes the server (connections, SQLite store); a
    // command with no handler yet (still starting) ends at once, SIGTERM's default.
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), PARENT_GONE_GRACE_MS).unref();
  };
  // The parent may have died while this process was still loading: then the channel is closed
  // and gone already (Node emitted 'disconnect' to no one and removed process.channel).
  // startChild always gives a channel along with the variable.
  if (!process.connected || !process.channel) {
    gone();
    return true;
  }
  process.once('disconnect', gone);
  // Do not let the channel itself keep this process alive: the command decides when it ends.
  process.channel.unref();
  return true;
}
