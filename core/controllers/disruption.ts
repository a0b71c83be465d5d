/**
 * The disruption controller (pkg/controller/disruption semantics): keeps every PodDisruptionBudget's
 * status current so that the eviction subresource can decide.
 * - pods = the pods of the PDB's namespace its selector matches (policy/v1: `{}` matches all, null none);
 * - expectedPods / desiredHealthy: minAvailable as an integer → the number of pods and minAvailable;
 *   minAvailable as a percentage or maxUnavailable → the summed scale of the pods' controllers
 *   (ReplicationController, Deployment through its ReplicaSet, ReplicaSet, StatefulSet, any kind serving
 *   a scale subresource) and ceil(minAvailable% × expected), or expected − maxUnavailable (percentages
 *   rounded up); pods without a controller are "unmanaged" (warning event UnmanagedPods), a controller
 *   ref that resolves to nothing is an error ("found no controllers for pod …");
 * - currentHealthy = Ready pods that are not being deleted and not in status.disruptedPods (entries the
 *   eviction subresource adds; dropped when their pod is gone or being deleted, or after DeletionTimeout,
 *   with a recheck when the earliest one expires);
 * - disruptionsAllowed = max(0, currentHealthy − desiredHealthy), 0 while expectedPods is 0; condition
 *   DisruptionAllowed (True SufficientPods / False InsufficientPods), observedGeneration = generation;
 * - a failed sync (other than a conflict, which is retried) writes the fail-safe status: disruptionsAllowed
 *   0 and DisruptionAllowed False SyncFailed with the error;
 * - a pod left with a DisruptionTarget=True condition but not being deleted (an eviction whose delete never
 *   happened) has the condition reset to False after two minutes.
 * Status is written through the status subresource as the controller's user.
 */
import { deepCopy, rfc3339, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import {
  controllerRef,
  keyOf,
  splitKey,
  type SharedInformer,
  type SharedInformerFactory,
} from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import {
  pdbConditionsUpToDate,
  pdbSelects,
  pdbSpec,
  pdbStatus,
  setDisruptionAllowedCondition,
  setPdbCondition,
  type PdbStatus,
} from '../registry/policy/pdb-status.ts';
import { scaledValue } from './deployment.ts';
import { isPodReady, recordEvent } from './replicaset.ts';

/** How long an eviction's disruptedPods entry holds before the pod is expected to be deleted. */
export const DELETION_TIMEOUT_MS = 2 * 60_000;
/** How long a DisruptionTarget condition may stay on a pod that is not being deleted. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

const PDBS: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RCS: ResourceRef = { group: '', version: 'v1', resource: 'replicationcontrollers' };
const RSS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
const STATEFULSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const COMPONENT = 'controllermanager';

interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  lastTransitionTime?: string;
}

const podConditions = (p: KObject): PodCondition[] =>
  ((p['status'] ?? {}) as { conditions?: PodCondition[] }).conditions ?? [];
const podPhase = (p: KObject): string => ((p['status'] ?? {}) as { phase?: string }).phase ?? '';
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
interface PdbEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}
type OwnerRef = NonNullable<KObject['metadata']['ownerReferences']>[number];
const specReplicas = (o: KObject): number => ((o['spec'] ?? {}) as { replicas?: number }).replicas ?? 1;

export interface DisruptionControllerOptions {
  /** The clock (tests). */
  now?: () => number;
  deletionTimeoutMs?: number;
  stalePodDisruptionTimeoutMs?: number;
  workers?: number;
}

