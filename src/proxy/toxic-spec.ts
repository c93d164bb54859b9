import type { Attributes, Toxic } from './toxics/toxic.ts';

/** Which way a toxic acts: `upstream` is client → server, `downstream` server → client. */
export type Stream = 'upstream' | 'downstream';

/** A toxic as configured on a proxy: immutable; an update makes a new spec. */
export interface ToxicSpec {
  readonly name: string;
  readonly type: string;
  readonly stream: Stream;
  /**
   * `stream` as the client wrote it (`"UPSTREAM"`): Toxiproxy keeps the given case in the toxic's
   * JSON and its default name, and only lower-cases it to pick the direction.
   */
  readonly streamAsGiven: string;
  /** Probability that a connection is affected (Toxiproxy accepts any number: ≥ 1 always, ≤ 0 never). */
  readonly toxicity: number;
  readonly attributes: Attributes;
  readonly toxic: Toxic;
}

/** JSON shape of a toxic, field order as Toxiproxy prints it. */
export interface ToxicJson {
  attributes: Record<string, number>;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
}

/** Renders a spec the way Toxiproxy does: every attribute present, missing ones as 0. */
export function toxicJson(spec: ToxicSpec): ToxicJson {
  const attributes: Record<string, number> = {};
  for (const a of spec.toxic.attributes) attributes[a.name] = spec.attributes[a.name] ?? 0;
  return { attributes, name: spec.name, type: spec.type, stream: spec.streamAsGiven, toxicity: spec.toxicity };
}
