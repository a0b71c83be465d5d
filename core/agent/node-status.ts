/**
 * The kubelet's node side: registers this node's Node object (capacity, allocatable, addresses,
 * nodeInfo, labels, taints at registration), keeps its Lease in kube-node-lease renewed every 10 s and
 * its conditions refreshed, and waits for the pod CIDR node IPAM assigns. Talks only through the API.
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KObject } from '../api/object.ts';
import { rfc3339, rfc3339Micro } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { KubeClient, ResourceRef } from '../client/types.ts';
import type { AgentConfig } from './config.ts';

const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const LEASE_NS = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;

export interface NodeFacts {
  internalIP: string;
  capacity: Record<string, string>;
  nodeInfo: Record<string, string>;
}

const readOr = (path: string, fallback: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
};

/** The node's first non-internal IPv4 address (eth0 in a node container). */
export function primaryIPv4(): string {
  const ifs = os.networkInterfaces();
  for (const name of ['eth0', ...Object.keys(ifs).sort()]) {
    const a = ifs[name]?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('berth-agent: the node has no IPv4 address');
}

/** What this node has: CPUs, memory (from /proc/meminfo), disk of /var/lib/containerd, identity. */
export function gatherNodeFacts(config: AgentConfig, containerRuntimeVersion: string): NodeFacts {
  const memKi = /MemTotal:\s+(\d+) kB/.exec(readOr('/proc/meminfo', ''))?.[1] ?? String(os.totalmem() / 1024);
  let storage = '100Gi';
  try {
    const dir = existsSync('/var/lib/containerd') ? '/var/lib/containerd' : '/';
    const s = statfsSync(dir);
    storage = `${Math.floor((s.blocks * s.bsize) / 1024)}Ki`;
  } catch {
    /* keep the default */
  }
  const osImage = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr('/etc/os-release', ''))?.[1] ?? 'Linux';
  const machineID = readOr('/etc/machine-id', '') || randomBytes(16).toString('hex');
  return {
    internalIP: primaryIPv4(),
    capacity: {
      cpu: config.cpu ?? String(os.cpus().length),
      memory: config.memory ?? `${memKi}Ki`,
      pods: String(config.pods),
      'ephemeral-storage': storage,
      'hugepages-2Mi': '0',
    },
    nodeInfo: {
      machineID,
      systemUUID: machineID,
      bootID: readOr('/proc/sys/kernel/random/boot_id', randomBytes(16).toString('hex')),
      kernelVersion: os.release(),
      osImage,
      containerRuntimeVersion,
      kubeletVersion: config.kubeletVersion,
      kubeProxyVersion: config.kubeletVersion,
      operatingSystem: 'linux',
      architecture: os.arch() === 'x64' ? 'amd64' : os.arch(),
    },
  };
}

interface Condition {
  type: string;
  status: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

const BASE_CONDITIONS: [string, string, string, string][] = [
  ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
];

/** The node's conditions now, keeping each one's lastTransitionTime while its status is unchanged. */
export function nodeConditions(
  previous: Condition[],
  ready: { ok: boolean; message: string },
  now: string,
): Condition[] {
  const rows: [string, string, string, string][] = [
    ...BASE_CONDITIONS,
    ready.ok
      ? ['Ready', 'True', 'KubeletReady', ready.message]
      : ['Ready', 'False', 'KubeletNotReady', ready.message],
  ];
  return rows.map(([type, status, reason, message]) => {
    const old = previous.find((c) => c.type === type);
    return {
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime:
        old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
      reason,
      message,
    };
  });
}

const isCode = (e: unknown, code: number): boolean => e instanceof StatusError && e.code === code;

export class NodeStatusReporter {
  private leaseTimer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private stopped = false;
  /** What the Ready condition says; the agent flips it (e.g. until the CNI config is written). */
  ready: { ok: boolean; message: string } = { ok: false, message: 'container runtime network not ready' };

  constructor(
    private readonly client: KubeClient,
    private readonly config: AgentConfig,
    private readonly facts: NodeFacts,
    private readonly log: (m: string) => void,
    private readonly intervals = { leaseMs: 10_000, statusMs: 10_000 },
  ) {}

