/**
 * What the service proxy programs, computed from API objects (pure; kube-proxy's ServicePort and
 * endpoint categorisation): one entry per Service port with its cluster IP, node port, affinity and
 * traffic policies, and its endpoints from the Service's EndpointSlices — or, for a Service without a
 * selector whose Endpoints were written by hand, from that Endpoints object (Berth has no
 * EndpointSlice mirroring controller, so the proxy reads them itself).
 *
 * Services the proxy leaves alone: ExternalName (DNS answers them), headless (no cluster IP), and
 * Services labelled `berth.dev/node-local: "true"` (served on every node by the agent itself, e.g.
 * kube-dns: see core/agent/dns).
 */
import type { KObject } from '../../api/object.ts';

export const NODE_LOCAL_LABEL = 'berth.dev/node-local';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Endpoint {
  ip: string;
  port: number;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface ServicePort {
  /** "namespace/name:portName" (portName may be empty). */
  key: string;
  protocol: Protocol;
  clusterIPs: string[];
  port: number;
  nodePort?: number;
  /** sessionAffinity ClientIP timeout (seconds), when affinity is on. */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  endpoints: Endpoint[];
}

interface ServiceSpecShape {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  selector?: Record<string, string>;
  sessionAffinity?: string;
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  internalTrafficPolicy?: string;
  externalTrafficPolicy?: string;
  ports?: { name?: string; protocol?: string; port: number; nodePort?: number }[];
}

interface SliceShape {
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
  }[];
  ports?: { name?: string; protocol?: string; port?: number }[];
}

interface EndpointsShape {
  subsets?: {
    addresses?: { ip: string; nodeName?: string }[];
    notReadyAddresses?: { ip: string; nodeName?: string }[];
    ports?: { name?: string; protocol?: string; port: number }[];
  }[];
}

const DEFAULT_AFFINITY_SECONDS = 10_800;
const isIPv4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/** Whether the proxy programs anything for this Service. */
export function isProxied(svc: KObject): boolean {
  const spec = (svc['spec'] ?? {}) as ServiceSpecShape;
  if (svc.metadata.labels?.[NODE_LOCAL_LABEL] === 'true') return false;
  if (spec.type === 'ExternalName') return false;
  return !!spec.clusterIP && spec.clusterIP !== 'None';
}

/** Endpoints of one port (by name and protocol) from a Service's EndpointSlices. */
function fromSlices(slices: KObject[], portName: string, protocol: Protocol): Endpoint[] {
  const out = new Map<string, Endpoint>();
  for (const raw of slices) {
    const s = raw as unknown as SliceShape;
    if (s.addressType !== 'IPv4') continue;
    const p = (s.ports ?? []).find((x) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === protocol);
    if (!p?.port) continue;
    for (const e of s.endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip || !isIPv4(ip)) continue;
      const c = e.conditions ?? {};
      // Unset ready/serving mean true (discovery.k8s.io/v1 semantics); terminating means false.
      const ready = c.ready !== false;
      const ep: Endpoint = {
        ip,
        port: p.port,
        ready,
        serving: c.serving ?? ready,
        terminating: c.terminating ?? false,
      };
      if (e.nodeName) ep.nodeName = e.nodeName;
      out.set(`${ip}:${p.port}`, ep);
    }
  }
  return [...out.values()];
}

/** Endpoints of one port from a hand-written Endpoints object (selectorless Services). */
function fromEndpoints(eps: KObject | undefined, portName: string, protocol: Protocol): Endpoint[] {
  const out: Endpoint[] = [];
  for (const ss of (eps as EndpointsShape | undefined)?.subsets ?? []) {
    const p = (ss.ports ?? []).find((x) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === protocol);
    if (!p) continue;
    const add = (list: { ip: string; nodeName?: string }[] | undefined, ready: boolean): void => {
      for (const a of list ?? []) {
        if (!isIPv4(a.ip)) continue;
        const ep: Endpoint = { ip: a.ip, port: p.port, ready, serving: ready, terminating: false };
        if (a.nodeName) ep.nodeName = a.nodeName;
        out.push(ep);
      }
    };
    add(ss.addresses, true);
    add(ss.notReadyAddresses, false);
  }
  return out;
}

export interface ServiceSources {
  services: KObject[];
  /** EndpointSlices, any namespace (grouped here by their kubernetes.io/service-name label). */
  slices: KObject[];
  /** Endpoints objects; used only for Services without a selector. */
  endpoints: KObject[];
}

/** Every proxied Service port, sorted by key (stable rule order). */
export function servicePorts(src: ServiceSources): ServicePort[] {
  const slicesBySvc = new Map<string, KObject[]>();
  for (const s of src.slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const k = `${s.metadata.namespace ?? ''}/${svc}`;
    const list = slicesBySvc.get(k) ?? [];
    list.push(s);
    slicesBySvc.set(k, list);
  }
  const endpointsBySvc = new Map(
    src.endpoints.map((e) => [`${e.metadata.namespace ?? ''}/${e.metadata.name}`, e]),
  );
  const out: ServicePort[] = [];
  for (const svc of src.services) {
    if (!isProxied(svc)) continue;
    const spec = (svc['spec'] ?? {}) as ServiceSpecShape;
    const svcKey = `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
    const selectorless = !spec.selector || !Object.keys(spec.selector).length;
    const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP ?? '']).filter(isIPv4);
    if (!clusterIPs.length) continue;
    const affinity =
      spec.sessionAffinity === 'ClientIP'
        ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS)
        : undefined;
    const withNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const name = p.name ?? '';
      const endpoints = selectorless
        ? fromEndpoints(endpointsBySvc.get(svcKey), name, protocol)
        : fromSlices(slicesBySvc.get(svcKey) ?? [], name, protocol);
      const sp: ServicePort = {
        key: `${svcKey}:${name}`,
        protocol,
        clusterIPs,
        port: p.port,
        internalLocal: spec.internalTrafficPolicy === 'Local',
        externalLocal: withNodePorts && spec.externalTrafficPolicy === 'Local',
        endpoints: endpoints.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`)),
      };
      if (withNodePorts && p.nodePort) sp.nodePort = p.nodePort;
      if (affinity !== undefined) sp.affinitySeconds = affinity;
      out.push(sp);
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.protocol.localeCompare(b.protocol)));
}

/**
 * The endpoints traffic may use (kube-proxy's CategorizeEndpoints): the ready ones; when none is ready,
 * the serving-and-terminating ones (graceful termination fallback). `node` restricts to that node's.
 */
export function usableEndpoints(sp: ServicePort, node?: string): Endpoint[] {
  const mine = node === undefined ? sp.endpoints : sp.endpoints.filter((e) => e.nodeName === node);
  const ready = mine.filter((e) => e.ready);
  return ready.length ? ready : mine.filter((e) => e.serving && e.terminating);
}
