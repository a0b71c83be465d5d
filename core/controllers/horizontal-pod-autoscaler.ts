/**
 * The HorizontalPodAutoscaler controller (kube-controller-manager's podautoscaler, semantics only).
 * Every 15 s, and whenever an autoscaler changes, for each HorizontalPodAutoscaler (autoscaling/v2
 * storage): read the target's scale subresource (any kind that serves one), list its pods by the
 * scale's selector, compute a proposal per metric from the resource metrics API (Resource and
 * ContainerResource metrics; cpu/memory, Utilization or AverageValue) and take the highest, normalize
 * it (stabilization, rate limits, min/max — hpa-normalize.ts), write the target's replicas through
 * /scale, and record status: currentReplicas, desiredReplicas, currentMetrics, lastScaleTime and the
 * AbleToScale / ScalingActive / ScalingLimited conditions, with upstream's events (SuccessfulRescale,
 * FailedGetResourceMetric, FailedComputeMetricsReplicas, FailedGetScale, FailedRescale).
 * A target scaled to 0 disables autoscaling (ScalingDisabled). Without a metrics source (simulated
 * nodes have none) the autoscaler says that no metrics were returned, as a cluster without
 * metrics-server does.
 */
import { deepCopy, type KObject, rfc3339 } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { matchesLabels, parseLabelSelector } from '../apiserver/label-selector.ts';
import { formatNanos } from '../registry/core/quantity.ts';
import { recordEvent } from './replicaset.ts';
import {
  milliOf,
  resourceAverageValueReplicas,
  resourceUtilizationReplicas,
  samplesFrom,
  type CalcOptions,
  type ReplicaProposal,
} from './hpa-replicas.ts';
import {
  defaultBehavior,
  normalizeLegacy,
  normalizeWithBehavior,
  recordScaleEvent,
  type Behavior,
  type Recommendation,
  type ScaleEvent,
} from './hpa-normalize.ts';

export const HPAS: ResourceRef = {
  group: 'autoscaling',
  version: 'v2',
  resource: 'horizontalpodautoscalers',
};
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const COMPONENT = 'horizontal-pod-autoscaler';

/** What the resource metrics API (metrics.k8s.io) answers for pods; undefined when it is not there. */
export type PodMetricsSource = (namespace: string, labelSelector: string) => KObject[] | undefined;

export interface HpaOptions {
  podMetrics?: PodMetricsSource;
  /** --horizontal-pod-autoscaler-sync-period */
  syncPeriodMs?: number;
  now?: () => number;
  calc?: Omit<CalcOptions, 'now'>;
}

interface MetricTarget {
  type?: string;
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}
interface MetricSpec {
  type?: string;
  resource?: { name?: string; target?: MetricTarget };
  containerResource?: { name?: string; container?: string; target?: MetricTarget };
  pods?: { metric?: { name?: string } };
  object?: { metric?: { name?: string } };
  external?: { metric?: { name?: string } };
}
interface HpaSpec {
  scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string };
  minReplicas?: number;
  maxReplicas?: number;
  metrics?: MetricSpec[];
  behavior?: Behavior;
}
interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}
interface HpaStatus {
  currentReplicas?: number;
  desiredReplicas?: number;
  currentMetrics?: Record<string, unknown>[];
  lastScaleTime?: string;
  conditions?: Condition[];
}

const hpaSpec = (o: KObject): HpaSpec => (o['spec'] ?? {}) as HpaSpec;

class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const quantityFromMilli = (milli: number): string =>
  formatNanos(BigInt(Math.round(milli)) * 1_000_000n, 'DecimalSI');

/** How upstream names a metric in SuccessfulRescale reasons. */
function metricDescription(m: MetricSpec): string {
  if (m.type === 'Resource' || m.type === 'ContainerResource') {
    const r = m.type === 'Resource' ? m.resource : m.containerResource;
    const name = r?.name ?? '';
    const container =
      m.type === 'ContainerResource' ? ` on container ${r && 'container' in r ? r.container : ''}` : '';
    return r?.target?.type === 'Utilization'
      ? `${name}${container} resource utilization (percentage of request)`
      : `${name}${container} resource`;
  }
  const name = m.pods?.metric?.name ?? m.object?.metric?.name ?? m.external?.metric?.name ?? '';
  return `${name} ${String(m.type ?? '').toLowerCase()} metric`;
}

