/**
 * In-memory ClusterIP and NodePort allocation for Services (pkg/registry/core/service/ipallocator and
 * portallocator semantics): requested values are honoured or rejected with Kubernetes' messages, the rest
 * are picked at random; the first address of the range is kept for the `kubernetes` Service and the
 * tenth for cluster DNS (handed out only when asked for by value).
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Spec = Mutable<NonNullable<Service['spec']>>;

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255) || m.slice(1).some((p) => p.length > 1 && p.startsWith('0')))
    return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const keyOf = (svc: KObject): string => `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
const specOf = (svc: KObject): Spec => {
  if (typeof svc['spec'] !== 'object' || svc['spec'] === null) svc['spec'] = {};
  return svc['spec'] as Spec;
};

/** The service types that get a cluster IP and (for NodePort/LoadBalancer) node ports. */
const needsClusterIP = (t: string | undefined): boolean => t !== 'ExternalName';
const needsNodePorts = (spec: Spec): boolean =>
  spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);

/** Sets ipFamilies / ipFamilyPolicy as a single-stack IPv4 cluster does (initIPFamilyFields). */
export function initIPFamilyFields(spec: Spec, old: Spec | undefined): void {
  if (spec.type === 'ExternalName') {
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
    return;
  }
  if (!spec.ipFamilyPolicy) {
    if (old?.ipFamilyPolicy) spec.ipFamilyPolicy = old.ipFamilyPolicy;
    else if (spec.clusterIP === 'None' && (!spec.selector || Object.keys(spec.selector).length === 0))
      spec.ipFamilyPolicy = 'RequireDualStack';
    else spec.ipFamilyPolicy = 'SingleStack';
  }
  if (!spec.ipFamilies || spec.ipFamilies.length === 0)
    spec.ipFamilies = old?.ipFamilies?.length ? [...old.ipFamilies] : ['IPv4'];
}

/** Normalises clusterIP/clusterIPs as the REST layer does before allocation. */
export function normalizeClusterIPs(spec: Spec, old: Spec | undefined): void {
  if (spec.type === 'ExternalName') return;
  // On update an omitted clusterIP keeps the allocated one (patchAllocatedValues).
  if (
    old &&
    needsClusterIP(old.type) &&
    old.clusterIP &&
    !spec.clusterIP &&
    !(spec.clusterIPs ?? []).length
  ) {
    spec.clusterIP = old.clusterIP;
    spec.clusterIPs = [...(old.clusterIPs ?? [old.clusterIP])];
  }
  if (spec.clusterIP && !(spec.clusterIPs ?? []).length) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && spec.clusterIPs?.[0]) spec.clusterIP = spec.clusterIPs[0];
}

/** Node ports already given to a port of the old object are kept when the new one omits them (by name, then port). */
export function patchAllocatedNodePorts(spec: Spec, old: Spec | undefined): void {
  if (!old || !needsNodePorts(spec)) return;
  const olds = old.ports ?? [];
  for (const p of (spec.ports ?? []) as Mutable<ServicePort>[]) {
    if (p.nodePort) continue;
    const match = olds.find((o) =>
      p.name ? o.name === p.name : o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
    );
    if (match?.nodePort) p.nodePort = match.nodePort;
  }
  if (
    spec.type === 'LoadBalancer' &&
    spec.externalTrafficPolicy === 'Local' &&
    !spec.healthCheckNodePort &&
    old.healthCheckNodePort
  )
    spec.healthCheckNodePort = old.healthCheckNodePort;
}

export class ServiceAllocator {
  readonly cidr: string;
  private readonly base: number;
  private readonly size: number;
  private readonly portLo: number;
  private readonly portHi: number;
  /** ip (as int) → owning service key */
  private ips = new Map<number, string>();
  /** node port → owning service key */
  private ports = new Map<number, string>();

