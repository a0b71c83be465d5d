/**
 * The taint eviction controller (pkg/controller/tainteviction semantics) for NoExecute taints:
 * - a pod bound to a Node with NoExecute taints it does not all tolerate is deleted at once;
 * - a pod tolerating them all with finite tolerationSeconds is deleted after the smallest of them, counted
 *   from when the controller first scheduled the eviction (upstream's taintEvictionQueue createdAt: the
 *   moment the taint was observed, i.e. its timeAdded in practice); tolerationSeconds <= 0 means at once;
 * - a pod tolerating them forever, or whose Node loses the taints, has its scheduled eviction cancelled
 *   (event TaintManagerEviction "Cancelling deletion of Pod ns/name");
 * - before deleting: event TaintManagerEviction "Marking for deletion Pod ns/name" (Normal, source
 *   taint-eviction-controller), then the pod gets the condition DisruptionTarget=True (reason
 *   DeletionByTaintManager, message "Taint manager: deleting due to NoExecute taint") through the status
 *   subresource, then it is deleted (graceful, its own grace period).
 */
import { rfc3339, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, type SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { nodeTaints, type Taint } from './node-lifecycle.ts';
import { recordEvent } from './replicaset.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const COMPONENT = 'taint-eviction-controller';

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

/**
 * GetMatchingTolerations: whether every taint is tolerated, and the tolerations used (the first matching
 * one per taint).
 */
export function matchingTolerations(
  taints: Taint[],
  tolerations: Toleration[],
): { all: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { all: false, used: [] };
    used.push(t);
  }
  return { all: true, used };
}

/** getMinTolerationTime in ms: -1 = forever. */
export function minTolerationMs(used: Toleration[]): number {
  let min = -1;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    const ms = Math.max(0, t.tolerationSeconds) * 1000;
    if (min < 0 || ms < min) min = ms;
  }
  return min;
}

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const podNodeName = (p: KObject): string => ((p['spec'] ?? {}) as { nodeName?: string }).nodeName ?? '';
const podTolerations = (p: KObject): Toleration[] =>
  ((p['spec'] ?? {}) as { tolerations?: Toleration[] }).tolerations ?? [];
const noExecute = (n: KObject | undefined): Taint[] =>
  n ? nodeTaints(n).filter((t) => t.effect === 'NoExecute') : [];

export class TaintEvictionController {
  readonly queue = new WorkQueue();
  private readonly nodes: SharedInformer;
  private readonly pods: SharedInformer;
  /** Scheduled evictions by pod key: when scheduled (createdAt) and the pod's uid. */
  private readonly scheduled = new Map<string, { createdAt: number; uid: string }>();
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    private readonly workers = 2,
  ) {
    this.nodes = factory.informer(NODES);
    this.pods = factory.informer(PODS);
    this.nodes.addHandlers({
      add: (n) => this.nodeChanged(n),
      update: (old, n) => {
        if (JSON.stringify(noExecute(old)) !== JSON.stringify(noExecute(n))) this.nodeChanged(n);
      },
    });
    this.pods.addHandlers({
      add: (p) => this.queue.add(keyOf(p)),
      update: (old, p) => {
        if (
          podNodeName(old) !== podNodeName(p) ||
          JSON.stringify(podTolerations(old)) !== JSON.stringify(podTolerations(p)) ||
          (!old.metadata.deletionTimestamp && p.metadata.deletionTimestamp)
        )
          this.queue.add(keyOf(p));
      },
      delete: (p) => this.queue.add(keyOf(p)),
    });
  }

  start(): void {
    this.running = runWorkers(this.queue, this.workers, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.running;
  }

  private nodeChanged(n: KObject): void {
    const name = n.metadata.name ?? '';
    for (const p of this.pods.list()) if (podNodeName(p) === name) this.queue.add(keyOf(p));
  }

  /** Whether an eviction is scheduled for a pod (for tests). */
  isScheduled(namespace: string, name: string): boolean {
    return this.scheduled.has(`${namespace}/${name}`);
  }

  private cancel(key: string, withEvent: boolean): void {
    if (!this.scheduled.delete(key) || !withEvent) return;
    const { namespace, name } = splitKey(key);
    recordEvent(
      this.client,
      COMPONENT,
      { kind: 'Pod', metadata: { name, namespace } },
      'Normal',
      'TaintManagerEviction',
      `Cancelling deletion of Pod ${key}`,
    );
  }

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(namespace, name);
    if (!pod) {
      this.scheduled.delete(key);
      return;
    }
    const nodeName = podNodeName(pod);
    if (!nodeName || pod.metadata.deletionTimestamp) {
      this.scheduled.delete(key);
      return;
    }
    const taints = noExecute(this.nodes.get('', nodeName));
    if (!taints.length) {
      this.cancel(key, true);
      return;
    }
    const { all, used } = matchingTolerations(taints, podTolerations(pod));
    const now = Date.now();
    if (!all) {
      this.scheduled.delete(key);
      this.evict(pod);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.cancel(key, true);
      return;
    }
    let s = this.scheduled.get(key);
    if (!s || s.uid !== pod.metadata.uid) {
      s = { createdAt: now, uid: pod.metadata.uid ?? '' };
      this.scheduled.set(key, s);
    }
    const due = s.createdAt + min;
    if (now >= due) {
      this.evict(pod);
      this.scheduled.delete(key);
      return;
    }
    return { requeueAfterMs: due - now };
  }

  /** deletePodHandler: event, DisruptionTarget condition, delete. */
  private evict(pod: KObject): void {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const uid = pod.metadata.uid ?? '';
    recordEvent(
      this.client,
      COMPONENT,
      { kind: 'Pod', metadata: { name, namespace: ns } },
      'Normal',
      'TaintManagerEviction',
      `Marking for deletion Pod ${ns}/${name}`,
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const live = this.client.get(PODS, ns, name);
        if (live.metadata.uid !== uid) return;
        const st = (live['status'] ??= {}) as { conditions?: Record<string, unknown>[] };
        const conds = (st.conditions ??= []);
        const c = conds.find((x) => x['type'] === 'DisruptionTarget');
        const want = {
          status: 'True',
          reason: 'DeletionByTaintManager',
          message: 'Taint manager: deleting due to NoExecute taint',
        };
        if (
          !c ||
          c['status'] !== want.status ||
          c['reason'] !== want.reason ||
          c['message'] !== want.message
        ) {
          const t = c && c['status'] === 'True' ? (c['lastTransitionTime'] as string) : rfc3339();
          const cond = { type: 'DisruptionTarget', ...want, lastProbeTime: null, lastTransitionTime: t };
          if (c) conds.splice(conds.indexOf(c), 1, cond);
          else conds.push(cond);
          this.client.update(PODS, ns, live, 'status');
        }
        this.client.delete(PODS, ns, name, { preconditions: { uid } });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt === 4) throw e;
      }
    }
  }
}
