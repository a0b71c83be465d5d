/**
 * The HorizontalPodAutoscaler's replica calculation for resource metrics (kube-controller-manager's
 * podautoscaler replica calculator, semantics only): pods are grouped into ready, ignored (Pending, or
 * for cpu not yet ready / still initialising) and missing (no metrics); the usage ratio against the
 * target decides, within a tolerance of 10 %; when pods are missing or ignored the ratio is recomputed
 * with missing pods at 100 % of their request on a scale-down and 0 % on a scale-up (ignored pods at
 * 0 % on a scale-up), and a change of direction keeps the current count. Values are milli-units
 * (millicores, milli-bytes), as upstream's MilliValue.
 */
import type { KObject } from '../api/object.ts';
import type { Pod } from 'kubernetes-types/core/v1';
import { tryParseQuantity } from '../registry/core/quantity.ts';

export const DEFAULT_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod's usage of the resource (summed over its containers, or one container's). */
export interface PodSample {
  /** milli-units */
  value: number;
  /** when the sample was taken (ms since the epoch) */
  timestamp: number;
  /** the window it averages over (ms) */
  windowMs: number;
}

export type PodSamples = Map<string, PodSample>;

export interface CalcOptions {
  now: number;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
}

/** A Kubernetes quantity in milli-units, rounded up (Quantity.MilliValue()); undefined when malformed. */
export function milliOf(q: unknown): number | undefined {
  if (typeof q === 'number') return Math.ceil(q * 1000);
  if (typeof q !== 'string') return undefined;
  const p = tryParseQuantity(q);
  if (!p) return undefined;
  const n = p.nanos;
  const m = n / 1_000_000n + (n % 1_000_000n > 0n ? 1n : 0n);
  return Number(m);
}

