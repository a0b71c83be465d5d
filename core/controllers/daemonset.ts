/**
 * The DaemonSet controller (pkg/controller/daemon semantics): informers on DaemonSets, Nodes, Pods and
 * ControllerRevisions → a work queue of daemon set keys → sync(key) from the cache.
 * - History: one ControllerRevision per distinct template (`<ds>-<hash>`, hash = ComputeHash of the
 *   template and status.collisionCount), the current one renumbered to the newest when a template comes
 *   back (`kubectl rollout undo`), old ones truncated to spec.revisionHistoryLimit.
 * - One pod per eligible node: nodeSelector and required node affinity match, and no untolerated
 *   NoSchedule/NoExecute taint (a pod stays on a node while it tolerates the NoExecute taints). Pods are
 *   created without nodeName: the default scheduler places them through the required node affinity
 *   `matchFields metadata.name In [<node>]` the controller substitutes, and the standard DaemonSet
 *   tolerations are added (not-ready/unreachable NoExecute, disk/memory/pid-pressure and unschedulable
 *   NoSchedule, network-unavailable for hostNetwork).
 * - Labels controller-revision-hash and pod-template-generation; RollingUpdate (maxUnavailable or
 *   maxSurge, rounded up) and OnDelete; status with observedGeneration; SuccessfulCreate/SuccessfulDelete
 *   events ("Created pod: x", "Deleted pod: x").
 */
import type { NodeSelectorTerm, Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { deepCopy, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { fromLabelSelectorObject, type LabelSelector, matchesLabels } from '../apiserver/label-selector.ts';
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
import { matchNodeSelectorTerm } from '../scheduler/node-selector.ts';
import { tolerated } from '../scheduler/plugins.ts';
import { computeHash, scaledValue } from './deployment.ts';
import {
  claimRevisions,
  CONTROLLER_REVISION_HASH,
  CONTROLLER_REVISIONS,
  createRevision,
  equalRevisionData,
  maxRevision,
  type OwnerKind,
  revisionNumber,
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
  slowStartBatch,
} from './replicaset.ts';

export const DAEMONSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const KIND: OwnerKind = { apiVersion: 'apps/v1', kind: 'DaemonSet', ref: DAEMONSETS };
const COMPONENT = 'daemonset-controller';

/** extensions.DaemonSetTemplateGenerationKey (pod label). */
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';
/** The annotation the apiserver keeps the template generation in for apps/v1 DaemonSets. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
/** BurstReplicas of the DaemonSet controller. */
const BURST_REPLICAS = 250;

interface DSSpec {
  selector?: unknown;
  template?: PodTemplate;
  updateStrategy?: {
    type?: string;
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

interface DSStatus {
  currentNumberScheduled?: number;
  numberMisscheduled?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  conditions?: unknown[];
}

const dsSpec = (ds: KObject): DSSpec => (ds['spec'] ?? {}) as DSSpec;
const dsStatus = (ds: KObject): DSStatus => (ds['status'] ?? {}) as DSStatus;
const podPhase = (p: KObject): string => ((p['status'] ?? {}) as { phase?: string }).phase ?? '';
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---- pod template helpers (pkg/controller/daemon/util) ----

/** The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork)
    t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

const sameToleration = (a: Toleration, b: Toleration): boolean =>
  (a.key ?? '') === (b.key ?? '') &&
  (a.operator || 'Equal') === (b.operator || 'Equal') &&
  (a.value ?? '') === (b.value ?? '') &&
  (a.effect ?? '') === (b.effect ?? '') &&
  a.tolerationSeconds === b.tolerationSeconds;

/** AddOrUpdateTolerationInPodSpec for each daemon toleration: a same key/effect one is replaced. */
export function addDaemonTolerations(spec: Record<string, unknown>): void {
  const list = [...((spec['tolerations'] ?? []) as Toleration[])];
  for (const t of daemonTolerations(spec['hostNetwork'] === true)) {
    if (list.some((x) => sameToleration(x, t))) continue;
    const i = list.findIndex(
      (x) => (x.key ?? '') === t.key && (x.effect ?? '') === t.effect && (x.operator || 'Equal') === 'Exists',
    );
    if (i >= 0) list[i] = t;
    else list.push(t);
  }
  spec['tolerations'] = list;
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become metadata.name In [node]. */
export function withNodeNameAffinity(spec: Record<string, unknown>, node: string): void {
  const term: NodeSelectorTerm = {
    matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }],
  };
  const affinity = (spec['affinity'] ?? {}) as Record<string, unknown>;
  const na = (affinity['nodeAffinity'] ?? {}) as Record<string, unknown>;
  na['requiredDuringSchedulingIgnoredDuringExecution'] = { nodeSelectorTerms: [term] };
  affinity['nodeAffinity'] = na;
  spec['affinity'] = affinity;
}

/** The node a daemon pod is for: spec.nodeName, else its matchFields metadata.name affinity. */
export function targetNodeName(p: KObject): string | undefined {
  const spec = (p['spec'] ?? {}) as Pod['spec'];
  if (spec?.nodeName) return spec.nodeName;
  const terms =
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms)
    for (const f of t.matchFields ?? [])
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/** NodeShouldRunDaemonPod: [shouldRun, shouldContinueRunning]. */
export function nodeShouldRunDaemonPod(node: Node, template: PodTemplate): [boolean, boolean] {
  const spec = deepCopy(template.spec ?? {});
  addDaemonTolerations(spec);
  const pod = spec as Pod['spec'] & Record<string, unknown>;
  const name = node.metadata?.name ?? '';
  if (pod?.nodeName && pod.nodeName !== name) return [false, false];
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod?.nodeSelector ?? {})) if (labels[k] !== v) return [false, false];
  const req = pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !(req.nodeSelectorTerms ?? []).some((t) => matchNodeSelectorTerm(t, node)))
    return [false, false];
  const taints: Taint[] = node.spec?.taints ?? [];
  const untolerated = (effects: string[]): boolean =>
    taints.some((t) => effects.includes(t.effect) && !tolerated(pod?.tolerations, t));
  if (untolerated(['NoSchedule', 'NoExecute'])) return [false, !untolerated(['NoExecute'])];
  return [true, true];
}

