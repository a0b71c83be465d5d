/**
 * Node IPAM with the range allocator (pkg/controller/nodeipam/ipam/range_allocator.go semantics): every
 * Node gets spec.podCIDR and spec.podCIDRs (one IPv4 CIDR) of --node-cidr-mask-size (24) carved from the
 * cluster pod range (ctx.podCIDR, default 10.244.0.0/16).
 * - The allocation bitmap is rebuilt from the Nodes that already have a CIDR, so allocations are stable
 *   across restarts; a Node's CIDR is never changed once set (the API refuses that anyway).
 * - Allocation is round robin from the last allocated index (cidrset's nextCandidate), as upstream.
 * - A deleted Node's CIDR is released.
 * - When the range is exhausted the Node gets an event CIDRNotAvailable ("Node <name> status is now:
 *   CIDRNotAvailable", as nodeutil.RecordNodeStatusChange) and is retried with backoff.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, type SharedInformer, type SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { recordEvent } from './replicaset.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((x) => x > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

const formatIPv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export function parseCIDR(s: string): { base: number; bits: number } | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIPv4(m[1]!);
  const bits = Number(m[2]);
  if (ip === undefined || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ip & mask) >>> 0, bits };
}

/** A cidrset: the subnets of size nodeMask inside a cluster CIDR, as a bitmap. */
export class CidrSet {
  readonly size: number;
  private readonly used = new Set<number>();
  private next = 0;
  private readonly base: number;
  private readonly clusterBits: number;

  constructor(
    clusterCIDR: string,
    readonly nodeMask = DEFAULT_NODE_CIDR_MASK_SIZE,
  ) {
    const c = parseCIDR(clusterCIDR);
    if (!c) throw new Error(`invalid cluster CIDR ${clusterCIDR}`);
    if (nodeMask < c.bits) throw new Error(`node CIDR mask /${nodeMask} is larger than the cluster CIDR`);
    this.base = c.base;
    this.clusterBits = c.bits;
    this.size = 2 ** (nodeMask - c.bits);
  }

  private cidrAt(i: number): string {
    return `${formatIPv4((this.base + i * 2 ** (32 - this.nodeMask)) >>> 0)}/${this.nodeMask}`;
  }

  /** The index of a CIDR in this set, or undefined when it is not one of its subnets. */
  indexOf(cidr: string): number | undefined {
    const c = parseCIDR(cidr);
    if (!c || c.bits !== this.nodeMask) return undefined;
    const clusterMask = this.clusterBits === 0 ? 0 : (0xffffffff << (32 - this.clusterBits)) >>> 0;
    if ((c.base & clusterMask) >>> 0 !== this.base) return undefined;
    return (c.base - this.base) / 2 ** (32 - this.nodeMask);
  }

  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  /** The next free subnet (round robin), or undefined when exhausted. */
  allocateNext(): string | undefined {
    for (let k = 0; k < this.size; k++) {
      const i = (this.next + k) % this.size;
      if (!this.used.has(i)) {
        this.used.add(i);
        this.next = (i + 1) % this.size;
        return this.cidrAt(i);
      }
    }
    return undefined;
  }

  get allocated(): number {
    return this.used.size;
  }
}

interface NodeSpec {
  podCIDR?: string;
  podCIDRs?: string[];
}

const nodeCIDRs = (n: KObject): string[] => {
  const spec = (n['spec'] ?? {}) as NodeSpec;
  if (spec.podCIDRs?.length) return spec.podCIDRs;
  return spec.podCIDR ? [spec.podCIDR] : [];
};

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

export class NodeIpamController {
  readonly queue = new WorkQueue();
  readonly cidrs: CidrSet;
  private readonly nodes: SharedInformer;
  /** node name → the CIDR we hold for it. */
  private readonly held = new Map<string, string>();
  private rebuilt = false;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    clusterCIDR: string,
    nodeMask = DEFAULT_NODE_CIDR_MASK_SIZE,
  ) {
    this.cidrs = new CidrSet(clusterCIDR, nodeMask);
    this.nodes = factory.informer(NODES);
    this.nodes.addHandlers({
      add: (n) => this.observe(n),
      update: (_o, n) => this.observe(n),
      delete: (n) => {
        const name = n.metadata.name ?? '';
        const c = this.held.get(name);
        if (c) this.cidrs.release(c);
        this.held.delete(name);
        for (const x of nodeCIDRs(n)) if (x !== c) this.cidrs.release(x);
        // Room again for nodes waiting on an exhausted range.
        for (const w of this.nodes.list()) if (!nodeCIDRs(w).length) this.queue.add(keyOf(w));
      },
    });
  }

  start(): void {
    // Occupy every CIDR already assigned before handing out new ones (restart stability).
    try {
      for (const n of this.client.list(NODES, '').items) this.record(n);
      this.rebuilt = true;
    } catch {
      /* the informer's adds record them */
    }
    this.running = runWorkers(this.queue, 1, (k) => this.sync(k), undefined, this.client);
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.running;
  }

  private record(n: KObject): boolean {
    const cidrs = nodeCIDRs(n);
    const name = n.metadata.name ?? '';
    const first = cidrs[0];
    if (!first) return false;
    if (this.held.get(name) !== first) {
      this.cidrs.occupy(first);
      this.held.set(name, first);
    }
    return true;
  }

  private observe(n: KObject): void {
    if (!this.record(n) && !n.metadata.deletionTimestamp) this.queue.add(keyOf(n));
  }

  sync(name: string): { requeueAfterMs?: number } | void {
    if (!this.rebuilt) {
      for (const n of this.nodes.list()) this.record(n);
      this.rebuilt = true;
    }
    const cached = this.nodes.get('', name);
    if (!cached || cached.metadata.deletionTimestamp || this.record(cached)) return;
    const cidr = this.cidrs.allocateNext();
    if (!cidr) {
      recordEvent(
        this.client,
        'cidrAllocator',
        { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: cached.metadata.uid } },
        'Normal',
        'CIDRNotAvailable',
        `Node ${name} status is now: CIDRNotAvailable`,
      );
      throw new Error(
        `failed to allocate cidr from cluster cidr: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range`,
      );
    }
    for (let attempt = 0; ; attempt++) {
      let live: KObject;
      try {
        live = this.client.get(NODES, '', name);
      } catch (e) {
        this.cidrs.release(cidr);
        if (isNotFound(e)) return;
        throw e;
      }
      if (nodeCIDRs(live).length) {
        this.cidrs.release(cidr);
        this.record(live);
        return;
      }
      const spec = { ...((live['spec'] ?? {}) as NodeSpec), podCIDR: cidr, podCIDRs: [cidr] };
      try {
        this.client.update(NODES, '', { ...live, spec });
        this.held.set(name, cidr);
        return;
      } catch (e) {
        if (isConflict(e) && attempt < 5) continue;
        this.cidrs.release(cidr);
        if (isNotFound(e)) return;
        throw e;
      }
    }
  }
}
