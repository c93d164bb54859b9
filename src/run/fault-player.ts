/**
 * Plays a plan's fault timeline. Network faults go to Toxiproxy (always through
 * `toxiproxy-node-client`), one operation at a time in timeline order; message-aware faults act
 * on the harness's own connections at the exact moment a planned send is written or uploading.
 *
 *   timeline --start/end/ramp step--> op chain --toxiproxy API--> proxy      (toxic, update-toxic,
 *                                                                             remove-toxic, ramp, outage)
 *   timeline --start--> kill devices now                                      (kill: reconnect storm)
 *   timeline --arm--> keys; device hooks: afterWrite / uploadProgress --> kill (kill-after-send,
 *                                                                             kill-during-upload)
 *
 * Every fault emits `fault` start and end events. A kill's start is the kill itself, its end is
 * when every killed device is live again (or the end of the run), so checkers can split delay by
 * fault phase. Killed devices also record `disconnect` with `intentional: true`.
 */
import type { Recorder } from '../history/recorder.ts';
import type { PlannedFault } from '../plan/plan.ts';
import type { ToxicSpec } from '../scenario/schema.ts';
import { addToxic, readToxic, removeToxic, setEnabled, updateToxic, type Network } from '../net/networks.ts';
import { TOXIPROXY_TIMEOUT_MS } from '../net/toxiproxy-call.ts';
import type { DeviceHooks, VirtualDevice } from './device.ts';
import type { Timeline } from './timeline.ts';

interface Active {
  /** Fault id as it appears on events (`f3`, or `f3.2` for the second kill of a multi-kill fault). */
  id: string;
  f: PlannedFault;
  /** Undo a network fault. */
  restore?: () => Promise<void>;
  /** Killed devices not yet live again. */
  waiting?: Set<string>;
  devices?: string[];
  key?: string;
}

export interface FaultPlayerOptions {
  nets: ReadonlyMap<string, Network>;
  devices: ReadonlyMap<string, VirtualDevice>;
  recorder: Recorder;
  /** A fault could not be applied or lifted: the run cannot go on as planned. */
  onError: (message: string) => void;
  /** Bound of each Toxiproxy call, ms (default TOXIPROXY_TIMEOUT_MS): a hung Toxiproxy fails the fault, never hangs the run. */
  toxiproxyTimeoutMs?: number;
}

export class FaultPlayer {
  private chain: Promise<void> = Promise.resolve();
  private readonly active = new Map<string, Active>();
  /** Armed message-aware kills: send key -> fault. */
  private readonly armed = new Map<string, PlannedFault>();
  /** Active kills by device, to end them when the device is live again. */
  private readonly killsByDevice = new Map<string, Active[]>();

  private readonly timeoutMs: number;

  constructor(private readonly o: FaultPlayerOptions) {
    this.timeoutMs = o.toxiproxyTimeoutMs ?? TOXIPROXY_TIMEOUT_MS;
  }

  /** Shared device hooks (pass to every VirtualDevice). */
  readonly hooks: DeviceHooks = {
    afterWrite: (dev, p) => {
      const f = this.armed.get(p.key);
      if (f?.action === 'kill-after-send') this.killOnMessage(f, dev, p.key);
    },
    uploadProgress: (dev, key) => {
      const f = this.armed.get(key);
      if (f?.action === 'kill-during-upload') this.killOnMessage(f, dev, key);
    },
    onLive: (dev) => {
      const list = this.killsByDevice.get(dev.id);
      if (!list) return;
      this.killsByDevice.delete(dev.id);
      for (const a of list) {
        a.waiting?.delete(dev.id);
        if (a.waiting?.size === 0) this.end(a);
      }
    },
  };

  /** Put every fault of the plan on the timeline. Ends after the send window are left to `liftAll`. */
  schedule(timeline: Timeline, faults: readonly PlannedFault[], sendWindowMs: number): void {
    for (const f of faults) {
      timeline.at(f.startMs, () => this.start(f));
      if (f.ramp) {
        for (const step of f.ramp.steps.slice(1)) {
          if (step.atMs < sendWindowMs) timeline.at(step.atMs, () => this.rampStep(f, step.value));
        }
      }
      if (f.endMs !== null && f.endMs < sendWindowMs) timeline.at(f.endMs, () => this.op(f, 'lifted', () => this.lift(f.id)));
    }
  }

  /** Wait for queued proxy operations, then lift every network fault still active. */
  async liftAll(): Promise<void> {
    await this.chain;
    for (const a of [...this.active.values()]) {
      if (a.restore) await this.op(a.f, 'lifted', () => this.lift(a.id));
    }
    await this.chain;
  }

  /** End of run: close the fault events of kills whose devices never came back. */
  closeAll(): void {
    this.armed.clear();
    for (const a of [...this.active.values()]) if (!a.restore) this.end(a);
  }

  /** Network faults currently active (for tests and progress). */
  get activeCount(): number {
    return this.active.size;
  }

