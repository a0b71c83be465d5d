/**
 * The simulated node driver: nodes that exist only as API objects, for scale benchmarks and fast
 * control-plane tests (DESIGN.md principle 3: never the default, never the evidence that a feature
 * works). Every simulated node is labelled `berth.dev/simulated: "true"` and
 * `node.kubernetes.io/instance-type: simulated`, and reports containerRuntimeVersion "simulated://1".
 *
 * Per node it plays the kubelet's API side:
 * - registers the Node (capacity/allocatable, labels, conditions, nodeInfo, a fake InternalIP
 *   10.255.<n>.1 that nothing ever contacts) and refreshes its condition heartbeats;
 * - renews its Lease in kube-node-lease every 10 s;
 * - moves pods bound to it to Running (podIP from spec.podCIDR when set, else 10.244.<n>.0/24);
 * - honours deletion: after the pod's grace period (capped at 2 s) it makes the final delete
 *   (gracePeriodSeconds 0), as the kubelet does;
 * - exitContainer() makes a container exit with a code, so Jobs and restart policies can be exercised.
 *
 * Simulated-only pod annotations (ignored by real nodes) let pods finish without test code, e.g. from a
 * Job template applied with kubectl:
 * - `sim.berth.dev/exit: "<code>"`: every container exits with that code once Running;
 * - `sim.berth.dev/exit-after: "<duration>"` (Go-style: "500ms", "2s", "1m30s"; default 0): how long
 *   after it started;
 * - `sim.berth.dev/exit.<container>` / `sim.berth.dev/exit-after.<container>`: the same for one
 *   container (overrides the pod-wide ones).
 * A container the kubelet would restart (restartPolicy Always, or OnFailure with a non-zero code) exits
 * again the same way after each restart.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerStatus, Node, Pod, PodCondition } from 'kubernetes-types/core/v1';
import { deepCopy, type KObject, rfc3339, rfc3339Micro } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import type { InProcessClient, ResourceRef } from '../../client/in-process.ts';
import type { Watcher } from '../../store/types.ts';
import type { NodeCreateOptions, NodeDriver, NodeRecord } from '../driver.ts';

export const SIMULATED_LABEL = 'berth.dev/simulated';
/** Pod annotation: exit code every container exits with (simulated nodes only). */
export const SIM_EXIT_ANNOTATION = 'sim.berth.dev/exit';
/** Pod annotation: delay before that exit, a Go duration ("2s"). */
export const SIM_EXIT_AFTER_ANNOTATION = 'sim.berth.dev/exit-after';

/** Parses a Go-style duration ("1m30s", "500ms", "2s", "0") into ms; undefined when invalid. */
export function parseDurationMs(s: string): number | undefined {
  const t = s.trim();
  if (t === '0') return 0;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    ms += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
  return ms;
}

/** The exit a container is asked for by the sim.berth.dev annotations, if any. */
export function annotatedExit(
  annotations: Record<string, string> | undefined,
  container: string,
): { code: number; afterMs: number } | undefined {
  const a = annotations ?? {};
  const codeStr = a[`${SIM_EXIT_ANNOTATION}.${container}`] ?? a[SIM_EXIT_ANNOTATION];
  if (codeStr === undefined || !/^\s*-?\d+\s*$/.test(codeStr)) return undefined;
  const afterStr = a[`${SIM_EXIT_AFTER_ANNOTATION}.${container}`] ?? a[SIM_EXIT_AFTER_ANNOTATION];
  const afterMs = afterStr === undefined ? 0 : (parseDurationMs(afterStr) ?? 0);
  return { code: Number(codeStr), afterMs };
}
export const SIMULATED_RUNTIME = 'simulated://1';

const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const LEASE_NS = 'kube-node-lease';

export interface SimulatedDriverOptions {
  /** Lease renewal interval (default 10 000 ms, the kubelet's). */
  leaseIntervalMs?: number;
  /** Node status (condition heartbeat) interval (default 60 000 ms). */
  statusIntervalMs?: number;
  /** Cap on a pod's termination grace period (default 2 s). */
  maxGraceSeconds?: number;
  /** Delay before a bound pod is reported Running (default 0 ms). */
  startDelayMs?: number;
  /** Defaults for create(): cpu "4", memory "8Gi", pods 110. */
  defaultCpu?: string;
  defaultMemory?: string;
  defaultPods?: number;
  kubeletVersion?: string;
}