export class HorizontalPodAutoscalerController {
  readonly queue = new WorkQueue();
  private readonly hpas: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  private readonly now: () => number;
  private readonly history = new Map<
    string,
    { recommendations: Recommendation[]; ups: ScaleEvent[]; downs: ScaleEvent[] }
  >();

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly opts: HpaOptions = {},
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.now = opts.now ?? Date.now;
    this.hpas = f.informer(HPAS);
    this.pods = f.informer(PODS);
    this.hpas.addHandlers({
      add: (h) => this.queue.add(keyOf(h)),
      update: (o, h) => {
        // Our own status writes do not need a new round; spec changes do (the resync covers the rest).
        if (o.metadata.generation !== h.metadata.generation) this.queue.add(keyOf(h));
      },
      delete: (h) => this.history.delete(keyOf(h)),
    });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, 1, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const cached = this.hpas.get(namespace, name);
    if (!cached) {
      this.history.delete(key);
      return;
    }
    const hpa = deepCopy(cached);
    this.reconcile(key, hpa);
    return { requeueAfterMs: this.opts.syncPeriodMs ?? 15_000 };
  }

  private historyOf(key: string): {
    recommendations: Recommendation[];
    ups: ScaleEvent[];
    downs: ScaleEvent[];
  } {
    let h = this.history.get(key);
    if (!h) this.history.set(key, (h = { recommendations: [], ups: [], downs: [] }));
    return h;
  }

  private reconcile(key: string, hpa: KObject): void {
    const spec = hpaSpec(hpa);
    const before = deepCopy((hpa['status'] ?? {}) as HpaStatus);
    const status: HpaStatus = deepCopy(before);
    const ns = hpa.metadata.namespace ?? '';
    const ref = spec.scaleTargetRef ?? {};
    const setCondition = (type: string, ok: boolean, reason: string, message: string): void =>
      this.setCondition(status, type, ok, reason, message);
    const target = ref.apiVersion && ref.kind ? this.client.resourceFor(ref.apiVersion, ref.kind) : undefined;

    let scale: ReturnType<InProcessClient['getScale']>;
    try {
      if (!target)
        throw new Error(`no matches for kind "${ref.kind ?? ''}" in group "${ref.apiVersion ?? ''}"`);
      scale = this.client.getScale(target, ns, ref.name ?? '');
    } catch (e) {
      const msg = `the HPA controller was unable to get the target's current scale: ${this.errText(e)}`;
      recordEvent(this.client, COMPONENT, hpa, 'Warning', 'FailedGetScale', this.errText(e));
      setCondition('AbleToScale', false, 'FailedGetScale', msg);
      this.writeStatus(hpa, before, status);
      return;
    }
    setCondition(
      'AbleToScale',
      true,
      'SucceededGetScale',
      "the HPA controller was able to get the target's current scale",
    );
    const currentReplicas = scale.replicas;
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas ?? 1;
    const now = this.now();
    let desired: number;
    let rescaleReason = '';

    if (currentReplicas === 0 && min !== 0) {
      desired = 0;
      setCondition(
        'ScalingActive',
        false,
        'ScalingDisabled',
        'scaling is disabled since the replica count of the target is zero',
      );
      status.currentMetrics = undefined;
    } else if (currentReplicas > max) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desired = max;
    } else if (currentReplicas < min) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      const computed = this.computeReplicas(hpa, spec, scale, currentReplicas, now, status);
      status.currentMetrics = computed.metrics;
      if (computed.error) {
        recordEvent(this.client, COMPONENT, hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error);
        status.currentReplicas = scale.statusReplicas;
        status.desiredReplicas ??= currentReplicas;
        this.writeStatus(hpa, before, status);
        return;
      }
      const h = this.historyOf(key);
      const n = spec.behavior
        ? normalizeWithBehavior(
            currentReplicas,
            computed.replicas,
            min,
            max,
            defaultBehavior(spec.behavior),
            h,
            now,
          )
        : normalizeLegacy(currentReplicas, computed.replicas, min, max, h.recommendations, now);
      setCondition('AbleToScale', true, n.stabilization.reason, n.stabilization.message);
      setCondition('ScalingLimited', n.limited.status, n.limited.reason, n.limited.message);
      desired = n.replicas;
      rescaleReason = computed.reason;
    }

    const rescale = desired !== currentReplicas && !(currentReplicas === 0 && min !== 0);
    if (rescale) {
      try {
        this.client.updateScale(target, ns, ref.name ?? '', desired);
      } catch (e) {
        const err = this.errText(e);
        recordEvent(
          this.client,
          COMPONENT,
          hpa,
          'Warning',
          'FailedRescale',
          `New size: ${desired}; reason: ${rescaleReason}; error: ${err}`,
        );
        setCondition(
          'AbleToScale',
          false,
          'FailedUpdateScale',
          `the HPA controller was unable to update the target scale: ${err}`,
        );
        this.writeStatus(hpa, before, status);
        return;
      }
      if (spec.behavior)
        recordScaleEvent(defaultBehavior(spec.behavior), this.historyOf(key), currentReplicas, desired, now);
      setCondition(
        'AbleToScale',
        true,
        'SucceededRescale',
        `the HPA controller was able to update the target scale to ${desired}`,
      );
      recordEvent(
        this.client,
        COMPONENT,
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desired}; reason: ${rescaleReason}`,
      );
      status.lastScaleTime = rfc3339(new Date(now));
    }
    status.currentReplicas = scale.statusReplicas;
    status.desiredReplicas = desired;
    this.writeStatus(hpa, before, status);
  }

  /** The highest proposal over the metrics; statuses per metric; an error when every metric failed. */
  private computeReplicas(
    hpa: KObject,
    spec: HpaSpec,
    scale: { selector: string },
    currentReplicas: number,
    now: number,
    status: HpaStatus,
  ): { replicas: number; reason: string; metrics: Record<string, unknown>[]; error?: string } {
    const metrics = spec.metrics ?? [];
    const statuses: Record<string, unknown>[] = metrics.map(() => ({ type: '' }));
    let best = 0;
    let bestMetric = '';
    let invalid = 0;
    let firstError = '';
    const selector = parseLabelSelector(scale.selector);
    const ns = hpa.metadata.namespace ?? '';
    const pods = this.pods
      .list()
      .filter((p) => p.metadata.namespace === ns && matchesLabels(selector, p.metadata.labels ?? {}));
    metrics.forEach((m, i) => {
      try {
        const r = this.metricProposal(m, currentReplicas, ns, scale.selector, pods, now);
        statuses[i] = r.status;
        if (r.proposal.replicas > best || !bestMetric) {
          best = Math.max(best, r.proposal.replicas);
          bestMetric = metricDescription(m);
        }
      } catch (e) {
        invalid++;
        const err =
          e instanceof MetricError
            ? e
            : new MetricError('FailedGetResourceMetric', String((e as Error).message));
        recordEvent(this.client, COMPONENT, hpa, 'Warning', err.reason, err.message);
        this.setCondition(
          status,
          'ScalingActive',
          false,
          err.reason,
          `the HPA was unable to compute the replica count: ${err.message}`,
        );
        firstError ||= err.message;
      }
    });
    // All metrics failed, or some did and the rest would scale down: no decision on partial data.
    if (metrics.length === 0 || invalid >= metrics.length || (invalid > 0 && best < currentReplicas))
      return {
        replicas: 0,
        reason: '',
        metrics: statuses,
        error: `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstError || 'no metrics'}`,
      };
    this.setCondition(
      status,
      'ScalingActive',
      true,
      'ValidMetricFound',
      `the HPA was able to successfully calculate a replica count from ${bestMetric}`,
    );
    const reason =
      best > currentReplicas
        ? `${bestMetric} above target`
        : best < currentReplicas
          ? 'All metrics below target'
          : '';
    return { replicas: best, reason, metrics: statuses };
  }

  private metricProposal(
    m: MetricSpec,
    currentReplicas: number,
    ns: string,
    selector: string,
    pods: KObject[],
    now: number,
  ): { proposal: ReplicaProposal; status: Record<string, unknown> } {
    if (m.type !== 'Resource' && m.type !== 'ContainerResource') {
      const reason = `FailedGet${m.type ?? ''}Metric`;
      throw new MetricError(
        reason,
        `unable to get ${String(m.type ?? '').toLowerCase()} metric: this cluster serves only the resource metrics API (metrics.k8s.io); no custom or external metrics API is registered`,
      );
    }
    const src = m.type === 'Resource' ? m.resource : m.containerResource;
    const resource = src?.name ?? '';
    const container = m.type === 'ContainerResource' ? (m.containerResource?.container ?? '') : undefined;
    const reason = m.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
    const t = src?.target ?? {};
    const what = t.type === 'Utilization' ? `${resource} utilization` : `${resource} usage`;
    const fail = (msg: string): never => {
      throw new MetricError(reason, `failed to get ${what}: ${msg}`);
    };
    const podMetrics = this.opts.podMetrics?.(ns, selector);
    if (!podMetrics || podMetrics.length === 0)
      fail(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const samples = samplesFrom(podMetrics ?? [], resource, container);
    if (samples.size === 0)
      fail(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const calc: CalcOptions = { ...this.opts.calc, now };
    const entry = (current: Record<string, unknown>): Record<string, unknown> =>
      m.type === 'Resource'
        ? { type: 'Resource', resource: { name: resource, current } }
        : { type: 'ContainerResource', containerResource: { name: resource, container, current } };
    try {
      if (t.type === 'Utilization') {
        const p = resourceUtilizationReplicas(
          currentReplicas,
          t.averageUtilization ?? 0,
          resource,
          pods,
          samples,
          calc,
          container,
        );
        return {
          proposal: p,
          status: entry({ averageUtilization: p.utilization, averageValue: quantityFromMilli(p.average) }),
        };
      }
      const avg = milliOf(t.averageValue);
      if (t.type !== 'AverageValue' || avg === undefined || avg <= 0)
        fail(
          `invalid target for ${resource}: only Utilization and AverageValue targets apply to resource metrics`,
        );
      const p = resourceAverageValueReplicas(currentReplicas, avg ?? 1, resource, pods, samples, calc);
      return { proposal: p, status: entry({ averageValue: quantityFromMilli(p.average) }) };
    } catch (e) {
      if (e instanceof MetricError) throw e;
      return fail((e as Error).message);
    }
  }

  private setCondition(status: HpaStatus, type: string, ok: boolean, reason: string, message: string): void {
    const conditions = (status.conditions ??= []);
    const s = ok ? 'True' : 'False';
    const existing = conditions.find((c) => c.type === type);
    const at = rfc3339(new Date(this.now()));
    if (!existing) conditions.push({ type, status: s, lastTransitionTime: at, reason, message });
    else {
      if (existing.status !== s) existing.lastTransitionTime = at;
      existing.status = s;
      existing.reason = reason;
      existing.message = message;
    }
    // Upstream's order: AbleToScale, ScalingActive, ScalingLimited.
    const order = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
    conditions.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  }

  private writeStatus(hpa: KObject, before: HpaStatus, status: HpaStatus): void {
    if (status.currentMetrics === undefined) delete status.currentMetrics;
    if (JSON.stringify(before) === JSON.stringify(status)) return;
    try {
      this.client.update(HPAS, hpa.metadata.namespace ?? '', { ...hpa, status } as KObject, 'status');
    } catch (e) {
      // A concurrent change: the next round (the update event or the resync) writes it again.
      if (!(e instanceof StatusError && (e.code === 409 || e.code === 404))) throw e;
    }
  }

  private errText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
  }
}
