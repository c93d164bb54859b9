/**
 * Payloads: a kind drawn from the scenario's weighted mix, and its sizes from the kind's
 * distribution. Text kinds have a body of `bytes`; images and files have a short caption and
 * attachments; a multi-attachment message has several images and documents at once.
 */
import type { MessageKind } from '../domain/index.ts';
import type { PayloadKind, Scenario } from '../scenario/schema.ts';
import type { Random } from './random.ts';

type Range = { min: number; max: number; distribution?: 'uniform' | 'log-uniform' };

/** Default size ranges per kind, bytes. */
export const DEFAULT_SIZES: Record<Exclude<PayloadKind, 'multi-attachment'>, Range> = {
  text: { min: 8, max: 280 },
  emoji: { min: 4, max: 48 },
  'long-text': { min: 2_000, max: 64_000 },
  image: { min: 30_000, max: 2_000_000, distribution: 'log-uniform' },
  file: { min: 100_000, max: 10_000_000, distribution: 'log-uniform' },
};

/** Caption bytes of an attachment message. */
const CAPTION: Range = { min: 0, max: 64 };

export interface Payload {
  kind: MessageKind;
  /** Body bytes (marker included). */
  bytes: number;
  /** Attachment sizes in bytes, when the message has attachments. */
  attachments?: number[];
}

/** Draws payloads for one scenario; all randomness comes from the caller's generator. */
export class PayloadMix {
  private readonly mix: [PayloadKind, number][];
  private readonly sizes: Record<Exclude<PayloadKind, 'multi-attachment'>, Range>;

  constructor(private readonly traffic: Scenario['traffic']) {
    this.mix = Object.entries(traffic.mix).filter(([, w]) => (w ?? 0) > 0) as [PayloadKind, number][];
    this.sizes = { ...DEFAULT_SIZES };
    for (const [k, r] of Object.entries(traffic.sizes)) {
      if (r) this.sizes[k as keyof typeof DEFAULT_SIZES] = { ...DEFAULT_SIZES[k as keyof typeof DEFAULT_SIZES], ...stripUndefined(r) };
    }
  }

  /** True when some kind of the mix carries attachments. */
  get hasAttachments(): boolean {
    return this.mix.some(([k]) => k === 'image' || k === 'file' || k === 'multi-attachment');
  }

  draw(rnd: Random): Payload {
    const kind = rnd.weighted(this.mix);
    switch (kind) {
      case 'image':
      case 'file':
        return { kind, bytes: size(rnd, CAPTION), attachments: [size(rnd, this.sizes[kind])] };
      case 'multi-attachment': {
        const m = this.traffic.multiAttachment;
        const images = rnd.int(m.images.min, m.images.max);
        const files = Math.max(images === 0 ? 1 : 0, rnd.int(m.files.min, m.files.max));
        const attachments: number[] = [];
        for (let i = 0; i < images; i++) attachments.push(size(rnd, this.sizes.image));
        for (let i = 0; i < files; i++) attachments.push(size(rnd, this.sizes.file));
        return { kind: images > 0 ? 'image' : 'file', bytes: size(rnd, CAPTION), attachments };
      }
      default:
        return { kind, bytes: size(rnd, this.sizes[kind]) };
    }
  }
}

function size(rnd: Random, r: Range): number {
  if (r.distribution === 'log-uniform' && r.min > 0 && r.max > r.min) {
    return Math.min(r.max, Math.max(r.min, Math.round(Math.exp(rnd.between(Math.log(r.min), Math.log(r.max))))));
  }
  return rnd.int(r.min, r.max);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
