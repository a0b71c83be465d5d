/**
 * The Deployment controller (pkg/controller/deployment semantics): informers on Deployments, ReplicaSets
 * and Pods → a work queue of deployment keys → sync(key) from the cache.
 * - One ReplicaSet per distinct pod template, named `<deployment>-<pod-template-hash>`, labelled and
 *   selected by `pod-template-hash`, controlled by the deployment (controller + blockOwnerDeletion).
 * - Annotations: deployment.kubernetes.io/revision (max of the old ones + 1, mirrored on the deployment),
 *   revision-history when a template returns to an old ReplicaSet, desired-replicas and max-replicas,
 *   and the deployment's own annotations (kubernetes.io/change-cause…) copied to the new ReplicaSet.
 * - RollingUpdate (maxSurge rounded up, maxUnavailable rounded down), Recreate (old ReplicaSets to 0 and
 *   their pods gone before the new one scales up), proportional scaling, paused (scale only, no
 *   rollout), revisionHistoryLimit cleanup, and status with the Available/Progressing conditions
 *   (progressDeadlineSeconds → ProgressDeadlineExceeded) that `kubectl rollout` reads.
 */
import { deepCopy, type KObject, rfc3339 } from '../api/object.ts';
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
import { claimObjects, ownerRefFor, type PodTemplate, PODS, recordEvent } from './replicaset.ts';

export const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
export const REPLICASETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const ROLLBACK_TO = 'deprecated.deployment.rollback.to';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
const MAX_REV_HISTORY_CHARS = 2000;
const COMPONENT = 'deployment-controller';

const SKIP_COPY = new Set([
  LAST_APPLIED,
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  ROLLBACK_TO,
]);

interface Condition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

interface DSpec {
  replicas?: number;
  selector?: unknown;
  template?: PodTemplate;
  strategy?: {
    type?: string;
    rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
  };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

interface DStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  terminatingReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

interface RSSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  template?: PodTemplate;
}

interface RSStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

const dspec = (d: KObject): DSpec => (d['spec'] ??= {}) as DSpec;
const dstatus = (d: KObject): DStatus => (d['status'] ?? {}) as DStatus;
const rsSpec = (rs: KObject): RSSpec => (rs['spec'] ?? {}) as RSSpec;
const rsStatus = (rs: KObject): RSStatus => (rs['status'] ?? {}) as RSStatus;
const replicasOf = (rs: KObject): number => rsSpec(rs).replicas ?? 0;
const desired = (d: KObject): number => dspec(d).replicas ?? 1;
const sum = (rss: (KObject | undefined)[], f: (rs: KObject) => number): number =>
  rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;

// ---- hashing and template equality (pkg/controller/controller_utils ComputeHash, EqualIgnoreHash) ----

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** A stable short hash of a pod template (+ collision count), rendered with rand.SafeEncodeString. */
export function computeHash(template: PodTemplate, collisionCount?: number): string {
  const t = deepCopy(template);
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH];
  let h = fnv32a(new TextEncoder().encode(canonical(t)));
  if (collisionCount !== undefined) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

function withoutHash(t: PodTemplate | undefined): unknown {
  const c = deepCopy(t ?? {});
  if (c.metadata?.labels) {
    delete c.metadata.labels[POD_TEMPLATE_HASH];
    if (!Object.keys(c.metadata.labels).length) delete c.metadata.labels;
  }
  if (c.metadata && !Object.keys(c.metadata).length) delete c.metadata;
  return c;
}

export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return canonical(withoutHash(a)) === canonical(withoutHash(b));
}

// ---- intstr and fenceposts ----

