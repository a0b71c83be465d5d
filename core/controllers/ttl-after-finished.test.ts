import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { jobExpiresAt } from './ttl-after-finished.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-ttl-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 1,
    simulated: { maxGraceSeconds: 0 },
  });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const job = (name: string, ttl?: number): KObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: NS },
  spec: {
    ...(ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl }),
    template: {
      metadata: { annotations: { 'sim.berth.dev/exit': '0' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox.test/busybox' }] },
    },
  },
});

const exists = (name: string): boolean => {
  try {
    client.get(JOBS, NS, name);
    return true;
  } catch {
    return false;
  }
};
const complete = (name: string): boolean =>
  (
    ((client.get(JOBS, NS, name)['status'] as { conditions?: { type: string }[] } | undefined)?.conditions ??
      []) as { type: string }[]
  ).some((c) => c.type === 'Complete');

test('a finished job is deleted ttlSecondsAfterFinished later, with its pods', async () => {
  client.create(JOBS, NS, job('short', 1));
  client.create(JOBS, NS, job('keep'));
  // Read short's finish as soon as it completes: with a 1 s TTL it may be gone before keep completes
  // (the jobs finish at different moments on a loaded machine).
  const conds = await waitFor(
    'short complete',
    () =>
      complete('short') &&
      (
        client.get(JOBS, NS, 'short')['status'] as {
          conditions: { type: string; lastTransitionTime: string }[];
        }
      ).conditions,
    30_000,
  );
  const finishedAt = Date.parse(conds.find((c) => c.type === 'Complete')!.lastTransitionTime);
  await waitFor('deleted', () => !exists('short'), 5000);
  // Not before the TTL.
  assert.ok(Date.now() >= finishedAt + 1000, 'deleted before ttlSecondsAfterFinished');
  await waitFor(
    'pods collected',
    () => client.list(PODS, NS, { labelSelector: 'batch.kubernetes.io/job-name=short' }).items.length === 0,
  );
  await waitFor('keep complete', () => complete('keep'), 30_000);
  assert.ok(exists('keep'), 'a job without a TTL stays');
});

test('ttlSecondsAfterFinished 0 deletes at once', async () => {
  client.create(JOBS, NS, job('zero', 0));
  await waitFor('deleted', () => !exists('zero'));
});

test('jobExpiresAt (unit)', () => {
  const j = (ttl: number | undefined, cond?: { type: string; status: string; t: string }): KObject => ({
    metadata: { name: 'x' },
    spec: ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl },
    status: cond
      ? { conditions: [{ type: cond.type, status: cond.status, lastTransitionTime: cond.t }] }
      : {},
  });
  const t = '2026-01-01T00:00:00Z';
  assert.equal(jobExpiresAt(j(10, { type: 'Complete', status: 'True', t })), Date.parse(t) + 10_000);
  assert.equal(jobExpiresAt(j(10, { type: 'Failed', status: 'True', t })), Date.parse(t) + 10_000);
  assert.equal(jobExpiresAt(j(10, { type: 'SuccessCriteriaMet', status: 'True', t })), undefined);
  assert.equal(jobExpiresAt(j(undefined, { type: 'Complete', status: 'True', t })), undefined);
  assert.equal(jobExpiresAt(j(10)), undefined);
});
