/**
 * The node lifecycle controller (pkg/controller/nodelifecycle semantics, taint-based eviction mode):
 * - node health: every nodeMonitorPeriod (5 s) each Node's probe time is refreshed when its Ready
 *   condition's lastHeartbeatTime or its Lease's renewTime (kube-node-lease/<node>) changed; a Node not
 *   heard from within nodeMonitorGracePeriod (40 s; nodeStartupGracePeriod 60 s for one that never posted
 *   Ready) gets Ready, MemoryPressure, DiskPressure and PIDPressure set to Unknown with reason
 *   NodeStatusUnknown and message "Kubelet stopped posting node status." (absent ones added with
 *   NodeStatusNeverUpdated / "Kubelet never posted node status."), written through the status subresource;
 * - when Ready leaves True that way: event NodeNotReady on the Node ("Node <n> status is now:
 *   NodeNotReady") and the Node's pods get Ready=False (MarkPodsNotReady, with a Warning NodeNotReady "Node
 *   is not ready" event on each); a pod that reports Ready on a not-ready Node is marked again;
 * - NoSchedule taints mirror conditions (doNoScheduleTaintingPass): Ready False → not-ready, Unknown →
 *   unreachable, MemoryPressure/DiskPressure/PIDPressure/NetworkUnavailable True → memory-pressure/…,
 *   spec.unschedulable → unschedulable;
 * - NoExecute taints (processTaintBaseEviction): Ready False → node.kubernetes.io/not-ready, Unknown →
 *   node.kubernetes.io/unreachable (swapped at once when the other one is present), removed when Ready is
 *   True again; additions are rate limited per zone (0.1 qps, burst 1), stopped in a zone in partial
 *   disruption (≥ 55 % and more than 2 nodes not ready, small zones), and when every zone is fully
 *   disrupted the NoExecute taints are removed everywhere (master disruption mode).
 * The taint eviction controller (taint-eviction.ts) acts on the NoExecute taints.
 */
import type { KObject } from '../api/object.ts';
import { rfc3339 } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, type SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { recordEvent } from './replicaset.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const LEASE_NS = 'kube-node-lease';
const COMPONENT = 'node-controller';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const NO_SCHEDULE_KEYS = new Set([
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/network-unavailable',
  'node.kubernetes.io/pid-pressure',
]);
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';
const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

export interface NodeLifecycleOptions {
  /** --node-monitor-period (5 s). */
  nodeMonitorPeriodMs?: number;
  /** --node-monitor-grace-period (40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** --node-startup-grace-period (60 s). */
  nodeStartupGracePeriodMs?: number;
  /** --node-eviction-rate (0.1 per second) for NoExecute tainting per zone. */
  evictionQPS?: number;
  /** --secondary-node-eviction-rate (0.01). */
  secondaryEvictionQPS?: number;
  /** --large-cluster-size-threshold (50). */
  largeClusterThreshold?: number;
  /** --unhealthy-zone-threshold (0.55). */
  unhealthyZoneThreshold?: number;
}

/**
 * The defaults the controller list starts the controller with. Tests shorten them (each test file runs
 * in its own process) before startCluster.
 */
export const nodeLifecycleDefaults: Required<NodeLifecycleOptions> = {
  nodeMonitorPeriodMs: 5_000,
  // Upstream: 40 s (50 s from 1.32). Berth: 30 s, three missed 10 s Lease renewals, so that a stopped
  // node is NotReady within 40 s of its last heartbeat at worst (docs/decisions.md).
  nodeMonitorGracePeriodMs: 30_000,
  nodeStartupGracePeriodMs: 60_000,
  evictionQPS: 0.1,
  secondaryEvictionQPS: 0.01,
  largeClusterThreshold: 50,
  unhealthyZoneThreshold: 0.55,
};

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

