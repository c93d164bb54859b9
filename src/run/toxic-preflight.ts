/**
 * Ask the Toxiproxy in use whether it accepts every toxic of the scenario before the run starts:
 * on a scratch proxy, add each toxic (base toxics, fault toxics, every value a ramp or an update
 * will set) and remove it again. A toxic the proxy rejects is a bad scenario (exit 2), named by
 * its field, not a failure in the middle of the run.
 */
import type { Toxiproxy } from 'toxiproxy-node-client';
import { InvalidScenarioError } from '../errors.ts';
import { addToxic, createProxy, leftBehind, NetworkError, removeProxy, removeToxic } from '../net/networks.ts';
import { TOXIPROXY_TIMEOUT_MS } from '../net/toxiproxy-call.ts';
import type { Plan } from '../plan/plan.ts';
import type { ToxicSpec } from '../scenario/schema.ts';
import { EMBEDDED_ONLY_TOXICS } from '../scenario/toxic-attributes.ts';

interface Probe {
  field: string;
  toxic: ToxicSpec;
}

/** Every toxic configuration the plan will ask for, with the scenario field it comes from. */
export function toxicProbes(plan: Plan): Probe[] {
  const probes: Probe[] = [];
  const byName = new Map<string, ToxicSpec>();
  for (const [net, p] of Object.entries(plan.networks)) {
    p.toxics.forEach((t, i) => {
      probes.push({ field: `networks.${net}.toxics[${i}]`, toxic: t });
      if (t.name) byName.set(`${net}\0${t.name}`, t);
    });
  }
  const faults = [...plan.faults].sort((a, b) => a.startMs - b.startMs);
  for (const f of faults) {
    const field = `faults[${f.id.slice(1)}].toxic`;
    if (f.toxic) {
      probes.push({ field, toxic: f.toxic });
      byName.set(`${f.network}\0${f.toxic.name}`, f.toxic);
    }
    const base = f.toxic ?? (f.target ? byName.get(`${f.network}\0${f.target}`) : undefined);
    if (!base) continue;
    if (f.attributes || f.toxicity !== undefined) {
      probes.push({ field, toxic: { ...base, attributes: { ...base.attributes, ...f.attributes }, toxicity: f.toxicity ?? base.toxicity } });
    }
    if (f.ramp) {
      const last = f.ramp.steps[f.ramp.steps.length - 1];
      const first = f.ramp.steps[0];
      for (const s of [first, last]) {
        if (s) probes.push({ field, toxic: { ...base, attributes: { ...base.attributes, [f.ramp.attribute]: s.value } } });
      }
    }
  }
  return probes;
}

/**
 * Refuse, before anything starts, a scenario whose toxics need chatstorm's embedded proxy
 * (`loss`) when the Toxiproxy in use is a real one: it would answer "invalid toxic type" only
 * once the toxic is added. Throws InvalidScenarioError naming each field.
 */
export function refuseExtensionToxics(plan: Plan, toxiproxy: { url: string; extensions: boolean }): void {
  if (toxiproxy.extensions) return;
  const issues: { path: string; message: string }[] = [];
  for (const p of toxicProbes(plan)) {
    const path = `${p.field}.type`;
    if (!EMBEDDED_ONLY_TOXICS.includes(p.toxic.type) || issues.some((x) => x.path === path)) continue;
    issues.push({
      path,
      message:
        `toxic type \`${p.toxic.type}\` exists only in chatstorm's embedded proxy, and the Toxiproxy at ${toxiproxy.url} is a real Toxiproxy, which has no such toxic; ` +
        'run with `--toxiproxy embedded` (or point --toxiproxy at a `chatstorm proxy`), or remove this toxic from the scenario',
    });
  }
  if (issues.length > 0) throw new InvalidScenarioError(issues, `scenario ${plan.scenario}`);
}

/**
 * Try every probe on a scratch proxy named `<prefix>-preflight` (removed afterwards). Throws
 * InvalidScenarioError listing each rejected toxic. Every Toxiproxy call is bounded by `timeoutMs`;
 * a timeout (ToxiproxyTimeoutError) or a scratch proxy that cannot be removed is an
 * infrastructure error, not a bad scenario.
 */
export async function preflightToxics(client: Toxiproxy, prefix: string, upstream: string, plan: Plan, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<void> {
  const probes = toxicProbes(plan);
  if (probes.length === 0) return;
  const proxy = await createProxy(client, { name: `${prefix}-preflight`, listen: '127.0.0.1:0', upstream }, 'the toxic preflight', timeoutMs);
  const issues: { path: string; message: string }[] = [];
  try {
    for (const [i, p] of probes.entries()) {
      const name = `chatstorm_preflight_${i}`;
      try {
        await addToxic(proxy, p.toxic, name, p.field, timeoutMs);
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        if (!issues.some((x) => x.path === p.field)) {
          issues.push({
            path: p.field,
            message:
              `the proxy rejected toxic ${p.toxic.type} ${p.toxic.stream} ${JSON.stringify(p.toxic.attributes)} (${err.reason}); ` +
              'check each attribute against the toxic\'s range (docs/proxy.md, Toxiproxy README)',
          });
        }
        continue;
      }
      await removeToxic(proxy, name, timeoutMs);
    }
  } catch (err) {
    await removeProxy(proxy, timeoutMs).catch(() => {}); // the first error is the one to report
    throw err;
  }
  try {
    await removeProxy(proxy, timeoutMs);
  } catch (err) {
    throw new NetworkError(leftBehind([(err as Error).message]), { cause: err });
  }
  if (issues.length > 0) throw new InvalidScenarioError(issues, `scenario ${plan.scenario}`);
}
