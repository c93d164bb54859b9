/**
 * The bare `ws` client the macro benchmarks compare the harness with: devices that do the
 * reference protocol's handshake (welcome, sync of every conversation) and write the plan's send
 * frames at their planned times, nothing else. What each side does with what arrives is its own.
 *
 *   connectBareDevices: devices --ws--> proxy --> server   (welcome -> sync -> synced per conv)
 *   playBare:           plan.sends at origin + atMs  --send frame-->  the sender's socket
 */
import WebSocket from 'ws';
import type { Plan } from '../../src/plan/plan.ts';
import { encodeMarker } from '../../src/drivers/marker.ts';
import { messageBody } from '../../src/drivers/body.ts';
import { counterOf } from '../../src/domain/index.ts';

type Device = Plan['accounts'][number]['devices'][number];
/** A parsed frame after the handshake (`msg`, `ack`, ...) and when it was read (performance.now()). */
export type OnFrame = (f: { t: string; cid?: string; replay?: boolean }, nowMs: number) => void;

/**
 * Connect every device through `url` (the proxy), `batch` at a time, each resolved once synced;
 * every later frame goes to `onFrame`. Behind a latency toxic every welcome and sync reply takes
 * its delay, so one at a time takes minutes: the runner connects 64 at a time too.
 */
export async function connectBareDevices(url: string, devices: readonly Device[], onFrame: OnFrame, batch = 64): Promise<Map<string, WebSocket>> {
  const sockets = new Map<string, WebSocket>();
  const connect = (d: Device) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${url}/ws?device=${encodeURIComponent(d.id)}&token=${d.token}`, { perMessageDeflate: false });
      let waiting = -1;
      ws.on('message', (data) => {
        const now = performance.now();
        const f = JSON.parse(String(data)) as { t: string; cid?: string; replay?: boolean; convs?: { conv: string; lastSeq: number }[] };
        if (f.t === 'welcome') {
          const cursors = Object.fromEntries((f.convs ?? []).map((c) => [c.conv, c.lastSeq]));
          waiting = Object.keys(cursors).length;
          ws.send(JSON.stringify({ t: 'sync', cursors }));
          if (waiting === 0) resolve();
        } else if (f.t === 'synced' && waiting > 0) {
          if (--waiting === 0) resolve();
        } else onFrame(f, now);
      });
      ws.once('error', reject);
      sockets.set(d.id, ws);
    });
  for (let i = 0; i < devices.length; i += batch) await Promise.all(devices.slice(i, i + batch).map(connect));
  return sockets;
}

/**
 * Write every planned send at `origin + atMs` (performance.now() time) on its device's socket;
 * `onSend(lateMs)` after each, with how late the frame left. Resolves after the last send.
 */
export function playBare(plan: Plan, sockets: ReadonlyMap<string, WebSocket>, origin: number, onSend: (lateMs: number) => void = () => {}): Promise<void> {
  let i = 0;
  return new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now() - origin;
      while (i < plan.sends.length && plan.sends[i]!.atMs <= now) {
        const s = plan.sends[i++]!;
        const body = messageBody(encodeMarker({ runId: 'bare', key: s.key, intendedMs: origin + s.atMs }), s.kind, s.bytes, counterOf(s.key));
        sockets.get(s.device)!.send(JSON.stringify({ t: 'send', cid: s.key, conv: s.conv, kind: s.kind, body }));
        onSend(performance.now() - origin - s.atMs);
      }
      if (i < plan.sends.length) setTimeout(pump, Math.max(0, plan.sends[i]!.atMs - now));
      else resolve();
    };
    pump();
  });
}
