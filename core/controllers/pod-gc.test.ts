import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import type { SimulatedNodeDriver } from '../nodes/simulated/driver.ts';
import { podGCDefaults } from './pod-gc.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';
const QUARANTINE_MS = 600;

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  Object.assign(podGCDefaults, {
    gcCheckPeriodMs: 100,
    quarantineMs: QUARANTINE_MS,
    terminatedPodThreshold: 3,
  });
  dir = mkdtempSync(join(tmpdir(), 'berth-podgc-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 1,
    disableScheduler: true,
    simulated: { leaseIntervalMs: 1000, statusIntervalMs: 1000 },
  });
  client = cluster.controllerClient;
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tryGet = (name: string): KObject | undefined => {
  try {
    return client.get(PODS, NS, name);
  } catch {
    return undefined;
  }
};

function pod(name: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, ...meta },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra },
  };
}

test('orphaned pods (bound to a node that no longer exists) are failed and deleted after the quarantine', async () => {
  const node = client.list(NODES, '').items[0]!.metadata.name ?? '';
  client.create(PODS, NS, pod('on-real', { nodeName: node }));
  await waitFor('running', () => (tryGet('on-real')?.['status'] as { phase?: string }).phase === 'Running');
  // Watch for the status write before the delete.
  const seen: KObject[] = [];
  const w = client.watch(PODS, NS, { resourceVersion: '0' }, (_t, o) => {
    if (o.metadata.name === 'on-real' || o.metadata.name === 'on-ghost') seen.push(o);
  });
  try {
    client.create(PODS, NS, pod('on-ghost', { nodeName: 'ghost.example' }));
    await (cluster.driver as SimulatedNodeDriver).remove(node);
    const start = Date.now();
    await waitFor('orphans deleted', () => !tryGet('on-real') && !tryGet('on-ghost'), 5000);
    assert.ok(Date.now() - start >= QUARANTINE_MS - 150, 'not before the quarantine');
    for (const name of ['on-real', 'on-ghost']) {
      const failed = seen.find(
        (o) =>
          o.metadata.name === name && (o['status'] as { phase?: string } | undefined)?.phase === 'Failed',
      );
      assert.ok(failed, `${name} marked Failed first`);
      const c = ((failed['status'] as { conditions?: Record<string, unknown>[] }).conditions ?? []).find(
        (x) => x['type'] === 'DisruptionTarget',
      );
      assert.deepEqual(
        { status: c?.['status'], reason: c?.['reason'], message: c?.['message'] },
        { status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' },
      );
    }
  } finally {
    w.stop();
  }
});

test('terminated pods beyond the threshold (3 here) are deleted, oldest first', async () => {
  for (let i = 0; i < 5; i++) {
    client.create(PODS, NS, pod(`done-${i}`, { schedulerName: 'none.example' }));
    const live = client.get(PODS, NS, `done-${i}`);
    client.update(PODS, NS, { ...live, status: { phase: i % 2 ? 'Failed' : 'Succeeded' } }, 'status');
  }
  await waitFor('two deleted', () => !tryGet('done-0') && !tryGet('done-1'), 3000);
  await new Promise((r) => setTimeout(r, 300));
  for (const i of [2, 3, 4]) assert.ok(tryGet(`done-${i}`), `done-${i} kept`);
});

test('unscheduled terminating pods are failed and force-deleted', async () => {
  client.create(
    PODS,
    NS,
    pod('stuck', { schedulerName: 'none.example' }, { finalizers: ['example.test/hold'] }),
  );
  client.delete(PODS, NS, 'stuck');
  const p = await waitFor('marked Failed', () => {
    const x = tryGet('stuck');
    return (x?.['status'] as { phase?: string } | undefined)?.phase === 'Failed' && x;
  });
  assert.ok(p.metadata.deletionTimestamp);
  client.update(PODS, NS, { ...p, metadata: { ...p.metadata, finalizers: [] } });
  await waitFor('gone', () => !tryGet('stuck'));
});