export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.isFinite(Number(v)) ? Number(v) : 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** [maxSurge, maxUnavailable] for a desired count (deploymentutil.ResolveFenceposts). */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desiredReplicas: number,
): [number, number] {
  const surge = scaledValue(maxSurge ?? '25%', desiredReplicas, true);
  let unavailable = scaledValue(maxUnavailable ?? '25%', desiredReplicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

const isRolling = (d: KObject): boolean => (dspec(d).strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: KObject): number {
  if (!isRolling(d)) return 0;
  const ru = dspec(d).strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desired(d))[0];
}

export function maxUnavailable(d: KObject): number {
  if (!isRolling(d) || desired(d) === 0) return 0;
  const ru = dspec(d).strategy?.rollingUpdate;
  const u = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desired(d))[1];
  return Math.min(u, desired(d));
}

// ---- revisions ----

export function revisionOf(o: KObject): number {
  const v = o.metadata.annotations?.[REVISION];
  const n = v === undefined ? 0 : Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : 0;
}

const byCreation = (a: KObject, b: KObject): number => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
};

// ---- conditions ----

function newCondition(type: string, status: string, reason: string, message: string): Condition {
  const now = rfc3339();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

const getCondition = (st: DStatus, type: string): Condition | undefined =>
  (st.conditions ?? []).find((c) => c.type === type);

function setCondition(st: DStatus, c: Condition): void {
  const cur = getCondition(st, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  st.conditions = [...(st.conditions ?? []).filter((x) => x.type !== c.type), c];
}

function removeCondition(st: DStatus, type: string): void {
  st.conditions = (st.conditions ?? []).filter((x) => x.type !== type);
}

const hasProgressDeadline = (d: KObject): boolean => {
  const p = dspec(d).progressDeadlineSeconds;
  return p !== undefined && p !== 2147483647;
};

export function deploymentComplete(d: KObject, st: DStatus): boolean {
  const n = desired(d);
  return (
    (st.updatedReplicas ?? 0) === n &&
    (st.replicas ?? 0) === n &&
    (st.availableReplicas ?? 0) === n &&
    (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

function deploymentProgressing(d: KObject, st: DStatus): boolean {
  const old = dstatus(d);
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (st.replicas ?? 0) - (st.updatedReplicas ?? 0);
  return (
    (st.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (st.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (st.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

function deploymentTimedOut(d: KObject, st: DStatus, now = Date.now()): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(st, 'Progressing');
  if (!c) return false;
  if (c.reason === 'NewReplicaSetAvailable') return false;
  if (c.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + (dspec(d).progressDeadlineSeconds ?? 600) * 1000 < now;
}

/** Status with Kubernetes' omitempty: zero counters are left out. */
function compact<T extends object>(st: T): T {
  const out = { ...st } as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (v === 0 || v === undefined) delete out[k];
  if (Array.isArray(out['conditions']) && out['conditions'].length === 0) delete out['conditions'];
  return out as T;
}

export class DeploymentController {
  readonly queue = new WorkQueue();
  private readonly owned: OwnedObjectEvents;
  private readonly deployments: SharedInformer;
  private readonly replicaSets: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly workers = 2,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.deployments = f.informer(DEPLOYMENTS);
    this.replicaSets = f.informer(REPLICASETS);
    this.pods = f.informer(PODS);
    this.deployments.addHandlers({
      add: (d) => this.queue.add(keyOf(d)),
      update: (_o, d) => this.queue.add(keyOf(d)),
      delete: (d) => this.queue.add(keyOf(d)),
    });
    this.owned = new OwnedObjectEvents(
      this.deployments,
      'Deployment',
      (d) => fromLabelSelectorObject(dspec(d).selector),
      this.queue,
    );
    this.replicaSets.addHandlers(this.owned.handlers());
    this.pods.addHandlers({
      // Recreate waits for old pods to be gone.
      delete: (p) => {
        const r = controllerRef(p);
        if (!r || r.kind !== 'ReplicaSet') return;
        const rs = this.replicaSets.get(p.metadata.namespace ?? '', r.name);
        if (!rs) return;
        const d = this.owned.ownerOf(rs);
        if (d && !isRolling(d)) this.queue.add(keyOf(d));
      },
    });
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
    const cached = this.deployments.get(namespace, name);
    if (!cached) return;
    let d = deepCopy(cached);
    const selector = fromLabelSelectorObject(dspec(d).selector);
    if (!selector || selector.length === 0) {
      // An empty selector would select every pod: only record that the generation was observed.
      if ((dstatus(d).observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d['status'] = { ...dstatus(d), observedGeneration: d.metadata.generation };
        this.updateStatus(d);
      }
      return;
    }
    const rsList = claimObjects(
      this.client,
      REPLICASETS,
      d,
      { apiVersion: 'apps/v1', kind: 'Deployment', ref: DEPLOYMENTS },
      selector,
      this.replicaSets.list(namespace),
    );
    if (d.metadata.deletionTimestamp) {
      this.syncStatusOnly(d, rsList);
      return;
    }
    d = this.checkPausedConditions(d);
    if (dspec(d).paused) {
      this.syncScale(d, rsList);
      return;
    }
    if (this.isScalingEvent(d, rsList)) {
      this.syncScale(d, rsList);
      return;
    }
    return isRolling(d) ? this.rolloutRolling(d, rsList) : this.rolloutRecreate(d, rsList);
  }

  private checkPausedConditions(d: KObject): KObject {
    if (!hasProgressDeadline(d)) return d;
    const st = deepCopy(dstatus(d));
    const c = getCondition(st, 'Progressing');
    if (c?.reason === 'ProgressDeadlineExceeded') return d;
    const pausedExists = c?.reason === 'DeploymentPaused';
    if (dspec(d).paused && !pausedExists)
      setCondition(st, newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
    else if (!dspec(d).paused && pausedExists)
      setCondition(st, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
    else return d;
    d['status'] = st;
    return this.updateStatus(d);
  }

  /**
   * The new ReplicaSet (template equal to the deployment's, ignoring the hash label) and all the others;
   * syncs the revision annotations, and creates the new one if asked.
   */
  private getAllReplicaSetsAndSyncRevision(
    d: KObject,
    rsList: KObject[],
    create: boolean,
  ): { newRS?: KObject; oldRSs: KObject[]; d: KObject } {
    const sorted = [...rsList].sort(byCreation);
    const existing = sorted.find((rs) => equalIgnoreHash(rsSpec(rs).template, dspec(d).template));
    const oldRSs = sorted.filter((rs) => rs !== existing);
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    const newRevision = String(maxOld + 1);
    const ns = d.metadata.namespace ?? '';

    if (existing) {
      const rs = deepCopy(existing);
      const changed = this.setNewReplicaSetAnnotations(d, rs, newRevision, true);
      const mrs = dspec(d).minReadySeconds ?? 0;
      if (changed || (rsSpec(rs).minReadySeconds ?? 0) !== mrs) {
        const s = (rs['spec'] ??= {}) as RSSpec;
        if (mrs) s.minReadySeconds = mrs;
        else delete s.minReadySeconds;
        const updated = this.client.update(REPLICASETS, ns, rs);
        return { newRS: updated, oldRSs, d };
      }
      d = this.setDeploymentRevision(d, rs.metadata.annotations?.[REVISION] ?? '');
      if (hasProgressDeadline(d) && !getCondition(dstatus(d), 'Progressing')) {
        const st = deepCopy(dstatus(d));
        setCondition(
          st,
          newCondition(
            'Progressing',
            'True',
            'FoundNewReplicaSet',
            `Found new replica set "${rs.metadata.name ?? ''}"`,
          ),
        );
        d['status'] = st;
        d = this.updateStatus(d);
      }
      return { newRS: rs, oldRSs, d };
    }
    if (!create) return { oldRSs, d };

    // Create the new ReplicaSet.
    const collisionCount = dstatus(d).collisionCount;
    const template = deepCopy(dspec(d).template ?? {});
    const hash = computeHash(template, collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const sel = deepCopy((dspec(d).selector ?? {}) as NonNullable<RSSpec['selector']>);
    sel.matchLabels = { ...(sel.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const rsName = `${d.metadata.name ?? ''}-${hash}`;
    const rs: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace: ns,
        labels: { ...(template.metadata.labels ?? {}) },
        ownerReferences: [ownerRefFor(d, 'apps/v1', 'Deployment')],
        annotations: {},
      },
      spec: {
        replicas: 0,
        ...(dspec(d).minReadySeconds ? { minReadySeconds: dspec(d).minReadySeconds } : {}),
        selector: sel,
        template,
      },
    };
    (rs['spec'] as RSSpec).replicas = this.newRSNewReplicas(d, oldRSs, rs);
    this.setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: KObject;
    let alreadyExists = false;
    try {
      created = this.client.create(REPLICASETS, ns, rs);
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409 && e.reason === 'AlreadyExists')) throw e;
      const live = this.client.get(REPLICASETS, ns, rsName);
      if (
        controllerRef(live)?.uid === d.metadata.uid &&
        equalIgnoreHash(rsSpec(live).template, dspec(d).template)
      ) {
        created = live;
        alreadyExists = true;
      } else {
        // A hash collision: bump collisionCount and try again with a different name.
        const st = deepCopy(dstatus(d));
        st.collisionCount = (st.collisionCount ?? 0) + 1;
        d['status'] = st;
        this.updateStatus(d);
        throw new Error(`hash collision for ReplicaSet ${rsName}`, { cause: e });
      }
    }
    if (!alreadyExists && replicasOf(created) > 0)
      recordEvent(
        this.client,
        COMPONENT,
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${rsName} from 0 to ${replicasOf(created)}`,
      );
    d = this.setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      const st = deepCopy(dstatus(d));
      setCondition(
        st,
        newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`),
      );
      d['status'] = st;
      d = this.updateStatus(d);
    }
    return { newRS: created, oldRSs, d };
  }

  private setNewReplicaSetAnnotations(
    d: KObject,
    rs: KObject,
    newRevision: string,
    exists: boolean,
  ): boolean {
    const ann = { ...(rs.metadata.annotations ?? {}) };
    let changed = false;
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
      if (SKIP_COPY.has(k) || ann[k] === v) continue;
      ann[k] = v;
      changed = true;
    }
    const oldRevision = ann[REVISION];
    const oldInt = oldRevision === undefined ? 0 : Number.parseInt(oldRevision, 10);
    if (Number.isNaN(oldInt)) return false;
    const newInt = Number.parseInt(newRevision, 10);
    if (oldInt < newInt) {
      ann[REVISION] = newRevision;
      changed = true;
      if (oldRevision !== undefined) {
        const hist = ann[REVISION_HISTORY] ?? '';
        if (!hist) ann[REVISION_HISTORY] = oldRevision;
        else {
          let parts = hist.split(',');
          let total = hist.length + oldRevision.length + 1;
          let start = 0;
          while (total > MAX_REV_HISTORY_CHARS && start < parts.length) {
            total -= (parts[start]?.length ?? 0) + 1;
            start++;
          }
          if (total <= MAX_REV_HISTORY_CHARS) {
            parts = [...parts.slice(start), oldRevision];
            ann[REVISION_HISTORY] = parts.join(',');
          }
        }
      }
    }
    if (!exists) {
      ann[DESIRED_REPLICAS] = String(desired(d));
      ann[MAX_REPLICAS] = String(desired(d) + maxSurge(d));
      changed = true;
    }
    rs.metadata.annotations = ann;
    return changed;
  }

  /** Mirror the revision on the deployment (an annotation: written through the main resource). */
  private setDeploymentRevision(d: KObject, revision: string): KObject {
    if (!revision || d.metadata.annotations?.[REVISION] === revision) return d;
    const live = deepCopy(d);
    live.metadata.annotations = { ...(live.metadata.annotations ?? {}), [REVISION]: revision };
    const updated = this.client.update(DEPLOYMENTS, d.metadata.namespace ?? '', live);
    // Keep working on our copy of the status (the stored one may lag behind in-memory changes).
    return { ...updated, status: d['status'] };
  }

  private newRSNewReplicas(d: KObject, allRSs: KObject[], newRS: KObject): number {
    if (!isRolling(d)) return desired(d);
    const current = sum([...allRSs.filter((r) => r !== newRS), newRS], replicasOf);
    const maxTotal = desired(d) + maxSurge(d);
    if (current >= maxTotal) return replicasOf(newRS);
    const up = Math.min(maxTotal - current, desired(d) - replicasOf(newRS));
    return replicasOf(newRS) + Math.max(0, up);
  }

  /** Scale a ReplicaSet and keep its desired/max-replicas annotations current. Returns whether it scaled. */
  private scaleReplicaSet(rs: KObject, n: number, d: KObject): { scaled: boolean; rs: KObject } {
    const sizeChange = replicasOf(rs) !== n;
    const ann = rs.metadata.annotations ?? {};
    const want = { [DESIRED_REPLICAS]: String(desired(d)), [MAX_REPLICAS]: String(desired(d) + maxSurge(d)) };
    const annChange =
      ann[DESIRED_REPLICAS] !== want[DESIRED_REPLICAS] || ann[MAX_REPLICAS] !== want[MAX_REPLICAS];
    if (!sizeChange && !annChange) return { scaled: false, rs };
    const next = deepCopy(rs);
    next.metadata.annotations = { ...ann, ...want };
    ((next['spec'] ??= {}) as RSSpec).replicas = n;
    const updated = this.client.update(REPLICASETS, rs.metadata.namespace ?? '', next);
    if (sizeChange) {
      const verb = n > replicasOf(rs) ? 'up' : 'down';
      recordEvent(
        this.client,
        COMPONENT,
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${verb} replica set ${rs.metadata.name ?? ''} from ${replicasOf(rs)} to ${n}`,
      );
    }
    return { scaled: sizeChange, rs: updated };
  }

  // ---- RollingUpdate ----

  private rolloutRolling(d0: KObject, rsList: KObject[]): { requeueAfterMs?: number } | void {
    const { newRS: n0, oldRSs, d } = this.getAllReplicaSetsAndSyncRevision(d0, rsList, true);
    let newRS = n0;
    if (!newRS) return;
    let all = [...oldRSs, newRS];
    // Scale up the new ReplicaSet.
    if (replicasOf(newRS) !== desired(d)) {
      const target = replicasOf(newRS) > desired(d) ? desired(d) : this.newRSNewReplicas(d, all, newRS);
      const r = this.scaleReplicaSet(newRS, target, d);
      newRS = r.rs;
      all = [...oldRSs, newRS];
      if (r.scaled) return this.syncRolloutStatus(all, newRS, d);
    }
    // Scale down old ReplicaSets.
    if (this.reconcileOldReplicaSets(all, oldRSs, newRS, d)) return this.syncRolloutStatus(all, newRS, d);
    const st = this.calculateStatus(all, newRS, d);
    if (deploymentComplete(d, st)) this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(all, newRS, d);
  }

  private reconcileOldReplicaSets(all: KObject[], oldRSs: KObject[], newRS: KObject, d: KObject): boolean {
    const oldPods = sum(oldRSs, replicasOf);
    if (oldPods === 0) return false;
    const allPods = sum(all, replicasOf);
    const minAvailable = desired(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - (rsStatus(newRS).availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Clean up unhealthy replicas first (they do not count towards availability).
    let cleaned = 0;
    const olds = [...oldRSs].sort(byCreation);
    for (let i = 0; i < olds.length; i++) {
      const rs = olds[i]!;
      if (cleaned >= maxScaledDown) break;
      const avail = rsStatus(rs).availableReplicas ?? 0;
      if (replicasOf(rs) === 0 || replicasOf(rs) === avail) continue;
      const down = Math.min(maxScaledDown - cleaned, replicasOf(rs) - avail);
      const r = this.scaleReplicaSet(rs, replicasOf(rs) - down, d);
      olds[i] = r.rs;
      cleaned += down;
    }
    // Then scale down healthy old replicas while keeping minAvailable.
    const allAfter = [...olds, newRS];
    const available = sum(allAfter, (rs) => rsStatus(rs).availableReplicas ?? 0);
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of olds) {
        if (scaled >= total) break;
        if (replicasOf(rs) === 0) continue;
        const down = Math.min(replicasOf(rs), total - scaled);
        this.scaleReplicaSet(rs, replicasOf(rs) - down, d);
        scaled += down;
      }
    }
    return cleaned + scaled > 0;
  }

  // ---- Recreate ----

  private rolloutRecreate(d0: KObject, rsList: KObject[]): { requeueAfterMs?: number } | void {
    const first = this.getAllReplicaSetsAndSyncRevision(d0, rsList, false);
    let { newRS, oldRSs, d } = first;
    let all = newRS ? [...oldRSs, newRS] : [...oldRSs];
    let scaledDown = false;
    for (const rs of oldRSs) {
      if (replicasOf(rs) === 0) continue;
      if (this.scaleReplicaSet(rs, 0, d).scaled) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(all, newRS, d);
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus(all, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs, d } = this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
      all = newRS ? [...oldRSs, newRS] : [...oldRSs];
    }
    if (newRS && replicasOf(newRS) !== desired(d)) {
      const r = this.scaleReplicaSet(newRS, desired(d), d);
      newRS = r.rs;
      all = [...oldRSs, newRS];
      if (r.scaled) return this.syncRolloutStatus(all, newRS, d);
    }
    if (deploymentComplete(d, this.calculateStatus(all, newRS, d))) this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(all, newRS, d);
  }

  private oldPodsRunning(newRS: KObject | undefined, oldRSs: KObject[]): boolean {
    if (sum(oldRSs, (rs) => rsStatus(rs).replicas ?? 0) > 0) return true;
    for (const rs of oldRSs) {
      if (newRS && rs.metadata.uid === newRS.metadata.uid) continue;
      for (const p of this.pods.byOwner(rs.metadata.uid ?? '')) {
        if (controllerRef(p)?.uid !== rs.metadata.uid) continue;
        const phase = ((p['status'] ?? {}) as { phase?: string }).phase;
        if (phase === 'Failed' || phase === 'Succeeded') continue;
        return true;
      }
    }
    return false;
  }

  // ---- scaling (also used while paused) ----

  private isScalingEvent(d: KObject, rsList: KObject[]): boolean {
    const { newRS, oldRSs } = this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    const active = [...oldRSs, ...(newRS ? [newRS] : [])].filter((rs) => replicasOf(rs) > 0);
    for (const rs of active) {
      const v = rs.metadata.annotations?.[DESIRED_REPLICAS];
      if (v === undefined) continue;
      if (Number(v) !== desired(d)) return true;
    }
    return false;
  }

  private syncScale(d0: KObject, rsList: KObject[]): void {
    const { newRS, oldRSs, d } = this.getAllReplicaSetsAndSyncRevision(d0, rsList, false);
    this.scale(d, newRS, oldRSs);
    if (dspec(d).paused) this.cleanupDeployment(oldRSs, d);
    const fresh = (rs: KObject): KObject =>
      this.replicaSets.get(rs.metadata.namespace ?? '', rs.metadata.name ?? '') ?? rs;
    const all = [...oldRSs, ...(newRS ? [newRS] : [])].map(fresh);
    this.syncStatusOnly(d, all, newRS ? fresh(newRS) : undefined);
  }

  private scale(d: KObject, newRS: KObject | undefined, oldRSs: KObject[]): void {
    const n = desired(d);
    const activeOrLatest = this.findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) !== n) this.scaleReplicaSet(activeOrLatest, n, d);
      return;
    }
    if (newRS && this.isSaturated(d, newRS)) {
      for (const rs of oldRSs) if (replicasOf(rs) !== 0) this.scaleReplicaSet(rs, 0, d);
      return;
    }
    if (!isRolling(d)) return;
    const all = [...oldRSs, ...(newRS ? [newRS] : [])].filter((rs) => replicasOf(rs) > 0);
    const allReplicas = sum(all, replicasOf);
    const allowed = n > 0 ? n + maxSurge(d) : 0;
    const toAdd = allowed - allReplicas;
    const bySize = (newerFirst: boolean) => (a: KObject, b: KObject) =>
      replicasOf(b) - replicasOf(a) || (newerFirst ? byCreation(b, a) : byCreation(a, b));
    if (toAdd > 0) all.sort(bySize(true));
    else if (toAdd < 0) all.sort(bySize(false));
    let added = 0;
    const sizes = new Map<KObject, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = this.proportion(rs, d, toAdd, added);
        sizes.set(rs, replicasOf(rs) + p);
        added += p;
      } else sizes.set(rs, replicasOf(rs));
    }
    const first = all[0];
    if (first && toAdd !== added) sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
    for (const rs of all) this.scaleReplicaSet(rs, Math.max(0, sizes.get(rs) ?? 0), d);
  }

  private findActiveOrLatest(newRS: KObject | undefined, oldRSs: KObject[]): KObject | undefined {
    if (!newRS && oldRSs.length === 0) return undefined;
    const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
    const active = [...olds, ...(newRS ? [newRS] : [])].filter((rs) => replicasOf(rs) > 0);
    if (active.length === 0) return newRS ?? olds[0];
    if (active.length === 1) return active[0];
    return undefined;
  }

  private isSaturated(d: KObject, rs: KObject): boolean {
    const v = rs.metadata.annotations?.[DESIRED_REPLICAS];
    return (
      v !== undefined &&
      Number(v) === desired(d) &&
      replicasOf(rs) === desired(d) &&
      (rsStatus(rs).availableReplicas ?? 0) === desired(d)
    );
  }

  private proportion(rs: KObject, d: KObject, toAdd: number, added: number): number {
    if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    const fraction = this.fraction(rs, d);
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  private fraction(rs: KObject, d: KObject): number {
    if (desired(d) === 0) return -replicasOf(rs);
    const total = desired(d) + maxSurge(d);
    const a = rs.metadata.annotations?.[MAX_REPLICAS];
    let annotated = a !== undefined && Number.isFinite(Number(a)) ? Number(a) : (dstatus(d).replicas ?? 0);
    if (annotated === 0) annotated = 1;
    return Math.round((replicasOf(rs) * total) / annotated) - replicasOf(rs);
  }

  // ---- cleanup and status ----

  private cleanupDeployment(oldRSs: KObject[], d: KObject): void {
    const limit = dspec(d).revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if (
        (rsStatus(rs).replicas ?? 0) !== 0 ||
        replicasOf(rs) !== 0 ||
        (rs.metadata.generation ?? 0) > (rsStatus(rs).observedGeneration ?? 0)
      )
        continue;
      try {
        this.client.delete(REPLICASETS, rs.metadata.namespace ?? '', rs.metadata.name ?? '', {
          preconditions: { uid: rs.metadata.uid ?? '' },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private calculateStatus(all: KObject[], newRS: KObject | undefined, d: KObject): DStatus {
    const available = sum(all, (rs) => rsStatus(rs).availableReplicas ?? 0);
    const total = sum(all, replicasOf);
    const old = dstatus(d);
    const st: DStatus = {
      observedGeneration: d.metadata.generation ?? 0,
      replicas: sum(all, (rs) => rsStatus(rs).replicas ?? 0),
      updatedReplicas: newRS ? (rsStatus(newRS).replicas ?? 0) : 0,
      readyReplicas: sum(all, (rs) => rsStatus(rs).readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      ...(old.collisionCount !== undefined ? { collisionCount: old.collisionCount } : {}),
      conditions: (old.conditions ?? []).map((c) => ({ ...c })),
    };
    if (available >= desired(d) - maxUnavailable(d))
      setCondition(
        st,
        newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      );
    else
      setCondition(
        st,
        newCondition(
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          'Deployment does not have minimum availability.',
        ),
      );
    return st;
  }

  private syncStatusOnly(d: KObject, rsList: KObject[], newRS?: KObject): void {
    if (newRS === undefined)
      newRS = [...rsList]
        .sort(byCreation)
        .find((rs) => equalIgnoreHash(rsSpec(rs).template, dspec(d).template));
    const st = this.calculateStatus(rsList, newRS, d);
    if (canonical(compact(st)) === canonical(compact(dstatus(d)))) return;
    d['status'] = st;
    this.updateStatus(d);
  }

  private syncRolloutStatus(
    all: KObject[],
    newRS: KObject | undefined,
    d: KObject,
  ): { requeueAfterMs?: number } | void {
    const fresh = (rs: KObject): KObject =>
      this.replicaSets.get(rs.metadata.namespace ?? '', rs.metadata.name ?? '') ?? rs;
    all = all.map(fresh);
    if (newRS) newRS = fresh(newRS);
    const st = this.calculateStatus(all, newRS, d);
    if (!hasProgressDeadline(d)) removeCondition(st, 'Progressing');
    const cur = getCondition(dstatus(d), 'Progressing');
    const complete =
      (st.replicas ?? 0) === (st.updatedReplicas ?? 0) && cur?.reason === 'NewReplicaSetAvailable';
    const rsName = newRS?.metadata.name ?? '';
    if (hasProgressDeadline(d) && !complete) {
      if (deploymentComplete(d, st)) {
        const msg = newRS
          ? `ReplicaSet "${rsName}" has successfully progressed.`
          : `Deployment "${d.metadata.name ?? ''}" has successfully progressed.`;
        setCondition(st, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', msg));
      } else if (deploymentProgressing(d, st)) {
        const msg = newRS
          ? `ReplicaSet "${rsName}" is progressing.`
          : `Deployment "${d.metadata.name ?? ''}" is progressing.`;
        const c = newCondition('Progressing', 'True', 'ReplicaSetUpdated', msg);
        if (cur) {
          if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
          removeCondition(st, 'Progressing');
        }
        setCondition(st, c);
      } else if (deploymentTimedOut(d, st)) {
        const msg = newRS
          ? `ReplicaSet "${rsName}" has timed out progressing.`
          : `Deployment "${d.metadata.name ?? ''}" has timed out progressing.`;
        setCondition(st, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', msg));
      }
    }
    const failure = all
      .flatMap((rs) =>
        (rsStatus(rs).conditions ?? []).filter((c) => c.type === 'ReplicaFailure' && c.status === 'True'),
      )
      .at(0);
    if (failure)
      setCondition(st, {
        type: 'ReplicaFailure',
        status: failure.status,
        lastUpdateTime: failure.lastTransitionTime ?? rfc3339(),
        lastTransitionTime: failure.lastTransitionTime ?? rfc3339(),
        reason: failure.reason ?? '',
        message: failure.message ?? '',
      });
    else removeCondition(st, 'ReplicaFailure');

    if (canonical(compact(st)) !== canonical(compact(dstatus(d)))) {
      d['status'] = st;
      d = this.updateStatus(d);
    }
    // Requeue a stuck deployment so the deadline is noticed (requeueStuckDeployment).
    const pc = getCondition(st, 'Progressing');
    if (!hasProgressDeadline(d) || !pc || deploymentComplete(d, st)) return;
    if (pc.reason === 'ProgressDeadlineExceeded' || pc.reason === 'NewReplicaSetAvailable') return;
    const after =
      Date.parse(pc.lastUpdateTime ?? '') + (dspec(d).progressDeadlineSeconds ?? 600) * 1000 - Date.now();
    if (Number.isNaN(after)) return;
    return { requeueAfterMs: Math.max(after < 1000 ? 0 : after, 0) + 10 };
  }

  private updateStatus(d: KObject): KObject {
    const next = { ...d, status: compact(dstatus(d)) };
    try {
      return this.client.update(DEPLOYMENTS, d.metadata.namespace ?? '', next, 'status');
    } catch (e) {
      if (isNotFound(e)) return d;
      throw e;
    }
  }
}
