/**
 * Subresources on `berth up --nodes 0`: pods/binding, pods/eviction (with a PodDisruptionBudget),
 * <kind>/status (only .status changes) and watch bookmarks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRequest, startBerth, type BerthProcess } from './harness/berth.ts';

let b: BerthProcess;
const json = { 'Content-Type': 'application/json' };
const pod = (name: string) => ({
  metadata: { name, labels: { app: 'sub' } },
  spec: { containers: [{ name: 'c', image: 'x' }] },
});

before(async () => {
  b = await startBerth();
  assert.equal(
    (await adminRequest(b, 'POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: 'sub' } }), json))
      .status,
    201,
  );
});
after(async () => {
  await b?.stop();
  b?.cleanup();
});

test('binding assigns a node once and records PodScheduled', async () => {
  assert.equal(
    (await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods', JSON.stringify(pod('p1')), json)).status,
    201,
  );
  const bind = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: 'p1' },
    target: { kind: 'Node', name: 'node-a' },
  });
  const r = await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods/p1/binding', bind, json);
  assert.equal(r.status, 201, r.body);
  const got = JSON.parse((await adminRequest(b, 'GET', '/api/v1/namespaces/sub/pods/p1')).body) as {
    spec: { nodeName: string };
    status: { conditions: { type: string; status: string }[] };
  };
  assert.equal(got.spec.nodeName, 'node-a');
  assert.ok(got.status.conditions.some((c) => c.type === 'PodScheduled' && c.status === 'True'));
  const again = await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods/p1/binding', bind, json);
  assert.equal(again.status, 409);
  assert.match(again.body, /already assigned to node \\"node-a\\"/);
});

test('eviction respects a PodDisruptionBudget, then deletes gracefully', async () => {
  assert.equal(
    (await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods', JSON.stringify(pod('p2')), json)).status,
    201,
  );
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'budget' },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'sub' } } },
  };
  assert.equal(
    (
      await adminRequest(
        b,
        'POST',
        '/apis/policy/v1/namespaces/sub/poddisruptionbudgets',
        JSON.stringify(pdb),
        json,
      )
    ).status,
    201,
  );
  const ev = JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'p2', namespace: 'sub' },
  });
  const refused = await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods/p2/eviction', ev, json);
  assert.equal(refused.status, 429, refused.body);
  assert.match(refused.body, /Cannot evict pod as it would violate the pod's disruption budget/);
  assert.equal(
    (await adminRequest(b, 'DELETE', '/apis/policy/v1/namespaces/sub/poddisruptionbudgets/budget')).status,
    200,
  );
  const ok = await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods/p2/eviction', ev, json);
  assert.equal(ok.status, 201, ok.body);
  // p2 was never bound, so it goes at once (an unscheduled pod has no grace period).
  assert.equal((await adminRequest(b, 'GET', '/api/v1/namespaces/sub/pods/p2')).status, 404);
  // p1 is bound to a node: eviction starts graceful deletion (the kubelet finishes it).
  const e1 = await adminRequest(
    b,
    'POST',
    '/api/v1/namespaces/sub/pods/p1/eviction',
    JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p1' } }),
    json,
  );
  assert.equal(e1.status, 201);
  const p1 = JSON.parse((await adminRequest(b, 'GET', '/api/v1/namespaces/sub/pods/p1')).body) as {
    metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  };
  assert.ok(p1.metadata.deletionTimestamp);
  assert.equal(p1.metadata.deletionGracePeriodSeconds, 30);
});

test('status writes change only .status; main-resource writes keep .status', async () => {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  };
  const created = JSON.parse(
    (await adminRequest(b, 'POST', '/apis/apps/v1/namespaces/sub/deployments', JSON.stringify(d), json)).body,
  ) as Record<string, unknown>;
  const withStatus = {
    ...created,
    spec: { ...(created['spec'] as object), replicas: 7 },
    status: { replicas: 3 },
  };
  const r = await adminRequest(
    b,
    'PUT',
    '/apis/apps/v1/namespaces/sub/deployments/d/status',
    JSON.stringify(withStatus),
    json,
  );
  assert.equal(r.status, 200, r.body);
  const after1 = JSON.parse(r.body) as {
    spec: { replicas: number };
    status: { replicas: number };
    metadata: { generation: number };
  };
  assert.equal(after1.status.replicas, 3);
  assert.equal(after1.spec.replicas, 1);
  const main = await adminRequest(
    b,
    'PATCH',
    '/apis/apps/v1/namespaces/sub/deployments/d',
    JSON.stringify({ spec: { replicas: 2 }, status: { replicas: 99 } }),
    { 'Content-Type': 'application/merge-patch+json' },
  );
  const after2 = JSON.parse(main.body) as {
    spec: { replicas: number };
    status: { replicas: number };
    metadata: { generation: number };
  };
  assert.equal(after2.spec.replicas, 2);
  assert.equal(after2.status.replicas, 3);
  assert.equal(after2.metadata.generation, after1.metadata.generation + 1);
});
