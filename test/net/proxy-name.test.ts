import { describe, expect, it } from 'vitest';
import { currentOwner, parseProxyName, runProxyName, runProxyPrefix, safeHost } from '../../src/net/proxy-name.ts';
import { judgeProxyName, processAlive, type JudgeContext } from '../../src/net/stale-proxies.ts';

const here: JudgeContext = { host: 'ci-7', isAlive: (pid) => pid === 100 };

describe('proxy names', () => {
  it('record the host and pid of the run that owns the proxy, and parse back', () => {
    const name = runProxyName('small-20250101T000000Z-ab12', 'eu-customers', { host: 'ci-7.example.com', pid: 4121 });
    expect(name).toBe('chatstorm~ci-7.example.com~4121~small-20250101T000000Z-ab12~eu-customers');
    expect(parseProxyName(name)).toEqual({ host: 'ci-7.example.com', pid: 4121, run: 'small-20250101T000000Z-ab12~eu-customers' });
    // Only URL-unreserved characters: the name is a path segment of the Toxiproxy API.
    expect(encodeURIComponent(name)).toBe(name);
  });

  it('default to this process as the owner, and keep odd host names and run ids parseable', () => {
    expect(parseProxyName(runProxyName('r1', 'lan'))).toMatchObject(currentOwner());
    expect(safeHost('my_host/1')).toBe('my-host-1');
    const odd = `${runProxyPrefix('a~b/c', { host: 'h~x', pid: 9 })}-preflight`;
    expect(odd).toBe('chatstorm~h-x~9~a_b_c-preflight');
    expect(parseProxyName(odd)).toEqual({ host: 'h-x', pid: 9, run: 'a_b_c-preflight' });
  });

  it.each(['redis', 'chatstorm', 'chatstorm~', 'chatstorm~h~0~r', 'chatstorm~h~x1~r', 'chatstorm~h~12', 'chatstorm~h~12~', 'chatstorm-r1-lan'])(
    'does not take %j for a proxy with an owner',
    (name) => expect(parseProxyName(name)).toBeNull(),
  );

  it('judges a proxy by its name: dead or live run here, another host, no owner, not chatstorm', () => {
    expect(judgeProxyName('chatstorm~ci-7~200~r~lan', here).kind).toBe('dead-run');
    expect(judgeProxyName('chatstorm~ci-7~100~r~lan', here).kind).toBe('live-run');
    // A pid on another machine says nothing here, dead or not.
    expect(judgeProxyName('chatstorm~ci-8~200~r~lan', here).kind).toBe('other-host');
    expect(judgeProxyName('chatstorm-r1-lan', here).kind).toBe('unowned');
    expect(judgeProxyName('redis-master', here).kind).toBe('foreign');
  });

  it('sees this process as alive and a pid above the kernel maximum as gone', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 1)).toBe(false);
  });
});
