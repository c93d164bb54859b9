import type { Scenario } from '../scenario/schema.ts';
import type { Random } from './random.ts';

/**
 * Arrival times (ms) of `count` customers under the scenario's open arrival model, sorted.
 * Arrivals after `durationMs` are clamped to it (they then send nothing).
 */
export function arrivalTimes(
  model: Scenario['traffic']['arrival'],
  count: number,
  durationMs: number,
  rnd: Random,
): number[] {
  const out: number[] = [];
  switch (model.model) {
    case 'constant': {
      const over = Math.min(model.over ?? durationMs * 0.6, durationMs);
      for (let i = 0; i < count; i++) out.push((over * (i + rnd.next())) / count);
      break;
    }
    case 'poisson': {
      let t = 0;
      for (let i = 0; i < count; i++) {
        t += rnd.exponential(1000 / model.ratePerSec);
        out.push(Math.min(t, durationMs));
      }
      break;
    }
    case 'ramping': {
      // Inverse of the cumulative arrival count of a piecewise-linear rate: customer i arrives
      // when the integral of the rate reaches i + u (u uniform, so arrivals are not lock-step).
      const stages: { from: number; to: number; startMs: number; ms: number }[] = [];
      let rate = model.startRatePerSec;
      let at = 0;
      for (const st of model.stages) {
        stages.push({ from: rate, to: st.targetPerSec, startMs: at, ms: st.duration });
        rate = st.targetPerSec;
        at += st.duration;
      }
      let cumulative = 0;
      let i = 0;
      let target = rnd.next();
      for (const st of stages) {
        const total = ((st.from + st.to) / 2) * (st.ms / 1000);
        while (i < count && cumulative + total >= target) {
          // Solve cumulative + from*x + (to-from)*x^2/(2T) = target for x seconds into the stage.
          const need = target - cumulative;
          const T = st.ms / 1000;
          const a = (st.to - st.from) / (2 * T);
          const x = a === 0 ? need / st.from : (-st.from + Math.sqrt(st.from * st.from + 4 * a * need)) / (2 * a);
          out.push(Math.min(st.startMs + x * 1000, durationMs));
          i++;
          target = i + rnd.next();
        }
        cumulative += total;
      }
      while (i++ < count) out.push(durationMs);
      break;
    }
  }
  return out;
}