interface SimNode {
  name: string;
  index: number;
  running: boolean;
  internalIP: string;
  /** Allocated pod IPs (last octet in the /24) by pod uid. */
  ips: Map<string, string>;
  /** When its lease renewal and status heartbeat are next due (ms since the epoch). */
  leaseDue: number;
  statusDue: number;
  /** The pod CIDR the node controller assigned (spec.podCIDR), once seen: it never changes. */
  assignedCIDR?: string;
}

function cidrBase(cidr: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.\d+\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Nodes registered per commit by createMany. */
const CREATE_CHUNK = 250;

const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;

export class SimulatedNodeDriver implements NodeDriver {
  readonly name = 'simulated';
  private readonly nodes = new Map<string, SimNode>();
  /** Pods on our nodes we have already started / are terminating, by uid. */
  private readonly started = new Set<string>();
  private readonly terminating = new Map<string, NodeJS.Timeout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly deferred: (() => void)[] = [];
  /** One timer renews the leases and status of every running node that is due, in one commit. */
  private ticker?: NodeJS.Timeout;
  private podWatch?: Watcher;
  /** Every registered node's index (from its 10.255.x.y address), kept by a watch on nodes. */
  private nodeWatch?: Watcher;
  private readonly registeredIndex = new Map<string, number>();
  /** How many of our nodes and registered nodes use each index (both, for most). */
  private readonly indexUse = new Map<number, number>();
  private readonly opts: Required<SimulatedDriverOptions>;
  private closed = false;

  constructor(
    private readonly client: InProcessClient,
    opts: SimulatedDriverOptions = {},
  ) {
    this.opts = {
      leaseIntervalMs: opts.leaseIntervalMs ?? 10_000,
      statusIntervalMs: opts.statusIntervalMs ?? 60_000,
      maxGraceSeconds: opts.maxGraceSeconds ?? 2,
      startDelayMs: opts.startDelayMs ?? 0,
      defaultCpu: opts.defaultCpu ?? '4',
      defaultMemory: opts.defaultMemory ?? '8Gi',
      defaultPods: opts.defaultPods ?? 110,
      kubeletVersion: opts.kubeletVersion ?? 'v1.33.0',
    };
  }

  /** Registers `count` nodes named `${prefix}-1` … (a convenience for `berth up --driver simulated`). */
  async createMany(
    count: number,
    prefix = 'sim',
    base: Omit<NodeCreateOptions, 'name'> = {},
  ): Promise<NodeRecord[]> {
    const out: NodeRecord[] = [];
    // create() writes synchronously before its first await: a chunk of nodes shares one commit.
    for (let i = 1; i <= count; i += CREATE_CHUNK) {
      const chunk = this.client.batch(() =>
        Array.from({ length: Math.min(CREATE_CHUNK, count - i + 1) }, (_, j) =>
          this.create({ ...base, name: `${prefix}-${i + j}` }),
        ),
      );
      out.push(...(await Promise.all(chunk)));
    }
    return out;
  }

  /** Re-adopts every existing simulated Node (a restarted cluster resumes its simulated nodes). */
  async resume(): Promise<NodeRecord[]> {
    const { items } = this.client.list(nodesRef, '', { labelSelector: `${SIMULATED_LABEL}=true` });
    const out: NodeRecord[] = [];
    for (const n of items) out.push(await this.create({ name: n.metadata.name ?? '' }));
    return out;
  }

  async create(opts: NodeCreateOptions): Promise<NodeRecord> {
    this.closed = false;
    this.ensureWatch();
    let existing: KObject | undefined;
    try {
      existing = this.client.get(nodesRef, '', opts.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const index = this.indexFor(existing);
    const sim: SimNode = this.nodes.get(opts.name) ?? {
      name: opts.name,
      index,
      running: false,
      internalIP: `10.255.${index & 255}.${1 + (index >> 8)}`,
      ips: new Map(),
      leaseDue: 0,
      statusDue: 0,
    };
    if (!this.nodes.has(opts.name)) this.useIndex(sim.index, 1);
    this.nodes.set(opts.name, sim);
    if (!existing) this.client.create(nodesRef, '', this.nodeObject(sim, opts));
    await this.start(opts.name);
    return this.record(sim);
  }

  async start(name: string): Promise<void> {
    const sim = this.nodes.get(name);
    if (!sim) throw new Error(`simulated node ${name} not found`);
    if (sim.running) return;
    sim.running = true;
    sim.assignedCIDR = undefined;
    this.heartbeatStatus(sim);
    this.renewLease(sim);
    sim.leaseDue = Date.now() + this.opts.leaseIntervalMs;
    sim.statusDue = Date.now() + this.opts.statusIntervalMs;
    this.ensureTicker();
    // Pick up pods already bound to it.
    const { items } = this.client.list(podsRef, '', { fieldSelector: `spec.nodeName=${name}` });
    for (const p of items) this.onPod('ADDED', p as unknown as Pod);
  }

  async stop(name: string): Promise<void> {
    const sim = this.nodes.get(name);
    if (!sim) return;
    sim.running = false;
    if (![...this.nodes.values()].some((n) => n.running)) this.stopTicker();
  }

  async remove(name: string): Promise<void> {
    await this.stop(name);
    const gone = this.nodes.get(name);
    if (gone) this.useIndex(gone.index, -1);
    this.nodes.delete(name);
    for (const [ref, ns] of [
      [nodesRef, ''],
      [leasesRef, LEASE_NS],
    ] as const) {
      try {
        this.client.delete(ref, ns, name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  async list(): Promise<NodeRecord[]> {
    return [...this.nodes.values()].map((s) => this.record(s));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const n of this.nodes.values()) await this.stop(n.name);
    this.podWatch?.stop();
    this.podWatch = undefined;
    this.nodeWatch?.stop();
    this.nodeWatch = undefined;
    for (const i of this.registeredIndex.values()) this.useIndex(i, -1);
    this.registeredIndex.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.deferred.length = 0;
    this.stopTicker();
    for (const t of this.terminating.values()) clearTimeout(t);
    this.terminating.clear();
  }

  /**
   * Makes a container of a pod exit with `code` after `afterSeconds` (counted from now; waits for the
   * pod to be Running first). With restartPolicy Always, or OnFailure and a non-zero code, the container
   * restarts (restartCount + 1, lastState terminated); otherwise it stays terminated, and once every
   * container has terminated the pod is Succeeded (all exit 0) or Failed.
   */
  exitContainer(namespace: string, pod: string, container: string, code: number, afterSeconds = 0): void {
    const deadline = Date.now() + 60_000 + afterSeconds * 1000;
    const attempt = (): void => {
      if (this.closed) return;
      let done = false;
      try {
        done = this.applyExit(namespace, pod, container, code);
      } catch (e) {
        if (isNotFound(e)) return;
      }
      if (!done && Date.now() < deadline) this.later(attempt, 100);
    };
    this.later(attempt, Math.max(0, afterSeconds * 1000));
  }

  // ---- internals ----

  /** Schedules the exits a pod's sim.berth.dev/exit annotations ask for (see annotatedExit). */
  private scheduleAnnotatedExits(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    for (const c of pod.spec?.containers ?? []) {
      const x = annotatedExit(pod.metadata?.annotations, c.name);
      if (x) this.autoExit(ns, name, uid, c.name, x.code, x.afterMs);
    }
  }

  /**
   * Exits a container after afterMs (counted from its start); when the kubelet would restart it
   * (restartPolicy Always, or OnFailure with a non-zero code) the restarted container exits the same
   * way again, as a command that always fails would.
   */
  private autoExit(
    ns: string,
    name: string,
    uid: string,
    container: string,
    code: number,
    afterMs: number,
  ): void {
    const attempt = (tries: number): void => {
      if (this.closed) return;
      let done: boolean;
      try {
        const live = this.client.get(podsRef, ns, name);
        if (live.metadata.uid !== uid || live.metadata.deletionTimestamp) return;
        done = this.applyExit(ns, name, container, code);
      } catch {
        return;
      }
      if (!done) {
        if (tries < 600) this.later(() => attempt(tries + 1), 100);
        return;
      }
      try {
        const after = this.client.get(podsRef, ns, name) as unknown as Pod & KObject;
        if (after.metadata.uid !== uid || after.status?.phase !== 'Running') return;
        const cs = (after.status.containerStatuses ?? []).find((c) => c.name === container);
        if (cs?.state?.running) this.later(() => attempt(0), afterMs);
      } catch {
        /* gone */
      }
    };
    this.later(() => attempt(0), afterMs);
  }

  private ensureTicker(): void {
    if (this.ticker) return;
    const every = Math.min(1000, this.opts.leaseIntervalMs, this.opts.statusIntervalMs);
    this.ticker = setInterval(() => this.tick(), every);
    this.ticker.unref?.();
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Renews what is due (each node every leaseIntervalMs / statusIntervalMs, at most one tick late). */
  private tick(): void {
    const now = Date.now();
    this.client.batch(() => {
      for (const sim of this.nodes.values()) {
        if (!sim.running) continue;
        if (now >= sim.leaseDue) {
          sim.leaseDue = now + this.opts.leaseIntervalMs;
          this.renewLease(sim);
        }
        if (now >= sim.statusDue) {
          sim.statusDue = now + this.opts.statusIntervalMs;
          this.heartbeatStatus(sim);
        }
      }
    });
  }

  /**
   * Runs fn on a later turn of the event loop, in order; everything deferred to the same turn runs
   * together, its writes sharing one commit (a node's status updates batched as a kubelet's are not,
   * but thousands of simulated nodes starting pods at once would otherwise fsync once per pod).
   */
  private defer(fn: () => void): void {
    this.deferred.push(fn);
    if (this.deferred.length === 1) this.later(() => this.flushDeferred(), 0);
  }

  private flushDeferred(): void {
    const fns = this.deferred.splice(0);
    this.client.batch(() => {
      for (const f of fns) {
        try {
          f();
        } catch {
          /* each step handles its own errors; one failing must not drop the others */
        }
      }
    });
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private record(s: SimNode): NodeRecord {
    let podCIDR = `10.244.${s.index}.0/24`;
    try {
      podCIDR = this.podCIDR(s, this.client.get(nodesRef, '', s.name) as unknown as Node);
    } catch {
      /* not registered (yet) */
    }
    return {
      name: s.name,
      driver: this.name,
      state: s.running ? 'running' : 'stopped',
      internalIP: s.internalIP,
      podCIDR,
    };
  }

  /** The node's index n (10.244.<n>.0/24, 10.255.<n>.1): kept from its registered address when it has one. */
  private indexFor(existing: KObject | undefined): number {
    const addr = ((existing as unknown as Node | undefined)?.status?.addresses ?? []).find(
      (a) => a.type === 'InternalIP',
    )?.address;
    const m = addr ? /^10\.255\.(\d+)\.(\d+)$/.exec(addr) : null;
    if (m) return Number(m[1]) + (Number(m[2]) - 1) * 256;
    let i = 1;
    while (this.indexUse.has(i)) i++;
    return i;
  }

  private useIndex(index: number, delta: 1 | -1): void {
    const n = (this.indexUse.get(index) ?? 0) + delta;
    if (n > 0) this.indexUse.set(index, n);
    else this.indexUse.delete(index);
  }

  private podCIDR(sim: SimNode, node: Node | undefined): string {
    const c = node?.spec?.podCIDR ?? node?.spec?.podCIDRs?.[0] ?? sim.assignedCIDR;
    if (c && cidrBase(c)) return (sim.assignedCIDR = c);
    return sim.index <= 255
      ? `10.244.${sim.index}.0/24`
      : `10.${244 + (sim.index >> 8)}.${sim.index & 255}.0/24`;
  }

  private conditions(now: string, transitions?: Map<string, string>): Record<string, unknown>[] {
    const c = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: transitions?.get(`${type}=${status}`) ?? now,
      reason,
      message,
    });
    return [
      c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (simulated)'),
    ];
  }

  private nodeObject(sim: SimNode, opts: NodeCreateOptions): KObject {
    const now = rfc3339();
    const capacity = {
      cpu: opts.cpu ?? this.opts.defaultCpu,
      memory: opts.memory ?? this.opts.defaultMemory,
      pods: String(opts.pods ?? this.opts.defaultPods),
      'ephemeral-storage': '100Gi',
    };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: sim.name,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': sim.name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': 'simulated',
          [SIMULATED_LABEL]: 'true',
          ...(opts.labels ?? {}),
        },
        annotations: {
          'node.alpha.kubernetes.io/ttl': '0',
          'berth.dev/driver': 'simulated',
        },
      },
      spec: opts.taints?.length ? { taints: opts.taints.map((t) => ({ ...t })) } : {},
      status: {
        capacity,
        allocatable: { ...capacity },
        conditions: this.conditions(now),
        addresses: [
          { type: 'InternalIP', address: sim.internalIP },
          { type: 'Hostname', address: sim.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: randomBytes(16).toString('hex'),
          systemUUID: randomBytes(16).toString('hex'),
          bootID: randomBytes(16).toString('hex'),
          kernelVersion: 'simulated',
          osImage: 'Berth simulated node',
          containerRuntimeVersion: SIMULATED_RUNTIME,
          kubeletVersion: this.opts.kubeletVersion,
          kubeProxyVersion: this.opts.kubeletVersion,
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
  }

  /** Refreshes the node's condition heartbeats (and marks it Ready again after a stop). */
  private heartbeatStatus(sim: SimNode): void {
    if (!sim.running) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const node = this.client.get(nodesRef, '', sim.name);
        const st = ((node['status'] ??= {}) as Node['status'] & Record<string, unknown>)!;
        const transitions = new Map<string, string>();
        for (const c of (st.conditions ?? []) as {
          type: string;
          status: string;
          lastTransitionTime?: string;
        }[])
          if (c.lastTransitionTime) transitions.set(`${c.type}=${c.status}`, c.lastTransitionTime);
        (st as Record<string, unknown>)['conditions'] = this.conditions(rfc3339(), transitions);
        this.client.update(nodesRef, '', node, 'status');
        return;
      } catch (e) {
        if (!isConflict(e)) return;
      }
    }
  }

  private renewLease(sim: SimNode): void {
    if (!sim.running) return;
    const now = rfc3339Micro();
    try {
      let lease: KObject | undefined;
      try {
        lease = this.client.get(leasesRef, LEASE_NS, sim.name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (!lease) {
        let uid: string | undefined;
        try {
          uid = this.client.get(nodesRef, '', sim.name).metadata.uid;
        } catch {
          /* no node, no owner */
        }
        this.client.create(leasesRef, LEASE_NS, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: sim.name,
            namespace: LEASE_NS,
            ...(uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: sim.name, uid }] } : {}),
          },
          spec: { holderIdentity: sim.name, leaseDurationSeconds: 40, renewTime: now },
        });
        return;
      }
      const spec = (lease['spec'] ??= {}) as Record<string, unknown>;
      spec['holderIdentity'] = sim.name;
      spec['leaseDurationSeconds'] = 40;
      spec['renewTime'] = now;
      this.client.update(leasesRef, LEASE_NS, lease);
    } catch {
      /* the next renewal tries again */
    }
  }

  private ensureWatch(): void {
    this.nodeWatch ??= this.client.watch(nodesRef, '', { resourceVersion: '0' }, (type, obj) => {
      const name = obj.metadata.name ?? '';
      const addr = ((obj as unknown as Node).status?.addresses ?? []).find((a) => a.type === 'InternalIP');
      const m = addr ? /^10\.255\.(\d+)\.(\d+)$/.exec(addr.address) : null;
      const before = this.registeredIndex.get(name);
      if (before !== undefined) this.useIndex(before, -1);
      if (type === 'DELETED' || !m) this.registeredIndex.delete(name);
      else {
        const index = Number(m[1]) + (Number(m[2]) - 1) * 256;
        this.registeredIndex.set(name, index);
        this.useIndex(index, 1);
      }
    });
    if (this.podWatch) return;
    this.podWatch = this.client.watch(podsRef, '', { resourceVersion: '0' }, (type, obj) => {
      const pod = obj as unknown as Pod;
      const n = pod.spec?.nodeName;
      if (!n || !this.nodes.get(n)?.running) return;
      // Never write from inside the watch callback: defer to the event loop.
      this.defer(() => this.onPod(type, pod));
    });
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const sim = this.nodes.get(pod.spec?.nodeName ?? '');
    if (!sim || !sim.running || this.closed) return;
    if (type === 'DELETED') {
      this.started.delete(uid);
      sim.ips.delete(uid);
      const t = this.terminating.get(uid);
      if (t) clearTimeout(t);
      this.terminating.delete(uid);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (this.terminating.has(uid)) return;
      const grace = Math.min(pod.metadata.deletionGracePeriodSeconds ?? 0, this.opts.maxGraceSeconds);
      const t = setTimeout(() => this.finalDelete(pod), Math.max(0, grace) * 1000);
      this.terminating.set(uid, t);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      sim.ips.delete(uid);
      return;
    }
    if (this.started.has(uid)) return;
    // Already Running (a resumed cluster): keep its IP.
    if (phase === 'Running' && pod.status?.podIP) {
      sim.ips.set(uid, pod.status.podIP);
      this.started.add(uid);
      this.scheduleAnnotatedExits(pod);
      return;
    }
    this.started.add(uid);
    if (this.opts.startDelayMs > 0) this.later(() => this.runPod(sim, pod), this.opts.startDelayMs);
    else this.defer(() => this.runPod(sim, pod));
  }

  private finalDelete(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.terminating.delete(uid);
    if (this.closed) return;
    try {
      this.client.delete(podsRef, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', {
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
    } catch {
      /* already gone, or replaced */
    }
  }

  private allocateIP(sim: SimNode, uid: string, node: Node | undefined): string {
    const have = sim.ips.get(uid);
    if (have) return have;
    const base = cidrBase(this.podCIDR(sim, node)) ?? [10, 244, sim.index & 255];
    const used = new Set(sim.ips.values());
    for (let h = 2; h < 255; h++) {
      const ip = `${base[0]}.${base[1]}.${base[2]}.${h}`;
      if (!used.has(ip)) {
        sim.ips.set(uid, ip);
        return ip;
      }
    }
    throw new Error(`simulated node ${sim.name}: pod CIDR exhausted`);
  }

  /** Reports a bound pod Running: IPs, start time, conditions, running container statuses. */
  private runPod(sim: SimNode, seen: Pod): void {
    const ns = seen.metadata?.namespace ?? '';
    const name = seen.metadata?.name ?? '';
    const uid = seen.metadata?.uid ?? '';
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const live = this.client.get(podsRef, ns, name) as unknown as Pod & KObject;
        if (live.metadata.uid !== uid || live.metadata.deletionTimestamp) return;
        const phase = live.status?.phase;
        if (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed') return;
        let node: Node | undefined;
        try {
          if (!sim.assignedCIDR) node = this.client.get(nodesRef, '', sim.name) as unknown as Node;
        } catch {
          /* use the default CIDR */
        }
        const ip = this.allocateIP(sim, uid, node);
        const now = rfc3339();
        const st = deepCopy(live.status ?? {}) as Record<string, unknown>;
        const conds = ((st['conditions'] ?? []) as PodCondition[]).filter(
          (c) => !['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'].includes(c.type),
        );
        const cond = (type: string): PodCondition =>
          ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now }) as unknown as PodCondition;
        if (!conds.some((c) => c.type === 'PodScheduled')) conds.push(cond('PodScheduled'));
        st['conditions'] = [
          cond('PodReadyToStartContainers'),
          cond('Initialized'),
          cond('Ready'),
          cond('ContainersReady'),
          ...conds,
        ];
        st['phase'] = 'Running';
        st['hostIP'] = sim.internalIP;
        st['hostIPs'] = [{ ip: sim.internalIP }];
        st['podIP'] = ip;
        st['podIPs'] = [{ ip }];
        st['startTime'] = (st['startTime'] as string | undefined) ?? now;
        const inits = live.spec?.initContainers ?? [];
        if (inits.length)
          st['initContainerStatuses'] = inits.map((c) =>
            c.restartPolicy === 'Always'
              ? this.runningStatus(c.name, c.image ?? '', now)
              : {
                  name: c.name,
                  image: c.image ?? '',
                  imageID: '',
                  containerID: `${SIMULATED_RUNTIME.split(':')[0]}://${randomBytes(32).toString('hex')}`,
                  ready: true,
                  started: false,
                  restartCount: 0,
                  state: {
                    terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now },
                  },
                  lastState: {},
                },
          );
        st['containerStatuses'] = (live.spec?.containers ?? []).map((c) =>
          this.runningStatus(c.name, c.image ?? '', now),
        );
        (live as KObject)['status'] = st;
        this.client.update(podsRef, ns, live as KObject, 'status');
        this.scheduleAnnotatedExits(live);
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) {
          // Retry later (e.g. transient validation of a changing pod).
          this.started.delete(uid);
          return;
        }
      }
    }
    this.started.delete(uid);
  }

  private runningStatus(name: string, image: string, now: string, restartCount = 0): ContainerStatus {
    return {
      name,
      image,
      imageID: '',
      containerID: `simulated://${randomBytes(32).toString('hex')}`,
      ready: true,
      started: true,
      restartCount,
      state: { running: { startedAt: now } },
      lastState: {},
    } as ContainerStatus;
  }

  /** Returns false when the pod is not Running yet (the caller retries). */
  private applyExit(namespace: string, name: string, container: string, code: number): boolean {
    for (let attempt = 0; attempt < 5; attempt++) {
      const live = this.client.get(podsRef, namespace, name) as unknown as Pod & KObject;
      const sim = this.nodes.get(live.spec?.nodeName ?? '');
      if (!sim || !sim.running) return false;
      if (live.status?.phase !== 'Running') {
        return live.status?.phase === 'Succeeded' || live.status?.phase === 'Failed';
      }
      const st = deepCopy(live.status) as Record<string, unknown>;
      const statuses = (st['containerStatuses'] ?? []) as Record<string, unknown>[];
      const cs = statuses.find((c) => c['name'] === container);
      if (!cs) throw new Error(`pod ${namespace}/${name} has no container ${container}`);
      const state = (cs['state'] ?? {}) as { running?: { startedAt?: string } };
      if (!state.running) return true;
      const now = rfc3339();
      const terminated = {
        exitCode: code,
        reason: code === 0 ? 'Completed' : 'Error',
        startedAt: state.running.startedAt ?? now,
        finishedAt: now,
        containerID: cs['containerID'],
      };
      const policy = live.spec?.restartPolicy ?? 'Always';
      const restart = policy === 'Always' || (policy === 'OnFailure' && code !== 0);
      if (restart) {
        cs['lastState'] = { terminated };
        cs['state'] = { running: { startedAt: now } };
        cs['restartCount'] = ((cs['restartCount'] as number | undefined) ?? 0) + 1;
        cs['containerID'] = `simulated://${randomBytes(32).toString('hex')}`;
      } else {
        cs['state'] = { terminated };
        cs['ready'] = false;
        cs['started'] = false;
      }
      const conds = ((st['conditions'] ?? []) as Record<string, unknown>[]).filter(
        (c) => c['type'] !== 'Ready' && c['type'] !== 'ContainersReady',
      );
      const allTerminated = statuses.every((c) => !!(c['state'] as { terminated?: unknown }).terminated);
      const unready = statuses.filter((c) => !c['ready']).map((c) => c['name'] as string);
      const mk = (type: string): Record<string, unknown> =>
        allTerminated
          ? { type, status: 'False', reason: 'PodCompleted', lastProbeTime: null, lastTransitionTime: now }
          : unready.length
            ? {
                type,
                status: 'False',
                reason: 'ContainersNotReady',
                message: `containers with unready status: [${unready.join(' ')}]`,
                lastProbeTime: null,
                lastTransitionTime: now,
              }
            : { type, status: 'True', lastProbeTime: null, lastTransitionTime: now };
      conds.push(mk('Ready'), mk('ContainersReady'));
      if (allTerminated) {
        const ok = statuses.every(
          (c) => ((c['state'] as { terminated?: { exitCode?: number } }).terminated?.exitCode ?? 1) === 0,
        );
        st['phase'] = ok ? 'Succeeded' : 'Failed';
        const prtc = conds.find((c) => c['type'] === 'PodReadyToStartContainers');
        if (prtc) {
          prtc['status'] = 'False';
          prtc['lastTransitionTime'] = now;
        }
      }
      st['conditions'] = conds;
      (live as KObject)['status'] = st;
      try {
        this.client.update(podsRef, namespace, live as KObject, 'status');
        if (allTerminated) sim.ips.delete(live.metadata.uid ?? '');
        return true;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    return false;
  }
}
