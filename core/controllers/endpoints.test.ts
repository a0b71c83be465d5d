import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { clusterFixture } from '../testing/cluster-fixture.ts';
import { computeSubsets, findPort, repackSubsets, rfc3339Nano, type EndpointSubset } from './endpoints.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const EP: ResourceRef = { group: '', version: 'v1', resource: 'endpoints' };
const NS = 'default';

let client: InProcessClient;
clusterFixture(
  'berth-ep-',
  {
    driver: 'simulated',
    nodes: 2,
    simulated: { leaseIntervalMs: 1000, statusIntervalMs: 1000, maxGraceSeconds: 3 },
  },
  { ready: (f) => void (client = f.cluster.controllerClient), serviceAccountIn: NS },
);

function pod(name: string, labels: Record<string, string>, httpPort: number, extra = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'nginx',
          ports: [
            { name: 'http', containerPort: httpPort, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
          ],
        },
      ],
      ...extra,
    },
  };
}

function service(name: string, selector: Record<string, string> | undefined, extra = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, labels: { tier: 'front' } },
    spec: {
      ...(selector ? { selector } : {}),
      ports: [
        { name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' },
      ],
      ...extra,
    },
  };
}

const running = (name: string): KObject | undefined => {
  const p = client.get(PODS, NS, name);
  const st = p['status'] as { phase?: string; podIP?: string } | undefined;
  return st?.phase === 'Running' && st.podIP ? p : undefined;
};

/** What a kubelet writes when a readiness probe fails. */
function markNotReady(name: string): void {
  const live = client.get(PODS, NS, name);
  const st = live['status'] as { conditions: { type: string; status: string }[] };
  for (const c of st.conditions) if (c.type === 'Ready' || c.type === 'ContainersReady') c.status = 'False';
  client.update(PODS, NS, live, 'status');
}

function tryGet(ref: ResourceRef, name: string): KObject | undefined {
  try {
    return client.get(ref, NS, name);
  } catch {
    return undefined;
  }
}

const subsetsOf = (name: string): EndpointSubset[] =>
  (client.get(EP, NS, name)['subsets'] ?? []) as EndpointSubset[];
const ipOf = (name: string): string => (client.get(PODS, NS, name)['status'] as { podIP: string }).podIP;

test('unit: FindPort resolves named ports by protocol; repack groups ports by address set', () => {
  const p = pod('x', {}, 8080);
  assert.equal(findPort(p, { port: 80, targetPort: 'http', protocol: 'TCP' }), 8080);
  assert.equal(findPort(p, { port: 80, targetPort: 'http', protocol: 'UDP' }), undefined);
  assert.equal(findPort(p, { port: 80, targetPort: 'nope' }), undefined);
  assert.equal(findPort(p, { port: 80 }), 80);
  const a = { ip: '10.244.0.2' };
  const b = { ip: '10.244.0.1' };
  const packed = repackSubsets([
    { addresses: [a], ports: [{ name: 'x', port: 1, protocol: 'TCP' }] },
    { addresses: [a], ports: [{ name: 'y', port: 2, protocol: 'TCP' }] },
    { notReadyAddresses: [b], ports: [{ name: 'x', port: 1, protocol: 'TCP' }] },
  ]);
  assert.deepEqual(packed, [
    {
      addresses: [a],
      notReadyAddresses: [b],
      ports: [{ name: 'x', port: 1, protocol: 'TCP' }],
    },
    { addresses: [a], ports: [{ name: 'y', port: 2, protocol: 'TCP' }] },
  ]);
  assert.equal(rfc3339Nano(Date.parse('2026-01-02T03:04:05.120Z')), '2026-01-02T03:04:05.12Z');
  assert.equal(rfc3339Nano(Date.parse('2026-01-02T03:04:05Z')), '2026-01-02T03:04:05Z');
  // Terminal pods and pods without an IP are left out.
  const svc = service('s', { a: 'b' });
  const noIP = pod('n', {}, 1);
  const done = { ...pod('d', {}, 1), status: { phase: 'Succeeded', podIP: '10.244.0.9' } };
  assert.deepEqual(computeSubsets(svc, [noIP, done]), []);
});

