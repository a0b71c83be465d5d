/**
 * The eviction subresource's budget rules (upstream EvictionREST), called directly on a cluster whose
 * disruption controller is off, so that each test sets the PodDisruptionBudget status it needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { rfc3339, type KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import type { ResourceRef } from '../../client/in-process.ts';
import type { PdbStatus } from '../../registry/policy/pdb-status.ts';
import { clusterFixture } from '../../testing/cluster-fixture.ts';
import type { RequestInfo } from '../request-info.ts';
import { podEvictionHandler } from './pod-eviction.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const PDBS: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const NS = 'ev';

const fx = clusterFixture(
  'berth-eviction-',
  { disableControllers: ['disruption'] },
  { ready: (f) => f.namespace(NS) },
);

/** One eviction through the handler: the response's status code and body, or the thrown StatusError. */
async function evict(name: string, query = ''): Promise<{ code: number; body: Record<string, unknown> }> {
  const server = fx.cluster.server;
  const s = server.table.lookup('', 'v1', 'pods')!;
  const body = JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace: NS },
  });
  const req = Object.assign(Readable.from([Buffer.from(body)]), {
    headers: { 'content-type': 'application/json' },
    url: `/api/v1/namespaces/${NS}/pods/${name}/eviction${query}`,
  }) as unknown as IncomingMessage;
  let code = 0;
  let text = '';
  const res = {
    headersSent: false,
    writeHead(c: number) {
      code = c;
      return this;
    },
    end(t?: string) {
      text = t ?? '';
    },
  } as unknown as ServerResponse;
  const info = {
    verb: 'create',
    namespace: NS,
    name,
    resource: 'pods',
    subresource: 'eviction',
  } as RequestInfo;
  const admin = server.context({ username: 'admin', groups: ['system:masters'] });
  try {
    await podEvictionHandler(server.registry)(req, res, info, s, admin);
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    return { code: e.status.code, body: e.status as unknown as Record<string, unknown> };
  }
  return { code, body: JSON.parse(text) as Record<string, unknown> };
}

function runningPod(name: string, ready: boolean, labels: Record<string, string>): void {
  fx.client.create(PODS, NS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  });
  const live = fx.client.get(PODS, NS, name);
  fx.client.update(
    PODS,
    NS,
    {
      ...live,
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: rfc3339() }],
      },
    },
    'status',
  );
}