  private start(f: PlannedFault): void {
    switch (f.action) {
      case 'kill': {
        const killed = (f.devices ?? []).filter((d) => this.o.devices.get(d)?.kill(`killed by fault ${f.id}`));
        this.begin({ id: f.id, f, devices: killed, waiting: new Set(killed) });
        return;
      }
      case 'kill-after-send':
      case 'kill-during-upload':
        for (const k of f.keys ?? []) this.armed.set(k, f);
        return;
      default:
        void this.op(f, 'applied', () => this.applyNetworkFault(f));
    }
  }

  private killOnMessage(f: PlannedFault, dev: VirtualDevice, key: string): void {
    this.armed.delete(key);
    const keys = f.keys ?? [];
    const id = keys.length > 1 ? `${f.id}.${keys.indexOf(key) + 1}` : f.id;
    if (!dev.kill(`killed by fault ${id}`)) return;
    this.begin({ id, f, devices: [dev.id], waiting: new Set([dev.id]), key });
  }

  private begin(a: Active): void {
    this.emit(a, 'start');
    if (a.restore === undefined && (a.waiting?.size ?? 0) === 0) {
      this.emit(a, 'end');
      return;
    }
    this.active.set(a.id, a);
    for (const d of a.waiting ?? []) {
      const list = this.killsByDevice.get(d) ?? [];
      list.push(a);
      this.killsByDevice.set(d, list);
    }
  }

  private end(a: Active): void {
    if (!this.active.delete(a.id)) return;
    this.emit(a, 'end');
  }

  private emit(a: Active, phase: 'start' | 'end'): void {
    this.o.recorder.emit({
      type: 'fault',
      phase,
      fault: a.id,
      network: a.f.network,
      action: a.f.action,
      description: a.f.description,
      ...(a.devices ? { devices: a.devices } : {}),
      ...(a.key ? { key: a.key } : {}),
    });
  }

  /** Queue a proxy operation behind the previous ones; a failure ends the run (reported once). */
  private op(f: PlannedFault, verb: string, run: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(run).catch((err: unknown) => {
      this.o.onError(`fault ${f.id} (${f.description}) could not be ${verb}: ${err instanceof Error ? err.message : String(err)}`);
    });
    return this.chain;
  }

  private net(f: PlannedFault): Network {
    const n = this.o.nets.get(f.network);
    if (!n) throw new Error(`no network ${f.network}`);
    return n;
  }

  private async applyNetworkFault(f: PlannedFault): Promise<void> {
    const net = this.net(f);
    const ms = this.timeoutMs;
    const field = `faults[${f.id.slice(1)}]`;
    let restore: () => Promise<void>;
    switch (f.action) {
      case 'outage':
        await setEnabled(net, false, ms);
        restore = () => setEnabled(net, true, ms);
        break;
      case 'toxic': {
        const t = f.toxic as ToxicSpec & { name: string };
        await addToxic(net.proxy, t, t.name, field, ms);
        restore = () => removeToxic(net.proxy, t.name, ms);
        break;
      }
      case 'update-toxic': {
        const saved = await readToxic(net.proxy, f.target as string, ms);
        await updateToxic(net.proxy, saved, { ...saved.attributes, ...f.attributes }, f.toxicity ?? saved.toxicity, ms);
        restore = () => updateToxic(net.proxy, saved, saved.attributes, saved.toxicity, ms);
        break;
      }
      case 'remove-toxic': {
        const saved = await readToxic(net.proxy, f.target as string, ms);
        await removeToxic(net.proxy, saved.name, ms);
        restore = () => addToxic(net.proxy, saved, saved.name, field, ms);
        break;
      }
      case 'ramp': {
        const first = f.ramp?.steps[0]?.value ?? 0;
        const attribute = f.ramp?.attribute as string;
        if (f.toxic) {
          const t = f.toxic;
          await addToxic(net.proxy, { ...t, attributes: { ...t.attributes, [attribute]: first } }, t.name, field, ms);
          restore = () => removeToxic(net.proxy, t.name, ms);
        } else {
          const saved = await readToxic(net.proxy, f.target as string, ms);
          await updateToxic(net.proxy, saved, { ...saved.attributes, [attribute]: first }, saved.toxicity, ms);
          restore = () => updateToxic(net.proxy, saved, saved.attributes, saved.toxicity, ms);
        }
        break;
      }
      default:
        throw new Error(`not a network fault: ${f.action}`);
    }
    this.begin({ id: f.id, f, restore });
  }

  private rampStep(f: PlannedFault, value: number): void {
    void this.op(f, 'updated', async () => {
      if (!this.active.has(f.id)) return;
      const net = this.net(f);
      const ms = this.timeoutMs;
      const name = f.toxic?.name ?? (f.target as string);
      const cur = await readToxic(net.proxy, name, ms);
      const attribute = f.ramp?.attribute as string;
      await updateToxic(net.proxy, cur, { ...cur.attributes, [attribute]: value }, cur.toxicity, ms);
      this.o.recorder.emit({ type: 'fault-update', fault: f.id, network: f.network, description: `${name} ${attribute}=${value}` });
    });
  }

  private async lift(id: string): Promise<void> {
    const a = this.active.get(id);
    if (!a?.restore) return;
    await a.restore();
    this.end(a);
  }
}
