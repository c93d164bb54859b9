/**
 * Set-up's preload step: after provisioning and before any device connects, the driver creates
 * each planned conversation's history (`Driver.preloadHistory`), one conversation after another,
 * each timed. What it answers (where the range is) becomes a `preload` event once `run-start` is
 * recorded, so the history check knows every seq of the range and the message at each.
 */
import type { Driver } from '../drivers/driver.ts';
import { preloadRefusal } from '../drivers/capabilities.ts';
import type { Target } from '../net/target.ts';
import type { PlannedPreload } from '../plan/plan.ts';
import type { PreloadEvent } from '../history/events.ts';
import { HarnessError, InvalidScenarioError } from '../errors.ts';

/** Where the driver put one conversation's preloaded messages, and how long it took. */
export type PreloadDone = Omit<PreloadEvent, 'atMs'>;

/** What every preload call gets besides the conversation. */
export interface PreloadSetting {
  context: unknown;
  runId: string;
  url: string;
  target?: Target;
  /** Stop between conversations when the run is halted. */
  signal: AbortSignal;
}

/**
 * Preload `preloads` through `driver`, in order; resolves with one record per conversation (fewer
 * when halted). A driver without `preloadHistory` is a bad scenario (exit 2, the scenario's field
 * named); a range that does not hold exactly the messages asked for is the driver's failure.
 */
export async function preloadHistories(driver: Driver, preloads: readonly PlannedPreload[], setting: PreloadSetting): Promise<PreloadDone[]> {
  if (preloads.length === 0) return [];
  const preload = driver.preloadHistory?.bind(driver);
  if (preload === undefined) {
    throw new InvalidScenarioError([preloadRefusal(driver)], `plan for driver ${driver.name}`);
  }
  const done: PreloadDone[] = [];
  for (const p of preloads) {
    if (setting.signal.aborted) break;
    const t0 = performance.now();
    const range = await preload({
      context: setting.context,
      runId: setting.runId,
      url: setting.url,
      ...(setting.target ? { target: setting.target } : {}),
      conv: p.conv,
      messages: p.messages,
      keyDevice: p.keyDevice,
      bodyBytes: p.bodyBytes,
      spanDays: p.spanDays,
    });
    const tookMs = Math.round((performance.now() - t0) * 1000) / 1000;
    if (!Number.isInteger(range.first) || !Number.isInteger(range.last) || range.last - range.first + 1 !== p.messages) {
      throw new HarnessError(`driver ${driver.name} preloaded ${p.conv} at positions ${range.first}..${range.last}, expected ${p.messages} dense positions`);
    }
    done.push({ type: 'preload', conv: p.conv, count: p.messages, first: range.first, last: range.last, keyDevice: p.keyDevice, swept: p.swept, tookMs });
  }
  return done;
}
