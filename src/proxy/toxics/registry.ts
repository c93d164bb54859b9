import { bandwidth } from './bandwidth.ts';
import { latency } from './latency.ts';
import { limitData } from './limit-data.ts';
import { loss } from './loss.ts';
import { noop } from './noop.ts';
import { resetPeer } from './reset-peer.ts';
import { slicer } from './slicer.ts';
import { slowClose } from './slow-close.ts';
import { timeout } from './timeout.ts';
import type { Toxic } from './toxic.ts';

const registry = new Map<string, Toxic>();

/** Registers a toxic type under its `type` name (replacing one of the same name). */
export function registerToxic(toxic: Toxic): void {
  registry.set(toxic.type, toxic);
}

/** The toxic type registered under `type`, or undefined. */
export function findToxic(type: string): Toxic | undefined {
  return registry.get(type);
}

/** Names of all registered toxic types. */
export function toxicTypes(): string[] {
  return [...registry.keys()];
}

// `loss` is a chatstorm extension (no Toxiproxy has it); the others are Toxiproxy 2.12's eight.
for (const toxic of [latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData, noop, loss]) {
  registerToxic(toxic);
}
