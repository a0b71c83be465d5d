/**
 * Objects every cluster has from the start: the system namespaces and the `kubernetes` Service with its
 * Endpoints. Created through the in-process client (so defaulting, validation and admission apply).
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';

const NS: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const EP: ResourceRef = { group: '', version: 'v1', resource: 'endpoints' };

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function ensure(client: InProcessClient, r: ResourceRef, namespace: string, obj: KObject): void {
  try {
    client.create(r, namespace, obj);
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 409)) throw e;
  }
}

/**
 * `advertise`: the address pods reach the API server on (the cluster's node network). Endpoints may not
 * hold loopback addresses, so without nodes the `kubernetes` Service has no Endpoints yet, as in a
 * cluster whose API server has not advertised itself.
 */
export function bootstrapObjects(client: InProcessClient, api: { port: number; advertise?: string }): void {
  for (const name of SYSTEM_NAMESPACES)
    ensure(client, NS, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  ensure(client, SVC, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: api.port }],
      sessionAffinity: 'None',
    },
  });
  if (!api.advertise) return;
  const endpoints: KObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [
      { addresses: [{ ip: api.advertise }], ports: [{ name: 'https', port: api.port, protocol: 'TCP' }] },
    ],
  };
  try {
    const cur = client.get(EP, 'default', 'kubernetes');
    client.update(EP, 'default', { ...endpoints, metadata: { ...cur.metadata, ...endpoints.metadata } });
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 404)) throw e;
    ensure(client, EP, 'default', endpoints);
  }
}
