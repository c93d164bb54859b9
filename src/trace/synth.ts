/**
 * Synthetic traces with the shape of a customer-service evening, for tests and for users without
 * a production trace: conversation arrivals follow a daily curve (quiet, then an evening peak at
 * about three quarters of the window), customers type in bursts, conversation lengths are heavy
 * tailed (Pareto: most are short, a few run long), agents answer with `replyTo`, and some messages
 * carry images and files. Seeded: the same options give the same trace, line for line.
 */
import { Random } from '../plan/random.ts';
import { TRACE_VERSION, type TraceHeader, type TraceRecord } from './format.ts';

export interface SynthOptions {
  seed?: number;
  /** Length of the trace, ms (default 60 s). */
  durationMs?: number;
  /** Customers arriving over the window (default 100), one conversation each. */
  customers?: number;
  /** Agents answering them (default 10). */
  agents?: number;
  /** Shape of the Pareto tail of messages per conversation (default 1.5; smaller is heavier). */
  lengthTail?: number;
  /** Share of customer messages that are images / files (defaults 0.08 / 0.03). */
  imageShare?: number;
  fileShare?: number;
  /** Share of customer turns typed as a burst of 2–4 messages (default 0.2). */
  burstShare?: number;
}

/** Longest conversation, messages (caps the Pareto tail). */
const MAX_MESSAGES = 200;

/** Build a synthetic trace: its header and time-ordered records. */
export function synthTrace(o: SynthOptions = {}): { header: TraceHeader; records: TraceRecord[] } {
  const seed = o.seed ?? 1;
  const duration = o.durationMs ?? 60_000;
  const nCustomers = o.customers ?? 100;
  const nAgents = o.agents ?? 10;
  const tail = o.lengthTail ?? 1.5;
  const rnd = new Random(seed);
  const rArr = rnd.fork('arrivals');
  const rTalk = rnd.fork('talk');
  const pad = (n: number, w: number) => String(n).padStart(w, '0');

  // Daily curve over the window: a floor of 30 % plus a bell at 75 % (the evening peak).
  const rate = (t: number) => 0.3 + 0.7 * Math.exp(-(((t / duration - 0.75) / 0.15) ** 2));
  // Arrivals by thinning a uniform stream against the curve, within the first 80 % of the window
  // so late arrivals still have time to talk.
  const arrivals: number[] = [];
  for (let guard = 0; arrivals.length < nCustomers && guard < nCustomers * 100; guard++) {
    const t = rArr.between(0, duration * 0.8);
    if (rArr.chance(rate(t))) arrivals.push(Math.round(t));
  }
  arrivals.sort((a, b) => a - b);

  const records: TraceRecord[] = [];
  for (let a = 1; a <= nAgents; a++) records.push({ t: 0, type: 'account', account: `agent${pad(a, 3)}`, role: 'agent', devices: ['desktop', 'mobile'] });
  let msgId = 0;
  arrivals.forEach((start, i) => {
    const customer = `cust${pad(i + 1, 5)}`;
    const agent = `agent${pad((i % nAgents) + 1, 3)}`;
    const conv = `conv${pad(i + 1, 5)}`;
    records.push({ t: start, type: 'conversation', conv, kind: 'direct', members: [customer, agent] });
    const length = Math.min(MAX_MESSAGES, Math.floor(1 / Math.pow(1 - rTalk.next(), 1 / tail)));
    let t = start;
    let sent = 0;
    while (sent < length && t < duration) {
      const burst = rTalk.chance(o.burstShare ?? 0.2) ? rTalk.int(2, 4) : 1;
      let last = '';
      for (let b = 0; b < burst && sent < length && t < duration; b++, sent++) {
        const id = `m${++msgId}`;
        last = id;
        const u = rTalk.next();
        const img = o.imageShare ?? 0.08;
        const file = o.fileShare ?? 0.03;
        if (u < img) records.push({ t, type: 'message', conv, account: customer, role: 'customer', device: 'mobile', kind: 'image', size: rTalk.int(0, 40), attachments: [rTalk.int(20_000, 400_000)], id });
        else if (u < img + file) records.push({ t, type: 'message', conv, account: customer, role: 'customer', device: 'mobile', kind: 'file', size: rTalk.int(0, 40), attachments: [rTalk.int(50_000, 1_000_000)], id });
        else records.push({ t, type: 'message', conv, account: customer, role: 'customer', device: 'mobile', kind: rTalk.chance(0.15) ? 'emoji' : 'text', size: rTalk.int(8, 200), id });
        t += rTalk.int(200, 1500);
      }
      // The agent answers the burst's last message, after reading it.
      const reply = t + rTalk.int(1000, 4000);
      if (reply < duration) {
        records.push({ t: reply - 500, type: 'read', conv, account: agent, device: 'desktop' });
        records.push({ t: reply, type: 'message', conv, account: agent, role: 'agent', device: 'desktop', kind: 'text', size: rTalk.int(20, 280), id: `m${++msgId}`, replyTo: last });
      }
      t = reply + rTalk.int(1000, 6000);
    }
  });
  records.sort((a, b) => a.t - b.t);
  return { header: { trace: 'chatstorm', version: TRACE_VERSION, name: `synth-${seed}` }, records };
}
