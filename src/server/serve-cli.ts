/**
 * `chatstorm serve`: run the reference server in the foreground until SIGINT/SIGTERM.
 *
 * `preload` is one of
 *   - `conv=ID,count=N[,bodyBytes=N][,spanDays=N]`, several joined by `;`;
 *   - `ID:N[,ID:N...]`;
 *   - the path of a JSON file `{ "provision"?: ProvisionRequest, "preload": PreloadRequest[] }`.
 * A conversation that does not exist yet is created as a group with the single member
 * `preload-bot`; a later provision that names the conversation replaces its members and keeps
 * the history.
 */
import { readFileSync } from 'node:fs';
import type { ProvisionRequest } from '../protocol/frames.ts';
import { parsePreloadRequest, parseProvisionRequest, type PreloadRequest } from './admin-schema.ts';
import type { ReferenceServerOptions } from './options.ts';
import { startReferenceServer, type ReferenceServer } from './reference-server.ts';
import { InvalidServerOptionsError } from './server-errors.ts';
import { SERVER_TOKEN_ENV } from './server-token.ts';

/** Synthetic author of preloaded history in a conversation created by `--preload`. */
export const PRELOAD_BOT = 'preload-bot';

/**
 * Start the server, preload history if asked, print the listening line (and the server token,
 * when one is required), and close on a signal. The token is `opts.token`, else
 * `$CHATSTORM_SERVER_TOKEN`, else (beyond loopback only) a fresh random one.
 */
export async function runServeCli(opts: ReferenceServerOptions & { preload?: string }): Promise<void> {
  const { preload, ...serverOpts } = opts;
  const plan = preload ? parsePreloadOption(preload) : undefined;
  const log = serverOpts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const token = serverOpts.token ?? (process.env[SERVER_TOKEN_ENV] || undefined);
  const server: ReferenceServer = await startReferenceServer({ ...serverOpts, log, ...(token === undefined ? {} : { token }) });
  try {
    if (plan?.provision) server.store.provision(plan.provision);
    for (const p of plan?.preload ?? []) {
      if (!server.store.conversation(p.conv)) {
        server.store.provision({
          accounts: [{ id: PRELOAD_BOT, role: 'agent', devices: [] }],
          conversations: [{ id: p.conv, kind: 'group', members: [PRELOAD_BOT] }],
        });
      }
      const r = server.store.preload(p);
      log(`preloaded ${r.count} messages into ${r.conv} (seq ${r.firstSeq}..${r.lastSeq}) in ${Math.round(r.elapsedMs)} ms`);
    }
  } catch (err) {
    await server.close();
    throw err;
  }
  process.stdout.write(`chatstorm reference server listening on ${server.url}\n`);
  if (server.token !== null) {
    process.stdout.write(
      `server token: ${server.token}\n` +
        `  admin calls and devices must send "Authorization: Bearer <token>"; ` +
        `for \`chatstorm run --target\`, export ${SERVER_TOKEN_ENV}=<token>\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}

function parsePreloadOption(value: string): { provision?: ProvisionRequest; preload: PreloadRequest[] } {
  if (value.endsWith('.json')) {
    let raw: { provision?: unknown; preload?: unknown };
    try {
      raw = JSON.parse(readFileSync(value, 'utf8')) as typeof raw;
    } catch (err) {
      throw new InvalidServerOptionsError([{ path: 'preload', message: `cannot read ${value}: ${String(err)}` }]);
    }
    const out: { provision?: ProvisionRequest; preload: PreloadRequest[] } = { preload: [] };
    if (raw.provision !== undefined) {
      const p = parseProvisionRequest(raw.provision);
      if (p.state === 'invalid') throw new InvalidServerOptionsError([{ path: 'preload.provision', message: p.message }]);
      out.provision = p.value;
    }
    const list = Array.isArray(raw.preload) ? raw.preload : [];
    list.forEach((item: unknown, i: number) => {
      const p = parsePreloadRequest(item);
      if (p.state === 'invalid') throw new InvalidServerOptionsError([{ path: `preload.preload.${i}`, message: p.message }]);
      out.preload.push(p.value);
    });
    return out;
  }
  const bad = (part: string): InvalidServerOptionsError =>
    new InvalidServerOptionsError([
      {
        path: 'preload',
        message:
          `expected "conv=ID,count=N[,bodyBytes=N][,spanDays=N]" (several joined by ";"), "ID:N[,ID:N]" or a .json file, ` +
          `with N in 1..10000000, got ${JSON.stringify(part)}`,
      },
    ]);
  const specs = value.includes('=')
    ? value.split(';').map((part) => {
        const fields = new Map(part.split(',').map((kv) => kv.trim().split('=') as [string, string | undefined]));
        const raw: Record<string, unknown> = {};
        for (const [k, v] of fields) raw[k] = k === 'conv' ? v : Number(v);
        const p = parsePreloadRequest(raw);
        if (p.state === 'invalid') throw bad(part);
        return p.value;
      })
    : value.split(',').map((part) => {
        const m = /^([^:]+):(\d+)$/.exec(part.trim());
        const p = m ? parsePreloadRequest({ conv: m[1], count: Number(m[2]) }) : undefined;
        if (!p || p.state === 'invalid') throw bad(part);
        return p.value;
      });
  return { preload: specs };
}
