/**
 * The scenario schema: one zod schema shared by scenario files and the CLI, validated once where
 * a scenario enters. `ScenarioInput` is what users write; `Scenario` is the normalised result
 * (durations in ms, defaults filled in).
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { MESSAGE_KINDS } from '../protocol/frames.ts';

/** A duration: milliseconds as a number, or a string such as `"30s"`, `"500ms"`, `"1m30s"`. */
export const durationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const r = parseDuration(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  return r.ms;
});

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected lower-case letters, digits, "-" or "_" (1–63 chars), e.g. "eu-customers"');

/** Toxic types Toxiproxy 2.12 knows. */
export const TOXIC_TYPES = ['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data', 'noop'] as const;

/** A toxic as Toxiproxy takes it. Attribute ranges are checked by the proxy (real or embedded). */
export const toxicSchema = z
  .object({
    type: z.enum(TOXIC_TYPES),
    name: z.string().min(1).optional(),
    stream: z.enum(['upstream', 'downstream']).default('downstream'),
    toxicity: z.number().min(0).max(1).default(1),
    attributes: z.record(z.string(), z.number()).default({}),
  })
  .strict();

const deviceKinds = z.array(z.enum(['desktop', 'mobile', 'web'])).min(1).max(8);

const intRange = z
  .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'expected min <= max' });
const msRange = z
  .object({ min: durationSchema, max: durationSchema })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'expected min <= max' });

/** Customer arrivals: when each customer opens a conversation (an open model). */
export const arrivalSchema = z.discriminatedUnion('model', [
  /** Evenly spread over `over` (default: the first 60 % of the duration). */
  z.object({ model: z.literal('constant'), over: durationSchema.optional() }).strict(),
  /** Exponential inter-arrival times at `ratePerSec` until every customer has arrived. */
  z.object({ model: z.literal('poisson'), ratePerSec: z.number().positive() }).strict(),
  /** Piecewise-linear rate, k6 `ramping-arrival-rate` style. */
  z
    .object({
      model: z.literal('ramping'),
      startRatePerSec: z.number().min(0).default(0),
      stages: z.array(z.object({ duration: durationSchema, targetPerSec: z.number().min(0) }).strict()).min(1),
    })
    .strict(),
]);

const faultBase = { at: durationSchema, network: name, duration: durationSchema.optional() };

/** One entry of the fault timeline. */
export const faultSchema = z.discriminatedUnion('action', [
  /** Add a toxic at `at`; remove it after `duration` (kept to the end when absent). */
  z.object({ action: z.literal('toxic'), ...faultBase, toxic: toxicSchema }).strict(),
  /** Disable the network's proxy (every connection dropped, new ones refused) for `duration`. */
  z.object({ action: z.literal('outage'), ...faultBase, duration: durationSchema }).strict(),
]);

export const scenarioSchema = z
  .object({
    name,
    description: z.string().optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    /** Send window: the last planned send is before this. */
    duration: durationSchema,
    /** How long to wait after the send window for stragglers before judging loss. */
    grace: durationSchema.default(10_000),
    networks: z.record(name, z.object({ toxics: z.array(toxicSchema).default([]) }).strict()).refine(
      (n) => Object.keys(n).length > 0,
      { message: 'expected at least one network, e.g. { "eu-customers": { toxics: [] } }' },
    ),
    population: z
      .object({
        agents: z
          .object({
            count: z.number().int().min(1).max(100_000),
            devices: deviceKinds.default(['desktop', 'mobile']),
            network: name,
            maxConcurrent: z.number().int().min(1).default(20),
          })
          .strict(),
        customers: z
          .object({
            count: z.number().int().min(1).max(1_000_000),
            devices: deviceKinds.default(['mobile']),
            network: name,
          })
          .strict(),
      })
      .strict(),
    traffic: z
      .object({
        arrival: arrivalSchema.default({ model: 'constant' }),
        messagesPerCustomer: intRange.default({ min: 3, max: 8 }),
        thinkTime: msRange.default({ min: 1000, max: 4000 }),
        agentReplyProbability: z.number().min(0).max(1).default(0.8),
        /** Weights per message kind (they need not sum to 1). */
        mix: z
          .partialRecord(z.enum(MESSAGE_KINDS as [string, ...string[]]), z.number().min(0))
          .default({ text: 0.75, emoji: 0.2, 'long-text': 0.05 })
          .refine((m) => Object.values(m).some((w) => (w ?? 0) > 0), { message: 'expected at least one kind with weight > 0' }),
        /** Delay before the receiving side marks a conversation read. */
        readAfter: durationSchema.default(2000),
      })
      .strict()
      .prefault({}),
    faults: z.array(faultSchema).default([]),
    sla: z.array(z.string()).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    const nets = new Set(Object.keys(s.networks));
    const need = (path: (string | number)[], n: string) => {
      if (!nets.has(n)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown network ${JSON.stringify(n)}; declared networks: ${[...nets].join(', ')}`,
        });
      }
    };
    need(['population', 'agents', 'network'], s.population.agents.network);
    need(['population', 'customers', 'network'], s.population.customers.network);
    s.faults.forEach((f, i) => {
      need(['faults', i, 'network'], f.network);
      if (f.at > s.duration) {
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'at'], message: `expected a time within the duration (${s.duration} ms), got ${f.at} ms` });
      }
    });
  });

/** A scenario as written in a scenario file. */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario: durations in ms, defaults applied. */
export type Scenario = z.output<typeof scenarioSchema>;
export type ToxicSpec = z.output<typeof toxicSchema>;
export type FaultSpec = z.output<typeof faultSchema>;