test('Endpoints: ready and not-ready pods, named targetPorts resolved per pod into separate subsets', async () => {
  client.create(PODS, NS, pod('web-a', { app: 'web' }, 8080));
  client.create(PODS, NS, pod('web-b', { app: 'web' }, 8080));
  client.create(PODS, NS, pod('web-c', { app: 'web' }, 9090));
  client.create(PODS, NS, pod('other', { app: 'other' }, 8080));
  for (const n of ['web-a', 'web-b', 'web-c']) await waitFor(`${n} running`, () => running(n));
  markNotReady('web-b');
  client.create(SVC, NS, service('web', { app: 'web' }));

  const [a, b, c] = ['web-a', 'web-b', 'web-c'].map(ipOf) as [string, string, string];
  const flatten = (subsets: EndpointSubset[]): string[] =>
    subsets.flatMap((s) =>
      (s.ports ?? []).flatMap((p) => [
        ...(s.addresses ?? []).map((x) => `${p.name}:${p.port}:${x.ip}:ready`),
        ...(s.notReadyAddresses ?? []).map((x) => `${p.name}:${p.port}:${x.ip}:notready`),
      ]),
    );
  // web resolves to 8080 on a and b, 9090 on c; metrics is 9100 everywhere. Subsets group the ports by
  // address set: {web:8080 → a, b(not ready)}, {web:9090 → c}, {metrics:9100 → a, c, b(not ready)}.
  const subsets = await waitFor('endpoints of the three pods', () => {
    const s = subsetsOf('web');
    return flatten(s).length === 6 && s;
  });
  assert.equal(subsets.length, 3);
  const flat = flatten(subsets);
  assert.deepEqual(
    flat.sort(),
    [
      `metrics:9100:${a}:ready`,
      `metrics:9100:${b}:notready`,
      `metrics:9100:${c}:ready`,
      `web:8080:${a}:ready`,
      `web:8080:${b}:notready`,
      `web:9090:${c}:ready`,
    ].sort(),
  );
  const web8080 = subsets.find((s) => (s.ports ?? []).some((p) => p.port === 8080));
  assert.ok(web8080);
  assert.deepEqual(
    web8080.ports?.map((p) => p.port),
    [8080],
    'the 8080 subset carries only the port with that address set',
  );
  const addr = web8080.addresses?.[0];
  const podA = client.get(PODS, NS, 'web-a');
  assert.deepEqual(addr, {
    ip: a,
    nodeName: (podA['spec'] as { nodeName: string }).nodeName,
    targetRef: { kind: 'Pod', namespace: NS, name: 'web-a', uid: podA.metadata.uid },
  });
  assert.equal(web8080.ports?.[0]?.protocol, 'TCP');
  assert.equal(web8080.ports?.[0]?.name, 'web');
  const ep = client.get(EP, NS, 'web');
  assert.match(
    ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] ?? '',
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
  );
  assert.deepEqual(ep.metadata.labels, { tier: 'front' });
  assert.equal(ep.metadata.ownerReferences, undefined);

  // Readiness back: b moves to addresses.
  const live = client.get(PODS, NS, 'web-b');
  for (const c2 of (live['status'] as { conditions: { type: string; status: string }[] }).conditions)
    if (c2.type === 'Ready') c2.status = 'True';
  client.update(PODS, NS, live, 'status');
  await waitFor('web-b ready in endpoints', () =>
    subsetsOf('web').some((s) => (s.addresses ?? []).some((x) => x.ip === b) && !s.notReadyAddresses),
  );

  // Terminating pods leave at once (before the kubelet's final delete).
  client.delete(PODS, NS, 'web-a');
  assert.ok(client.get(PODS, NS, 'web-a').metadata.deletionTimestamp);
  await waitFor('web-a gone from endpoints', () =>
    subsetsOf('web').every(
      (s) => ![...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].some((x) => x.ip === a),
    ),
  );
  assert.ok(client.get(PODS, NS, 'web-a'), 'still terminating');

  // Deleting the Service deletes its Endpoints.
  client.delete(SVC, NS, 'web');
  await waitFor('endpoints deleted', () => {
    try {
      client.get(EP, NS, 'web');
      return false;
    } catch {
      return true;
    }
  });
});

test('Endpoints: publishNotReadyAddresses, headless label, selectorless and kubernetes untouched', async () => {
  client.create(PODS, NS, pod('pub-a', { app: 'pub' }, 8080));
  await waitFor('pub-a running', () => running('pub-a'));
  markNotReady('pub-a');
  const kubeBefore = tryGet(EP, 'kubernetes')?.metadata.resourceVersion;
  client.create(SVC, NS, service('pub', { app: 'pub' }, { publishNotReadyAddresses: true }));
  client.create(SVC, NS, service('pub-headless', { app: 'pub' }, { clusterIP: 'None' }));
  client.create(SVC, NS, service('manual', undefined));
  const ip = ipOf('pub-a');
  await waitFor('not-ready pod published', () =>
    subsetsOf('pub').some((s) => (s.addresses ?? []).some((x) => x.ip === ip)),
  );
  const headless = await waitFor('headless endpoints', () => {
    const e = client.get(EP, NS, 'pub-headless');
    return (e['subsets'] as unknown[] | undefined)?.length ? e : undefined;
  });
  assert.deepEqual(headless.metadata.labels, { tier: 'front', 'service.kubernetes.io/headless': '' });
  assert.ok(subsetsOf('pub-headless').some((s) => (s.notReadyAddresses ?? []).some((x) => x.ip === ip)));
  // Selectorless: no Endpoints made for it; a user's own Endpoints stay as written.
  assert.throws(() => client.get(EP, NS, 'manual'));
  client.create(EP, NS, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'manual', namespace: NS },
    subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80, protocol: 'TCP' }] }],
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(subsetsOf('manual')[0]?.addresses?.[0]?.ip, '192.0.2.10');
  // The apiserver owns the kubernetes Service's Endpoints: never created or changed by the controller.
  assert.equal(tryGet(EP, 'kubernetes')?.metadata.resourceVersion, kubeBefore);
});

test('Endpoints without a Service: left alone when created, deleted once edited (as upstream)', async () => {
  const ep = client.create(EP, NS, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'orphan', namespace: NS },
    subsets: [{ addresses: [{ ip: '192.0.2.20' }], ports: [{ port: 80, protocol: 'TCP' }] }],
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(tryGet(EP, 'orphan'));
  client.update(EP, NS, { ...ep, metadata: { ...ep.metadata, labels: { edited: 'yes' } } });
  await waitFor('orphan deleted', () => !tryGet(EP, 'orphan'));
});