/** The template generation (annotation written by the apiserver; metadata.generation otherwise). */
export function templateGeneration(ds: KObject): number | undefined {
  const a = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (a !== undefined) {
    const n = Number.parseInt(a, 10);
    return Number.isFinite(n) ? n : undefined;
  }
  return ds.metadata.generation;
}

/** util.IsPodUpdated. */
export function isPodUpdated(p: KObject, hash: string, generation: number | undefined): boolean {
  const labels = p.metadata.labels ?? {};
  const templateMatches = generation !== undefined && labels[POD_TEMPLATE_GENERATION] === String(generation);
  const hashMatches = hash.length > 0 && labels[CONTROLLER_REVISION_HASH] === hash;
  return hashMatches || templateMatches;
}

const ts = (s: string | undefined): number => (s ? Date.parse(s) : 0);

/** podByCreationTimestampAndPhase: older first; among equals, Running/Ready ones first. */
function byCreationAndPhase(a: KObject, b: KObject): number {
  const ca = ts(a.metadata.creationTimestamp);
  const cb = ts(b.metadata.creationTimestamp);
  if (ca !== cb) return ca - cb;
  const ra = podPhase(a) === 'Running' ? 0 : 1;
  const rb = podPhase(b) === 'Running' ? 0 : 1;
  if (ra !== rb) return ra - rb;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

const isTerminal = (p: KObject): boolean => podPhase(p) === 'Succeeded' || podPhase(p) === 'Failed';

export class DaemonSetController {
  readonly queue = new WorkQueue();
  private readonly owned: OwnedObjectEvents;
  private readonly daemonSets: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly revisions: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly workers = 2,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.daemonSets = f.informer(DAEMONSETS);
    this.nodes = f.informer(NODES);
    this.pods = f.informer(PODS);
    this.revisions = f.informer(CONTROLLER_REVISIONS);
    this.daemonSets.addHandlers({
      add: (d) => this.queue.add(keyOf(d)),
      update: (_o, d) => this.queue.add(keyOf(d)),
      delete: (d) => this.queue.add(keyOf(d)),
    });
    this.nodes.addHandlers({
      add: () => this.enqueueAll(),
      update: (old, n) => {
        if (this.nodeChangeMatters(old, n)) this.enqueueAll();
      },
      delete: () => this.enqueueAll(),
    });
    this.owned = new OwnedObjectEvents(
      this.daemonSets,
      'DaemonSet',
      (o) => fromLabelSelectorObject(dsSpec(o).selector),
      this.queue,
    );
    this.pods.addHandlers(this.owned.handlers((o) => dsSpec(o).minReadySeconds ?? 0));
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

  private enqueueAll(): void {
    for (const ds of this.daemonSets.list()) this.queue.add(keyOf(ds));
  }

  /** shouldIgnoreNodeUpdate: only labels, taints, unschedulable and conditions' statuses matter. */
  private nodeChangeMatters(old: KObject, n: KObject): boolean {
    const a = old as unknown as Node;
    const b = n as unknown as Node;
    const conds = (x: Node): string =>
      JSON.stringify((x.status?.conditions ?? []).map((c) => [c.type, c.status]));
    return (
      JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {}) ||
      JSON.stringify(a.spec?.taints ?? []) !== JSON.stringify(b.spec?.taints ?? []) ||
      !!a.spec?.unschedulable !== !!b.spec?.unschedulable ||
      conds(a) !== conds(b)
    );
  }

  // ---- sync ----

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const cached = this.daemonSets.get(namespace, name);
    if (!cached) return;
    let ds = deepCopy(cached);
    const selector = fromLabelSelectorObject(dsSpec(ds).selector);
    if (!selector || selector.length === 0) {
      recordEvent(
        this.client,
        COMPONENT,
        ds,
        'Warning',
        'SelectingAll',
        'This daemon set is selecting all pods. A non-empty selector is required.',
      );
      return;
    }
    const nodes = this.nodes
      .list()
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')) as unknown as Node[];
    if (ds.metadata.deletionTimestamp) {
      const hash = this.currentHash(ds, selector);
      return this.updateStatus(ds, nodes, hash, false);
    }
    const history = this.constructHistory(ds, selector);
    ds = history.ds;
    const hash = history.hash;
    let error: unknown;
    try {
      this.manage(ds, nodes, hash);
      if ((dsSpec(ds).updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate')
        this.rollingUpdate(ds, nodes, hash);
      this.cleanupHistory(ds, history.old, hash);
    } catch (e) {
      error = e;
    }
    const r = this.updateStatus(ds, nodes, hash, true);
    if (error !== undefined) throw error instanceof Error ? error : new Error(errMsg(error));
    return r;
  }

  private currentHash(ds: KObject, selector: LabelSelector): string {
    const patch = templatePatch(ds);
    const revs = this.revisions
      .list(ds.metadata.namespace ?? '')
      .filter((r) => controllerRef(r)?.uid === ds.metadata.uid && matchesLabels(selector, r.metadata.labels));
    const cur = revs.find((r) => equalRevisionData(r['data'], patch));
    return (
      cur?.metadata.labels?.[CONTROLLER_REVISION_HASH] ??
      computeHash(dsSpec(ds).template ?? {}, dsStatus(ds).collisionCount)
    );
  }

  /** constructHistory: the current revision (created or renumbered) and the old ones. */
  private constructHistory(
    ds: KObject,
    selector: LabelSelector,
  ): { ds: KObject; hash: string; old: KObject[] } {
    const ns = ds.metadata.namespace ?? '';
    const revs = claimRevisions(this.client, this.revisions, ds, KIND, selector);
    const patch = templatePatch(ds);
    const max = maxRevision(revs);
    const equal = revs.filter((r) => equalRevisionData(r['data'], patch));
    const old = revs.filter((r) => !equal.includes(r));
    let cur: KObject | undefined;
    if (equal.length) {
      // Keep the newest equal revision; drop duplicates (dedupCurHistories).
      cur = equal[equal.length - 1]!;
      for (const dup of equal.slice(0, -1)) {
        try {
          this.client.delete(CONTROLLER_REVISIONS, ns, dup.metadata.name ?? '', {
            preconditions: { uid: dup.metadata.uid ?? '' },
          });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      if (revisionNumber(cur) < max) cur = updateRevisionNumber(this.client, cur, max + 1);
      if (!cur.metadata.labels?.[CONTROLLER_REVISION_HASH]) {
        const h = computeHash(dsSpec(ds).template ?? {}, dsStatus(ds).collisionCount);
        cur = this.client.update(CONTROLLER_REVISIONS, ns, {
          ...cur,
          metadata: {
            ...cur.metadata,
            labels: { ...(cur.metadata.labels ?? {}), [CONTROLLER_REVISION_HASH]: h },
          },
        });
      }
    } else {
      const before = dsStatus(ds).collisionCount;
      const res = createRevision(this.client, ds, KIND, patch, max + 1, before ?? 0, (cc) =>
        computeHash(dsSpec(ds).template ?? {}, cc === 0 && before === undefined ? undefined : cc),
      );
      cur = res.revision;
      if (res.collisionCount !== (before ?? 0)) {
        ds['status'] = { ...dsStatus(ds), collisionCount: res.collisionCount };
        ds = this.writeStatus(ds, dsStatus(ds));
      }
    }
    return { ds, hash: cur.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '', old };
  }

  /** The daemon pods claimed by the set, grouped by target node (terminal deleted ones left out). */
  private nodesToDaemonPods(ds: KObject): Map<string, KObject[]> {
    const selector = fromLabelSelectorObject(dsSpec(ds).selector);
    const ns = ds.metadata.namespace ?? '';
    const candidates = this.pods.list(ns);
    const claimed = selector?.length
      ? claimObjects(this.client, PODS, ds, KIND, selector, candidates)
      : this.pods.byOwner(ds.metadata.uid ?? '').filter((p) => controllerRef(p)?.uid === ds.metadata.uid);
    const out = new Map<string, KObject[]>();
    for (const p0 of claimed) {
      const p = this.pods.get(ns, p0.metadata.name ?? '') ?? p0;
      if (controllerRef(p)?.uid !== ds.metadata.uid) continue;
      if (isTerminal(p) && p.metadata.deletionTimestamp) continue;
      const n = targetNodeName(p);
      if (n === undefined) continue;
      const list = out.get(n) ?? [];
      list.push(p);
      out.set(n, list);
    }
    return out;
  }

  private manage(ds: KObject, nodes: Node[], hash: string): void {
    const byNode = this.nodesToDaemonPods(ds);
    const template = dsSpec(ds).template ?? {};
    const surge = this.allowsSurge(ds);
    const mrs = dsSpec(ds).minReadySeconds ?? 0;
    const toCreate: string[] = [];
    const toDelete: KObject[] = [];
    const known = new Set<string>();
    for (const node of nodes) {
      const nodeName = node.metadata?.name ?? '';
      known.add(nodeName);
      const [shouldRun, shouldContinue] = nodeShouldRunDaemonPod(node, template);
      const pods = byNode.get(nodeName) ?? [];
      if (shouldRun && pods.length === 0) {
        toCreate.push(nodeName);
        continue;
      }
      if (shouldContinue) {
        const running: KObject[] = [];
        for (const p of pods) {
          if (p.metadata.deletionTimestamp) continue;
          if (podPhase(p) === 'Failed') {
            recordEvent(
              this.client,
              COMPONENT,
              ds,
              'Warning',
              'FailedDaemonPod',
              `Found failed daemon pod ${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''} on node ${nodeName}, will try to kill it`,
            );
            toDelete.push(p);
            continue;
          }
          running.push(p);
        }
        if (running.length <= 1) continue;
        running.sort(byCreationAndPhase);
        if (!surge) {
          toDelete.push(...running.slice(1));
          continue;
        }
        let oldestNew: KObject | undefined;
        let oldestOld: KObject | undefined;
        for (const p of running) {
          if (p.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash) {
            if (!oldestNew) {
              oldestNew = p;
              continue;
            }
          } else if (!oldestOld) {
            oldestOld = p;
            continue;
          }
          toDelete.push(p);
        }
        if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, mrs)))
          toDelete.push(oldestOld);
        continue;
      }
      if (!shouldContinue) for (const p of pods) if (!p.metadata.deletionTimestamp) toDelete.push(p);
    }
    // Pods for nodes that no longer exist.
    for (const [n, pods] of byNode)
      if (!known.has(n)) for (const p of pods) if (!p.metadata.deletionTimestamp) toDelete.push(p);
    this.syncNodes(ds, toDelete, toCreate, hash);
  }

  private allowsSurge(ds: KObject): boolean {
    const us = dsSpec(ds).updateStrategy;
    if ((us?.type ?? 'RollingUpdate') !== 'RollingUpdate') return false;
    const s = us?.rollingUpdate?.maxSurge;
    return s !== undefined && scaledValue(s, 100, true) !== 0;
  }

  /** syncNodes: create pods for nodes (slow start, at most 250) and delete the given pods. */
  private syncNodes(ds: KObject, toDelete: KObject[], nodes: string[], hash: string): void {
    const ns = ds.metadata.namespace ?? '';
    let error: unknown;
    const create = nodes.slice(0, BURST_REPLICAS);
    let i = 0;
    const res = slowStartBatch(create.length, 1, () => {
      const node = create[i++]!;
      const created = this.client.create(PODS, ns, this.newPod(ds, node, hash));
      recordEvent(
        this.client,
        COMPONENT,
        ds,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${created.metadata.name ?? ''}`,
      );
    });
    if (res.error !== undefined) {
      recordEvent(
        this.client,
        COMPONENT,
        ds,
        'Warning',
        'FailedCreate',
        `Error creating: ${errMsg(res.error)}`,
      );
      error = res.error;
    }
    const seen = new Set<string>();
    for (const p of toDelete.slice(0, BURST_REPLICAS)) {
      const pname = p.metadata.name ?? '';
      if (seen.has(pname)) continue;
      seen.add(pname);
      try {
        this.client.delete(PODS, ns, pname, { preconditions: { uid: p.metadata.uid ?? '' } });
        recordEvent(this.client, COMPONENT, ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pname}`);
      } catch (e) {
        if (isNotFound(e)) continue;
        recordEvent(this.client, COMPONENT, ds, 'Warning', 'FailedDelete', `Error deleting: ${errMsg(e)}`);
        error ??= e;
      }
    }
    if (error !== undefined) throw error instanceof Error ? error : new Error(errMsg(error));
  }

  /** CreatePodTemplate + the node name affinity. */
  private newPod(ds: KObject, node: string, hash: string): KObject {
    const t = deepCopy(dsSpec(ds).template ?? {});
    const spec = (t.spec ?? {}) as Record<string, unknown>;
    addDaemonTolerations(spec);
    withNodeNameAffinity(spec, node);
    const labels: Record<string, string> = { ...(t.metadata?.labels ?? {}) };
    const gen = templateGeneration(ds);
    if (gen !== undefined) labels[POD_TEMPLATE_GENERATION] = String(gen);
    if (hash) labels[CONTROLLER_REVISION_HASH] = hash;
    const metadata: KObject['metadata'] = {
      generateName: `${ds.metadata.name ?? ''}-`,
      namespace: ds.metadata.namespace,
      labels,
      ownerReferences: [ownerRefFor(ds, KIND.apiVersion, KIND.kind)],
    };
    if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
    if (t.metadata?.finalizers) metadata.finalizers = t.metadata.finalizers;
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }

  /** updatedDesiredNodeCounts: [maxSurge, maxUnavailable, desired] and the nodes wanting a pod added. */
  private desiredCounts(ds: KObject, nodes: Node[], byNode: Map<string, KObject[]>): [number, number] {
    let desired = 0;
    const template = dsSpec(ds).template ?? {};
    for (const node of nodes) {
      const [want] = nodeShouldRunDaemonPod(node, template);
      if (!want) continue;
      desired++;
      const n = node.metadata?.name ?? '';
      if (!byNode.has(n)) byNode.set(n, []);
    }
    const ru = dsSpec(ds).updateStrategy?.rollingUpdate;
    let maxUnavailable = scaledValue(ru?.maxUnavailable ?? 1, desired, true);
    const maxSurge = this.allowsSurge(ds) ? scaledValue(ru?.maxSurge, desired, true) : 0;
    if (maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    return [maxSurge, maxUnavailable];
  }

  /** findUpdatedPodsOnNode: [newPod, oldPod, ok] (ok false when a node has duplicates). */
  private updatedPodsOnNode(
    ds: KObject,
    pods: KObject[],
    hash: string,
  ): [KObject | undefined, KObject | undefined, boolean] {
    let newPod: KObject | undefined;
    let oldPod: KObject | undefined;
    const gen = templateGeneration(ds);
    for (const p of pods) {
      if (p.metadata.deletionTimestamp) continue;
      if (isPodUpdated(p, hash, gen)) {
        if (newPod) return [undefined, undefined, false];
        newPod = p;
      } else {
        if (oldPod) return [undefined, undefined, false];
        oldPod = p;
      }
    }
    return [newPod, oldPod, true];
  }

  private rollingUpdate(ds: KObject, nodes: Node[], hash: string): void {
    const byNode = this.nodesToDaemonPods(ds);
    const [maxSurge, maxUnavailable] = this.desiredCounts(ds, nodes, byNode);
    const mrs = dsSpec(ds).minReadySeconds ?? 0;
    const now = Date.now();
    const names = [...byNode.keys()].sort();
    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowed: KObject[] = [];
      const candidates: KObject[] = [];
      for (const n of names) {
        const [newPod, oldPod, ok] = this.updatedPodsOnNode(ds, byNode.get(n) ?? [], hash);
        if (!ok) {
          numUnavailable++;
          continue;
        }
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!isPodAvailable(newPod, mrs, now)) numUnavailable++;
        } else if (oldPod) {
          if (!isPodAvailable(oldPod, mrs, now)) allowed.push(oldPod);
          else if (numUnavailable >= maxUnavailable) continue;
          else candidates.push(oldPod);
        }
      }
      const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
      this.syncNodes(ds, [...allowed, ...candidates.slice(0, remaining)], [], hash);
      return;
    }
    const template = dsSpec(ds).template ?? {};
    const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
    const oldToDelete: KObject[] = [];
    const allowedNew: string[] = [];
    const candidateNew: string[] = [];
    let numSurge = 0;
    for (const n of names) {
      const [newPod, oldPod, ok] = this.updatedPodsOnNode(ds, byNode.get(n) ?? [], hash);
      if (!ok) continue;
      const node = nodeByName.get(n);
      const [shouldRun] = node ? nodeShouldRunDaemonPod(node, template) : [false];
      if (!shouldRun) continue;
      if (!oldPod) continue;
      if (!newPod) {
        if (!isPodAvailable(oldPod, mrs, now)) allowedNew.push(n);
        else if (numSurge >= maxSurge) continue;
        else candidateNew.push(n);
        continue;
      }
      if (!isPodAvailable(newPod, mrs, now)) {
        numSurge++;
        continue;
      }
      oldToDelete.push(oldPod);
    }
    const remaining = Math.min(Math.max(0, maxSurge - numSurge), candidateNew.length);
    this.syncNodes(ds, oldToDelete, [...allowedNew, ...candidateNew.slice(0, remaining)], hash);
  }

  /** cleanupHistory: old revisions no pod runs, beyond revisionHistoryLimit. */
  private cleanupHistory(ds: KObject, old: KObject[], hash: string): void {
    const limit = dsSpec(ds).revisionHistoryLimit ?? 10;
    if (old.length <= limit) return;
    const live = new Set<string>();
    const liveHashes = new Set<string>([hash]);
    for (const p of this.pods.byOwner(ds.metadata.uid ?? '')) {
      const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH];
      if (h) liveHashes.add(h);
    }
    for (const r of old)
      if (liveHashes.has(r.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? ''))
        live.add(r.metadata.name ?? '');
    truncateHistory(this.client, old, live, limit);
  }

  // ---- status ----

  private updateStatus(
    ds: KObject,
    nodes: Node[],
    hash: string,
    observed: boolean,
  ): { requeueAfterMs?: number } | void {
    const byNode = this.nodesToDaemonPods(ds);
    const template = dsSpec(ds).template ?? {};
    const mrs = dsSpec(ds).minReadySeconds ?? 0;
    const gen = templateGeneration(ds);
    const now = Date.now();
    let desired = 0;
    let current = 0;
    let mis = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    let soonest = Infinity;
    for (const node of nodes) {
      const [shouldRun] = nodeShouldRunDaemonPod(node, template);
      const pods = [...(byNode.get(node.metadata?.name ?? '') ?? [])];
      const scheduled = pods.length > 0;
      if (!shouldRun) {
        if (scheduled) mis++;
        continue;
      }
      desired++;
      if (!scheduled) continue;
      current++;
      pods.sort(byCreationAndPhase);
      const p = pods[0]!;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, mrs, now)) available++;
        else {
          const t = ts(podReadyCondition(p)?.lastTransitionTime);
          soonest = Math.min(soonest, t + mrs * 1000 - now);
        }
      }
      if (isPodUpdated(p, hash, gen)) updated++;
    }
    const prev = dsStatus(ds);
    const st: DSStatus = {
      currentNumberScheduled: current,
      numberMisscheduled: mis,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: observed ? (ds.metadata.generation ?? 0) : prev.observedGeneration,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
      collisionCount: prev.collisionCount,
      conditions: prev.conditions,
    };
    // omitempty fields.
    for (const k of [
      'observedGeneration',
      'updatedNumberScheduled',
      'numberAvailable',
      'numberUnavailable',
    ] as const)
      if (!st[k]) delete st[k];
    if (st.collisionCount === undefined) delete st.collisionCount;
    if (!st.conditions?.length) delete st.conditions;
    this.writeStatus(ds, st);
    if (mrs > 0 && ready !== available && Number.isFinite(soonest))
      return { requeueAfterMs: Math.max(10, soonest + 10) };
  }

  private writeStatus(ds: KObject, status: DSStatus): KObject {
    if (JSON.stringify(ds['status'] ?? {}) === JSON.stringify(status)) return ds;
    const ns = ds.metadata.namespace ?? '';
    try {
      return this.client.update(DAEMONSETS, ns, { ...ds, status }, 'status');
    } catch (e) {
      if (isNotFound(e)) return ds;
      if (!(e instanceof StatusError && e.code === 409)) throw e;
      const live = this.client.get(DAEMONSETS, ns, ds.metadata.name ?? '');
      if (live.metadata.uid !== ds.metadata.uid) return ds;
      return this.client.update(DAEMONSETS, ns, { ...live, status }, 'status');
    }
  }
}
