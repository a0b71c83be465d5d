/**
 * Objects every cluster has from the start: the system namespaces, the `kubernetes` Service with its
 * Endpoints, and kube-system/kube-dns naming the cluster DNS address. Created through the in-process
 * client (so defaulting, validation and admission apply).
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

/** Label of Services every node's agent serves itself; the service proxy leaves them alone. */
export const NODE_LOCAL_LABEL = 'berth.dev/node-local';

/**
 * kube-system/kube-dns as `kubectl get svc -n kube-system` shows it in Kubernetes, but selectorless and
 * labelled node-local: each node's agent holds the address and answers (core/agent/dns).
 */
export function kubeDnsService(ip: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: {
        'k8s-app': 'kube-dns',
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'CoreDNS',
        [NODE_LOCAL_LABEL]: 'true',
      },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
      sessionAffinity: 'None',
    },
  };
}

/**
 * `advertise`: the address pods reach the API server on (the cluster's node network). Endpoints may not
 * hold loopback addresses, so without nodes the `kubernetes` Service has no Endpoints yet, as in a
 * cluster whose API server has not advertised itself.
 */
export function bootstrapObjects(
  client: InProcessClient,
  api: { port: number; advertise?: string; dnsIP?: string },
): void {
  for (const name of SYSTEM_NAMESPACES)
    ensure(client, NS, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (api.dnsIP) ensure(client, SVC, 'kube-system', kubeDnsService(api.dnsIP));
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
