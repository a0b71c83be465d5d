/**
 * From a HorizontalPodAutoscaler's metric proposal to the replica count it sets (the podautoscaler's
 * normalization, semantics only):
 * - without spec.behavior: downscale stabilization (the highest recommendation of the last 5 minutes),
 *   a scale-up limit of max(2 × current, 4), then min/max replicas;
 * - with spec.behavior: per-direction stabilization windows and rate policies (Pods / Percent per
 *   periodSeconds, selectPolicy Max / Min / Disabled) over the scale events of each period, then
 *   min/max replicas.
 * Each result carries the AbleToScale and ScalingLimited reasons and messages upstream writes.
 */

import { defaultBehavior, type Behavior, type ScalingRules } from '../registry/autoscaling/hpa-behavior.ts';

export { defaultBehavior, type Behavior };

export const DOWNSCALE_STABILIZATION_MS = 5 * 60_000;

export interface Recommendation {
  replicas: number;
  timestamp: number;
}

export interface ScaleEvent {
  change: number;
  timestamp: number;
}

export interface Normalized {
  replicas: number;
  /** AbleToScale (True) reason and message from stabilization. */
  stabilization: { reason: string; message: string };
  /** ScalingLimited: limited (True) or not (False), with reason and message. */
  limited: { status: boolean; reason: string; message: string };
}

const READY = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const DOWN_STABILIZED = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const UP_STABILIZED = {
  reason: 'ScaleUpStabilized',
  message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};
const WITHIN = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const TOO_MANY = {
  reason: 'TooManyReplicas',
  message: 'the desired replica count is more than the maximum replica count',
};
const TOO_FEW = {
  reason: 'TooFewReplicas',
  message: 'the desired replica count is less than the minimum replica count',
};
const UP_LIMIT = {
  reason: 'ScaleUpLimit',
  message: 'the desired replica count is increasing faster than the maximum scale rate',
};
const DOWN_LIMIT = {
  reason: 'ScaleDownLimit',
  message: 'the desired replica count is decreasing faster than the maximum scale rate',
};

/**
 * Without behavior. `recommendations` is this autoscaler's history: the new proposal is recorded in it
 * (replacing one sample older than the window) and entries older than the window are not consulted.
 */
export function normalizeLegacy(
  current: number,
  proposal: number,
  min: number,
  max: number,
  recommendations: Recommendation[],
  now: number,
): Normalized {
  const cutoff = now - DOWNSCALE_STABILIZATION_MS;
  let highest = proposal;
  let old = -1;
  recommendations.forEach((r, i) => {
    if (r.timestamp < cutoff) old = i;
    else if (r.replicas > highest) highest = r.replicas;
  });
  const rec = { replicas: proposal, timestamp: now };
  if (old >= 0) recommendations[old] = rec;
  else recommendations.push(rec);
  const stabilization = highest !== proposal ? DOWN_STABILIZED : READY;

  const scaleUpLimit = Math.max(2 * current, 4);
  const [maxAllowed, maxReason] = max > scaleUpLimit ? [scaleUpLimit, UP_LIMIT] : [max, TOO_MANY];
  let replicas = highest;
  let why = WITHIN;
  if (highest < min) [replicas, why] = [min, TOO_FEW];
  else if (highest > maxAllowed) [replicas, why] = [maxAllowed, maxReason];
  return { replicas, stabilization, limited: { status: replicas !== highest, ...why } };
}

const within = (events: ScaleEvent[], periodSeconds: number, now: number): number =>
  events.filter((e) => e.timestamp > now - periodSeconds * 1000).reduce((a, e) => a + e.change, 0);

/** The highest count scale-up policies allow from the start of each policy's period. */
export function scaleUpLimit(
  current: number,
  ups: ScaleEvent[],
  downs: ScaleEvent[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies ?? []) {
    const period = p.periodSeconds ?? 15;
    const start = current - within(ups, period, now) + within(downs, period, now);
    const proposed =
      p.type === 'Pods' ? start + (p.value ?? 0) : Math.ceil(start * (1 + (p.value ?? 0) / 100));
    result = pick(result, proposed);
  }
  return Number.isFinite(result) ? result : current;
}

