/**
 * The StatefulSet controller (pkg/controller/statefulset semantics): informers on StatefulSets, Pods,
 * PersistentVolumeClaims and ControllerRevisions → a work queue of set keys → sync(key) from the cache.
 * - Revisions: the template as a ControllerRevision (`<set>-<hash>`, hash = FNV-1 of the revision data and
 *   status.collisionCount); status.currentRevision / updateRevision name them and pods carry the name in
 *   controller-revision-hash. A template equal to an older revision renumbers that one (rollout undo).
 * - Pods `<set>-<ordinal>` for ordinals [spec.ordinals.start, start + replicas), hostname = pod name,
 *   subdomain = spec.serviceName, labels statefulset.kubernetes.io/pod-name and apps.kubernetes.io/
 *   pod-index; a volume per volumeClaimTemplate bound to the claim `<template>-<set>-<ordinal>`, created
 *   before the pod and kept (persistentVolumeClaimRetentionPolicy Delete sets owner references instead).
 * - OrderedReady: one pod at a time in ordinal order, each after the previous is Running and Ready
 *   (available after minReadySeconds); scale down from the highest ordinal, one at a time. Parallel: all
 *   at once.
 * - RollingUpdate from the highest ordinal down to the partition (maxUnavailable pods at a time when set,
 *   else one), OnDelete; status as `kubectl rollout status` reads it; events with upstream texts.
 */