/** A Go duration string ("15s", "1m0s", "500ms", "15.5s") in ms; undefined when malformed. */
export function durationMs(s: unknown): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const unit: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 0.001,
    µs: 0.001,
    ns: 1e-6,
  };
  let total = 0;
  let rest = s;
  while (rest) {
    const m = /^([0-9]*\.?[0-9]+)(ms|us|µs|ns|h|m|s)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (unit[m[2] ?? ''] ?? NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? total : undefined;
}

/**
 * PodMetrics objects (metrics.k8s.io/v1beta1) → one sample per pod: the sum of its containers' usage
 * of `resource`, or only `container`'s (ContainerResource metrics; pods without it are left out).
 */
export function samplesFrom(podMetrics: KObject[], resource: string, container?: string): PodSamples {
  const out: PodSamples = new Map();
  for (const pm of podMetrics) {
    const name = pm.metadata.name ?? '';
    const containers = (pm['containers'] ?? []) as { name?: string; usage?: Record<string, unknown> }[];
    let sum = 0;
    let found = false;
    for (const c of containers) {
      if (container !== undefined && c.name !== container) continue;
      const v = milliOf(c.usage?.[resource]);
      if (v === undefined) continue;
      sum += v;
      found = true;
    }
    if (!found) continue;
    const ts = Date.parse(String(pm['timestamp'] ?? ''));
    out.set(name, {
      value: sum,
      timestamp: Number.isNaN(ts) ? 0 : ts,
      windowMs: durationMs(pm['window']) ?? 0,
    });
  }
  return out;
}

const podStatus = (p: KObject): NonNullable<Pod['status']> =>
  (p['status'] ?? {}) as NonNullable<Pod['status']>;
const podSpec = (p: KObject): NonNullable<Pod['spec']> => (p['spec'] ?? {}) as NonNullable<Pod['spec']>;

export interface PodGroups {
  readyPodCount: number;
  ignored: Set<string>;
  missing: Set<string>;
}

/** Ready, ignored and missing pods, as the upstream calculator groups them. */
export function groupPods(pods: KObject[], samples: PodSamples, resource: string, o: CalcOptions): PodGroups {
  const initPeriod = o.cpuInitializationPeriodMs ?? CPU_INITIALIZATION_PERIOD_MS;
  const readinessDelay = o.initialReadinessDelayMs ?? INITIAL_READINESS_DELAY_MS;
  const g: PodGroups = { readyPodCount: 0, ignored: new Set(), missing: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    const st = podStatus(pod);
    if (pod.metadata.deletionTimestamp || st.phase === 'Failed') continue;
    if (st.phase === 'Pending') {
      g.ignored.add(name);
      continue;
    }
    const sample = samples.get(name);
    if (!sample) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = (st.conditions ?? []).find((c) => c.type === 'Ready');
      const start = st.startTime ? Date.parse(st.startTime) : NaN;
      let ignore: boolean;
      if (!ready || Number.isNaN(start)) ignore = true;
      else {
        const transition = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
        if (start + initPeriod > o.now)
          // Still initialising: ignore it while unready, or until a full window was sampled since it changed.
          ignore = ready.status === 'False' || sample.timestamp < transition + sample.windowMs;
        // Unready and never ready since it started.
        else ignore = ready.status === 'False' && start + readinessDelay > transition;
      }
      if (ignore) {
        g.ignored.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** Each pod's request of the resource (all containers, or one); throws upstream's message when one lacks it. */
export function podRequests(pods: KObject[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    let sum = 0;
    for (const c of podSpec(pod).containers ?? []) {
      if (container !== undefined && c.name !== container) continue;
      const req = milliOf(c.resources?.requests?.[resource]);
      if (req === undefined)
        throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${name}`);
      sum += req;
    }
    out.set(name, sum);
  }
  return out;
}

export interface Utilization {
  /** usage / target */
  usageRatio: number;
  /** percent of request, rounded down */
  utilization: number;
  /** average usage per pod, milli-units */
  rawAverage: number;
}

/** Utilization over the pods that have both a sample and a request. */
export function utilizationRatio(
  samples: PodSamples,
  requests: Map<string, number>,
  target: number,
): Utilization {
  let used = 0;
  let requested = 0;
  let counted = 0;
  for (const [name, s] of samples) {
    const r = requests.get(name);
    if (r === undefined) continue;
    used += s.value;
    requested += r;
    counted++;
  }
  if (requested === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.floor((used * 100) / requested);
  return { usageRatio: utilization / target, utilization, rawAverage: Math.floor(used / counted) };
}

export interface ReplicaProposal {
  replicas: number;
  /** percent of request (Utilization targets) */
  utilization?: number;
  /** average per pod, milli-units */
  average: number;
}

function withSubstitutes(
  samples: PodSamples,
  names: Set<string>,
  value: (name: string) => number,
): PodSamples {
  const out = new Map(samples);
  for (const n of names) out.set(n, { value: value(n), timestamp: 0, windowMs: 0 });
  return out;
}

/** Desired replicas for a Utilization target (percent of request). */
export function resourceUtilizationReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  pods: KObject[],
  samples: PodSamples,
  o: CalcOptions,
  container?: string,
): ReplicaProposal {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
  const { readyPodCount, ignored, missing } = groupPods(pods, samples, resource, o);
  const metrics = new Map(samples);
  for (const n of ignored) metrics.delete(n);
  // Only pods of this selector count.
  const names = new Set(pods.map((p) => p.metadata.name ?? ''));
  for (const n of [...metrics.keys()]) if (!names.has(n)) metrics.delete(n);
  const requests = podRequests(pods, resource, container);
  if (metrics.size === 0)
    throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const first = utilizationRatio(metrics, requests, targetUtilization);
  const keep = { replicas: currentReplicas, utilization: first.utilization, average: first.rawAverage };
  const rebalanceIgnored = ignored.size > 0 && first.usageRatio > 1;
  if (!rebalanceIgnored && missing.size === 0) {
    if (Math.abs(1 - first.usageRatio) <= tolerance) return keep;
    return { ...keep, replicas: Math.ceil(first.usageRatio * readyPodCount) };
  }
  let adjusted = metrics;
  if (missing.size > 0) {
    if (first.usageRatio < 1) adjusted = withSubstitutes(adjusted, missing, (n) => requests.get(n) ?? 0);
    else if (first.usageRatio > 1) adjusted = withSubstitutes(adjusted, missing, () => 0);
  }
  if (rebalanceIgnored) adjusted = withSubstitutes(adjusted, ignored, () => 0);
  const next = utilizationRatio(adjusted, requests, targetUtilization);
  if (
    Math.abs(1 - next.usageRatio) <= tolerance ||
    (first.usageRatio < 1 && next.usageRatio > 1) ||
    (first.usageRatio > 1 && next.usageRatio < 1)
  )
    return keep;
  const replicas = Math.ceil(next.usageRatio * adjusted.size);
  if (
    (next.usageRatio < 1 && replicas > currentReplicas) ||
    (next.usageRatio > 1 && replicas < currentReplicas)
  )
    return keep;
  return { ...keep, replicas };
}

/** Desired replicas for an AverageValue target (milli-units per pod). */
export function resourceAverageValueReplicas(
  currentReplicas: number,
  targetAverage: number,
  resource: string,
  pods: KObject[],
  samples: PodSamples,
  o: CalcOptions,
): ReplicaProposal {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
  const { readyPodCount, ignored, missing } = groupPods(pods, samples, resource, o);
  const names = new Set(pods.map((p) => p.metadata.name ?? ''));
  const metrics: PodSamples = new Map([...samples].filter(([n]) => names.has(n) && !ignored.has(n)));
  if (metrics.size === 0)
    throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const average = (m: PodSamples): number => [...m.values()].reduce((a, s) => a + s.value, 0) / m.size;
  const avg = average(metrics);
  const ratio = avg / targetAverage;
  const keep = { replicas: currentReplicas, average: Math.floor(avg) };
  const rebalanceIgnored = ignored.size > 0 && ratio > 1;
  if (!rebalanceIgnored && missing.size === 0) {
    if (Math.abs(1 - ratio) <= tolerance) return keep;
    return { ...keep, replicas: Math.ceil(ratio * readyPodCount) };
  }
  let adjusted = metrics;
  if (missing.size > 0) adjusted = withSubstitutes(adjusted, missing, () => (ratio < 1 ? targetAverage : 0));
  if (rebalanceIgnored) adjusted = withSubstitutes(adjusted, ignored, () => 0);
  const nextRatio = average(adjusted) / targetAverage;
  if (Math.abs(1 - nextRatio) <= tolerance || (ratio < 1 && nextRatio > 1) || (ratio > 1 && nextRatio < 1))
    return keep;
  return { ...keep, replicas: Math.ceil(nextRatio * adjusted.size) };
}