/** A PDB selecting app=<app>, with the status the disruption controller would have written. */
function budget(name: string, app: string, st: Partial<PdbStatus>, spec: Record<string, unknown> = {}): void {
  const created = fx.client.create(PDBS, NS, {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: NS },
    spec: { minAvailable: 1, selector: { matchLabels: { app } }, ...spec },
  } as KObject);
  const allowed = (st.disruptionsAllowed ?? 0) > 0;
  fx.client.update(
    PDBS,
    NS,
    {
      ...created,
      status: {
        observedGeneration: 1,
        expectedPods: 2,
        currentHealthy: 2,
        desiredHealthy: 1,
        disruptionsAllowed: 1,
        conditions: [
          {
            type: 'DisruptionAllowed',
            status: allowed ? 'True' : 'False',
            reason: allowed ? 'SufficientPods' : 'InsufficientPods',
            message: '',
            observedGeneration: 1,
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
        ...st,
      },
    },
    'status',
  );
}

const status = (name: string): PdbStatus => fx.client.get(PDBS, NS, name)['status'] as PdbStatus;
const exists = (name: string): boolean =>
  fx.client.list(PODS, NS).items.some((p) => p.metadata.name === name);

test('an allowed eviction consumes a disruption and records the pod; the last one flips the condition', async () => {
  runningPod('a1', true, { app: 'a' });
  runningPod('a2', true, { app: 'a' });
  budget('a', 'a', { disruptionsAllowed: 2, currentHealthy: 3 });
  // A dry run checks but changes nothing.
  assert.equal((await evict('a1', '?dryRun=All')).code, 201);
  assert.ok(exists('a1'));
  assert.equal(status('a').disruptionsAllowed, 2);

  assert.equal((await evict('a1')).code, 201);
  let st = status('a');
  assert.equal(st.disruptionsAllowed, 1);
  assert.deepEqual(Object.keys(st.disruptedPods ?? {}), ['a1']);
  assert.ok(Math.abs(Date.parse(st.disruptedPods?.['a1'] ?? '') - Date.now()) < 5000);
  assert.equal(st.conditions?.[0]?.status, 'True');
  assert.equal(exists('a1'), false);

  assert.equal((await evict('a2')).code, 201);
  st = status('a');
  assert.equal(st.disruptionsAllowed, 0);
  assert.deepEqual(Object.keys(st.disruptedPods ?? {}).sort(), ['a1', 'a2']);
  assert.equal(st.conditions?.[0]?.status, 'False');
  assert.equal(st.conditions?.[0]?.reason, 'InsufficientPods');
  assert.notEqual(st.conditions?.[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
});

test('no disruption allowed: 429 with the budget as the cause; an unobserved generation: 429, retry after 10 s', async () => {
  runningPod('b1', true, { app: 'b' });
  budget('b', 'b', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1 });
  const r = await evict('b1');
  assert.equal(r.code, 429);
  assert.equal(r.body['message'], "Cannot evict pod as it would violate the pod's disruption budget.");
  assert.deepEqual((r.body['details'] as { causes: unknown }).causes, [
    {
      reason: 'DisruptionBudget',
      message: 'The disruption budget b needs 1 healthy pods and has 1 currently',
    },
  ]);
  assert.ok(exists('b1'));

  runningPod('c1', true, { app: 'c' });
  budget('c', 'c', { disruptionsAllowed: 1, observedGeneration: 0 });
  const g = await evict('c1');
  assert.equal(g.code, 429);
  const d = g.body['details'] as { retryAfterSeconds: number; causes: { message: string }[] };
  assert.equal(d.retryAfterSeconds, 10);
  assert.equal(d.causes[0]?.message, 'The disruption budget c is still being processed by the server.');
  assert.ok(exists('c1'));
});

test('403 for a negative budget or too many unconfirmed evictions; 500 for two budgets', async () => {
  runningPod('d1', true, { app: 'd' });
  budget('d', 'd', { disruptionsAllowed: -1 });
  const neg = await evict('d1');
  assert.equal(neg.code, 403);
  assert.match(String(neg.body['message']), /pdb disruptions allowed is negative/);

  runningPod('e1', true, { app: 'e' });
  const many: Record<string, string> = {};
  for (let i = 0; i <= 2000; i++) many[`gone-${i}`] = rfc3339();
  budget('e', 'e', { disruptionsAllowed: 5, disruptedPods: many });
  const big = await evict('e1');
  assert.equal(big.code, 403);
  assert.match(
    String(big.body['message']),
    /DisruptedPods map too big - too many evictions not confirmed by PDB controller/,
  );

  runningPod('f1', true, { app: 'f', tier: 'x' });
  budget('f', 'f', { disruptionsAllowed: 1 });
  budget('f2', 'f', { disruptionsAllowed: 1 });
  const two = await evict('f1');
  assert.equal(two.code, 500);
  assert.equal(
    two.body['message'],
    'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
  );
  assert.ok(exists('d1') && exists('e1') && exists('f1'));
});

test('an unready pod: evicted without consuming the budget when it is met, or with AlwaysAllow', async () => {
  runningPod('g1', false, { app: 'g' });
  budget('g', 'g', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1 });
  assert.equal((await evict('g1')).code, 201);
  assert.equal(exists('g1'), false);
  assert.equal(status('g').disruptionsAllowed, 0);
  assert.equal(status('g').disruptedPods, undefined);

  runningPod('h1', false, { app: 'h' });
  budget('h', 'h', { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 });
  assert.equal((await evict('h1')).code, 429);
  fx.client.delete(PDBS, NS, 'h');
  budget(
    'h',
    'h',
    { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 },
    {
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  );
  assert.equal((await evict('h1')).code, 201);
  assert.equal(exists('h1'), false);
});

test('a Pending pod skips the budget and is marked DisruptionTarget before its deletion', async () => {
  fx.client.create(PODS, NS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p1', namespace: NS, labels: { app: 'p' }, finalizers: ['test.berth.dev/hold'] },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  });
  budget('p', 'p', { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 });
  assert.equal((await evict('p1')).code, 201);
  // The finalizer holds the pod so that its last state can be read.
  const p = fx.client.get(PODS, NS, 'p1');
  assert.ok(p.metadata.deletionTimestamp);
  const cond = ((p['status'] as { conditions?: Record<string, unknown>[] }).conditions ?? []).find(
    (c) => c['type'] === 'DisruptionTarget',
  );
  assert.equal(cond?.['status'], 'True');
  assert.equal(cond?.['reason'], 'EvictionByEvictionAPI');
  assert.equal(cond?.['message'], 'Eviction API: evicting');
  fx.client.update(PODS, NS, { ...p, metadata: { ...p.metadata, finalizers: [] } });
});