  private nodeObject(): KObject {
    const { config } = this;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: config.nodeName,
        labels: this.wellKnownLabels(),
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'berth.dev/driver': config.driver },
      },
      spec: config.taints.length ? { taints: config.taints.map((t) => ({ ...t })) } : {},
      status: this.status([]),
    };
  }

  private wellKnownLabels(): Record<string, string> {
    const arch = this.facts.nodeInfo['architecture'] ?? 'amd64';
    return {
      'beta.kubernetes.io/arch': arch,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch,
      'kubernetes.io/hostname': this.config.nodeName,
      'kubernetes.io/os': 'linux',
      ...this.config.labels,
    };
  }

  private status(previous: Condition[]): Record<string, unknown> {
    const { facts, config } = this;
    return {
      capacity: { ...facts.capacity },
      allocatable: { ...facts.capacity },
      conditions: nodeConditions(previous, this.ready, rfc3339()),
      addresses: [
        { type: 'InternalIP', address: facts.internalIP },
        { type: 'Hostname', address: config.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: { ...facts.nodeInfo },
    };
  }

  /** Creates the Node, or takes over an existing one (labels reconciled, status rewritten). */
  async register(): Promise<KObject> {
    try {
      const node = await this.client.create(nodesRef, '', this.nodeObject());
      this.log(`registered node ${this.config.nodeName}`);
      return node;
    } catch (e) {
      if (!isCode(e, 409)) throw e;
    }
    const existing = await this.client.get(nodesRef, '', this.config.nodeName);
    existing.metadata.labels = { ...(existing.metadata.labels ?? {}), ...this.wellKnownLabels() };
    const updated = await this.client.update(nodesRef, '', existing);
    await this.updateStatus();
    this.log(`node ${this.config.nodeName} already registered: taking it over`);
    return updated;
  }

  /** Rewrites status (conditions heartbeat, addresses, capacity); retries a conflict with a fresh read. */
  async updateStatus(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const node = await this.client.get(nodesRef, '', this.config.nodeName);
      const previous = ((node['status'] as { conditions?: Condition[] } | undefined)?.conditions ??
        []) as Condition[];
      node['status'] = { ...((node['status'] as object | undefined) ?? {}), ...this.status(previous) };
      try {
        await this.client.update(nodesRef, '', node, 'status');
        return;
      } catch (e) {
        if (!isCode(e, 409)) throw e;
      }
    }
  }

  async renewLease(): Promise<void> {
    const name = this.config.nodeName;
    const now = rfc3339Micro();
    let lease: KObject | undefined;
    try {
      lease = await this.client.get(leasesRef, LEASE_NS, name);
    } catch (e) {
      if (!isCode(e, 404)) throw e;
    }
    if (!lease) {
      const node = await this.client.get(nodesRef, '', name);
      await this.client.create(leasesRef, LEASE_NS, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name,
          namespace: LEASE_NS,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid ?? '' }],
        },
        spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now },
      });
      return;
    }
    lease['spec'] = {
      ...((lease['spec'] as object | undefined) ?? {}),
      holderIdentity: name,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: now,
    };
    await this.client.update(leasesRef, LEASE_NS, lease);
  }

  /** Starts the heartbeats: a Lease renewal and a status refresh, every 10 s each. */
  start(): void {
    const guard = (what: string, f: () => Promise<void>) => (): void => {
      if (this.stopped) return;
      f().catch((e: unknown) => this.log(`${what} failed: ${(e as Error).message}`));
    };
    const lease = guard('lease renewal', () => this.renewLease());
    const status = guard('node status update', () => this.updateStatus());
    lease();
    this.leaseTimer = setInterval(lease, this.intervals.leaseMs);
    this.statusTimer = setInterval(status, this.intervals.statusMs);
  }

  /** Sets the Ready condition and writes it at once. */
  async setReady(ok: boolean, message: string): Promise<void> {
    this.ready = { ok, message };
    await this.updateStatus();
  }

  /** Resolves with spec.podCIDR once node IPAM has assigned it (polls every 200 ms). */
  async waitForPodCIDR(timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const node = await this.client.get(nodesRef, '', this.config.nodeName);
      const cidr = (node['spec'] as { podCIDR?: string } | undefined)?.podCIDR;
      if (cidr) return cidr;
      if (Date.now() > deadline)
        throw new Error('berth-agent: no pod CIDR assigned to this node (is node IPAM running?)');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.leaseTimer);
    clearInterval(this.statusTimer);
  }
}
