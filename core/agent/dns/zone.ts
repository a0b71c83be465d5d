/**
 * The cluster zone as records, built from Services, EndpointSlices and Pods as the Kubernetes DNS
 * specification (kubernetes/dns docs/specification.md) lays it out, for zone `cluster.local`:
 * - a ClusterIP Service: `svc.ns.svc.<zone>` A/AAAA its cluster IPs, PTR from each cluster IP, and
 *   `_port._proto.svc.ns.svc.<zone>` SRV (0 100 port svc.ns.svc.<zone>) for each named port;
 * - a headless Service: `svc.ns.svc.<zone>` A/AAAA of every ready endpoint, SRV per ready endpoint and
 *   named port pointing at the endpoint's name;
 * - every ready endpoint (headless or not): `<hostname>.svc.ns.svc.<zone>` (hostname from the
 *   EndpointSlice — a StatefulSet pod's — else the dashed address) and the PTR back to it;
 * - an ExternalName Service: a CNAME to its external name (SRV per named port to it too);
 * - every pod IP no endpoint names: PTR to `a-b-c-d.ns.pod.<zone>`;
 * - `dns-version.<zone>` TXT "1.1.0" and `ns.dns.<zone>` A the cluster DNS addresses.
 * Pod A records (`a-b-c-d.ns.pod.<zone>`) are answered from the name itself (pods "insecure" mode, the
 * kubeadm default) in answer.ts. Pure: the same objects give the same index.
 */
import { isIPv4 } from 'node:net';
import type { Answer } from 'dns-packet';
import type { KObject } from '../../api/object.ts';
import { canonical, dashed, reverseName } from './names.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SCHEMA_VERSION = '1.1.0';

export interface ZoneSettings {
  /** "cluster.local" */
  domain: string;
  /** TTL of every answer, seconds (CoreDNS's default is 5). */
  ttl: number;
  /** The cluster DNS service addresses (10.96.0.10), for `ns.dns.<zone>`. */
  dnsIPs: string[];
}

export interface ZoneObjects {
  services: KObject[];
  endpointSlices: KObject[];
  pods: KObject[];
}

/** Owner name → its records, plus every name that exists only as a parent (empty non-terminals). */
export interface ZoneIndex {
  records: Map<string, Answer[]>;
  parents: Set<string>;
}

/** A Service or EndpointSlice port, as far as DNS cares. */
interface PortLike {
  name?: string;
  protocol?: string;
  port?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  ports?: PortLike[];
}

interface SliceEndpoint {
  addresses?: string[];
  hostname?: string;
  conditions?: { ready?: boolean };
}

interface NamedPort {
  name: string;
  protocol: string;
  port: number;
}

const namedPorts = (ports: PortLike[] | undefined): NamedPort[] =>
  (ports ?? []).flatMap((p) =>
    p.name && p.port ? [{ name: p.name, protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port }] : [],
  );

class ZoneBuilder {
  readonly records = new Map<string, Answer[]>();
  private readonly seen = new Set<string>();

  constructor(readonly ttl: number) {}