interface NodeCondition {
  type: string;
  status: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

interface PodCondition {
  type: string;
  status: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

const nodeConditions = (n: KObject): NodeCondition[] =>
  ((n['status'] ?? {}) as { conditions?: NodeCondition[] }).conditions ?? [];
const readyCondition = (n: KObject): NodeCondition | undefined =>
  nodeConditions(n).find((c) => c.type === 'Ready');
export const nodeTaints = (n: KObject): Taint[] => ((n['spec'] ?? {}) as { taints?: Taint[] }).taints ?? [];
const podNodeName = (p: KObject): string => ((p['spec'] ?? {}) as { nodeName?: string }).nodeName ?? '';

/** GetZoneKey: region and zone labels (the empty zone for unlabelled nodes). */
export function zoneKey(n: KObject): string {
  const l = n.metadata.labels ?? {};
  const region = l[REGION_LABEL] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l[ZONE_LABEL] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region || zone ? `${region}:\x00:${zone}` : '';
}

interface Health {
  probeTimestamp: number;
  heartbeat?: string;
  leaseRenew?: string;
}

const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;

class TokenBucket {
  private tokens = 1;
  private last = Date.now();
  constructor(public qps: number) {}
  /** 0 when a token was taken, else the ms to wait. */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(1, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return this.qps > 0 ? Math.ceil(((1 - this.tokens) / this.qps) * 1000) : -1;
  }
}

export class NodeLifecycleController {
  readonly nodeQueue = new WorkQueue();
  readonly podQueue = new WorkQueue();
  private readonly nodes: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly leases: SharedInformer;
  private readonly health = new Map<string, Health>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly limiters = new Map<string, TokenBucket>();
  private allFullyDisrupted = false;
  private readonly opts: Required<NodeLifecycleOptions>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    opts: NodeLifecycleOptions = {},
  ) {
    this.opts = { ...nodeLifecycleDefaults, ...opts };
    this.nodes = factory.informer(NODES);
    this.pods = factory.informer(PODS);
    this.leases = factory.informer(LEASES);
    this.nodes.addHandlers({
      add: (n) => this.nodeQueue.add(keyOf(n)),
      update: (_o, n) => this.nodeQueue.add(keyOf(n)),
      delete: (n) => {
        this.health.delete(n.metadata.name ?? '');
      },
    });
    this.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (_o, p) => this.podChanged(p),
    });
  }

  start(): void {
    this.running = Promise.all([
      runWorkers(this.nodeQueue, 1, (k) => this.syncTaints(k)),
      runWorkers(this.podQueue, 1, (k) => this.syncPod(k)),
    ]).then(() => undefined);
    this.timer = setInterval(() => {
      try {
        this.monitorNodeHealth();
      } catch {
        /* next period */
      }
    }, this.opts.nodeMonitorPeriodMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.nodeQueue.shutDown();
    this.podQueue.shutDown();
    await this.running;
  }

  // ---- node health ----

  /** One monitoring pass (exported for tests through the instance). */
  monitorNodeHealth(): void {
    const now = Date.now();
    const zoneReady = new Map<string, NodeCondition[]>();
    for (const cached of this.nodes.list()) {
      const name = cached.metadata.name ?? '';
      const { node, observed, current } = this.tryUpdateNodeHealth(cached, now);
      if (!node.metadata.labels?.[EXCLUDE_DISRUPTION_LABEL]) {
        const z = zoneKey(node);
        const list = zoneReady.get(z) ?? [];
        if (current) list.push(current);
        else list.push({ type: 'Ready', status: 'Unknown' });
        zoneReady.set(z, list);
      }
      if (observed?.status === 'True' && current && current.status !== 'True') {
        recordEvent(
          this.client,
          COMPONENT,
          { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata.uid } },
          'Normal',
          'NodeNotReady',
          `Node ${name} status is now: NodeNotReady`,
        );
        for (const p of this.pods.list()) if (podNodeName(p) === name) this.podQueue.add(keyOf(p));
      }
    }
    this.handleDisruption(zoneReady, now);
    for (const n of this.nodes.list()) this.nodeQueue.add(keyOf(n));
  }

  private tryUpdateNodeHealth(
    node: KObject,
    now: number,
  ): { node: KObject; observed?: NodeCondition; current?: NodeCondition } {
    const name = node.metadata.name ?? '';
    const ready = readyCondition(node);
    const grace = ready ? this.opts.nodeMonitorGracePeriodMs : this.opts.nodeStartupGracePeriodMs;
    let h = this.health.get(name);
    if (!h) {
      h = { probeTimestamp: ready ? now : Date.parse(node.metadata.creationTimestamp ?? '') || now };
      h.heartbeat = ready?.lastHeartbeatTime;
      this.health.set(name, h);
    } else if (ready && ready.lastHeartbeatTime !== h.heartbeat) {
      h.heartbeat = ready.lastHeartbeatTime;
      h.probeTimestamp = now;
    }
    const lease = this.leases.get(LEASE_NS, name);
    const renew = (lease?.['spec'] as { renewTime?: string } | undefined)?.renewTime;
    if (renew && renew !== h.leaseRenew) {
      const later = !h.leaseRenew || Date.parse(renew) > Date.parse(h.leaseRenew) || renew > h.leaseRenew;
      if (later) {
        h.leaseRenew = renew;
        h.probeTimestamp = now;
      }
    }
    if (now <= h.probeTimestamp + grace) return { node, observed: ready, current: ready };

    // Not heard from within the grace period: set the kubelet's conditions to Unknown.
    const ts = rfc3339(new Date(now));
    const apply = (n: KObject): boolean => {
      const st = (n['status'] ??= {}) as { conditions?: NodeCondition[] };
      const conds = (st.conditions ??= []);
      for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
        const c = conds.find((x) => x.type === type);
        if (!c)
          conds.push({
            type,
            status: 'Unknown',
            lastHeartbeatTime: n.metadata.creationTimestamp,
            lastTransitionTime: ts,
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
          });
        else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = ts;
        }
      }
      return JSON.stringify(conds.find((x) => x.type === 'Ready')) !== JSON.stringify(ready);
    };
    const copy = JSON.parse(JSON.stringify(node)) as KObject;
    if (!apply(copy)) return { node, observed: ready, current: ready };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const live = attempt === 0 ? copy : this.client.get(NODES, '', name);
        if (attempt > 0) {
          // Heard from meanwhile? Then leave it to the next pass.
          const lr = readyCondition(live);
          if (lr?.lastHeartbeatTime !== ready?.lastHeartbeatTime)
            return { node, observed: ready, current: ready };
          apply(live);
        }
        const updated = this.client.update(NODES, '', live, 'status');
        return { node: updated, observed: ready, current: readyCondition(updated) };
      } catch (e) {
        if (isNotFound(e)) return { node, observed: ready, current: ready };
        if (!isConflict(e)) throw e;
      }
    }
    return { node, observed: ready, current: ready };
  }

  private computeZoneState(conds: NodeCondition[]): ZoneState {
    const ready = conds.filter((c) => c.status === 'True').length;
    const notReady = conds.length - ready;
    if (ready === 0 && notReady > 0) return 'FullDisruption';
    if (notReady > 2 && notReady / (notReady + ready) >= this.opts.unhealthyZoneThreshold)
      return 'PartialDisruption';
    return 'Normal';
  }

  private handleDisruption(zoneReady: Map<string, NodeCondition[]>, now: number): void {
    const states = new Map<string, ZoneState>();
    for (const [z, conds] of zoneReady) states.set(z, this.computeZoneState(conds));
    const all = states.size > 0 && [...states.values()].every((s) => s === 'FullDisruption');
    if (this.allFullyDisrupted && !all) {
      // Leaving master disruption mode: give every node a fresh grace period.
      for (const h of this.health.values()) h.probeTimestamp = now;
    }
    this.allFullyDisrupted = all;
    for (const [z, s] of states) {
      this.zoneStates.set(z, s);
      const size = zoneReady.get(z)?.length ?? 0;
      const qps =
        s === 'PartialDisruption'
          ? size > this.opts.largeClusterThreshold
            ? this.opts.secondaryEvictionQPS
            : 0
          : this.opts.evictionQPS;
      const l = this.limiters.get(z);
      if (l) l.qps = qps;
      else this.limiters.set(z, new TokenBucket(qps));
    }
  }

  // ---- taints ----

  /** Reconcile the controller's NoSchedule and NoExecute taints on one Node. */
  syncTaints(key: string): { requeueAfterMs?: number } | void {
    const { name } = splitKey(key);
    const node = this.nodes.get('', name);
    if (!node || node.metadata.deletionTimestamp) return;
    const taints = nodeTaints(node);
    const conds = nodeConditions(node);
    const ready = conds.find((c) => c.type === 'Ready');

    // NoSchedule (condition mirror).
    const wantNoSchedule = new Set<string>();
    for (const c of conds) {
      const k = CONDITION_TAINTS[c.type]?.[c.status];
      if (k) wantNoSchedule.add(k);
    }
    if ((node['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable)
      wantNoSchedule.add(TAINT_UNSCHEDULABLE);

    // NoExecute.
    const hasNE = (k: string): boolean => taints.some((t) => t.key === k && t.effect === 'NoExecute');
    let wantNE: string | undefined | null = null; // null = leave as is
    let requeue: number | undefined;
    if (this.allFullyDisrupted) wantNE = undefined;
    else if (ready?.status === 'True') wantNE = undefined;
    else if (ready?.status === 'False' || ready?.status === 'Unknown') {
      const want = ready.status === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
      const other = want === TAINT_NOT_READY ? TAINT_UNREACHABLE : TAINT_NOT_READY;
      if (hasNE(want) && !hasNE(other)) wantNE = want;
      else if (hasNE(other))
        wantNE = want; // swap at once
      else {
        const limiter = this.limiters.get(zoneKey(node));
        const wait = limiter ? limiter.take() : 0;
        if (wait === 0) wantNE = want;
        else if (wait > 0) requeue = wait;
      }
    }

    const desired: Taint[] = [];
    const ts = rfc3339();
    for (const t of taints) {
      if (t.effect === 'NoSchedule' && NO_SCHEDULE_KEYS.has(t.key)) {
        if (wantNoSchedule.has(t.key)) desired.push(t);
        continue;
      }
      if (t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE)) {
        if (wantNE === null || wantNE === t.key) desired.push(t);
        continue;
      }
      desired.push(t);
    }
    for (const k of wantNoSchedule)
      if (!desired.some((t) => t.key === k && t.effect === 'NoSchedule'))
        desired.push({ key: k, effect: 'NoSchedule' });
    if (wantNE && !desired.some((t) => t.key === wantNE && t.effect === 'NoExecute'))
      desired.push({ key: wantNE, effect: 'NoExecute', timeAdded: ts });

    if (JSON.stringify(desired) !== JSON.stringify(taints)) this.writeTaints(name, taints, desired);
    if (requeue !== undefined) return { requeueAfterMs: requeue };
  }

  private writeTaints(name: string, before: Taint[], desired: Taint[]): void {
    const same = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;
    const added = desired.filter((t) => !before.some((b) => same(b, t)));
    const removed = before.filter((t) => !desired.some((d) => same(d, t)));
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: KObject;
      try {
        live = this.client.get(NODES, '', name);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const cur = nodeTaints(live).filter((t) => !removed.some((r) => same(r, t)));
      for (const a of added) if (!cur.some((t) => same(t, a))) cur.push(a);
      const spec = { ...((live['spec'] ?? {}) as Record<string, unknown>) };
      if (cur.length) spec['taints'] = cur;
      else delete spec['taints'];
      try {
        this.client.update(NODES, '', { ...live, spec });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
    throw new Error(`node ${name}: too many conflicts updating taints`);
  }

  // ---- pods on not-ready nodes ----

  private podChanged(p: KObject): void {
    const n = podNodeName(p);
    if (!n) return;
    const node = this.nodes.get('', n);
    if (!node) return;
    const r = readyCondition(node);
    if (r && r.status !== 'True' && isReadyTrue(p)) this.podQueue.add(keyOf(p));
  }

  /** MarkPodsNotReady for one pod: Ready → False while its Node is not ready. */
  syncPod(key: string): void {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(namespace, name);
    if (!pod || !isReadyTrue(pod)) return;
    const node = this.nodes.get('', podNodeName(pod));
    const r = node && readyCondition(node);
    if (!r || r.status === 'True') return;
    for (let attempt = 0; attempt < 3; attempt++) {
      let live: KObject;
      try {
        live = attempt === 0 ? JSON.parse(JSON.stringify(pod)) : this.client.get(PODS, namespace, name);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      const st = (live['status'] ??= {}) as { conditions?: PodCondition[] };
      const c = (st.conditions ?? []).find((x) => x.type === 'Ready');
      if (!c || c.status === 'False') return;
      c.status = 'False';
      c.lastTransitionTime = rfc3339();
      try {
        this.client.update(PODS, namespace, live, 'status');
        recordEvent(this.client, COMPONENT, live, 'Warning', 'NodeNotReady', 'Node is not ready');
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
  }
}

const isReadyTrue = (p: KObject): boolean =>
  (((p['status'] ?? {}) as { conditions?: PodCondition[] }).conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
