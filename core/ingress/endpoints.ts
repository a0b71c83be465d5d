/**
 * A Service backend → its READY pod endpoints (from the Service's EndpointSlices), picked round-robin.
 * The Service port is named by number or by name; the slices carry the target port resolved per pod
 * under the Service port's name ("" when unnamed), so named target ports work as in kube-proxy.
 */
import type { KObject } from '../api/object.ts';
import type { ServiceBackend } from './routing.ts';

export interface PodEndpoint {
  namespace: string;
  pod: string;
  port: number;
}

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}
interface SliceShape {
  addressType?: string;
  ports?: { name?: string; port?: number; protocol?: string }[];
  endpoints?: {
    conditions?: { ready?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string; namespace?: string };
  }[];
}

export type Resolution = { endpoints: PodEndpoint[] } | { error: string };

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The ready endpoints of a backend, or why there are none (for the 503 body and logs). */
export function resolveBackend(
  b: ServiceBackend,
  service: KObject | undefined,
  slices: KObject[],
): Resolution {
  const ref = `${b.namespace}/${b.service}:${b.port}`;
  if (!service) return { error: `service ${b.namespace}/${b.service} not found` };
  const ports = ((service['spec'] as { ports?: ServicePort[] } | undefined)?.ports ?? []).filter(
    (p) => (p.protocol ?? 'TCP') === 'TCP',
  );
  const sp = ports.find((p) => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
  if (!sp) return { error: `service ${b.namespace}/${b.service} has no TCP port ${b.port}` };
  const name = sp.name ?? '';
  const seen = new Set<string>();
  const endpoints: PodEndpoint[] = [];
  for (const slice of slices) {
    const s = slice as unknown as SliceShape;
    if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== b.service) continue;
    if (s.addressType === 'FQDN') continue;
    const port = s.ports?.find((p) => (p.name ?? '') === name && (p.protocol ?? 'TCP') === 'TCP')?.port;
    if (!port) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false || e.targetRef?.kind !== 'Pod' || !e.targetRef.name) continue;
      const key = `${e.targetRef.name}:${port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      endpoints.push({ namespace: e.targetRef.namespace ?? b.namespace, pod: e.targetRef.name, port });
    }
  }
  endpoints.sort((x, y) => (x.pod < y.pod ? -1 : x.pod > y.pod ? 1 : x.port - y.port));
  return endpoints.length ? { endpoints } : { error: `no ready endpoints for ${ref}` };
}

/** Round-robin over each backend's endpoints (the counter survives endpoint changes). */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  /** The endpoints in the order to try them: the next one first, then the others. */
  order(key: string, endpoints: PodEndpoint[]): PodEndpoint[] {
    const n = this.next.get(key) ?? 0;
    this.next.set(key, (n + 1) % 1_000_000_007);
    const start = n % endpoints.length;
    return [...endpoints.slice(start), ...endpoints.slice(0, start)];
  }
}