  add(rr: Answer): void {
    const key = `${rr.name} ${rr.type} ${JSON.stringify('data' in rr ? rr.data : '')}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const list = this.records.get(rr.name);
    if (list) list.push(rr);
    else this.records.set(rr.name, [rr]);
  }

  address(name: string, ip: string): void {
    this.add({ name, type: isIPv4(ip) ? 'A' : 'AAAA', ttl: this.ttl, class: 'IN', data: ip });
  }

  ptr(ip: string, target: string, onlyIfFree = false): void {
    const name = reverseName(ip);
    if (!name || (onlyIfFree && this.records.has(name))) return;
    this.add({ name, type: 'PTR', ttl: this.ttl, class: 'IN', data: target });
  }

  srv(service: string, p: NamedPort, target: string): void {
    this.add({
      name: `_${p.name}._${p.protocol}.${service}`,
      type: 'SRV',
      ttl: this.ttl,
      class: 'IN',
      data: { priority: 0, weight: 100, port: p.port, target },
    });
  }

  /** SRV weights as CoreDNS spreads them: 100 / (records of the name), at least 1. */
  spreadSrvWeights(): void {
    for (const list of this.records.values()) {
      const srvs = list.filter((r) => r.type === 'SRV');
      if (srvs.length < 2) continue;
      for (const r of srvs) if (r.type === 'SRV') r.data.weight = Math.max(1, Math.floor(100 / srvs.length));
    }
  }
}

/** Ready endpoints of each Service ("ns/name" → slices' endpoints with their slice's ports). */
function endpointsByService(slices: KObject[]): Map<string, { ep: SliceEndpoint; ports: NamedPort[] }[]> {
  const out = new Map<string, { ep: SliceEndpoint; ports: NamedPort[] }[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    const type = s['addressType'];
    if (!svc || (type !== 'IPv4' && type !== 'IPv6')) continue;
    const ports = namedPorts(s['ports'] as PortLike[] | undefined);
    const key = `${s.metadata.namespace ?? ''}/${svc}`;
    const list = out.get(key) ?? [];
    for (const ep of (s['endpoints'] as SliceEndpoint[] | undefined) ?? [])
      if (ep.conditions?.ready !== false) list.push({ ep, ports });
    out.set(key, list);
  }
  return out;
}

function addService(
  z: ZoneBuilder,
  svc: KObject,
  fqdn: string,
  endpoints: { ep: SliceEndpoint; ports: NamedPort[] }[],
): void {
  const spec = (svc['spec'] ?? {}) as ServiceSpec;
  const ports = namedPorts(spec.ports);
  if (spec.type === 'ExternalName') {
    if (!spec.externalName) return;
    const target = canonical(spec.externalName);
    z.add({ name: fqdn, type: 'CNAME', ttl: z.ttl, class: 'IN', data: target });
    for (const p of ports) z.srv(fqdn, p, target);
    return;
  }
  const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP ?? '']).filter(
    (ip) => ip && ip !== 'None',
  );
  const headless = spec.clusterIP === 'None';
  for (const ip of clusterIPs) {
    z.address(fqdn, ip);
    z.ptr(ip, fqdn);
  }
  if (!headless) for (const p of ports) z.srv(fqdn, p, fqdn);
  for (const { ep, ports: epPorts } of endpoints)
    for (const ip of ep.addresses ?? []) {
      const host = `${canonical(ep.hostname || dashed(ip))}.${fqdn}`;
      z.address(host, ip);
      z.ptr(ip, host);
      if (!headless) continue;
      z.address(fqdn, ip);
      for (const p of epPorts) z.srv(fqdn, p, host);
    }
}

/** The zone's records from the objects given. */
export function buildZone(s: ZoneSettings, objs: ZoneObjects): ZoneIndex {
  const z = new ZoneBuilder(s.ttl);
  const domain = canonical(s.domain);
  const eps = endpointsByService(objs.endpointSlices);
  for (const svc of objs.services) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    addService(z, svc, `${name}.${ns}.svc.${domain}`, eps.get(`${ns}/${name}`) ?? []);
  }
  for (const pod of objs.pods) {
    const status = (pod['status'] ?? {}) as { podIPs?: { ip: string }[]; podIP?: string };
    if ((pod['spec'] as { hostNetwork?: boolean } | undefined)?.hostNetwork) continue;
    const ips = status.podIPs?.map((p) => p.ip) ?? (status.podIP ? [status.podIP] : []);
    const ns = pod.metadata.namespace ?? 'default';
    for (const ip of ips) z.ptr(ip, `${dashed(ip)}.${ns}.pod.${domain}`, true);
  }
  z.add({ name: `dns-version.${domain}`, type: 'TXT', ttl: s.ttl, class: 'IN', data: SCHEMA_VERSION });
  for (const ip of s.dnsIPs) z.address(`ns.dns.${domain}`, ip);
  z.spreadSrvWeights();

  const parents = new Set<string>();
  for (const name of z.records.keys()) {
    const labels = name.split('.');
    for (let i = 1; i < labels.length; i++) {
      const parent = labels.slice(i).join('.');
      if (z.records.has(parent) || parents.has(parent)) break;
      parents.add(parent);
    }
  }
  return { records: z.records, parents };
}
