import type { Link } from './link.ts';
import type { Stream, ToxicSpec } from './toxic-spec.ts';

/**
 * The toxics of one proxy, per direction in the order they were added, and the live links they
 * apply to. Changing the collection changes every live link of that direction, then resolves.
 */
export class ToxicCollection {
  private readonly chains: Record<Stream, ToxicSpec[]> = { upstream: [], downstream: [] };

  constructor(private readonly liveLinks: (stream: Stream) => Link[]) {}

  /** All toxics: upstream ones first, then downstream, each in order added (as Toxiproxy lists them). */
  list(): ToxicSpec[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  /** Snapshot of one direction's chain, for a new connection. */
  chain(stream: Stream): ToxicSpec[] {
    return [...this.chains[stream]];
  }

  find(name: string): ToxicSpec | undefined {
    return this.list().find((t) => t.name === name);
  }

  async add(spec: ToxicSpec): Promise<void> {
    this.chains[spec.stream].push(spec);
    await Promise.all(this.liveLinks(spec.stream).map((l) => l.addToxic(spec)));
  }

  async update(spec: ToxicSpec): Promise<void> {
    const chain = this.chains[spec.stream];
    const i = chain.findIndex((t) => t.name === spec.name);
    if (i < 0) return;
    chain[i] = spec;
    await Promise.all(this.liveLinks(spec.stream).map((l) => l.updateToxic(spec)));
  }

  async remove(name: string): Promise<void> {
    const spec = this.find(name);
    if (!spec) return;
    const chain = this.chains[spec.stream];
    chain.splice(chain.indexOf(spec), 1);
    await Promise.all(this.liveLinks(spec.stream).map((l) => l.removeToxic(name)));
  }

  async removeAll(): Promise<void> {
    for (const spec of this.list()) await this.remove(spec.name);
  }
}
