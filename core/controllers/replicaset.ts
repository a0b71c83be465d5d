/**
 * The ReplicaSet controller (pkg/controller/replicaset semantics), also usable for ReplicationControllers
 * (replicationControllerKind): informers on the owner kind and on pods → a work queue of owner keys →
 * sync(key) from the cache:
 * - claim pods (ControllerRefManager): adopt active orphans matching the selector (controller
 *   ownerReference with blockOwnerDeletion, after a live check that the owner still exists and is not
 *   being deleted), release owned pods whose labels no longer match;
 * - manage replicas: create missing pods from the template in slow-start batches (1, 2, 4, …; at most
 *   500 per sync) or delete surplus ones, most expendable first (Kubernetes' ActivePodsWithRanks order);
 * - write status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas with minReadySeconds,
 *   observedGeneration, ReplicaFailure condition) through the status subresource.
 * Writes go through the API as the controller's own user; the informer cache is updated synchronously by
 * the store's fan-out, so a sync sees its own writes (no expectations needed).
 */
import { randomBytes } from 'node:crypto';
import { deepCopy, type KObject, rfc3339 } from '../api/object.ts';
import { isPodReady, podReadyCondition } from '../api/pod-conditions.ts';
import { StatusError } from '../api/status.ts';
import { fromLabelSelectorObject, matchesLabels, type LabelSelector } from '../apiserver/label-selector.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import {
  controllerRef,
  keyOf,
  splitKey,
  type SharedInformer,
  SharedInformerFactory,
} from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { OwnedObjectEvents } from './owned-events.ts';

export const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };

/** The maximum number of pods created or deleted in one sync (burstReplicas). */
export const BURST_REPLICAS = 500;

export interface ControlledKind {
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  component: string;
  /** The owner's selector as requirements (undefined = selects nothing). */
  selector(obj: KObject): LabelSelector | undefined;
}

export const replicaSetKind: ControlledKind = {
  ref: { group: 'apps', version: 'v1', resource: 'replicasets' },
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  selector: (o) => fromLabelSelectorObject((o['spec'] as { selector?: unknown } | undefined)?.selector),
};

export const replicationControllerKind: ControlledKind = {
  ref: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  apiVersion: 'v1',
  kind: 'ReplicationController',
  component: 'replication-controller',
  selector: (o) => {
    const spec = (o['spec'] ?? {}) as { selector?: Record<string, string>; template?: PodTemplate };
    const sel = spec.selector ?? spec.template?.metadata?.labels;
    return sel && Object.keys(sel).length ? fromLabelSelectorObject({ matchLabels: sel }) : undefined;
  },
};

// ---- pod helpers (pkg/api/v1/pod, pkg/controller/controller_utils) ----

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: Record<string, unknown>;
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  reason?: string;
  message?: string;
}

interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: { restartCount?: number }[];
}

const podStatus = (p: KObject): PodStatus => (p['status'] ?? {}) as PodStatus;
const nodeName = (p: KObject): string => ((p['spec'] ?? {}) as { nodeName?: string }).nodeName ?? '';

export { isPodReady, podReadyCondition };

/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(p: KObject, minReadySeconds: number, now = Date.now()): boolean {
  const c = podReadyCondition(p);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(t) && t + minReadySeconds * 1000 <= now;
}

/** Not terminal and not being deleted (controller.IsPodActive). */
export function isPodActive(p: KObject): boolean {
  const phase = podStatus(p).phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

const phaseRank = (p: KObject): number => {
  const ph = podStatus(p).phase;
  return ph === 'Pending' ? 0 : ph === 'Unknown' ? 1 : ph === 'Running' ? 2 : 3;
};
const restarts = (p: KObject): number =>
  Math.max(0, ...(podStatus(p).containerStatuses ?? []).map((c) => c.restartCount ?? 0));
const ts = (s: string | undefined): number => (s ? Date.parse(s) : 0);
const deletionCost = (p: KObject): number => {
  const v = Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0);
  return Number.isFinite(v) ? v : 0;
};

