import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { clusterFixture } from '../testing/cluster-fixture.ts';
import type { SliceEndpoint, SlicePort } from './endpointslices.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const NS = 'default';

let client: InProcessClient;
clusterFixture(
  'berth-eps-',
  {
    driver: 'simulated',
    nodes: 2,
    simulated: { leaseIntervalMs: 1000, statusIntervalMs: 1000, maxGraceSeconds: 3 },
  },
  { ready: (f) => void (client = f.cluster.controllerClient), serviceAccountIn: NS },
);

function pod(name: string, labels: Record<string, string>, httpPort: number): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      containers: [
        { name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: httpPort, protocol: 'TCP' }] },
      ],
    },
  };
}

function service(name: string, selector: Record<string, string>): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, labels: { team: 'a' } },
    spec: { selector, ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
}

const slicesOf = (svc: string): KObject[] =>
  client.list(SLICES, NS, { labelSelector: `kubernetes.io/service-name=${svc}` }).items;
const endpointsOf = (s: KObject): SliceEndpoint[] => (s['endpoints'] ?? []) as SliceEndpoint[];
const running = (name: string): KObject | undefined => {
  const p = client.get(PODS, NS, name);
  const st = p['status'] as { phase?: string; podIP?: string } | undefined;
  return st?.phase === 'Running' && st.podIP ? p : undefined;
};

test('EndpointSlices: name, labels, owner, endpoints with conditions/zone/targetRef, ports per slice', async () => {
  // A zone on the first node.
  const nodes = client.list(NODES, '').items;
  const n1 = nodes[0]!;
  client.update(NODES, '', {
    ...n1,
    metadata: { ...n1.metadata, labels: { ...n1.metadata.labels, 'topology.kubernetes.io/zone': 'zone-a' } },
  });
  const svc = client.create(SVC, NS, service('shop', { app: 'shop' }));
  // No pods yet: one placeholder slice.
  const placeholder = await waitFor('placeholder slice', () => slicesOf('shop')[0]);
  assert.deepEqual(placeholder['endpoints'], []);
  assert.equal(placeholder['ports'], undefined);
  assert.equal(placeholder['addressType'], 'IPv4');

  client.create(PODS, NS, pod('shop-a', { app: 'shop' }, 8080));
  client.create(PODS, NS, pod('shop-b', { app: 'shop' }, 9090));
  for (const n of ['shop-a', 'shop-b']) await waitFor(`${n} running`, () => running(n));
  const slices = await waitFor('two slices, one per port', () => {
    const s = slicesOf('shop');
    return s.length === 2 && s.every((x) => endpointsOf(x).length === 1) && s;
  });
  for (const s of slices) {
    assert.match(s.metadata.name ?? '', /^shop-[a-z0-9]{5}$/);
    assert.equal(s.metadata.generateName, 'shop-');
    assert.equal(s.apiVersion, 'discovery.k8s.io/v1');
    assert.equal(s['addressType'], 'IPv4');
    assert.deepEqual(s.metadata.labels, {
      team: 'a',
      'kubernetes.io/service-name': 'shop',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    assert.deepEqual(s.metadata.ownerReferences, [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'shop',
        uid: svc.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.ok(s.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
  }
  const forA = slices.find((s) => endpointsOf(s)[0]?.targetRef?.name === 'shop-a')!;
  const podA = client.get(PODS, NS, 'shop-a');
  const nodeA = (podA['spec'] as { nodeName: string }).nodeName;
  assert.deepEqual(forA['ports'] as SlicePort[], [{ name: 'web', protocol: 'TCP', port: 8080 }]);
  const epA = endpointsOf(forA)[0]!;
  assert.deepEqual(epA.addresses, [(podA['status'] as { podIP: string }).podIP]);
  assert.deepEqual(epA.conditions, { ready: true, serving: true, terminating: false });
  assert.equal(epA.nodeName, nodeA);
  assert.deepEqual(epA.targetRef, { kind: 'Pod', namespace: NS, name: 'shop-a', uid: podA.metadata.uid });
  if (nodeA === n1.metadata.name) assert.equal(epA.zone, 'zone-a');
  else assert.equal(epA.zone, undefined);
  const forB = slices.find((s) => s !== forA)!;
  assert.deepEqual(forB['ports'] as SlicePort[], [{ name: 'web', protocol: 'TCP', port: 9090 }]);

  // Terminating: kept, ready false, serving true, terminating true.
  client.delete(PODS, NS, 'shop-a');
  await waitFor('terminating endpoint', () => {
    const e = slicesOf('shop')
      .flatMap(endpointsOf)
      .find((x) => x.targetRef?.name === 'shop-a');
    return e?.conditions.terminating === true && e.conditions.ready === false && e.conditions.serving;
  });
  // Gone after the final delete: the 8080 slice is deleted.
  await waitFor('slice of shop-a removed', () => slicesOf('shop').length === 1, 8000);
  assert.equal(endpointsOf(slicesOf('shop')[0]!)[0]?.targetRef?.name, 'shop-b');

  // The Service's deletion takes its slices (garbage collector, ownerReference).
  client.delete(SVC, NS, 'shop');
  await waitFor('slices collected', () => slicesOf('shop').length === 0);
});

test('EndpointSlices: at most 100 endpoints per slice', async () => {
  client.create(SVC, NS, service('many', { app: 'many' }));
  const n = 105;
  for (let i = 0; i < n; i++) client.create(PODS, NS, pod(`many-${i}`, { app: 'many' }, 8080));
  const slices = await waitFor(
    `${n} endpoints`,
    () => {
      const s = slicesOf('many');
      return s.reduce((k, x) => k + endpointsOf(x).length, 0) === n && s;
    },
    20000,
  );
  assert.equal(slices.length, 2);
  for (const s of slices) assert.ok(endpointsOf(s).length <= 100);
  assert.deepEqual(
    slices.map((s) => endpointsOf(s).length).sort((a, b) => a - b),
    [5, 100],
  );
  const ids = new Set(slices.flatMap(endpointsOf).map((e) => e.targetRef?.name));
  assert.equal(ids.size, n);
});
