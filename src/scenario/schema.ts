/**
 * The scenario schema: one zod schema shared by scenario files and the CLI, validated once where
 * a scenario enters. `ScenarioInput` is what users write; `Scenario` is the normalised result
 * (durations in ms, sizes in bytes, segments as arrays, defaults filled in). A `Scenario` is
 * itself a valid input (the CLI re-validates it after overriding the duration).
 *
 *   scenario
 *     ├─ networks        one Toxiproxy proxy each, with base toxics
 *     ├─ population      agent and customer segments (each on its network), devices, groups
 *     ├─ traffic         arrivals, conversation shape, payload mix and sizes, multi-device habits,
 *     │                  history: preloaded conversations, page loads, the sweep of the preload
 *     ├─ faults          timeline: toxics (add/update/remove/ramp), outages, connection kills
 *     └─ sla
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { parseSize } from './size.ts';
import { TOXIC_ATTRIBUTES, TOXIC_TYPES } from './toxic-attributes.ts';
import { MESSAGE_KINDS } from '../domain/index.ts';

export { TOXIC_TYPES };

/** A duration: milliseconds as a number, or a string such as `"30s"`, `"500ms"`, `"1m30s"`. */
export const durationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const r = parseDuration(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  return r.ms;
});

/** A size: bytes as a number, or a string such as `"30KB"`, `"2MB"`. */
export const sizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const r = parseSize(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  return r.bytes;
});

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected lower-case letters, digits, "-" or "_" (1–63 chars), e.g. "eu-customers"');

/** Toxiproxy's attributes are Go integers; negative and fractional values make no sense for any toxic. */
const attributeValue = z.number().int('expected a whole number (Toxiproxy attributes are integers)').min(0);