import { deepCopy, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { fromLabelSelectorObject } from '../apiserver/label-selector.ts';
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
import { scaledValue } from './deployment.ts';
import {
  claimRevisions,
  CONTROLLER_REVISION_HASH,
  CONTROLLER_REVISIONS,
  createRevision,
  equalRevisionData,
  hashRevisionData,
  maxRevision,
  type OwnerKind,
  templateOfRevision,
  templatePatch,
  truncateHistory,
  updateRevisionNumber,
} from './history.ts';
import {
  claimObjects,
  isPodAvailable,
  isPodReady,
  ownerRefFor,
  type PodTemplate,
  PODS,
  podReadyCondition,
  recordEvent,
} from './replicaset.ts';

export const STATEFULSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
export const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const KIND: OwnerKind = { apiVersion: 'apps/v1', kind: 'StatefulSet', ref: STATEFULSETS };
const COMPONENT = 'statefulset-controller';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

interface ClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface SSSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: string;
  updateStrategy?: {
    type?: string;
    rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
  };
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  ordinals?: { start?: number };
  volumeClaimTemplates?: ClaimTemplate[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

interface SSStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: unknown[];
  availableReplicas?: number;
}

const ssSpec = (s: KObject): SSSpec => (s['spec'] ?? {}) as SSSpec;
const ssStatus = (s: KObject): SSStatus => (s['status'] ?? {}) as SSStatus;
const podPhase = (p: KObject): string => ((p['status'] ?? {}) as { phase?: string }).phase ?? '';
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isAlreadyExists = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const ts = (s: string | undefined): number => (s ? Date.parse(s) : 0);

export const startOrdinal = (s: KObject): number => ssSpec(s).ordinals?.start ?? 0;
export const podName = (s: KObject, ordinal: number): string => `${s.metadata.name ?? ''}-${ordinal}`;
export const claimName = (tmpl: string, s: KObject, ordinal: number): string =>
  `${tmpl}-${s.metadata.name ?? ''}-${ordinal}`;

/** getParentNameAndOrdinal: the ordinal of `<set>-<n>`, or -1. */
export function ordinalOf(s: KObject, p: KObject): number {
  const prefix = `${s.metadata.name ?? ''}-`;
  const name = p.metadata.name ?? '';
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

const isCreated = (p: KObject): boolean => !!p.metadata.uid;
const isTerminating = (p: KObject): boolean => !!p.metadata.deletionTimestamp;
const isRunningAndReady = (p: KObject): boolean => podPhase(p) === 'Running' && isPodReady(p);
const isRunningAndAvailable = (p: KObject, mrs: number): boolean =>
  podPhase(p) === 'Running' && isPodAvailable(p, mrs);
const isHealthy = (p: KObject, mrs: number): boolean => isRunningAndAvailable(p, mrs) && !isTerminating(p);
const revisionOfPod = (p: KObject): string => p.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '';

export class StatefulSetController {
  readonly queue = new WorkQueue();
  private readonly owned: OwnedObjectEvents;
  private readonly sets: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly claims: SharedInformer;
  private readonly revisions: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  /** When the last sync waits for a pod to become available (minReadySeconds). */
  private pendingRequeue?: number;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly workers = 2,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.sets = f.informer(STATEFULSETS);
    this.pods = f.informer(PODS);
    this.claims = f.informer(PVCS);
    this.revisions = f.informer(CONTROLLER_REVISIONS);
    this.sets.addHandlers({
      add: (s) => this.queue.add(keyOf(s)),
      update: (_o, s) => this.queue.add(keyOf(s)),
      delete: (s) => this.queue.add(keyOf(s)),
    });
    this.owned = new OwnedObjectEvents(
      this.sets,
      'StatefulSet',
      (o) => fromLabelSelectorObject(ssSpec(o).selector),
      this.queue,
    );
    this.pods.addHandlers(this.owned.handlers((o) => ssSpec(o).minReadySeconds ?? 0));
    this.revisions.addHandlers(this.owned.handlers());
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, this.workers, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  // ---- sync ----

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const cached = this.sets.get(namespace, name);
    if (!cached) return;
    let set = deepCopy(cached);
    const selector = fromLabelSelectorObject(ssSpec(set).selector);
    if (!selector || selector.length === 0) return;
    // Pods: claimed, and members of the set (name `<set>-<ordinal>`).
    const claimed = claimObjects(this.client, PODS, set, KIND, selector, this.pods.list(namespace));
    const revs = claimRevisions(this.client, this.revisions, set, KIND, selector);
    const r = this.revisionsFor(set, revs);
    set = r.set;
    const pods = claimed
      .map((p) => this.pods.get(namespace, p.metadata.name ?? '') ?? p)
      .filter((p) => controllerRef(p)?.uid === set.metadata.uid && ordinalOf(set, p) >= 0);
    let error: unknown;
    let status: SSStatus;
    try {
      status = this.updateStatefulSet(set, r.current, r.update, r.collisionCount, pods);
    } catch (e) {
      error = e;
      status = { ...ssStatus(set) };
    }
    // Truncate history: keep the revisions pods run, plus current and update.
    const live = new Set<string>([r.current.metadata.name ?? '', r.update.metadata.name ?? '']);
    for (const p of this.pods.byOwner(set.metadata.uid ?? '')) live.add(revisionOfPod(p));
    const fresh = claimRevisions(this.client, this.revisions, set, KIND, selector);
    truncateHistory(this.client, fresh, live, ssSpec(set).revisionHistoryLimit ?? 10);
    const result = this.writeStatus(set, status);
    if (error !== undefined) throw error instanceof Error ? error : new Error(errMsg(error));
    return result;
  }

  /** getStatefulSetRevisions: the current and update revisions (the update one created if needed). */
  private revisionsFor(
    set: KObject,
    revs: KObject[],
  ): { set: KObject; current: KObject; update: KObject; collisionCount: number } {
    const collisionCount0 = ssStatus(set).collisionCount ?? 0;
    const patch = templatePatch(set);
    const next = maxRevision(revs) + 1;
    const equal = revs.filter((r) => equalRevisionData(r['data'], patch));
    const latest = revs[revs.length - 1];
    let update: KObject;
    let collisionCount = collisionCount0;
    if (equal.length && latest && equal[equal.length - 1] === latest) update = latest;
    else if (equal.length) update = updateRevisionNumber(this.client, equal[equal.length - 1]!, next);
    else {
      const res = createRevision(this.client, set, KIND, patch, next, collisionCount0, (cc) =>
        hashRevisionData(patch, cc),
      );
      update = res.revision;
      collisionCount = res.collisionCount;
    }
    const curName = ssStatus(set).currentRevision;
    const current = (curName && revs.find((r) => r.metadata.name === curName)) || update;
    return { set, current, update, collisionCount };
  }

  /** newStatefulSetPod with the template of `template` (a revision's), then the revision label. */
  private newPod(set: KObject, template: PodTemplate, ordinal: number, revision: string): KObject {
    const t = deepCopy(template);
    const name = podName(set, ordinal);
    const spec = (t.spec ?? {}) as Record<string, unknown>;
    const labels: Record<string, string> = {
      ...(t.metadata?.labels ?? {}),
      [POD_NAME_LABEL]: name,
      [POD_INDEX_LABEL]: String(ordinal),
      [CONTROLLER_REVISION_HASH]: revision,
    };
    spec['hostname'] = name;
    const svc = ssSpec(set).serviceName;
    if (svc) spec['subdomain'] = svc;
    this.updateStorage(set, spec, ordinal);
    const metadata: KObject['metadata'] = {
      name,
      namespace: set.metadata.namespace,
      labels,
      ownerReferences: [ownerRefFor(set, KIND.apiVersion, KIND.kind)],
    };
    if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
    if (t.metadata?.finalizers) metadata.finalizers = t.metadata.finalizers;
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }

  /** updateStorage: one persistentVolumeClaim volume per claim template (replacing a same-named one). */
  private updateStorage(set: KObject, spec: Record<string, unknown>, ordinal: number): void {
    const templates = ssSpec(set).volumeClaimTemplates ?? [];
    if (!templates.length) return;
    const names = new Set(templates.map((t) => t.metadata?.name ?? ''));
    const volumes = ((spec['volumes'] ?? []) as { name: string }[]).filter((v) => !names.has(v.name));
    for (const t of templates) {
      const n = t.metadata?.name ?? '';
      volumes.push({
        name: n,
        persistentVolumeClaim: { claimName: claimName(n, set, ordinal) },
      } as { name: string });
    }
    spec['volumes'] = volumes;
  }

  /** getPersistentVolumeClaims: the claims of an ordinal, labelled with the set's matchLabels. */
  private claimsFor(set: KObject, ordinal: number): KObject[] {
    const match = ssSpec(set).selector?.matchLabels ?? {};
    return (ssSpec(set).volumeClaimTemplates ?? []).map((t) => {
      const c = deepCopy(t) as ClaimTemplate & Record<string, unknown>;
      const n = c.metadata?.name ?? '';
      delete c['status'];
      return {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          ...(c.metadata ?? {}),
          name: claimName(n, set, ordinal),
          namespace: set.metadata.namespace,
          labels: { ...(c.metadata?.labels ?? {}), ...match },
        },
        spec: c.spec ?? {},
      };
    });
  }

  /** createPersistentVolumeClaims (and the retention policy's owner references). */
  private ensureClaims(set: KObject, pod: KObject, ordinal: number): void {
    const ns = set.metadata.namespace ?? '';
    const whenDeleted = ssSpec(set).persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
    const setRef = {
      apiVersion: KIND.apiVersion,
      kind: KIND.kind,
      name: set.metadata.name ?? '',
      uid: set.metadata.uid ?? '',
    };
    for (const claim of this.claimsFor(set, ordinal)) {
      const cname = claim.metadata.name ?? '';
      const existing = this.claims.get(ns, cname);
      if (existing) {
        if (existing.metadata.deletionTimestamp)
          throw new Error(`pvc ${cname} is being deleted, waiting for it to be gone`);
        this.updateClaimOwnerRefs(set, existing, whenDeleted === 'Delete' ? setRef : undefined);
        continue;
      }
      if (whenDeleted === 'Delete') claim.metadata.ownerReferences = [setRef];
      try {
        this.client.create(PVCS, ns, claim);
        recordEvent(
          this.client,
          COMPONENT,
          set,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${cname} Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} success`,
        );
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        recordEvent(
          this.client,
          COMPONENT,
          set,
          'Warning',
          'FailedCreate',
          `create Claim ${cname} for Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errMsg(e)}`,
        );
        throw e;
      }
    }
  }

  /** Adds (or removes) the set's owner reference on a claim, per whenDeleted. */
  private updateClaimOwnerRefs(
    set: KObject,
    claim: KObject,
    setRef: { apiVersion: string; kind: string; name: string; uid: string } | undefined,
  ): void {
    const refs = claim.metadata.ownerReferences ?? [];
    const has = refs.some((r) => r.uid === set.metadata.uid);
    if (setRef ? has : !has) return;
    const next = setRef ? [...refs, setRef] : refs.filter((r) => r.uid !== set.metadata.uid);
    const meta = { ...claim.metadata };
    if (next.length) meta.ownerReferences = next;
    else delete meta.ownerReferences;
    try {
      this.client.update(PVCS, claim.metadata.namespace ?? '', { ...claim, metadata: meta });
    } catch (e) {
      if (!isNotFound(e) && !(e instanceof StatusError && e.code === 409)) throw e;
    }
  }

  /** whenScaled Delete: a condemned pod's claims get an owner reference to the pod before it goes. */
  private ownClaimsByPod(set: KObject, pod: KObject): void {
    if ((ssSpec(set).persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain') !== 'Delete') return;
    const ordinal = ordinalOf(set, pod);
    const ns = set.metadata.namespace ?? '';
    for (const c of this.claimsFor(set, ordinal)) {
      const existing = this.claims.get(ns, c.metadata.name ?? '');
      if (!existing) continue;
      const refs = existing.metadata.ownerReferences ?? [];
      if (refs.some((r) => r.uid === pod.metadata.uid)) continue;
      try {
        this.client.update(PVCS, ns, {
          ...existing,
          metadata: {
            ...existing.metadata,
            ownerReferences: [
              ...refs,
              { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
            ],
          },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private createPod(set: KObject, pod: KObject, ordinal: number): KObject {
    const ns = set.metadata.namespace ?? '';
    this.ensureClaims(set, pod, ordinal);
    try {
      const created = this.client.create(PODS, ns, pod);
      recordEvent(
        this.client,
        COMPONENT,
        set,
        'Normal',
        'SuccessfulCreate',
        `create Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} successful`,
      );
      return created;
    } catch (e) {
      if (isAlreadyExists(e)) return this.client.get(PODS, ns, pod.metadata.name ?? '');
      recordEvent(
        this.client,
        COMPONENT,
        set,
        'Warning',
        'FailedCreate',
        `create Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errMsg(e)}`,
      );
      throw e;
    }
  }

  private deletePod(set: KObject, pod: KObject): void {
    try {
      this.client.delete(PODS, set.metadata.namespace ?? '', pod.metadata.name ?? '', {
        preconditions: { uid: pod.metadata.uid ?? '' },
      });
      recordEvent(
        this.client,
        COMPONENT,
        set,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} successful`,
      );
    } catch (e) {
      if (isNotFound(e)) return;
      recordEvent(
        this.client,
        COMPONENT,
        set,
        'Warning',
        'FailedDelete',
        `delete Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errMsg(e)}`,
      );
      throw e;
    }
  }

  /** updateStatefulSet: one pass of creations, deletions and updates; returns the new status. */
  private updateStatefulSet(
    set: KObject,
    current: KObject,
    update: KObject,
    collisionCount: number,
    pods: KObject[],
  ): SSStatus {
    const spec = ssSpec(set);
    const currentName = current.metadata.name ?? '';
    const updateName = update.metadata.name ?? '';
    const currentTemplate = templateOfRevision(current);
    const updateTemplate = templateOfRevision(update);
    const mrs = spec.minReadySeconds ?? 0;
    const replicaCount = spec.replicas ?? 1;
    const start = startOrdinal(set);
    const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = rolling ? (spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const status: SSStatus = {
      observedGeneration: set.metadata.generation ?? 0,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      currentRevision: currentName,
      updateRevision: updateName,
      collisionCount,
      availableReplicas: 0,
    };
    const count = (p: KObject): void => {
      status.replicas!++;
      if (isRunningAndReady(p)) {
        status.readyReplicas!++;
        if (isRunningAndAvailable(p, mrs)) status.availableReplicas!++;
      }
      if (isCreated(p) && !isTerminating(p)) {
        if (revisionOfPod(p) === currentName) status.currentReplicas!++;
        if (revisionOfPod(p) === updateName) status.updatedReplicas!++;
      }
    };
    const replicas: (KObject | undefined)[] = new Array<KObject | undefined>(replicaCount).fill(undefined);
    const condemned: KObject[] = [];
    for (const p of pods) {
      count(p);
      const ord = ordinalOf(set, p);
      if (ord >= start && ord < start + replicaCount) replicas[ord - start] = p;
      else if (ord >= 0) condemned.push(p);
    }
    /** newVersionedStatefulSetPod: below the partition the current revision, else the update one. */
    const versioned = (ord: number): KObject =>
      rolling && ord < start + partition
        ? this.newPod(set, currentTemplate, ord, currentName)
        : this.newPod(set, updateTemplate, ord, updateName);
    condemned.sort((a, b) => ordinalOf(set, b) - ordinalOf(set, a));
    const monotonic = spec.podManagementPolicy !== 'Parallel';
    const firstUnhealthy = [...replicas, ...condemned].find((p) => !p || !isHealthy(p, mrs));
    if (set.metadata.deletionTimestamp) return status;

    for (let i = 0; i < replicaCount; i++) {
      const ord = start + i;
      let pod = replicas[i];
      if (pod && (podPhase(pod) === 'Failed' || podPhase(pod) === 'Succeeded')) {
        if (!isTerminating(pod)) this.deletePod(set, pod);
        status.replicas!--;
        if (revisionOfPod(pod) === currentName) status.currentReplicas!--;
        if (revisionOfPod(pod) === updateName) status.updatedReplicas!--;
        // The replacement is created once the failed pod is gone (its name is taken until then).
        if (monotonic) return status;
        continue;
      }
      if (!pod) {
        pod = this.createPod(set, versioned(ord), ord);
        replicas[i] = pod;
        status.replicas!++;
        if (revisionOfPod(pod) === currentName) status.currentReplicas!++;
        if (revisionOfPod(pod) === updateName) status.updatedReplicas!++;
        if (monotonic) return status;
        continue;
      }
      if (isTerminating(pod)) {
        if (monotonic) return status;
        continue;
      }
      if (!isRunningAndAvailable(pod, mrs) && monotonic) {
        if (isRunningAndReady(pod) && mrs > 0) {
          const t = ts(podReadyCondition(pod)?.lastTransitionTime);
          this.pendingRequeue = Math.max(10, t + mrs * 1000 - Date.now() + 10);
        }
        return status;
      }
      this.fixIdentity(set, pod, ord);
    }
    // Scale down: highest ordinal first.
    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return status;
        continue;
      }
      if (!isRunningAndReady(pod) && monotonic && pod !== firstUnhealthy) return status;
      this.ownClaimsByPod(set, pod);
      this.deletePod(set, pod);
      if (revisionOfPod(pod) === currentName) status.currentReplicas!--;
      if (revisionOfPod(pod) === updateName) status.updatedReplicas!--;
      if (monotonic) return status;
    }
    if (!rolling) return status;
    // Rolling update: from the highest ordinal down to the partition.
    const maxUnavailableSpec = spec.updateStrategy?.rollingUpdate?.maxUnavailable;
    if (maxUnavailableSpec === undefined) {
      for (let target = replicas.length - 1; target >= partition; target--) {
        const p = replicas[target];
        if (!p) return status;
        if (revisionOfPod(p) !== updateName && !isTerminating(p)) {
          this.deletePod(set, p);
          status.currentReplicas!--;
          return status;
        }
        if (!isHealthy(p, mrs)) return status;
      }
      return status;
    }
    let maxUnavailable = scaledValue(maxUnavailableSpec, replicaCount, true);
    if (maxUnavailable < 1) maxUnavailable = 1;
    let unavailable = 0;
    for (const p of replicas) if (!p || !isHealthy(p, mrs)) unavailable++;
    if (unavailable >= maxUnavailable) return status;
    for (let target = replicas.length - 1; target >= partition; target--) {
      if (unavailable >= maxUnavailable) break;
      const p = replicas[target];
      if (!p) continue;
      if (revisionOfPod(p) !== updateName && !isTerminating(p)) {
        this.deletePod(set, p);
        status.currentReplicas!--;
        unavailable++;
      }
    }
    return status;
  }

  /** identityMatches/storageMatches: repair labels, hostname and subdomain of an existing pod. */
  private fixIdentity(set: KObject, pod: KObject, ord: number): void {
    const name = podName(set, ord);
    const labels = pod.metadata.labels ?? {};
    const spec = (pod['spec'] ?? {}) as { hostname?: string; subdomain?: string };
    const svc = ssSpec(set).serviceName;
    const ok =
      labels[POD_NAME_LABEL] === name &&
      labels[POD_INDEX_LABEL] === String(ord) &&
      spec.hostname === name &&
      (spec.subdomain ?? '') === (svc ?? '');
    this.ensureClaims(set, pod, ord);
    if (ok) return;
    // Only labels are mutable on a running pod; hostname/subdomain mismatches are left as they are.
    if (labels[POD_NAME_LABEL] === name && labels[POD_INDEX_LABEL] === String(ord)) return;
    try {
      this.client.update(PODS, set.metadata.namespace ?? '', {
        ...pod,
        metadata: {
          ...pod.metadata,
          labels: { ...labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ord) },
        },
      });
    } catch (e) {
      if (!isNotFound(e) && !(e instanceof StatusError && e.code === 409)) throw e;
    }
  }

  /** updateStatefulSetStatus with completeRollingUpdate; omitempty as upstream serializes. */
  private writeStatus(set: KObject, st: SSStatus): { requeueAfterMs?: number } | void {
    const spec = ssSpec(set);
    const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    if (
      rolling &&
      (st.updatedReplicas ?? 0) === (st.replicas ?? 0) &&
      (st.readyReplicas ?? 0) === (st.replicas ?? 0)
    ) {
      st.currentReplicas = st.updatedReplicas;
      st.currentRevision = st.updateRevision;
    }
    const prev = ssStatus(set);
    if (prev.conditions?.length) st.conditions = prev.conditions;
    const out: SSStatus = {};
    if (st.observedGeneration) out.observedGeneration = st.observedGeneration;
    out.replicas = st.replicas ?? 0;
    if (st.readyReplicas) out.readyReplicas = st.readyReplicas;
    if (st.currentReplicas) out.currentReplicas = st.currentReplicas;
    if (st.updatedReplicas) out.updatedReplicas = st.updatedReplicas;
    if (st.currentRevision) out.currentRevision = st.currentRevision;
    if (st.updateRevision) out.updateRevision = st.updateRevision;
    if (st.collisionCount !== undefined) out.collisionCount = st.collisionCount;
    if (st.conditions) out.conditions = st.conditions;
    out.availableReplicas = st.availableReplicas ?? 0;
    const requeue = this.pendingRequeue;
    this.pendingRequeue = undefined;
    let after: number | undefined = requeue;
    if (spec.minReadySeconds && (out.readyReplicas ?? 0) !== out.availableReplicas)
      after = Math.min(after ?? Infinity, spec.minReadySeconds * 1000 + 10);
    if (JSON.stringify(prev) !== JSON.stringify(out)) {
      const ns = set.metadata.namespace ?? '';
      try {
        this.client.update(STATEFULSETS, ns, { ...set, status: out }, 'status');
      } catch (e) {
        if (isNotFound(e)) return;
        if (!(e instanceof StatusError && e.code === 409)) throw e;
        const live = this.client.get(STATEFULSETS, ns, set.metadata.name ?? '');
        if (live.metadata.uid !== set.metadata.uid) return;
        this.client.update(STATEFULSETS, ns, { ...live, status: out }, 'status');
      }
    }
    if (after !== undefined) return { requeueAfterMs: after };
  }
}
