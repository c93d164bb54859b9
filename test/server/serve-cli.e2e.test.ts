import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientPool, postJson } from './raw-client.ts';

const serverIndex = fileURLToPath(new URL('../../src/server/index.ts', import.meta.url));

describe('runServeCli', () => {
  let child: ChildProcess | undefined;
  const pool = new ClientPool();
  afterEach(() => {
    pool.closeAll();
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints the listening line, preloads history, and exits 0 on SIGTERM after closing connections with 1001', async () => {
    const script = `import { runServeCli } from ${JSON.stringify(serverIndex)};
      await runServeCli({ port: 0, store: 'sqlite', preload: 'conv=archive,count=1500,spanDays=30;conv=old:room,count=500' });`;
    child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /chatstorm reference server listening on (ws:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect(stderr).toMatch(/preloaded 1500 messages into archive/);
    expect(stderr).toMatch(/preloaded 500 messages into old:room/);
    // Provision real members into the preloaded conversation; the history stays.
    await postJson(url, '/admin/provision', {
      accounts: [{ id: 'A', role: 'agent', devices: [{ id: 'a1', token: 't' }] }],
      conversations: [{ id: 'archive', kind: 'group', members: ['A', 'preload-bot'] }],
    });
    const a1 = await pool.connect(url, 'a1', 't');
    const welcome = await a1.waitFor((f) => f.t === 'welcome');
    expect(welcome.convs).toMatchObject([{ conv: 'archive', lastSeq: 1500, unread: 1500 }]);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect((await a1.closed).code).toBe(1001);
    expect(await exited).toBe(0);
  });
});
