/**
 * The routing table of the Ingress controller, built from the admitted Ingresses (pure, no I/O).
 *
 * Kubernetes semantics (networking.k8s.io/v1 Ingress):
 * - Host: an exact host beats a wildcard `*.example.com` (which matches exactly one extra DNS label),
 *   which beats rules without a host (they match every host). The Host header's port is ignored and
 *   matching is case-insensitive. Rules for the same host from several Ingresses are merged.
 * - Path, within the chosen host: the longest matching path wins; on equal length Exact beats Prefix.
 *   Exact matches the whole path, case-sensitively. Prefix matches element by element on `/`
 *   (`/foo/bar` matches `/foo/bar` and `/foo/bar/baz`, not `/foo/barbaz`; a trailing slash is ignored;
 *   `/` matches everything). ImplementationSpecific is treated as Prefix here.
 * - Nothing matched on a known host → the defaultBackend of an Ingress defining that host; nothing
 *   matched at all → the defaultBackend of the oldest Ingress that has one; otherwise no route (404).
 * Conflicts (same host, path and type in two Ingresses) go to the oldest Ingress (creation time, then
 * namespace/name), as ingress-nginx does.
 */
import type { KObject } from '../api/object.ts';

export interface ServiceBackend {
  namespace: string;
  service: string;
  /** The Service port: its number, or its name. */
  port: number | string;
}

export interface IngressBackendSpec {
  service?: { name?: string; port?: { number?: number; name?: string } };
  resource?: { kind?: string; name?: string };
}

interface PathSpec {
  path?: string;
  pathType?: string;
  backend?: IngressBackendSpec;
}

export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackendSpec;
  rules?: { host?: string; http?: { paths?: PathSpec[] } }[];
  tls?: { hosts?: string[]; secretName?: string }[];
}

export const ingressSpec = (ing: KObject): IngressSpec => (ing['spec'] ?? {}) as IngressSpec;

/** A route's target: a Service backend, or why the backend cannot be served (e.g. a resource backend). */
export type Target = { backend: ServiceBackend } | { unsupported: string };

interface PathRoute {
  path: string;
  exact: boolean;
  /** Path elements (Prefix) — compared element-wise. */
  segments: string[];
  target: Target;
}

interface HostRoutes {
  paths: PathRoute[];
  /** The default backend of the first (oldest) Ingress defining this host that has one. */
  fallback?: Target;
}

export interface Route {
  target: Target;
  /** Which Ingress rule matched ("ns/name"), for logs. */
  ingress: string;
}

const segmentsOf = (p: string): string[] => p.split('/').filter((s) => s !== '');

/** The Host header without its port, lowercased (IPv6 literals keep their brackets). */
export function normalizeHost(host: string | undefined): string {
  const h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const i = h.lastIndexOf(':');
  return (i >= 0 ? h.slice(0, i) : h).replace(/\.$/, '');
}

function toTarget(namespace: string, b: IngressBackendSpec | undefined): Target {
  if (b?.service?.name) {
    const port = b.service.port?.number ?? b.service.port?.name;
    if (port !== undefined && port !== '') return { backend: { namespace, service: b.service.name, port } };
  }
  if (b?.resource)
    return { unsupported: `resource backend ${b.resource.kind ?? ''}/${b.resource.name ?? ''}` };
  return { unsupported: 'backend without a service' };
}

/** Oldest first (creationTimestamp, then namespace/name): the order conflicts are resolved in. */
export function byAge(a: KObject, b: KObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export class RoutingTable {
  private readonly exact = new Map<string, HostRoutes & { owner: Map<PathRoute, string> }>();
  private readonly wildcard = new Map<string, HostRoutes & { owner: Map<PathRoute, string> }>();
  private readonly any: HostRoutes & { owner: Map<PathRoute, string> } = { paths: [], owner: new Map() };
  private globalDefault?: Route;

  /** Builds the table from the Ingresses this controller admitted. */
  constructor(ingresses: KObject[]) {
    for (const ing of [...ingresses].sort(byAge)) this.add(ing);
    for (const h of [...this.exact.values(), ...this.wildcard.values(), this.any])
      h.paths.sort((a, b) => b.path.length - a.path.length || Number(b.exact) - Number(a.exact));
  }

  private add(ing: KObject): void {
    const ns = ing.metadata.namespace ?? '';
    const key = `${ns}/${ing.metadata.name ?? ''}`;
    const spec = ingressSpec(ing);
    const fallback = spec.defaultBackend ? toTarget(ns, spec.defaultBackend) : undefined;
    if (fallback && !this.globalDefault) this.globalDefault = { target: fallback, ingress: key };
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      const table = host.startsWith('*.') ? this.wildcard : this.exact;
      let routes = host ? table.get(host.startsWith('*.') ? host.slice(2) : host) : this.any;
      if (!routes) {
        routes = { paths: [], owner: new Map() };
        table.set(host.startsWith('*.') ? host.slice(2) : host, routes);
      }
      if (fallback && !routes.fallback) routes.fallback = fallback;
      for (const p of rule.http?.paths ?? []) {
        const exact = p.pathType === 'Exact';
        const path = p.path || '/';
        const dup = routes.paths.some((r) => r.path === path && r.exact === exact);
        if (dup) continue; // the older Ingress keeps it
        const r: PathRoute = { path, exact, segments: segmentsOf(path), target: toTarget(ns, p.backend) };
        routes.paths.push(r);
        routes.owner.set(r, key);
      }
    }
  }

  /** The hosts' routes for a request host: exact, else wildcard (one label), else the host-less rules. */
  private hostRoutes(host: string): (HostRoutes & { owner: Map<PathRoute, string> }) | undefined {
    const exact = this.exact.get(host);
    if (exact) return exact;
    const dot = host.indexOf('.');
    if (dot > 0) {
      const wild = this.wildcard.get(host.slice(dot + 1));
      if (wild) return wild;
    }
    return this.any.paths.length || this.any.fallback ? this.any : undefined;
  }

  /** The route for a request (Host header and path, query excluded), or undefined (404). */
  match(hostHeader: string | undefined, rawPath: string): Route | undefined {
    const host = normalizeHost(hostHeader);
    const path = rawPath.split('?')[0] || '/';
    const routes = this.hostRoutes(host);
    if (routes) {
      const segs = segmentsOf(path);
      for (const r of routes.paths) {
        const hit = r.exact ? r.path === path : r.segments.every((s, i) => segs[i] === s);
        if (hit) return { target: r.target, ingress: routes.owner.get(r) ?? '' };
      }
      if (routes.fallback) return { target: routes.fallback, ingress: '' };
    }
    return this.globalDefault;
  }
}
