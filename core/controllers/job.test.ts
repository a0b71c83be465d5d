import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import {
  formatIndexes,
  JOB_COMPLETION_INDEX,
  JOB_TRACKING_FINALIZER,
  JobController,
  type JobStatus,
  parseIndexes,
} from './job.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';
const BACKOFF_MS = 400;

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let jobs: JobController;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-job-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 2,
    simulated: { maxGraceSeconds: 0 },
    disableControllers: ['job', 'cronjob', 'ttl-after-finished'],
  });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
  jobs = new JobController(client, undefined, { backoffBaseMs: BACKOFF_MS });
  jobs.start();
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
});

after(async () => {
  await jobs.stop();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

function job(
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
  restartPolicy = 'Never',
): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      ...spec,
      template: {
        metadata: { annotations },
        spec: { restartPolicy, containers: [{ name: 'c', image: 'busybox.test/busybox' }] },
      },
    },
  };
}

const statusOf = (name: string): JobStatus => (client.get(JOBS, NS, name)['status'] ?? {}) as JobStatus;
const condTypes = (name: string): string[] =>
  (statusOf(name).conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
const podsOf = (name: string): KObject[] =>
  client.list(PODS, NS, { labelSelector: `batch.kubernetes.io/job-name=${name}` }).items;
const eventsOf = (name: string): { reason: string; message: string; type: string }[] =>
  client
    .list(EVENTS, NS)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === name)
    .map((e) => ({ reason: String(e['reason']), message: String(e['message']), type: String(e['type']) }));
const phase = (p: KObject): string | undefined => (p['status'] as { phase?: string } | undefined)?.phase;

