import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../api/object.ts';
import { InProcessClient, type ResourceRef } from '../../client/in-process.ts';
import { startCluster, type RunningCluster } from '../../cluster/cluster.ts';
import { annotatedExit, parseDurationMs } from './driver.ts';
import { waitFor } from '../../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-simdrv-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, driver: 'simulated', nodes: 1 });
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

const pod = (name: string, annotations: Record<string, string>, restartPolicy: string): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, annotations },
  spec: {
    restartPolicy,
    containers: [
      { name: 'a', image: 'busybox.test/busybox' },
      { name: 'b', image: 'busybox.test/busybox' },
    ],
  },
});

interface PS {
  phase?: string;
  containerStatuses?: {
    name: string;
    restartCount: number;
    state: { terminated?: { exitCode: number; finishedAt: string; startedAt: string } };
  }[];
}
const statusOf = (name: string): PS => (client.get(PODS, NS, name)['status'] ?? {}) as PS;

test('annotation parsing (unit)', () => {
  assert.equal(parseDurationMs('2s'), 2000);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('0'), 0);
  assert.equal(parseDurationMs('soon'), undefined);
  assert.deepEqual(annotatedExit({ 'sim.berth.dev/exit': '1', 'sim.berth.dev/exit-after': '2s' }, 'c'), {
    code: 1,
    afterMs: 2000,
  });
  assert.deepEqual(
    annotatedExit(
      { 'sim.berth.dev/exit': '0', 'sim.berth.dev/exit.c': '3', 'sim.berth.dev/exit-after.c': '1s' },
      'c',
    ),
    { code: 3, afterMs: 1000 },
  );
  assert.equal(annotatedExit({}, 'c'), undefined);
  assert.equal(annotatedExit({ 'sim.berth.dev/exit': 'no' }, 'c'), undefined);
});

test('sim.berth.dev/exit: every container exits after the delay → Succeeded', async () => {
  client.create(
    PODS,
    NS,
    pod('ok', { 'sim.berth.dev/exit': '0', 'sim.berth.dev/exit-after': '300ms' }, 'Never'),
  );
  await waitFor('Running', () => statusOf('ok').phase === 'Running');
  await waitFor('Succeeded', () => statusOf('ok').phase === 'Succeeded');
  for (const c of statusOf('ok').containerStatuses ?? []) {
    assert.equal(c.state.terminated?.exitCode, 0);
  }
});

test('per-container form: one container fails → Failed', async () => {
  client.create(PODS, NS, pod('mixed', { 'sim.berth.dev/exit': '0', 'sim.berth.dev/exit.b': '2' }, 'Never'));
  await waitFor('Failed', () => statusOf('mixed').phase === 'Failed');
  const cs = statusOf('mixed').containerStatuses ?? [];
  assert.equal(cs.find((c) => c.name === 'a')?.state.terminated?.exitCode, 0);
  assert.equal(cs.find((c) => c.name === 'b')?.state.terminated?.exitCode, 2);
});

test('OnFailure with a failing exit restarts the container again and again', async () => {
  client.create(
    PODS,
    NS,
    pod('loop', { 'sim.berth.dev/exit.a': '1', 'sim.berth.dev/exit-after.a': '50ms' }, 'OnFailure'),
  );
  await waitFor(
    '3 restarts',
    () => (statusOf('loop').containerStatuses ?? []).find((c) => c.name === 'a')!.restartCount >= 3,
  );
  assert.equal(statusOf('loop').phase, 'Running');
  assert.equal((statusOf('loop').containerStatuses ?? []).find((c) => c.name === 'b')?.restartCount, 0);
  client.delete(PODS, NS, 'loop', { gracePeriodSeconds: 0 });
});
