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
  // A suspended CronJob: no controller writes its status, so the test owns every write.
  const cj = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj' },
    spec: {
      schedule: '*/5 * * * *',
      suspend: true,
      jobTemplate: {
        spec: {
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } },
        },
      },
    },
  };
  const base = '/apis/batch/v1/namespaces/sub/cronjobs';
  const created = JSON.parse((await adminRequest(b, 'POST', base, JSON.stringify(cj), json)).body) as Record<
    string,
    unknown
  >;
  const t1 = '2026-01-01T00:00:00Z';
  const withStatus = {
    ...created,
    spec: { ...(created['spec'] as object), successfulJobsHistoryLimit: 7 },
    status: { lastScheduleTime: t1 },
  };
  const r = await adminRequest(b, 'PUT', `${base}/cj/status`, JSON.stringify(withStatus), json);
  assert.equal(r.status, 200, r.body);
  interface CJ {
    spec: { successfulJobsHistoryLimit: number };
    status: { lastScheduleTime?: string };
    metadata: { generation: number };
  }
  const after1 = JSON.parse(r.body) as CJ;
  assert.equal(after1.status.lastScheduleTime, t1);
  assert.equal(after1.spec.successfulJobsHistoryLimit, 3);
  const main = await adminRequest(
    b,
    'PATCH',
    `${base}/cj`,
    JSON.stringify({
      spec: { successfulJobsHistoryLimit: 2 },
      status: { lastScheduleTime: '2026-02-02T00:00:00Z' },
    }),
    { 'Content-Type': 'application/merge-patch+json' },
  );
  assert.equal(main.status, 200, main.body);
  const after2 = JSON.parse(main.body) as CJ;
  assert.equal(after2.spec.successfulJobsHistoryLimit, 2);
  assert.equal(after2.status.lastScheduleTime, t1);
  assert.equal(after2.metadata.generation, after1.metadata.generation + 1);
});