  constructor(opts: { serviceCIDR?: string; nodePortRange?: [number, number] } = {}) {
    this.cidr = opts.serviceCIDR ?? '10.96.0.0/12';
    const [addr, bitsStr] = this.cidr.split('/');
    const bits = Number(bitsStr);
    const a = ipToInt(addr ?? '');
    if (a === undefined || !Number.isInteger(bits) || bits < 1 || bits > 30)
      throw new Error(`invalid service CIDR ${this.cidr}`);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    this.base = (a & mask) >>> 0;
    this.size = 2 ** (32 - bits);
    [this.portLo, this.portHi] = opts.nodePortRange ?? [30000, 32767];
  }

  /** The address kept for the `kubernetes` Service (first usable of the range). */
  get kubernetesServiceIP(): string {
    return intToIp(this.base + 1);
  }
  /** The address kept for cluster DNS (tenth of the range). */
  get dnsServiceIP(): string {
    return intToIp(this.base + 10);
  }

  private inRange(n: number): boolean {
    return n > this.base && n < this.base + this.size - 1;
  }

  rebuild(existing: KObject[]): void {
    this.ips.clear();
    this.ports.clear();
    for (const svc of existing) this.record(svc);
  }

  private record(svc: KObject): void {
    const key = keyOf(svc);
    const spec = (svc['spec'] ?? {}) as Spec;
    for (const ip of spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])) {
      const n = ipToInt(ip);
      if (n !== undefined) this.ips.set(n, key);
    }
    for (const p of spec.ports ?? []) if (p.nodePort) this.ports.set(p.nodePort, key);
    if (spec.healthCheckNodePort) this.ports.set(spec.healthCheckNodePort, key);
  }

  release(svc: KObject): void {
    const key = keyOf(svc);
    for (const [ip, k] of this.ips) if (k === key) this.ips.delete(ip);
    for (const [p, k] of this.ports) if (k === key) this.ports.delete(p);
  }

  private pickIP(): number | undefined {
    // Dynamic allocations prefer the upper part of the range (the lower band is for static requests).
    const usable = this.size - 2;
    const staticBand = Math.min(Math.max(16, Math.floor(usable / 16)), 256);
    const reserved = new Set([this.base + 1, this.base + 10]);
    const tryBand = (lo: number, hi: number): number | undefined => {
      const n = hi - lo + 1;
      if (n <= 0) return undefined;
      const start = Math.floor(Math.random() * n);
      for (let i = 0; i < n; i++) {
        const ip = lo + ((start + i) % n);
        if (!reserved.has(ip) && !this.ips.has(ip)) return ip;
      }
      return undefined;
    };
    return (
      tryBand(this.base + 1 + staticBand, this.base + this.size - 2) ??
      tryBand(this.base + 1, this.base + staticBand)
    );
  }

  private pickPort(taken: Set<number>): number | undefined {
    const n = this.portHi - this.portLo + 1;
    const start = Math.floor(Math.random() * n);
    for (let i = 0; i < n; i++) {
      const p = this.portLo + ((start + i) % n);
      if (!this.ports.has(p) && !taken.has(p)) return p;
    }
    return undefined;
  }

  /**
   * Allocates (or keeps) the cluster IPs and node ports of `svc`, mutating it. Returns field errors
   * for requested values that are out of range or taken by another Service.
   */
  allocate(svc: KObject, old: KObject | undefined): FieldError[] {
    const key = keyOf(svc);
    const spec = specOf(svc);
    const oldSpec = old ? ((old['spec'] ?? {}) as Spec) : undefined;
    if (!spec.type) spec.type = 'ClusterIP';
    const errs: FieldError[] = [];
    const newIPs: number[] = [];
    const newPorts: number[] = [];

    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    } else {
      normalizeClusterIPs(spec, oldSpec);
      const requested = spec.clusterIP ?? '';
      if (requested === 'None') {
        spec.clusterIPs = ['None'];
      } else if (requested === '') {
        const ip = this.pickIP();
        if (ip === undefined)
          errs.push(fieldErr.internal('spec.clusterIPs', 'failed to allocate a serviceIP: range is full'));
        else {
          newIPs.push(ip);
          spec.clusterIP = intToIp(ip);
          spec.clusterIPs = [spec.clusterIP];
        }
      } else {
        const n = ipToInt(requested);
        const owner = n === undefined ? undefined : this.ips.get(n);
        if (n === undefined) {
          errs.push(
            fieldErr.invalid(
              'spec.clusterIPs',
              spec.clusterIPs ?? [requested],
              `failed to allocate IP ${requested}: must be a valid IP address`,
            ),
          );
        } else if (!this.inRange(n)) {
          errs.push(
            fieldErr.invalid(
              'spec.clusterIPs',
              spec.clusterIPs ?? [requested],
              `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
            ),
          );
        } else if (owner !== undefined && owner !== key) {
          errs.push(
            fieldErr.invalid(
              'spec.clusterIPs',
              spec.clusterIPs ?? [requested],
              `failed to allocate IP ${requested}: provided IP is already allocated`,
            ),
          );
        } else newIPs.push(n);
      }
      initIPFamilyFields(spec, oldSpec);
    }

    if (needsNodePorts(spec)) {
      patchAllocatedNodePorts(spec, oldSpec);
      const taken = new Set<number>();
      (spec.ports ?? []).forEach((p0, i) => {
        const p = p0 as Mutable<ServicePort>;
        const f = `spec.ports[${i}].nodePort`;
        if (p.nodePort) {
          const owner = this.ports.get(p.nodePort);
          if (p.nodePort < this.portLo || p.nodePort > this.portHi)
            errs.push(
              fieldErr.invalid(
                f,
                p.nodePort,
                `provided port is not in the valid range. The range of valid ports is ${this.portLo}-${this.portHi}`,
              ),
            );
          else if (
            (owner !== undefined && owner !== key) ||
            (taken.has(p.nodePort) && !this.samePortOtherProtocol(spec, i))
          )
            errs.push(fieldErr.invalid(f, p.nodePort, 'provided port is already allocated'));
          else {
            taken.add(p.nodePort);
            newPorts.push(p.nodePort);
          }
        } else {
          const np = this.pickPort(taken);
          if (np === undefined)
            errs.push(fieldErr.internal(f, 'failed to allocate a nodePort: range is full'));
          else {
            p.nodePort = np;
            taken.add(np);
            newPorts.push(np);
          }
        }
      });
      if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') {
        if (spec.healthCheckNodePort) {
          const owner = this.ports.get(spec.healthCheckNodePort);
          if (owner !== undefined && owner !== key)
            errs.push(
              fieldErr.invalid(
                'spec.healthCheckNodePort',
                spec.healthCheckNodePort,
                'provided port is already allocated',
              ),
            );
          else newPorts.push(spec.healthCheckNodePort);
        } else {
          const np = this.pickPort(taken);
          if (np !== undefined) {
            spec.healthCheckNodePort = np;
            newPorts.push(np);
          }
        }
      }
    }
    if (errs.length) return errs;
    // Commit: the service now owns exactly these values.
    this.release(svc);
    for (const ip of newIPs) this.ips.set(ip, key);
    for (const p of newPorts) this.ports.set(p, key);
    return [];
  }

  private samePortOtherProtocol(spec: Spec, i: number): boolean {
    const ports = spec.ports ?? [];
    const p = ports[i];
    if (!p) return false;
    return ports
      .slice(0, i)
      .every((q) => q.nodePort !== p.nodePort || (q.protocol ?? 'TCP') !== (p.protocol ?? 'TCP'));
  }

  isIPAllocated(ip: string): boolean {
    const n = ipToInt(ip);
    return n !== undefined && this.ips.has(n);
  }
  isPortAllocated(p: number): boolean {
    return this.ports.has(p);
  }
}