/**
 * Order pods so that the ones to delete first come first (controller.ActivePodsWithRanks.Less):
 * unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower deletion cost; more pods
 * of the same owner family on the node (rank) first; ready for less time first; more restarts first;
 * newer first.
 */
export function rankPodsForDeletion(pods: KObject[], related: KObject[] = pods): KObject[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    const n = nodeName(p);
    if (n && isPodActive(p)) onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const rank = (p: KObject): number => (nodeName(p) ? (onNode.get(nodeName(p)) ?? 0) : 0);
  return [...pods].sort((a, b) => {
    const na = nodeName(a) ? 1 : 0;
    const nb = nodeName(b) ? 1 : 0;
    if (na !== nb) return na - nb;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ra && rb) {
      const ta = ts(podReadyCondition(a)?.lastTransitionTime);
      const tb = ts(podReadyCondition(b)?.lastTransitionTime);
      if (ta !== tb) return tb - ta; // ready more recently first
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    const ca = ts(a.metadata.creationTimestamp);
    const cb = ts(b.metadata.creationTimestamp);
    if (ca !== cb) return cb - ca; // newer first
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
}

/** Run fn count times in batches of 1, 2, 4, … stopping after the first batch with an error. */
export function slowStartBatch(
  count: number,
  initial: number,
  fn: () => void,
): { ok: number; error?: unknown } {
  let remaining = count;
  let ok = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    let error: unknown;
    for (let i = 0; i < batch; i++) {
      try {
        fn();
        ok++;
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== undefined) return { ok, error };
    remaining -= batch;
  }
  return { ok };
}

export function ownerRefFor(owner: KObject, apiVersion: string, kind: string) {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A Normal/Warning event about an object (best effort). */
export function recordEvent(
  client: InProcessClient,
  component: string,
  obj: KObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): void {
  const now = rfc3339();
  const ns = obj.metadata.namespace || 'default';
  try {
    client.create(EVENTS, ns, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name ?? ''}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: component,
      reportingInstance: '',
    });
  } catch {
    /* events are best effort */
  }
}

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;

/**
 * Claim objects for an owner (ControllerRefManager.ClaimObjects): returns the objects it controls after
 * adopting matching orphans and releasing owned ones that no longer match. Writes go through `ref`.
 */
export function claimObjects(
  client: InProcessClient,
  ref: ResourceRef,
  owner: KObject,
  ownerKind: { apiVersion: string; kind: string; ref: ResourceRef },
  selector: LabelSelector,
  candidates: KObject[],
): KObject[] {
  const uid = owner.metadata.uid ?? '';
  const ns = owner.metadata.namespace ?? '';
  const ownerDeleting = !!owner.metadata.deletionTimestamp;
  let canAdopt: boolean | undefined;
  const out: KObject[] = [];
  for (const obj of candidates) {
    const cref = controllerRef(obj);
    const matches = matchesLabels(selector, obj.metadata.labels);
    if (cref) {
      if (cref.uid !== uid) continue;
      if (matches) {
        out.push(obj);
        continue;
      }
      if (ownerDeleting) continue;
      // Release.
      try {
        const live = client.get(ref, ns, obj.metadata.name ?? '');
        const refs = (live.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        const meta = { ...live.metadata };
        if (refs.length) meta.ownerReferences = refs;
        else delete meta.ownerReferences;
        client.update(ref, ns, { ...live, metadata: meta });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      continue;
    }
    if (ownerDeleting || !matches || obj.metadata.deletionTimestamp) continue;
    if (canAdopt === undefined) {
      // Recheck with a live read that the owner is still there and not being deleted (canAdoptFunc).
      try {
        const fresh = client.get(ownerKind.ref, ns, owner.metadata.name ?? '');
        canAdopt = fresh.metadata.uid === uid && !fresh.metadata.deletionTimestamp;
      } catch (e) {
        if (!isNotFound(e)) throw e;
        canAdopt = false;
      }
    }
    if (!canAdopt) continue;
    try {
      const live = client.get(ref, ns, obj.metadata.name ?? '');
      if (live.metadata.uid !== obj.metadata.uid || controllerRef(live) || live.metadata.deletionTimestamp)
        continue;
      if (!matchesLabels(selector, live.metadata.labels)) continue;
      const updated = client.update(ref, ns, {
        ...live,
        metadata: {
          ...live.metadata,
          ownerReferences: [
            ...(live.metadata.ownerReferences ?? []),
            ownerRefFor(owner, ownerKind.apiVersion, ownerKind.kind),
          ],
        },
      });
      out.push(updated);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return out;
}

interface RSSpec {
  replicas?: number;
  minReadySeconds?: number;
  template?: PodTemplate;
}

interface RSStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export class ReplicaSetController {
  readonly queue = new WorkQueue();
  private readonly owners: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  private readonly owned: OwnedObjectEvents;

  constructor(
    private readonly client: InProcessClient,
    private readonly kind: ControlledKind = replicaSetKind,
    factory?: SharedInformerFactory,
    private readonly workers = 2,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.owners = f.informer(kind.ref);
    this.pods = f.informer(PODS);
    this.owners.addHandlers({
      add: (o) => this.queue.add(keyOf(o)),
      update: (_old, o) => this.queue.add(keyOf(o)),
      delete: (o) => this.queue.add(keyOf(o)),
    });
    this.owned = new OwnedObjectEvents(this.owners, kind.kind, (o) => kind.selector(o), this.queue);
    this.pods.addHandlers(
      this.owned.handlers((owner) => ((owner['spec'] ?? {}) as RSSpec).minReadySeconds ?? 0),
    );
  }

  /** Start the informers (if this controller owns them) and the workers. */
  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, this.workers, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  /** Reconcile one owner from the cache. */
  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const rs = this.owners.get(namespace, name);
    if (!rs) return;
    const spec = (rs['spec'] ?? {}) as RSSpec;
    const selector = this.kind.selector(rs);
    const active = this.pods.list(namespace).filter(isPodActive);
    let pods: KObject[] = [];
    let manageError: { reason: string; message: string } | undefined;
    if (selector && selector.length) {
      pods = claimObjects(this.client, PODS, rs, this.kind, selector, active);
      if (!rs.metadata.deletionTimestamp) manageError = this.manageReplicas(rs, spec, pods, active);
      pods = this.pods
        .byOwner(rs.metadata.uid ?? '')
        .filter((p) => controllerRef(p)?.uid === rs.metadata.uid && isPodActive(p));
    }
    const minReady = spec.minReadySeconds ?? 0;
    const now = Date.now();
    const templateLabels = spec.template?.metadata?.labels ?? {};
    const status: RSStatus = {
      ...((rs['status'] ?? {}) as RSStatus),
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) =>
        Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
      ).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: pods.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation ?? 0,
    };
    const conds = (status.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    if (manageError) {
      const prev = (status.conditions ?? []).find((c) => c.type === 'ReplicaFailure');
      conds.push({
        type: 'ReplicaFailure',
        status: 'True',
        lastTransitionTime: prev?.status === 'True' ? (prev.lastTransitionTime ?? rfc3339()) : rfc3339(),
        reason: manageError.reason,
        message: manageError.message,
      });
    }
    if (conds.length) status.conditions = conds;
    else delete status.conditions;
    // omitempty, as Kubernetes serializes it (replicas is always present).
    for (const k of [
      'fullyLabeledReplicas',
      'readyReplicas',
      'availableReplicas',
      'observedGeneration',
    ] as const)
      if (!status[k]) delete status[k];
    this.writeStatus(rs, status);
    if (manageError) throw new Error(manageError.message);
    // Come back when a ready pod becomes available.
    if (minReady > 0 && (status.readyReplicas ?? 0) !== (status.availableReplicas ?? 0)) {
      let soonest = Infinity;
      for (const p of pods) {
        const c = podReadyCondition(p);
        if (c?.status === 'True' && !isPodAvailable(p, minReady, now))
          soonest = Math.min(soonest, ts(c.lastTransitionTime) + minReady * 1000 - now);
      }
      if (Number.isFinite(soonest)) return { requeueAfterMs: Math.max(10, soonest + 10) };
    }
  }

  private manageReplicas(
    rs: KObject,
    spec: RSSpec,
    pods: KObject[],
    active: KObject[],
  ): { reason: string; message: string } | undefined {
    const want = spec.replicas ?? 1;
    const diff = pods.length - want;
    const ns = rs.metadata.namespace ?? '';
    if (diff < 0) {
      const n = Math.min(-diff, BURST_REPLICAS);
      // The creates (and their events) share one commit, as concurrent creates share etcd's.
      const res = this.client.batch(() =>
        slowStartBatch(n, 1, () => {
          const pod = this.podFromTemplate(rs, spec.template ?? {});
          const created = this.client.create(PODS, ns, pod);
          recordEvent(
            this.client,
            this.kind.component,
            rs,
            'Normal',
            'SuccessfulCreate',
            `Created pod: ${created.metadata.name ?? ''}`,
          );
        }),
      );
      if (res.error !== undefined) {
        const msg = res.error instanceof Error ? res.error.message : String(res.error);
        recordEvent(
          this.client,
          this.kind.component,
          rs,
          'Warning',
          'FailedCreate',
          `Error creating: ${msg}`,
        );
        return { reason: 'FailedCreate', message: msg };
      }
    } else if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      // Related pods: those of the same controller family (siblings sharing our owner's controller).
      const ownerOfRs = controllerRef(rs);
      const related = ownerOfRs
        ? active.filter((p) => {
            const r = controllerRef(p);
            if (!r) return false;
            const o = this.owners.get(ns, r.name);
            return !!o && controllerRef(o)?.uid === ownerOfRs.uid;
          })
        : pods;
      const victims = rankPodsForDeletion(pods, related).slice(0, n);
      let error: unknown;
      for (const p of victims) {
        try {
          this.client.delete(PODS, ns, p.metadata.name ?? '', {
            preconditions: { uid: p.metadata.uid ?? '' },
          });
          recordEvent(
            this.client,
            this.kind.component,
            rs,
            'Normal',
            'SuccessfulDelete',
            `Deleted pod: ${p.metadata.name ?? ''}`,
          );
        } catch (e) {
          if (!isNotFound(e)) error ??= e;
        }
      }
      if (error !== undefined) {
        const msg = error instanceof Error ? error.message : String(error);
        recordEvent(
          this.client,
          this.kind.component,
          rs,
          'Warning',
          'FailedDelete',
          `Error deleting: ${msg}`,
        );
        return { reason: 'FailedDelete', message: msg };
      }
    }
    return undefined;
  }

  private podFromTemplate(rs: KObject, template: PodTemplate): KObject {
    const t = deepCopy(template);
    const metadata: KObject['metadata'] = {
      generateName: `${rs.metadata.name ?? ''}-`,
      namespace: rs.metadata.namespace,
      ownerReferences: [ownerRefFor(rs, this.kind.apiVersion, this.kind.kind)],
    };
    if (t.metadata?.labels) metadata.labels = t.metadata.labels;
    if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
    if (t.metadata?.finalizers) metadata.finalizers = t.metadata.finalizers;
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec: t.spec ?? {} };
  }

  private writeStatus(rs: KObject, status: RSStatus): void {
    if (JSON.stringify(rs['status'] ?? {}) === JSON.stringify(status)) return;
    const ns = rs.metadata.namespace ?? '';
    try {
      this.client.update(this.kind.ref, ns, { ...rs, status }, 'status');
    } catch (e) {
      if (isNotFound(e)) return;
      if (!(e instanceof StatusError && e.code === 409)) throw e;
      // Conflict: retry once on the live object.
      const live = this.client.get(this.kind.ref, ns, rs.metadata.name ?? '');
      if (live.metadata.uid !== rs.metadata.uid) return;
      this.client.update(this.kind.ref, ns, { ...live, status }, 'status');
    }
  }
}
