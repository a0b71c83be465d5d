/**
 * API objects for the DNS tests (answer.test.ts, server.test.ts): a ClusterIP Service with a named
 * port, a headless StatefulSet-style Service with hostnamed endpoints (one not ready), ExternalName
 * Services to a cluster name and to an outside name, and a pod outside any Service.
 */
import type { KObject } from '../../api/object.ts';

const service = (ns: string, name: string, spec: Record<string, unknown>): KObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: ns, name },
  spec,
});

const slice = (
  ns: string,
  svc: string,
  ports: { name: string; port: number; protocol: string }[],
  endpoints: { addresses: string[]; hostname?: string; conditions: { ready: boolean } }[],
): KObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: ns, name: `${svc}-abc`, labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  ports,
  endpoints,
});

export const testServices: KObject[] = [
  service('default', 'kubia', {
    type: 'ClusterIP',
    clusterIP: '10.96.5.5',
    clusterIPs: ['10.96.5.5'],
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
      { port: 9000, protocol: 'TCP' },
    ],
  }),
  service('apps', 'web', {
    type: 'ClusterIP',
    clusterIP: 'None',
    ports: [{ name: 'web', port: 80, protocol: 'TCP' }],
  }),
  service('default', 'alias', { type: 'ExternalName', externalName: 'kubia.default.svc.cluster.local' }),
  service('default', 'outside', {
    type: 'ExternalName',
    externalName: 'db.example.test',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  }),
];

export const testSlices: KObject[] = [
  slice(
    'default',
    'kubia',
    [{ name: 'http', port: 8080, protocol: 'TCP' }],
    [{ addresses: ['10.244.1.7'], conditions: { ready: true } }],
  ),
  slice(
    'apps',
    'web',
    [{ name: 'web', port: 80, protocol: 'TCP' }],
    [
      { addresses: ['10.244.1.5'], hostname: 'web-0', conditions: { ready: true } },
      { addresses: ['10.244.2.6'], hostname: 'web-1', conditions: { ready: true } },
      { addresses: ['10.244.1.9'], hostname: 'web-2', conditions: { ready: false } },
    ],
  ),
];

export const testPods: KObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'tools', name: 'client' },
    spec: { containers: [] },
    status: { podIP: '10.244.2.8', podIPs: [{ ip: '10.244.2.8' }] },
  },
];

export const testZoneSettings = {
  domain: 'cluster.local',
  ttl: 5,
  dnsIPs: ['10.96.0.10'],
  reverseCIDRs: ['10.96.0.0/12', '10.244.0.0/16'],
};