/** A toxic as Toxiproxy takes it. Attribute names are checked here, ranges by the proxy before the run. */
export const toxicSchema = z
  .object({
    type: z.enum(TOXIC_TYPES),
    /** Name on the proxy; give one to update, ramp or remove the toxic later in the timeline. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected 1–100 letters, digits, ".", "-" or "_"').optional(),
    stream: z.enum(['upstream', 'downstream']).default('downstream'),
    toxicity: z.number().min(0).max(1).default(1),
    attributes: z.record(z.string(), attributeValue).default({}),
  })
  .strict()
  .superRefine((t, ctx) => {
    const known: readonly string[] = TOXIC_ATTRIBUTES[t.type];
    for (const k of Object.keys(t.attributes)) {
      if (!known.includes(k)) {
        ctx.addIssue({
          code: 'custom',
          path: ['attributes', k],
          message: `toxic ${t.type} has no attribute ${JSON.stringify(k)}; expected ${known.length ? 'one of ' + known.join(', ') : 'no attributes'}`,
        });
      }
    }
  });

const deviceKinds = z.array(z.enum(['desktop', 'mobile', 'web'])).min(1).max(8);

const intRange = z
  .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'expected min <= max' });
const msRange = z
  .object({ min: durationSchema, max: durationSchema })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'expected min <= max' });

/** One value or a non-empty list of them; normalised to a list. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

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

/** Agents: one segment, or several (e.g. one team per region, each on its own network). */
export const agentSegmentSchema = z
  .object({
    /** Segment name (defaults to `agents`, `agents-2`, ...), shown nowhere but in errors and the plan. */
    name: name.optional(),
    count: z.number().int().min(1).max(100_000),
    devices: deviceKinds.default(['desktop', 'mobile']),
    network: name,
    /** Conversations one agent handles at once; more customers wait in a FIFO queue. */
    maxConcurrent: z.number().int().min(1).default(20),
  })
  .strict();

/** Customers: one segment, or several regions each on its own network. */
export const customerSegmentSchema = z
  .object({
    name: name.optional(),
    count: z.number().int().min(1).max(1_000_000),
    devices: deviceKinds.default(['mobile']),
    network: name,
  })
  .strict();

/** Group chats: several agents and customers in one conversation. */
export const groupsSchema = z
  .object({
    count: z.number().int().min(1).max(100_000),
    /** Agents per group (default 2). */
    agents: z.number().int().min(0).default(2),
    /** Customers per group (default 3). */
    customers: z.number().int().min(0).default(3),
    /** Messages per minute in each group, a Poisson process over the send window (default 6). */
    messagesPerMinute: z.number().min(0).default(6),
  })
  .strict()
  .refine((g) => g.agents + g.customers >= 2, { message: 'expected at least 2 members per group (agents + customers)' });

/** Payload kinds of the mix: the protocol's kinds plus several images and a document at once. */
export const PAYLOAD_KINDS = [...MESSAGE_KINDS, 'multi-attachment'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

/**
 * Sanity bounds per kind (a body up to 16 MiB, an attachment up to 1 GiB). The back end's own
 * limits are its driver's (`Driver.limits`), checked against the scenario before a run.
 */
export const SIZE_BOUNDS: Record<Exclude<PayloadKind, 'multi-attachment'>, [number, number]> = {
  text: [1, 16 * 1024 * 1024],
  emoji: [1, 16 * 1024 * 1024],
  'long-text': [1, 16 * 1024 * 1024],
  image: [1, 1024 * 1024 * 1024],
  file: [1, 1024 * 1024 * 1024],
};
/** Sanity bound on attachments per message; the driver's limit is checked before a run. */
const MAX_ATTACHMENTS_ANY = 100;

const sizeRange = z
  .object({
    min: sizeSchema,
    max: sizeSchema,
    /** `log-uniform` makes small sizes as likely per decade as large ones (default for image and file). */
    distribution: z.enum(['uniform', 'log-uniform']).optional(),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'expected min <= max' });

const sizesSchema = z
  .object(Object.fromEntries(Object.keys(SIZE_BOUNDS).map((k) => [k, sizeRange.optional()])) as Record<keyof typeof SIZE_BOUNDS, z.ZodOptional<typeof sizeRange>>)
  .strict()
  .superRefine((sizes, ctx) => {
    for (const [kind, r] of Object.entries(sizes)) {
      if (!r) continue;
      const [lo, hi] = SIZE_BOUNDS[kind as keyof typeof SIZE_BOUNDS];
      for (const end of ['min', 'max'] as const) {
        if (r[end] < lo || r[end] > hi) {
          ctx.addIssue({ code: 'custom', path: [kind, end], message: `expected ${lo}..${hi} bytes for ${kind}, got ${r[end]}` });
        }
      }
    }
  });

/** Most messages one history page may ask for (the reference protocol's `history.limit` bound). */
export const MAX_PAGE_SIZE = 200;
/** Shortest period of periodic history loads: below it a plan of many accounts explodes. */
export const MIN_HISTORY_EVERY_MS = 100;

/** Most messages one conversation may be preloaded with (the reference server's bound). */
export const MAX_PRELOAD_MESSAGES = 10_000_000;
/** Sanity bound on preloaded messages over all conversations of a scenario. */
export const MAX_PRELOAD_TOTAL = 50_000_000;

/**
 * Preloaded history: `conversations` conversations of the plan (picked by the seed) start the run
 * with `messages` messages each, created by the driver at set-up before any device connects
 * (months of use: the history is older than the run). Needs a driver with `preloadHistory`.
 */
export const preloadSchema = z
  .object({
    /** How many conversations get this history (picked by the seed, each entry its own), default 1. */
    conversations: z.number().int().min(1).max(10_000).default(1),
    /** Messages in each, 1..10,000,000. */
    messages: z.number().int().min(1).max(MAX_PRELOAD_MESSAGES),
    /** Body of each message, 1 B..64 KB (default 64 B). */
    bodyBytes: sizeSchema.refine((b) => b >= 1 && b <= 65_536, { message: 'expected 1..65536 bytes' }).default(64),
    /** The messages' timestamps are spread over this many days before the run (default 90). */
    spanDays: z.number().min(0).max(3650).default(90),
  })
  .strict();

/**
 * The sweep: every preloaded range is paged through once during the run, ascending, cut into
 * `readers` segments walked at once by devices of its members (agents first), so the `history`
 * check judges the whole range — complete, contiguous, no duplicates, the right message at each
 * seq — and times each page under the run's load and toxics.
 */
export const sweepSchema = z
  .object({
    /** When the sweep starts (default 0: as play starts). */
    at: durationSchema.default(0),
    /** Segments per preloaded conversation, each walked by one device, 1..256 (default 8). */
    readers: z.number().int().min(1).max(256).default(8),
    /** Messages per page, 1..200 (default 200). */
    pageSize: z.number().int().min(1).max(MAX_PAGE_SIZE).default(MAX_PAGE_SIZE),
  })
  .strict();

/** The sweep of a scenario that preloads and says nothing about it. */
export const DEFAULT_SWEEP: z.output<typeof sweepSchema> = { at: 0, readers: 8, pageSize: MAX_PAGE_SIZE };

/**
 * History: what exists before the run (`preload`) and how devices read it — load the newest page
 * when a user opens a conversation or comes back online, then scroll back page by page (each page
 * `before` the oldest seq seen), and the `sweep` through the preloaded range. The `history` check
 * judges every page (complete, contiguous, right content) and times it.
 */
export const historySchema = z
  .object({
    /** Whose devices load history: `all` (default), `agents` or `customers`. */
    who: z.enum(['all', 'agents', 'customers']).default('all'),
    /** After a device reconnects, it loads the history of each conversation it has messages in, one after another (default false). */
    onReconnect: z.boolean().default(false),
    /**
     * Each account opens the history of one of its conversations (one that has started) this
     * often, on one of its devices, at a seeded phase; absent: no periodic loads.
     */
    every: durationSchema.refine((ms) => ms >= MIN_HISTORY_EVERY_MS, { message: `expected at least ${MIN_HISTORY_EVERY_MS} ms` }).optional(),
    /** Messages per page, 1..200 (default 50). */
    pageSize: z.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
    /** Pages per load, newest first, walking back; a load stops early when the server has no more (default 1). */
    pages: z.number().int().min(1).max(1000).default(1),
    /** Conversations preloaded with long histories before the run: one entry or a list. */
    preload: oneOrMany(preloadSchema).optional(),
    /** How the preloaded range is paged through (default {@link DEFAULT_SWEEP}); `false`: only by the loads above. */
    sweep: z.union([z.literal(false), sweepSchema]).optional(),
  })
  .strict()
  .refine((h) => h.onReconnect || h.every !== undefined || h.preload !== undefined, {
    message: 'expected `every` (periodic loads), `onReconnect: true` or `preload`; leave `history` out to load no pages',
  })
  .refine((h) => h.sweep === undefined || h.preload !== undefined, {
    path: ['sweep'],
    message: '`sweep` pages through preloaded history: add `preload`, or remove `sweep`',
  })
  .refine((h) => (h.preload ?? []).reduce((n, p) => n + p.conversations * p.messages, 0) <= MAX_PRELOAD_TOTAL, {
    path: ['preload'],
    message: `expected at most ${MAX_PRELOAD_TOTAL} preloaded messages in all (conversations x messages, summed over the entries)`,
  });

const faultBase = { at: durationSchema, network: name, duration: durationSchema.optional() };
const toxicRef = z.string().min(1);

/** One entry of the fault timeline. */
export const faultSchema = z.discriminatedUnion('action', [
  /** Add a toxic at `at`; remove it after `duration` (kept to the end when absent). */
  z.object({ action: z.literal('toxic'), ...faultBase, toxic: toxicSchema }).strict(),
  /** Change a named toxic's attributes at `at`; restore them after `duration` (kept when absent). */
  z
    .object({
      action: z.literal('update-toxic'),
      ...faultBase,
      toxic: toxicRef,
      attributes: z.record(z.string(), attributeValue).default({}),
      toxicity: z.number().min(0).max(1).optional(),
    })
    .strict(),
  /** Remove a named toxic at `at`; put it back after `duration` (gone for good when absent). */
  z.object({ action: z.literal('remove-toxic'), ...faultBase, toxic: toxicRef }).strict(),
  /**
   * Move one attribute of a toxic from `from` to `to` in `steps` updates spread over `duration`
   * (bandwidth collapsing over a minute). A toxic spec is added at `at` with `from`; a name ramps an
   * existing toxic (then `from` is required). After the ramp the toxic stays `hold` long (to the end
   * when absent), then is removed (or restored, for an existing toxic).
   */
  z
    .object({
      action: z.literal('ramp'),
      at: durationSchema,
      network: name,
      duration: durationSchema,
      toxic: z.union([toxicRef, toxicSchema]),
      attribute: z.string().min(1),
      from: attributeValue.optional(),
      to: attributeValue,
      steps: z.number().int().min(1).max(1000).default(10),
      hold: durationSchema.optional(),
    })
    .strict(),
  /** Disable the network's proxy (every connection dropped, new ones refused) for `duration`. */
  z.object({ action: z.literal('outage'), ...faultBase, duration: durationSchema }).strict(),
  /** Kill a share of the network's live connections at once (a reconnect storm). */
  z
    .object({
      action: z.literal('kill'),
      at: durationSchema,
      network: name,
      /** Share of the network's devices, default 1 (all). */
      share: z.number().gt(0).max(1).default(1),
    })
    .strict(),
  /**
   * Kill a device's connection right after it writes a message and before the ack can arrive (the
   * classic duplicate trigger): the first `count` planned sends at or after `at` on the network,
   * from distinct devices (or from `device` only).
   */
  z
    .object({
      action: z.literal('kill-after-send'),
      at: durationSchema,
      network: name,
      count: z.number().int().min(1).max(10_000).default(1),
      device: z.string().min(1).optional(),
    })
    .strict(),
  /** Kill a device's connection while it uploads an attachment: the first `count` attachment sends at or after `at`. */
  z
    .object({
      action: z.literal('kill-during-upload'),
      at: durationSchema,
      network: name,
      count: z.number().int().min(1).max(10_000).default(1),
      device: z.string().min(1).optional(),
    })
    .strict(),
]);

const networkSchema = z.object({ toxics: z.array(toxicSchema).default([]) }).strict();

export const scenarioSchema = z
  .object({
    name,
    description: z.string().optional(),
    /**
     * The driver to run with when the command line names none: a built-in name (`reference`) or
     * a module path (`./my-driver.ts`), relative to the scenario file. Default `reference`.
     */
    driver: z.string().min(1, 'expected a driver name such as "reference" or a module path such as "./my-driver.ts"').optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    /** Send window: the last planned send is before this. */
    duration: durationSchema,
    /** How long to wait after the send window for stragglers before judging loss. */
    grace: durationSchema.default(10_000),
    networks: z.record(name, networkSchema).refine((n) => Object.keys(n).length > 0, {
      message: 'expected at least one network, e.g. { "eu-customers": { toxics: [] } }',
    }),
    population: z
      .object({
        agents: oneOrMany(agentSegmentSchema),
        customers: oneOrMany(customerSegmentSchema),
        groups: groupsSchema.optional(),
      })
      .strict(),
    traffic: z
      .object({
        arrival: arrivalSchema.default({ model: 'constant' }),
        /** Customer messages (or bursts) per conversation. */
        messagesPerCustomer: intRange.default({ min: 3, max: 8 }),
        /** Pause between a customer's messages, and before an agent's reply. */
        thinkTime: msRange.default({ min: 1000, max: 4000 }),
        /** Chance the agent answers a customer message (or burst). */
        agentReplyProbability: z.number().min(0).max(1).default(0.8),
        /** Messages in one agent reply (default exactly 1). */
        agentReplyMessages: intRange.default({ min: 1, max: 1 }),
        /** Customers typing several messages in quick succession. */
        burst: z
          .object({
            /** Chance one customer turn is a burst, default 0. */
            probability: z.number().min(0).max(1).default(0),
            size: intRange.default({ min: 2, max: 4 }),
            gap: msRange.default({ min: 100, max: 800 }),
          })
          .strict()
          .prefault({}),
        /** How long an agent keeps a conversation's slot after its last message (default: thinkTime.min). */
        wrapUp: durationSchema.optional(),
        /** Weights per payload kind (they need not sum to 1). */
        mix: z
          .partialRecord(z.enum(PAYLOAD_KINDS), z.number().min(0))
          .default({ text: 0.75, emoji: 0.2, 'long-text': 0.05 })
          .refine((m) => Object.values(m).some((w) => (w ?? 0) > 0), { message: 'expected at least one kind with weight > 0' }),
        /**
         * Size distribution per kind: body bytes for text kinds, attachment bytes for image/file.
         * Defaults: text 8–280 B, emoji 4–48 B, long-text 2–64 KB, image 30 KB–2 MB, file 100 KB–10 MB.
         */
        sizes: sizesSchema.default({}),
        /** Shape of a `multi-attachment` message: several images and documents at once (≤ 10 in all). */
        multiAttachment: z
          .object({ images: intRange.default({ min: 2, max: 4 }), files: intRange.default({ min: 1, max: 1 }) })
          .strict()
          .prefault({})
          .refine((m) => m.images.max + m.files.max <= MAX_ATTACHMENTS_ANY && m.images.min + m.files.min >= 1, {
            message: `expected 1..${MAX_ATTACHMENTS_ANY} attachments per message (images.max + files.max <= ${MAX_ATTACHMENTS_ANY})`,
          }),
        /** Recipients download every attachment and record its sha256 (integrity check), default true. */
        downloadAttachments: z.boolean().default(true),
        /** Several devices per account. */
        multiDevice: z
          .object({
            /** Chance, per customer turn, that the customer continues on another of its devices. */
            switchProbability: z.number().min(0).max(1).default(0),
            /** Chance a read happens on a background device rather than the active one. */
            readOnOtherDevice: z.number().min(0).max(1).default(0),
          })
          .strict()
          .prefault({}),
        /** Delay before the receiving side marks a conversation read. */
        readAfter: durationSchema.default(2000),
        /** History page loads (absent: none, and the `history` check says "not checked"). */
        history: historySchema.optional(),
      })
      .strict()
      .prefault({}),
    faults: z.array(faultSchema).default([]),
    sla: z.array(z.string()).default([]),
  })
  .strict()
  .superRefine((s, ctx) => crossCheck(s, ctx));

/**
 * Checks that span fields: networks exist, names are unique, toxics referenced by name exist.
 * Zod runs this even when a field inside failed (so every problem is reported at once), and a
 * failed field is then still in its raw, unnormalised form: hence the defensive reads.
 */
function crossCheck(raw: ScenarioShape, ctx: z.RefinementCtx): void {
  const list = <T>(v: T[] | T | undefined): T[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
  const s: ScenarioShape = {
    ...raw,
    networks: raw.networks ?? {},
    population: { ...raw.population, agents: list(raw.population?.agents), customers: list(raw.population?.customers) },
    faults: list(raw.faults),
  };
  const nets = new Set(Object.keys(s.networks));
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const need = (path: (string | number)[], n: string) => {
    if (!nets.has(n)) issue(path, `unknown network ${JSON.stringify(n)}; declared networks: ${[...nets].join(', ')}`);
  };
  const segmentNames = new Set<string>();
  for (const [role, list] of [['agents', s.population.agents], ['customers', s.population.customers]] as const) {
    list.forEach((seg, i) => {
      const base: (string | number)[] = ['population', role, ...(list.length > 1 ? [i] : [])];
      need([...base, 'network'], seg.network);
      if (seg.name !== undefined) {
        if (segmentNames.has(seg.name)) issue([...base, 'name'], `segment name ${JSON.stringify(seg.name)} is used twice`);
        segmentNames.add(seg.name);
      }
    });
  }
  const g = s.population.groups;
  const h = raw.traffic?.history;
  if (h !== undefined && h !== null) {
    const customers = s.population.customers.reduce((n, x) => n + (x?.count ?? 0), 0);
    const available = customers + (g?.count ?? 0);
    const asked = list(h.preload).reduce((n, p) => n + (typeof p?.conversations === 'number' ? p.conversations : 0), 0);
    if (asked > available) {
      issue(['traffic', 'history', 'preload'], `expected at most the ${available} conversations of the population (one per customer, plus groups), got ${asked} in all; lower \`conversations\``);
    }
    if (h.sweep && typeof h.sweep.at === 'number' && h.sweep.at > s.duration) {
      issue(['traffic', 'history', 'sweep', 'at'], `expected a time within the duration (${s.duration} ms), got ${h.sweep.at} ms`);
    }
  }
  if (g) {
    const agents = s.population.agents.reduce((n, x) => n + x.count, 0);
    const customers = s.population.customers.reduce((n, x) => n + x.count, 0);
    if (g.agents > agents) issue(['population', 'groups', 'agents'], `expected at most the ${agents} agents of the population`);
    if (g.customers > customers) issue(['population', 'groups', 'customers'], `expected at most the ${customers} customers of the population`);
  }

  // Toxic names known per network, in timeline order (a fault may refer to a base toxic or to one
  // an earlier fault added).
  const known = new Map<string, Map<string, string>>();
  for (const [net, p] of Object.entries(s.networks)) {
    const names = new Map<string, string>();
    list(p?.toxics).forEach((t, i) => {
      if (t.name === undefined) return;
      if (names.has(t.name)) issue(['networks', net, 'toxics', i, 'name'], `toxic name ${JSON.stringify(t.name)} is used twice on network ${net}`);
      names.set(t.name, t.type);
    });
    known.set(net, names);
  }
  const order = s.faults
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => typeof f?.at === 'number' && typeof f.network === 'string')
    .sort((a, b) => a.f.at - b.f.at || a.i - b.i);
  for (const { f, i } of order) {
    need(['faults', i, 'network'], f.network);
    if (f.at > s.duration) issue(['faults', i, 'at'], `expected a time within the duration (${s.duration} ms), got ${f.at} ms`);
    const names = known.get(f.network) ?? new Map<string, string>();
    const refer = (ref: string, path: (string | number)[]): string | undefined => {
      const type = names.get(ref);
      if (type === undefined) {
        const list = [...names.keys()];
        issue(path, `no toxic named ${JSON.stringify(ref)} on network ${f.network} at ${f.at} ms; ` + (list.length ? `known: ${list.join(', ')}` : 'give the toxic a `name` in networks or in an earlier fault'));
      }
      return type;
    };
    const checkAttrs = (type: string | undefined, attrs: readonly string[], path: (string | number)[]) => {
      if (type === undefined) return;
      const allowed: readonly string[] = TOXIC_ATTRIBUTES[type as keyof typeof TOXIC_ATTRIBUTES] ?? [];
      for (const a of attrs) {
        if (!allowed.includes(a)) issue([...path], `toxic ${type} has no attribute ${JSON.stringify(a)}; expected ${allowed.length ? 'one of ' + allowed.join(', ') : 'no attributes'}`);
      }
    };
    switch (f.action) {
      case 'toxic':
        if (f.toxic) names.set(f.toxic.name ?? `chatstorm_f${i}_${f.toxic.type}`, f.toxic.type);
        break;
      case 'update-toxic':
        checkAttrs(refer(f.toxic, ['faults', i, 'toxic']), Object.keys(f.attributes ?? {}), ['faults', i, 'attributes']);
        break;
      case 'remove-toxic':
        refer(f.toxic, ['faults', i, 'toxic']);
        break;
      case 'ramp': {
        let type: string | undefined;
        if (typeof f.toxic === 'string') {
          type = refer(f.toxic, ['faults', i, 'toxic']);
          if (f.from === undefined) issue(['faults', i, 'from'], 'expected `from` (the start value) when ramping an existing toxic by name');
        } else if (f.toxic) {
          type = f.toxic.type;
          names.set(f.toxic.name ?? `chatstorm_f${i}_${f.toxic.type}`, type);
          if (f.from === undefined && f.toxic.attributes?.[f.attribute] === undefined) {
            issue(['faults', i, 'from'], `expected \`from\` or toxic.attributes.${f.attribute} (the start value)`);
          }
        }
        checkAttrs(type, [f.attribute], ['faults', i, 'attribute']);
        break;
      }
      default:
        break;
    }
  }
}

/** The parts of a parsed scenario `crossCheck` reads (zod cannot name the type from inside its own refinement). */
interface ScenarioShape {
  duration: number;
  networks: Record<string, { toxics: ToxicSpec[] }>;
  population: {
    agents: z.output<typeof agentSegmentSchema>[];
    customers: z.output<typeof customerSegmentSchema>[];
    groups?: z.output<typeof groupsSchema>;
  };
  faults: FaultSpec[];
  traffic?: { history?: Partial<HistorySpec> | null };
}

/** A scenario as written in a scenario file. */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario: durations in ms, sizes in bytes, defaults applied. */
export type Scenario = z.output<typeof scenarioSchema>;
export type ToxicSpec = z.output<typeof toxicSchema>;
export type FaultSpec = z.output<typeof faultSchema>;
export type AgentSegment = z.output<typeof agentSegmentSchema>;
export type CustomerSegment = z.output<typeof customerSegmentSchema>;
export type HistorySpec = z.output<typeof historySchema>;
export type PreloadSpec = z.output<typeof preloadSchema>;
export type SweepSpec = z.output<typeof sweepSchema>;
