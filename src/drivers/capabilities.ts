/**
 * A driver's declared capabilities and limits against a scenario: traffic the driver cannot
 * carry is refused before anything starts (exit 2, naming the scenario field and the missing
 * capability), and the declaration the checks need goes into the history's `run-start`.
 */
import { InvalidScenarioError } from '../errors.ts';
import type { DriverDeclaration } from '../history/events.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { Driver } from './driver.ts';

/** What the checks need to know of a driver (recorded on `run-start`). */
export function declarationOf(driver: Driver<never, never> | Driver): DriverDeclaration {
  const c = driver.capabilities;
  return {
    name: driver.name,
    ordering: c.ordering,
    serverIds: c.serverIds,
    unreadCounts: c.unreadCounts,
    historyPages: c.historyPages,
    clientIds: c.clientIds,
    resumption: c.resumption,
  };
}

/**
 * The issue of a scenario that preloads history for a driver without `preloadHistory`. Refused
 * rather than run without it: the scenario's gate is about the preloaded range, and a run without
 * it would judge a few hundred messages and could pass (README, "Preloaded history").
 */
export function preloadRefusal(driver: Driver<never, never> | Driver): { path: string; message: string } {
  return {
    path: 'traffic.history.preload',
    message: `driver ${driver.name} cannot preload history (it has no \`preloadHistory\` method); remove traffic.history.preload, or use a driver that has it (the reference driver does)`,
  };
}

/**
 * Refuse a scenario whose traffic `driver` cannot carry: a message kind it does not list, an
 * attachment without `attachments`, groups without `groups`, history loads without
 * `historyPages`, a history preload without `preloadHistory`, sizes beyond its limits. Throws
 * InvalidScenarioError listing every issue.
 */
export function checkScenarioForDriver(scenario: Scenario, driver: Driver<never, never> | Driver): void {
  const c = driver.capabilities;
  const l = driver.limits;
  const issues: { path: string; message: string }[] = [];
  const lacks = (path: string, what: string, capability: string) =>
    issues.push({ path, message: `driver ${driver.name} cannot carry ${what} (capabilities.${capability} is missing); remove it from the scenario or use a driver that has it` });
  const t = scenario.traffic;
  for (const [kind, weight] of Object.entries(t.mix)) {
    if (!(weight !== undefined && weight > 0)) continue;
    const attachment = kind === 'image' || kind === 'file' || kind === 'multi-attachment';
    if (attachment && !c.attachments) lacks(`traffic.mix.${kind}`, `${kind} messages`, 'attachments');
    else if (kind !== 'multi-attachment' && !(c.kinds as readonly string[]).includes(kind)) {
      issues.push({ path: `traffic.mix.${kind}`, message: `driver ${driver.name} cannot carry ${kind} messages (capabilities.kinds: ${c.kinds.join(', ')})` });
    }
  }
  if (scenario.population.groups !== undefined && scenario.population.groups.count > 0 && !c.groups) lacks('population.groups', 'group conversations', 'groups');
  if (t.history !== undefined && !c.historyPages) lacks('traffic.history', 'history page loads', 'historyPages');
  if (t.history?.preload !== undefined && driver.preloadHistory === undefined) issues.push(preloadRefusal(driver));
  for (const [kind, range] of Object.entries(t.sizes)) {
    if (range === undefined) continue;
    const attachment = kind === 'image' || kind === 'file';
    const max = attachment ? l.maxAttachmentBytes : kind === 'emoji' ? l.maxBodyBytes - 8 : l.maxBodyBytes;
    // Emoji may overshoot their size by one multi-byte emoji (7 bytes): keep room for it.
    if (range.max > max) {
      issues.push({ path: `traffic.sizes.${kind}.max`, message: `expected 1..${max} bytes for ${kind} (driver ${driver.name}'s limit), got ${range.max}` });
    }
  }
  if (c.attachments && (t.mix['multi-attachment'] ?? 0) > 0) {
    const m = t.multiAttachment;
    if (m.images.max + m.files.max > l.maxAttachmentsPerMessage) {
      issues.push({ path: 'traffic.multiAttachment', message: `expected at most ${l.maxAttachmentsPerMessage} attachments per message (driver ${driver.name}'s limit), got images.max + files.max = ${m.images.max + m.files.max}` });
    }
  }
  if (issues.length > 0) throw new InvalidScenarioError(issues, `scenario ${scenario.name} for driver ${driver.name}`);
}
