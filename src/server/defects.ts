/**
 * Deliberate defects: each enabled one fires at a share `rate` of its opportunities, decided by
 * a seeded PRNG. Where each fires is in `chat-hub.ts` and `attachment-transfer.ts`; what each
 * does is described in docs/protocol.md ("Defect modes").
 */
import type { DefectName } from './options.ts';
import { SeededRandom } from './seeded-random.ts';

/** The enabled defects of one server and the seeded randomness that decides when they fire. */
export class Defects {
  private readonly enabled: ReadonlySet<DefectName>;
  private readonly rng: SeededRandom;
  /** How often each defect fired (for logs and tests). */
  readonly fired = new Map<DefectName, number>();

  constructor(names: readonly DefectName[], private readonly rate: number, seed: number) {
    this.enabled = new Set(names);
    this.rng = new SeededRandom(seed);
  }

  /** Whether `name` is enabled at all (cheap; guards the hot path). */
  has(name: DefectName): boolean {
    return this.enabled.has(name);
  }

  /** One opportunity for `name`: true when it fires now. */
  fires(name: DefectName): boolean {
    if (!this.enabled.has(name) || this.rng.next() >= this.rate) return false;
    this.fired.set(name, (this.fired.get(name) ?? 0) + 1);
    return true;
  }

  /** A seeded integer in [0, n) for choices a defect makes (which byte, which stranger). */
  pick(n: number): number {
    return this.rng.int(n);
  }
}