export class DisruptionController {
  readonly queue = new WorkQueue();
  /** Pod keys whose DisruptionTarget condition may have gone stale. */
  readonly staleQueue = new WorkQueue();
  private readonly pdbs: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly rcs: SharedInformer;
  private readonly rss: SharedInformer;
  private readonly deployments: SharedInformer;
  private readonly statefulsets: SharedInformer;
  private readonly now: () => number;
  private readonly deletionTimeoutMs: number;
  private readonly staleTimeoutMs: number;
  /** The events of each PDB's last sync (reason + message), so that a repeated sync does not repeat them. */
  private readonly lastEvents = new Map<string, Set<string>>();
  private running?: Promise<void>;
  private runningStale?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    private readonly opts: DisruptionControllerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.deletionTimeoutMs = opts.deletionTimeoutMs ?? DELETION_TIMEOUT_MS;
    this.staleTimeoutMs = opts.stalePodDisruptionTimeoutMs ?? STALE_POD_DISRUPTION_TIMEOUT_MS;
    this.pdbs = factory.informer(PDBS);
    this.pods = factory.informer(PODS);
    this.rcs = factory.informer(RCS);
    this.rss = factory.informer(RSS);
    this.deployments = factory.informer(DEPLOYMENTS);
    this.statefulsets = factory.informer(STATEFULSETS);
    this.pdbs.addHandlers({
      add: (p) => this.queue.add(keyOf(p)),
      update: (_old, p) => this.queue.add(keyOf(p)),
      delete: (p) => {
        this.lastEvents.delete(p.metadata.uid ?? '');
        this.queue.add(keyOf(p));
      },
    });
    this.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (old, p) => {
        if (JSON.stringify(old.metadata.labels) !== JSON.stringify(p.metadata.labels))
          this.enqueuePdbsFor(old);
        this.podChanged(p);
      },
      delete: (p) => this.enqueuePdbsFor(p),
    });
  }

  start(): void {
    this.running = runWorkers(this.queue, this.opts.workers ?? 2, (k) => this.sync(k));
    this.runningStale = runWorkers(this.staleQueue, 1, (k) => this.syncStalePodDisruption(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.staleQueue.shutDown();
    await this.running;
    await this.runningStale;
  }

  private podChanged(p: KObject): void {
    this.enqueuePdbsFor(p);
    const stale = this.staleDisruptionCondition(p);
    if (stale !== undefined) this.staleQueue.addAfter(keyOf(p), stale);
  }

  private enqueuePdbsFor(pod: KObject): void {
    for (const pdb of this.pdbs.list(pod.metadata.namespace ?? ''))
      if (pdbSelects(pdb, pod)) this.queue.add(keyOf(pdb));
  }

  /**
   * Records the events of one sync, each once per episode: an event the previous sync of the same PDB
   * also raised is not repeated (upstream's recorder aggregates repeats into a count instead).
   */
  private flushEvents(pdb: KObject, events: PdbEvent[]): void {
    const uid = pdb.metadata.uid ?? '';
    const before = this.lastEvents.get(uid);
    const now = new Set(events.map((e) => `${e.reason}\n${e.message}`));
    for (const e of events)
      if (!before?.has(`${e.reason}\n${e.message}`))
        recordEvent(this.client, COMPONENT, pdb, e.type, e.reason, e.message);
    if (now.size) this.lastEvents.set(uid, now);
    else this.lastEvents.delete(uid);
  }

  /** Reconcile one PDB's status from the caches. */
  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const pdb = this.pdbs.get(namespace, name);
    if (!pdb) return;
    const events: PdbEvent[] = [];
    try {
      return this.trySync(pdb, events);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw e;
      this.failSafe(pdb, e);
    } finally {
      this.flushEvents(pdb, events);
    }
  }

  private trySync(pdb: KObject, events: PdbEvent[]): { requeueAfterMs?: number } | void {
    const pods = this.pods.list(pdb.metadata.namespace ?? '').filter((p) => pdbSelects(pdb, p));
    if (!pods.length) events.push({ type: 'Normal', reason: 'NoPods', message: 'No matching pods found' });
    let counts: { expectedCount: number; desiredHealthy: number; unmanaged: string[] };
    try {
      counts = this.expectedPodCount(pdb, pods);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      events.push({
        type: 'Warning',
        reason: 'CalculateExpectedPodCountFailed',
        message: `Failed to calculate the number of expected pods: ${msg}`,
      });
      throw e;
    }
    if (counts.unmanaged.length)
      events.push({
        type: 'Warning',
        reason: 'UnmanagedPods',
        message:
          `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdbSpec(pdb).selector ?? null)}) were found ` +
          'to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. ' +
          'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
      });
    const now = this.now();
    const { disrupted, recheckAt } = this.disruptedPodMap(pdb, pods, now);
    let currentHealthy = 0;
    for (const p of pods)
      if (!p.metadata.deletionTimestamp && !Object.hasOwn(disrupted, p.metadata.name ?? '') && isPodReady(p))
        currentHealthy++;
    this.updateStatus(pdb, currentHealthy, counts.desiredHealthy, counts.expectedCount, disrupted);
    if (recheckAt !== undefined) return { requeueAfterMs: Math.max(1, recheckAt - now) };
  }

  /** getExpectedPodCount. */
  private expectedPodCount(
    pdb: KObject,
    pods: KObject[],
  ): { expectedCount: number; desiredHealthy: number; unmanaged: string[] } {
    const spec = pdbSpec(pdb);
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      const { expected, unmanaged } = this.expectedScale(pods);
      const maxUnavailable = intOrPercent(spec.maxUnavailable, expected);
      return { expectedCount: expected, desiredHealthy: Math.max(0, expected - maxUnavailable), unmanaged };
    }
    if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (typeof spec.minAvailable === 'number')
        return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanaged: [] };
      const { expected, unmanaged } = this.expectedScale(pods);
      return {
        expectedCount: expected,
        desiredHealthy: intOrPercent(spec.minAvailable, expected),
        unmanaged,
      };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** getExpectedScale: the sum of the scale of the pods' controllers. */
  private expectedScale(pods: KObject[]): { expected: number; unmanaged: string[] } {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerRef(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = this.controllerScale(ref, pod.metadata.namespace ?? '');
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name ?? ''}"`);
      scales.set(found.uid, found.scale);
    }
    let expected = 0;
    for (const n of scales.values()) expected += n;
    return { expected, unmanaged };
  }

  /**
   * The pod's controller and its scale, trying upstream's finders in order: ReplicationController,
   * Deployment (through its ReplicaSet), ReplicaSet (not one a Deployment controls), StatefulSet, then
   * any kind serving a scale subresource. Undefined when none finds it (a controller that is gone).
   */
  private controllerScale(ref: OwnerRef, ns: string): { uid: string; scale: number } | undefined {
    const group = ref.apiVersion.includes('/') ? (ref.apiVersion.split('/')[0] ?? '') : '';
    const apps = group === 'apps' || group === 'extensions';
    const cached = (informer: SharedInformer, r: OwnerRef): KObject | undefined => {
      const o = informer.get(ns, r.name);
      return o && o.metadata.uid === r.uid ? o : undefined;
    };
    const scaleOf = (o: KObject | undefined) => o && { uid: o.metadata.uid ?? '', scale: specReplicas(o) };
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = scaleOf(cached(this.rcs, ref));
      if (rc) return rc;
    }
    if (ref.kind === 'ReplicaSet' && apps) {
      const rs = cached(this.rss, ref);
      const owner = rs && controllerRef(rs);
      if (owner?.kind === 'Deployment') {
        const og = owner.apiVersion.split('/')[0];
        const d = og === 'apps' || og === 'extensions' ? scaleOf(cached(this.deployments, owner)) : undefined;
        if (d) return d;
      } else if (rs) return scaleOf(rs);
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const ss = scaleOf(cached(this.statefulsets, ref));
      if (ss) return ss;
    }
    return this.scaleSubresource(ref, ns);
  }

  /** getScaleController: the scale subresource of the controller's kind. */
  private scaleSubresource(ref: OwnerRef, ns: string): { uid: string; scale: number } | undefined {
    const r = this.client.resourceFor(ref.apiVersion, ref.kind);
    if (!r) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    try {
      const scale = this.client.getScale(r, ns, ref.name);
      const uid = this.client.get(r, ns, ref.name).metadata.uid;
      return uid === ref.uid ? { uid: ref.uid, scale: scale.replicas } : undefined;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      if ((e as StatusError).status.details?.kind === `${r.resource}/scale`)
        throw new Error(
          `${r.resource}${r.group ? `.${r.group}` : ''} does not implement the scale subresource`,
          { cause: e },
        );
      return undefined;
    }
  }

  /** buildDisruptedPodMap: the entries still pending, and when the earliest one expires. */
  private disruptedPodMap(
    pdb: KObject,
    pods: KObject[],
    now: number,
  ): { disrupted: Record<string, string>; recheckAt?: number } {
    const previous = pdbStatus(pdb).disruptedPods ?? {};
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      const name = pod.metadata.name ?? '';
      const at = previous[name];
      if (pod.metadata.deletionTimestamp || at === undefined) continue;
      const expires = Date.parse(at) + this.deletionTimeoutMs;
      if (!(expires >= now)) {
        recordEvent(
          this.client,
          COMPONENT,
          pod,
          'Warning',
          'NotDeleted',
          `Pod was expected by PDB ${pdb.metadata.namespace ?? ''}/${pdb.metadata.name ?? ''} to be deleted but it wasn't`,
        );
        continue;
      }
      disrupted[name] = at;
      if (recheckAt === undefined || expires < recheckAt) recheckAt = expires;
    }
    return { disrupted, ...(recheckAt === undefined ? {} : { recheckAt }) };
  }

  private updateStatus(
    pdb: KObject,
    currentHealthy: number,
    desiredHealthy: number,
    expectedCount: number,
    disrupted: Record<string, string>,
  ): void {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const old = pdbStatus(pdb);
    const generation = pdb.metadata.generation ?? 0;
    if (
      old.currentHealthy === currentHealthy &&
      old.desiredHealthy === desiredHealthy &&
      old.expectedPods === expectedCount &&
      old.disruptionsAllowed === disruptionsAllowed &&
      JSON.stringify(sorted(old.disruptedPods ?? {})) === JSON.stringify(sorted(disrupted)) &&
      (old.observedGeneration ?? 0) === generation &&
      pdbConditionsUpToDate(pdb)
    )
      return;
    const status: PdbStatus = {
      ...(generation ? { observedGeneration: generation } : {}),
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed,
      currentHealthy,
      desiredHealthy,
      expectedPods: expectedCount,
      ...(old.conditions ? { conditions: old.conditions } : {}),
    };
    setDisruptionAllowedCondition(status, new Date(this.now()));
    this.writeStatus(pdb, status);
  }

  /** failSafe: at least make sure no eviction is approved on a status we could not compute. */
  private failSafe(pdb: KObject, err: unknown): void {
    const status: Partial<PdbStatus> = { ...deepCopy(pdbStatus(pdb)), disruptionsAllowed: 0 };
    setPdbCondition(status, {
      type: 'DisruptionAllowed',
      status: 'False',
      reason: 'SyncFailed',
      message: err instanceof Error ? err.message : String(err),
      ...(status.observedGeneration ? { observedGeneration: status.observedGeneration } : {}),
      lastTransitionTime: rfc3339(new Date(this.now())),
    });
    if (JSON.stringify(status) !== JSON.stringify(pdbStatus(pdb))) this.writeStatus(pdb, status);
  }

  /** One write through the status subresource; a conflict fails the sync (requeued, rate limited). */
  private writeStatus(pdb: KObject, status: Partial<PdbStatus>): void {
    this.client.update(PDBS, pdb.metadata.namespace ?? '', { ...pdb, status }, 'status');
  }

  /**
   * nonTerminatingPodHasStaleDisruptionCondition: ms until a pod's DisruptionTarget=True condition is
   * stale (0 = now), or undefined when it has none that can go stale.
   */
  private staleDisruptionCondition(pod: KObject): number | undefined {
    if (pod.metadata.deletionTimestamp) return undefined;
    const c = podConditions(pod).find((x) => x.type === 'DisruptionTarget');
    const phase = podPhase(pod);
    if (
      !c ||
      c.status !== 'True' ||
      c.reason === 'TerminationByKubelet' ||
      phase === 'Succeeded' ||
      phase === 'Failed'
    )
      return undefined;
    const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
    return Math.max(0, this.staleTimeoutMs - (this.now() - (Number.isNaN(since) ? 0 : since)));
  }

  /** syncStalePodDisruption: reset a stale DisruptionTarget condition to False. */
  syncStalePodDisruption(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(namespace, name);
    if (!pod) return;
    const wait = this.staleDisruptionCondition(pod);
    if (wait === undefined) return;
    if (wait > 0) return { requeueAfterMs: wait };
    const next = deepCopy(pod);
    const st = (next['status'] ??= {}) as { conditions?: Record<string, unknown>[] };
    st.conditions = (st.conditions ?? []).map((c) =>
      c['type'] === 'DisruptionTarget'
        ? {
            type: 'DisruptionTarget',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: rfc3339(new Date(this.now())),
          }
        : c,
    );
    try {
      this.client.update(PODS, namespace, next, 'status');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** intstr.GetScaledValueFromIntOrPercent with rounding up (validation guarantees the format). */
function intOrPercent(v: number | string, total: number): number {
  if (typeof v === 'string' && !/^\d+%$/.test(v))
    throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or percentage`);
  return scaledValue(v, total, true);
}

function sorted(m: Record<string, string>): [string, string][] {
  return Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