test('completions 5 / parallelism 2: never more than 2 active, then Complete', async () => {
  let maxActive = 0;
  const active = new Set<string>();
  const w = client.watch(
    PODS,
    NS,
    { labelSelector: 'batch.kubernetes.io/job-name=five', resourceVersion: '0' },
    (type, p) => {
      const n = p.metadata.name ?? '';
      const ph = phase(p);
      if (type === 'DELETED' || ph === 'Succeeded' || ph === 'Failed' || p.metadata.deletionTimestamp)
        active.delete(n);
      else active.add(n);
      maxActive = Math.max(maxActive, active.size);
    },
  );
  try {
    const created = client.create(
      JOBS,
      NS,
      job(
        'five',
        { completions: 5, parallelism: 2 },
        { 'sim.berth.dev/exit': '0', 'sim.berth.dev/exit-after': '200ms' },
      ),
    );
    await waitFor('Complete', () => condTypes('five').includes('Complete'), 15000);
    const st = statusOf('five');
    assert.equal(st.succeeded, 5);
    assert.equal(st.failed, undefined);
    assert.equal(st.active, undefined);
    assert.equal(st.ready, 0);
    assert.equal(st.terminating, 0);
    assert.deepEqual(st.uncountedTerminatedPods, {});
    assert.ok(st.startTime && st.completionTime);
    assert.deepEqual(
      (st.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
      [
        ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
        ['Complete', 'True', 'CompletionsReached'],
      ],
    );
    assert.equal(maxActive, 2, `max active ${maxActive}`);
    const pods = podsOf('five');
    assert.equal(pods.length, 5);
    for (const p of pods) {
      assert.equal(phase(p), 'Succeeded');
      assert.ok(!(p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER), 'finalizer removed');
      assert.match(p.metadata.name ?? '', /^five-[a-z0-9]{5}$/);
      assert.equal(p.metadata.labels?.['job-name'], 'five');
      assert.equal(p.metadata.labels?.['controller-uid'], created.metadata.uid);
      assert.equal(p.metadata.labels?.['batch.kubernetes.io/controller-uid'], created.metadata.uid);
      const ref = p.metadata.ownerReferences?.[0];
      assert.equal(ref?.kind, 'Job');
      assert.equal(ref?.controller, true);
      assert.equal(ref?.uid, created.metadata.uid);
    }
    const ev = eventsOf('five');
    assert.equal(ev.filter((e) => e.reason === 'SuccessfulCreate').length, 5);
    assert.ok(ev.some((e) => e.reason === 'Completed' && e.message === 'Job completed'));
  } finally {
    w.stop();
  }
});

test('pods carry the job-tracking finalizer while running', async () => {
  client.create(
    JOBS,
    NS,
    job('tracked', { completions: 1 }, { 'sim.berth.dev/exit': '0', 'sim.berth.dev/exit-after': '1s' }),
  );
  const [p] = await waitFor('pod', () => {
    const ps = podsOf('tracked');
    return ps.length === 1 && ps;
  });
  assert.ok((p!.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER));
  await waitFor('active 1', () => statusOf('tracked').active === 1);
  await waitFor('Complete', () => condTypes('tracked').includes('Complete'));
});

test('Indexed job: one pod per index, hostname, completedIndexes', async () => {
  client.create(
    JOBS,
    NS,
    job(
      'idx',
      { completions: 3, parallelism: 3, completionMode: 'Indexed' },
      { 'sim.berth.dev/exit': '0', 'sim.berth.dev/exit-after': '100ms' },
    ),
  );
  await waitFor('Complete', () => condTypes('idx').includes('Complete'));
  const st = statusOf('idx');
  assert.equal(st.completedIndexes, '0-2');
  assert.equal(st.succeeded, 3);
  const pods = podsOf('idx');
  assert.deepEqual(pods.map((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX]).sort(), ['0', '1', '2']);
  for (const p of pods) {
    const ix = p.metadata.annotations?.[JOB_COMPLETION_INDEX] ?? '';
    assert.equal(p.metadata.labels?.[JOB_COMPLETION_INDEX], ix);
    assert.match(p.metadata.name ?? '', new RegExp(`^idx-${ix}-[a-z0-9]{5}$`));
    const spec = p['spec'] as { hostname?: string; containers: { env?: { name: string }[] }[] };
    assert.equal(spec.hostname, `idx-${ix}`);
    assert.ok(spec.containers[0]?.env?.some((e) => e.name === 'JOB_COMPLETION_INDEX'));
  }
});

test('backoffLimit: failed pods are retried after a backoff, then BackoffLimitExceeded', async () => {
  const t0 = Date.now();
  client.create(JOBS, NS, job('boom', { backoffLimit: 1 }, { 'sim.berth.dev/exit': '1' }));
  await waitFor('Failed', () => condTypes('boom').includes('Failed'));
  const st = statusOf('boom');
  assert.equal(st.failed, 2);
  assert.equal(st.succeeded, undefined);
  assert.deepEqual(
    (st.conditions ?? []).map((c) => [c.type, c.reason, c.message]),
    [
      ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ],
  );
  assert.equal(st.completionTime, undefined);
  const pods = podsOf('boom').sort((a, b) =>
    (a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1,
  );
  assert.equal(pods.length, 2);
  // The second pod waited for the backoff after the first failure.
  const finished = (p: KObject): number =>
    Date.parse(
      (p['status'] as { containerStatuses: { state: { terminated: { finishedAt: string } } }[] })
        .containerStatuses[0]!.state.terminated.finishedAt,
    );
  assert.ok(Date.parse(pods[1]!.metadata.creationTimestamp ?? '') - finished(pods[0]!) >= BACKOFF_MS - 1000);
  assert.ok(Date.now() - t0 >= BACKOFF_MS);
  assert.ok(
    eventsOf('boom').some(
      (e) =>
        e.type === 'Warning' &&
        e.reason === 'BackoffLimitExceeded' &&
        e.message === 'Job has reached the specified backoff limit',
    ),
  );
});

test('restartPolicy OnFailure: container restarts count toward backoffLimit', async () => {
  client.create(
    JOBS,
    NS,
    job(
      'restarts',
      { backoffLimit: 2 },
      { 'sim.berth.dev/exit': '1', 'sim.berth.dev/exit-after': '50ms' },
      'OnFailure',
    ),
  );
  await waitFor('Failed', () => condTypes('restarts').includes('Failed'));
  const st = statusOf('restarts');
  assert.equal((st.conditions ?? []).find((c) => c.type === 'Failed')?.reason, 'BackoffLimitExceeded');
  // The single pod was deleted (it counts as failed), never recreated.
  assert.equal(st.failed, 1);
  await waitFor('pod gone', () => podsOf('restarts').length === 0);
});

test('activeDeadlineSeconds: DeadlineExceeded, active pods deleted', async () => {
  client.create(JOBS, NS, job('slow', { activeDeadlineSeconds: 2, parallelism: 2, completions: 4 }));
  await waitFor('2 active', () => statusOf('slow').active === 2);
  await waitFor('Failed', () => condTypes('slow').includes('Failed'), 6000);
  const st = statusOf('slow');
  assert.deepEqual(
    (st.conditions ?? []).map((c) => [c.type, c.reason, c.message]),
    [
      ['FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
      ['Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
    ],
  );
  assert.equal(st.active, undefined);
  assert.equal(st.failed, 2);
  await waitFor('pods gone', () => podsOf('slow').length === 0);
  const ev = eventsOf('slow');
  assert.ok(ev.some((e) => e.reason === 'DeadlineExceeded' && e.type === 'Warning'));
  assert.equal(ev.filter((e) => e.reason === 'SuccessfulDelete').length, 2);
});

test('suspend and resume', async () => {
  client.create(JOBS, NS, job('sus', { suspend: true, parallelism: 2, completions: 2 }));
  await waitFor('Suspended', () => condTypes('sus').includes('Suspended'));
  assert.equal(podsOf('sus').length, 0);
  assert.equal(statusOf('sus').startTime, undefined);
  const c = (statusOf('sus').conditions ?? []).find((x) => x.type === 'Suspended');
  assert.equal(c?.reason, 'JobSuspended');
  assert.equal(c?.message, 'Job suspended');

  const setSuspend = (v: boolean): void => {
    const live = client.get(JOBS, NS, 'sus');
    client.update(JOBS, NS, { ...live, spec: { ...(live['spec'] as object), suspend: v } });
  };
  setSuspend(false);
  await waitFor('2 active', () => statusOf('sus').active === 2);
  const st = statusOf('sus');
  assert.ok(st.startTime);
  const resumed = (st.conditions ?? []).find((x) => x.type === 'Suspended');
  assert.equal(resumed?.status, 'False');
  assert.equal(resumed?.reason, 'JobResumed');

  setSuspend(true);
  await waitFor('pods deleted', () => podsOf('sus').length === 0);
  await waitFor('suspended again', () => {
    const s = statusOf('sus');
    return condTypes('sus').includes('Suspended') && !s.active && s.startTime === undefined && s;
  });
  const ev = eventsOf('sus').map((e) => e.reason);
  assert.ok(ev.includes('Suspended') && ev.includes('Resumed'));
  assert.ok(!condTypes('sus').includes('Failed'));
});

test('deleting a running job (Background): its pods lose the finalizer and go', async () => {
  client.create(JOBS, NS, job('gone', { parallelism: 2, completions: 2 }));
  await waitFor('2 active', () => statusOf('gone').active === 2);
  assert.ok(podsOf('gone').every((p) => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)));
  client.delete(JOBS, NS, 'gone', { propagationPolicy: 'Background' });
  await waitFor('pods gone', () => podsOf('gone').length === 0);
});

test('index helpers', () => {
  assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  assert.deepEqual([...parseIndexes('0-2,4,6-7', 7)].sort(), [0, 1, 2, 4, 6]);
});
