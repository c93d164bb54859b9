/**
 * The last few connection events of every device (`connect`, `connect-failed`, `connected`, `disconnect`), kept so
 * a witness can show that a device was offline when it missed a message. Bounded per device.
 */
import type { ConnectEvent, ConnectFailedEvent, ConnectedEvent, DisconnectEvent, HistoryEvent } from '../history/events.ts';

type ConnEvent = ConnectEvent | ConnectFailedEvent | ConnectedEvent | DisconnectEvent;

/** Connection events kept per device. */
export const CONNECTION_TRAIL_LENGTH = 8;

export class ConnectionTrail {
  private readonly byDevice = new Map<string, ConnEvent[]>();

  step(e: HistoryEvent): boolean {
    if (e.type !== 'connect' && e.type !== 'connect-failed' && e.type !== 'connected' && e.type !== 'disconnect') return false;
    let ring = this.byDevice.get(e.device);
    if (ring === undefined) {
      ring = [];
      this.byDevice.set(e.device, ring);
    }
    ring.push(e);
    if (ring.length > CONNECTION_TRAIL_LENGTH) ring.shift();
    return true;
  }

  /** The device's recent connection events (oldest first). */
  of(device: string): readonly ConnEvent[] {
    return this.byDevice.get(device) ?? [];
  }

  retained(): number {
    let n = this.byDevice.size;
    for (const ring of this.byDevice.values()) n += ring.length;
    return n;
  }
}
