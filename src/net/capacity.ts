/**
 * Open-file capacity. Every proxied connection costs the proxy process two file descriptors
 * (client side and upstream side), the harness and the server one each. With a limit of 20,000
 * per process one proxy process holds at most about 9,990 connections, so the embedded proxy is
 * split over several processes, networks packed into them, and a load that cannot fit is refused
 * before anything starts with the limit named and how to raise it.
 */
import { readFileSync } from 'node:fs';
import { ResourceLimitError } from '../errors.ts';

/** Descriptors kept free in every process for listeners, logs, the SQLite file, pipes. */
export const FD_RESERVE = 20;

/** The soft open-file limit of this process (children inherit it), or null when unknown. */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined) return null;
  if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
  const n = Number(soft);
  return Number.isFinite(n) ? n : null;
}

/** Connections one proxy process can hold under `limit`. */
export function connectionsPerProxyProcess(limit: number): number {
  return Math.max(0, Math.floor((limit - FD_RESERVE) / 2));
}

const HOW_TO_RAISE =
  'Raise it with `ulimit -n 65536` in the shell that starts chatstorm (or LimitNOFILE= for a systemd unit, ' +
  '`--ulimit nofile=65536:65536` for docker run); where it cannot be raised, run fewer devices per process ' +
  '(shard the scenario over several chatstorm processes).';

/**
 * Pack networks into as few embedded proxy processes as the limit allows (first fit, largest
 * network first). Returns one list of network names per process. Throws ResourceLimitError when a
 * single network, or the harness itself, needs more descriptors than one process may open.
 */
export function planProxyProcesses(devicesPerNetwork: ReadonlyMap<string, number>, limit: number | null): string[][] {
  const names = [...devicesPerNetwork.keys()];
  if (limit === null || limit === Number.POSITIVE_INFINITY) return [names];
  const total = [...devicesPerNetwork.values()].reduce((a, b) => a + b, 0);
  if (total + FD_RESERVE > limit) {
    throw new ResourceLimitError(
      `the scenario has ${total} devices, but this process may open only ${limit} files (\`ulimit -n\`), ` +
        `and the harness needs one per device plus ${FD_RESERVE}. ${HOW_TO_RAISE}`,
    );
  }
  const cap = connectionsPerProxyProcess(limit);
  const bins: { names: string[]; used: number }[] = [];
  for (const name of [...names].sort((a, b) => (devicesPerNetwork.get(b) ?? 0) - (devicesPerNetwork.get(a) ?? 0))) {
    const n = devicesPerNetwork.get(name) ?? 0;
    if (n > cap) {
      throw new ResourceLimitError(
        `network ${name} has ${n} devices, but one proxy process holds at most ${cap} connections under the open-file ` +
          `limit of ${limit} (\`ulimit -n\`; two descriptors per proxied connection). Split the network into several ` +
          `networks in the scenario (each gets its own proxy), or raise the limit. ${HOW_TO_RAISE}`,
      );
    }
    const bin = bins.find((b) => b.used + n <= cap);
    if (bin) {
      bin.names.push(name);
      bin.used += n;
    } else bins.push({ names: [name], used: n });
  }
  return bins.map((b) => b.names);
}
