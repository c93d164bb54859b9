/**
 * Failed connection attempts are history events naming the step they reached (reference driver:
 * tcp, upgrade, welcome, sync) and why; the judge counts them by step.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceDriver } from '../../src/drivers/reference.ts';
import { Recorder } from '../../src/history/recorder.ts';
import type { ConnectFailedEvent, HistoryEvent } from '../../src/history/events.ts';
import { VirtualDevice } from '../../src/run/device.ts';
import { judgeAll } from '../../src/check/judge.ts';

/** Poll until `cond` holds; bounded (10 s in 10 ms steps). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('connection attempts in the history', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const devices: VirtualDevice[] = [];
  afterEach(async () => {
    for (const d of devices.splice(0)) d.stop();
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  const device = (url: string, events: HistoryEvent[]) => {
    const recorder = new Recorder();
    recorder.listen((e) => events.push(e));
    const d = new VirtualDevice({
      identity: { account: 'A', role: 'agent', device: 'a1', token: 't' },
      url,
      driver: referenceDriver,
      recorder,
      random: () => 0,
      connectTimeoutMs: 300,
      backoffMaxMs: 20,
    });
    devices.push(d);
    return d;
  };

  /** A TCP server that accepts and then says nothing (an upgrade that never completes). */
  async function silentServer(): Promise<string> {
    const s = createServer((sock) => sockets.push(sock));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `ws://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('records an attempt stalled after the TCP connect as failed at the upgrade, by timeout', async () => {
    const events: HistoryEvent[] = [];
    void device(await silentServer(), events).connect();
    await until(() => events.some((e) => e.type === 'connect-failed'), 'a failed attempt');
    const failed = events.find((e): e is ConnectFailedEvent => e.type === 'connect-failed')!;
    expect(failed).toMatchObject({ device: 'a1', attempt: 1, step: 'upgrade' });
    expect(failed.reason).toMatch(/timed out|timeout/i);
  });

  it('records a refused TCP connect as failed at tcp, and counts failures by step', async () => {
    const events: HistoryEvent[] = [];
    // A port that was just free: nothing listens there now.
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    void device(`ws://127.0.0.1:${port}`, events).connect();
    await until(() => events.filter((e) => e.type === 'connect-failed').length >= 2, 'two failed attempts');
    const failed = events.filter((e): e is ConnectFailedEvent => e.type === 'connect-failed');
    expect(failed.slice(0, 2).map((e) => [e.attempt, e.step])).toEqual([
      [1, 'tcp'],
      [2, 'tcp'],
    ]);
    expect(failed[0]!.reason).toContain('ECONNREFUSED');
    const v = judgeAll(events);
    expect(v.connections?.failedByStep['tcp']?.failed).toBe(failed.length);
    expect(v.connections?.attempts).toBeGreaterThanOrEqual(failed.length);
  });
});