/** The lowest count scale-down policies allow from the start of each policy's period. */
export function scaleDownLimit(
  current: number,
  ups: ScaleEvent[],
  downs: ScaleEvent[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Min selects the smallest change, i.e. the highest count.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies ?? []) {
    const period = p.periodSeconds ?? 15;
    const start = current + within(downs, period, now) - within(ups, period, now);
    const proposed =
      p.type === 'Pods' ? start - (p.value ?? 0) : Math.floor(start * (1 - (p.value ?? 0) / 100));
    result = pick(result, proposed);
  }
  return Number.isFinite(result) ? result : current;
}

/** With behavior (already defaulted). Records the proposal in `recommendations`. */
export function normalizeWithBehavior(
  current: number,
  proposal: number,
  min: number,
  max: number,
  behavior: Required<Behavior>,
  history: { recommendations: Recommendation[]; ups: ScaleEvent[]; downs: ScaleEvent[] },
  now: number,
): Normalized {
  const upCutoff = now - (behavior.scaleUp.stabilizationWindowSeconds ?? 0) * 1000;
  const downCutoff = now - (behavior.scaleDown.stabilizationWindowSeconds ?? 0) * 1000;
  let up = proposal;
  let down = proposal;
  for (const r of history.recommendations) {
    if (r.timestamp > upCutoff) up = Math.min(up, r.replicas);
    if (r.timestamp > downCutoff) down = Math.max(down, r.replicas);
  }
  let stabilized = current;
  if (stabilized < up) stabilized = up;
  if (stabilized > down) stabilized = down;
  // Keep what either window may still need.
  const longest = Math.max(
    behavior.scaleUp.stabilizationWindowSeconds ?? 0,
    behavior.scaleDown.stabilizationWindowSeconds ?? 0,
  );
  const keepAfter = now - longest * 1000;
  const kept = history.recommendations.filter((r) => r.timestamp > keepAfter);
  history.recommendations.length = 0;
  history.recommendations.push(...kept, { replicas: proposal, timestamp: now });
  const stabilization =
    stabilized === proposal ? READY : stabilized < proposal ? UP_STABILIZED : DOWN_STABILIZED;

  let replicas = stabilized;
  let why = WITHIN;
  if (stabilized > current) {
    const limit = Math.max(scaleUpLimit(current, history.ups, history.downs, behavior.scaleUp, now), current);
    const [maxAllowed, reason] = max > limit ? [limit, UP_LIMIT] : [max, TOO_MANY];
    if (stabilized > maxAllowed) [replicas, why] = [maxAllowed, reason];
  } else if (stabilized < current) {
    const limit = Math.min(
      scaleDownLimit(current, history.ups, history.downs, behavior.scaleDown, now),
      current,
    );
    const [minAllowed, reason] = min < limit ? [limit, DOWN_LIMIT] : [min, TOO_FEW];
    if (stabilized < minAllowed) [replicas, why] = [minAllowed, reason];
  }
  return { replicas, stabilization, limited: { status: replicas !== stabilized, ...why } };
}

/** Records a rescale in the behavior history; events older than the longest policy period are dropped. */
export function recordScaleEvent(
  behavior: Required<Behavior>,
  history: { ups: ScaleEvent[]; downs: ScaleEvent[] },
  from: number,
  to: number,
  now: number,
): void {
  const longest = (r: ScalingRules): number =>
    Math.max(0, ...(r.policies ?? []).map((p) => p.periodSeconds ?? 0));
  const prune = (events: ScaleEvent[], seconds: number): void => {
    const kept = events.filter((e) => e.timestamp > now - seconds * 1000);
    events.length = 0;
    events.push(...kept);
  };
  prune(history.ups, longest(behavior.scaleUp));
  prune(history.downs, longest(behavior.scaleDown));
  if (to > from) history.ups.push({ change: to - from, timestamp: now });
  else if (to < from) history.downs.push({ change: from - to, timestamp: now });
}
