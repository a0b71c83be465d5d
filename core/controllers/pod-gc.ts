/**
 * The pod garbage collector (pkg/controller/podgc semantics). Every gcCheckPeriod (20 s):
 * - gcTerminated: when more than terminatedPodThreshold (12500) pods are terminal (Succeeded/Failed),
 *   the surplus is deleted, evicted ones (status.reason Evicted) first, then the oldest;
 * - gcTerminating: terminating pods on a Node that is not Ready and carries the
 *   node.kubernetes.io/out-of-service taint are force-deleted (marked Failed first);
 * - gcOrphaned: pods bound to a Node missing from the cache are quarantined for 40 s; if a live read then
 *   confirms the Node is gone they get phase Failed and the condition DisruptionTarget=True (reason
 *   DeletionByPodGC, message "PodGC: node no longer exists") and are force-deleted (grace period 0);
 * - gcUnscheduledTerminating: terminating pods never bound to a node are marked Failed and
 *   force-deleted.
 */
import { rfc3339, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { SharedInformer, SharedInformerFactory } from '../client/informer.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export interface PodGCOptions {
  /** gcCheckPeriod (20 s). */
  gcCheckPeriodMs?: number;
  /** --terminated-pod-gc-threshold (12500; 0 disables gcTerminated). */
  terminatedPodThreshold?: number;
  /** The quarantine of a node missing from the cache before its pods are orphans (40 s). */
  quarantineMs?: number;
}

/** The defaults the controller list uses; tests shorten them before startCluster. */
export const podGCDefaults: Required<PodGCOptions> = {
  gcCheckPeriodMs: 20_000,
  terminatedPodThreshold: 12_500,
  quarantineMs: 40_000,
};

interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

export const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const phase = (p: KObject): string => ((p['status'] ?? {}) as { phase?: string }).phase ?? '';
const nodeName = (p: KObject): string => ((p['spec'] ?? {}) as { nodeName?: string }).nodeName ?? '';
const isTerminated = (p: KObject): boolean => !['', 'Pending', 'Running', 'Unknown'].includes(phase(p));

export class PodGCController {
  private readonly nodes: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly opts: Required<PodGCOptions>;
  /** node name → when its quarantine ends. */
  private readonly quarantine = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    opts: PodGCOptions = {},
  ) {
    this.opts = { ...podGCDefaults, ...opts };
    this.nodes = factory.informer(NODES);
    this.pods = factory.informer(PODS);
  }

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.gc();
      } catch {
        /* next period */
      }
    }, this.opts.gcCheckPeriodMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  gc(): void {
    const pods = this.pods.list();
    if (this.opts.terminatedPodThreshold > 0) this.gcTerminated(pods);
    this.gcTerminating(pods);
    this.gcOrphaned(pods);
    this.gcUnscheduledTerminating(pods);
  }

  private gcTerminated(pods: KObject[]): void {
    const terminated = pods.filter(isTerminated);
    const n = terminated.length - this.opts.terminatedPodThreshold;
    if (n <= 0) return;
    const evicted = (p: KObject): number =>
      ((p['status'] ?? {}) as { reason?: string }).reason === 'Evicted' ? 0 : 1;
    terminated.sort((a, b) => {
      if (evicted(a) !== evicted(b)) return evicted(a) - evicted(b);
      const ca = a.metadata.creationTimestamp ?? '';
      const cb = b.metadata.creationTimestamp ?? '';
      if (ca !== cb) return ca < cb ? -1 : 1;
      return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
    });
    for (const p of terminated.slice(0, n)) this.markFailedAndDelete(p);
  }

  private gcTerminating(pods: KObject[]): void {
    for (const p of pods) {
      if (!p.metadata.deletionTimestamp) continue;
      const node = this.nodes.get('', nodeName(p));
      if (!node) continue;
      const ready = (((node['status'] ?? {}) as { conditions?: PodCondition[] }).conditions ?? []).find(
        (c) => c.type === 'Ready',
      );
      const taints = ((node['spec'] ?? {}) as { taints?: { key: string }[] }).taints ?? [];
      if (ready?.status !== 'True' && taints.some((t) => t.key === TAINT_OUT_OF_SERVICE))
        this.markFailedAndDelete(p);
    }
  }

  private gcOrphaned(pods: KObject[]): void {
    const now = Date.now();
    const missing = new Set<string>();
    for (const p of pods) {
      const n = nodeName(p);
      if (n && !this.nodes.get('', n)) missing.add(n);
    }
    for (const n of missing)
      if (!this.quarantine.has(n)) this.quarantine.set(n, now + this.opts.quarantineMs);
    const deleted = new Set<string>();
    for (const [n, until] of [...this.quarantine]) {
      if (!missing.has(n) || this.nodes.get('', n)) {
        this.quarantine.delete(n);
        continue;
      }
      if (until > now) continue;
      this.quarantine.delete(n);
      try {
        this.client.get(NODES, '', n);
      } catch (e) {
        if (isNotFound(e)) deleted.add(n);
      }
    }
    if (!deleted.size) return;
    for (const p of pods)
      if (deleted.has(nodeName(p)))
        this.markFailedAndDelete(p, {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByPodGC',
          message: 'PodGC: node no longer exists',
        });
  }

  private gcUnscheduledTerminating(pods: KObject[]): void {
    for (const p of pods) if (p.metadata.deletionTimestamp && !nodeName(p)) this.markFailedAndDelete(p);
  }

  /** markFailedAndDeletePodWithCondition: phase Failed (+ condition) unless terminal, then delete(0). */
  private markFailedAndDelete(pod: KObject, condition?: PodCondition): void {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const uid = pod.metadata.uid ?? '';
    try {
      if (!isTerminated(pod)) {
        const live = this.client.get(PODS, ns, name);
        if (live.metadata.uid !== uid) return;
        const st = (live['status'] ??= {}) as { phase?: string; conditions?: PodCondition[] };
        st.phase = 'Failed';
        if (condition) {
          const conds = (st.conditions ??= []);
          const c = conds.find((x) => x.type === condition.type);
          const next: PodCondition = {
            ...condition,
            lastProbeTime: null,
            lastTransitionTime:
              c && c.status === condition.status ? (c.lastTransitionTime ?? rfc3339()) : rfc3339(),
          };
          if (c) conds.splice(conds.indexOf(c), 1, next);
          else conds.push(next);
        }
        this.client.update(PODS, ns, live, 'status');
      }
      this.client.delete(PODS, ns, name, { gracePeriodSeconds: 0, preconditions: { uid } });
    } catch {
      /* gone already, or retried on the next pass */
    }
  }
}
