/**
 * Subresources on `berth up --nodes 0`: pods/binding, pods/eviction (with a PodDisruptionBudget),
 * <kind>/status (only .status changes) and watch bookmarks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRequest, startBerth, type BerthProcess } from './harness/berth.ts';
import { eventually } from './harness/wait.ts';

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

/** What a kubelet would report: Running, Ready or not. */
async function setRunning(name: string, ready: boolean): Promise<void> {
  const path = `/api/v1/namespaces/sub/pods/${name}`;
  const live = JSON.parse((await adminRequest(b, 'GET', path)).body) as Record<string, unknown>;
  live['status'] = {
    phase: 'Running',
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    ],
  };
  const r = await adminRequest(b, 'PUT', `${path}/status`, JSON.stringify(live), json);
  assert.equal(r.status, 200, r.body);
}

interface PdbStatus {
  observedGeneration?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  disruptionsAllowed?: number;
  expectedPods?: number;
  disruptedPods?: Record<string, string>;
  conditions?: { type: string; status: string; reason: string }[];
}
const PDB = '/apis/policy/v1/namespaces/sub/poddisruptionbudgets/budget';

/** Waits until the budget's status (written by the disruption controller) has these fields. */
async function budgetIs(want: PdbStatus): Promise<PdbStatus> {
  let last: PdbStatus = {};
  try {
    return await eventually('budget status', async () => {
      last = (JSON.parse((await adminRequest(b, 'GET', PDB)).body) as { status?: PdbStatus }).status ?? {};
      return Object.entries(want).every(([k, v]) => last[k as keyof PdbStatus] === v) && last;
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status ${JSON.stringify(last)}`, { cause: e });
  }
}

const evict = (name: string, query = '') =>
  adminRequest(
    b,
    'POST',
    `/api/v1/namespaces/sub/pods/${name}/eviction${query}`,
    JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'sub' } }),
    json,
  );
const podStatus = async (name: string): Promise<number> =>
  (await adminRequest(b, 'GET', `/api/v1/namespaces/sub/pods/${name}`)).status;
const patchBudget = async (spec: Record<string, unknown>): Promise<void> => {
  const r = await adminRequest(b, 'PATCH', PDB, JSON.stringify({ spec }), {
    'Content-Type': 'application/merge-patch+json',
  });
  assert.equal(r.status, 200, r.body);
};

test('eviction consults the PodDisruptionBudget as upstream, then deletes gracefully', async () => {
  for (const name of ['p2', 'p3', 'p4'])
    assert.equal(
      (await adminRequest(b, 'POST', '/api/v1/namespaces/sub/pods', JSON.stringify(pod(name)), json)).status,
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
  // p1 (bound, Pending) and p2..p4 (Pending): nothing healthy yet.
  await budgetIs({ observedGeneration: 1, expectedPods: 4, currentHealthy: 0, desiredHealthy: 1 });

  // A Running pod that is not Ready, while the budget is not met: refused with upstream's 429.
  await setRunning('p2', false);
  const refused = await evict('p2');
  assert.equal(refused.status, 429, refused.body);
  const st = JSON.parse(refused.body) as {
    message: string;
    reason: string;
    details: { causes: { reason: string; message: string }[] };
  };
  assert.equal(st.reason, 'TooManyRequests');
  assert.equal(st.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  assert.deepEqual(st.details.causes, [
    {
      reason: 'DisruptionBudget',
      message: 'The disruption budget budget needs 1 healthy pods and has 0 currently',
    },
  ]);

  // Once the budget is met (p3 Ready), the unready p2 goes without consuming a disruption.
  await setRunning('p3', true);
  await budgetIs({ currentHealthy: 1, disruptionsAllowed: 0 });
  const unready = await evict('p2');
  assert.equal(unready.status, 201, unready.body);
  // p2 was never bound, so it goes at once (an unscheduled pod has no grace period).
  assert.equal(await podStatus('p2'), 404);
  // The Ready p3 is what the budget protects.
  assert.equal((await evict('p3')).status, 429);

  // minAvailable 0: one disruption allowed once the controller observed generation 2.
  await patchBudget({ minAvailable: 0 });
  await budgetIs({ observedGeneration: 2, currentHealthy: 1, desiredHealthy: 0, disruptionsAllowed: 1 });
  // A dry run changes nothing.
  assert.equal((await evict('p3', '?dryRun=All')).status, 201);
  assert.equal(await podStatus('p3'), 200);
  await budgetIs({ disruptionsAllowed: 1 });
  // The eviction consumes the disruption and records the pod, in one status write (seen on a watch:
  // the controller drops the entry as soon as the pod is gone).
  const rv = (
    JSON.parse((await adminRequest(b, 'GET', PDB)).body) as { metadata: { resourceVersion: string } }
  ).metadata.resourceVersion;
  const watch = adminRequest(
    b,
    'GET',
    `/apis/policy/v1/namespaces/sub/poddisruptionbudgets?watch=1&resourceVersion=${rv}&timeoutSeconds=2`,
  );
  const ok = await evict('p3');
  assert.equal(ok.status, 201, ok.body);
  const events = (await watch).body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; object: { status: PdbStatus } });
  const consumed = events.find((e) => e.object.status.disruptedPods?.['p3']);
  assert.ok(consumed, `no watch event recorded p3 in disruptedPods: ${JSON.stringify(events)}`);
  assert.equal(consumed.object.status.disruptionsAllowed, 0);
  assert.equal(
    consumed.object.status.conditions?.find((c) => c.type === 'DisruptionAllowed')?.reason,
    'InsufficientPods',
  );
  assert.equal(await podStatus('p3'), 404);

  // An unready pod while nothing is allowed: refused, unless the budget always allows unhealthy ones.
  await setRunning('p4', false);
  await budgetIs({ currentHealthy: 0, disruptionsAllowed: 0 });
  assert.equal((await evict('p4')).status, 429);
  await patchBudget({ unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  const always = await evict('p4');
  assert.equal(always.status, 201, always.body);
  assert.equal(await podStatus('p4'), 404);

  // p1 is bound but Pending: no budget check, and eviction starts graceful deletion (the kubelet
  // finishes it) after marking it DisruptionTarget.
  const e1 = await evict('p1');
  assert.equal(e1.status, 201);
  const p1 = JSON.parse((await adminRequest(b, 'GET', '/api/v1/namespaces/sub/pods/p1')).body) as {
    metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
    status: { conditions: { type: string; status: string; reason?: string }[] };
  };
  assert.ok(p1.metadata.deletionTimestamp);
  assert.equal(p1.metadata.deletionGracePeriodSeconds, 30);
  assert.deepEqual(
    p1.status.conditions.filter((c) => c.type === 'DisruptionTarget').map((c) => [c.status, c.reason]),
    [['True', 'EvictionByEvictionAPI']],
  );
  assert.equal(
    (await adminRequest(b, 'DELETE', '/apis/policy/v1/namespaces/sub/poddisruptionbudgets/budget')).status,
    200,
  );
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
