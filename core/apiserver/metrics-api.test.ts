import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { waitFor } from '../testing/wait.ts';

const NS: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RB: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings' };
const M = '/apis/metrics.k8s.io/v1beta1';

let dir: string;
let cluster: RunningCluster;
let ca: string;

interface Answer {
  code: number;
  body: Record<string, unknown>;
}

function get(
  path: string,
  token: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  const url = new URL(path, cluster.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca, headers: { Authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            code: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const items = (a: Answer): KObject[] => a.body['items'] as KObject[];
const obj = (o: Record<string, unknown>): KObject => o as unknown as KObject;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-metrics-api-'));
  writeFileSync(
    join(dir, 'tokens.csv'),
    'tok-admin,root,u-root,"berth:cluster-admins"\ntok-viewer,viewer,u-viewer\ntok-nobody,nobody,u-nobody\n',
    { mode: 0o600 },
  );
  cluster = await startCluster({ dataDir: dir, apiPort: 0, disableScheduler: true });
  const kc = readFileSync(cluster.kubeconfigPath, 'utf8');
  ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kc)?.[1] ?? '', 'base64').toString('utf8');
  const c = cluster.controllerClient;
  c.create(NS, '', obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo' } }));
  await waitFor('default service account', () =>
    c.get({ group: '', version: 'v1', resource: 'serviceaccounts' }, 'foo', 'default'),
  );
  c.create(
    NODES,
    '',
    obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } }),
  );
  for (const [name, app] of [
    ['web', 'web'],
    ['db', 'db'],
    ['quiet', 'quiet'],
  ] as const) {
    const p = c.create(
      PODS,
      'foo',
      obj({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app } },
        spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
      }),
    );
    c.update(PODS, 'foo', { ...p, status: { phase: 'Running' } }, 'status');
  }
  c.create(
    RB,
    'foo',
    obj({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'viewer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'viewer' }],
    }),
  );
  const pods = (): KObject[] =>
    new InProcessClient(cluster.server, { username: 'system:apiserver', groups: ['system:masters'] }).list(
      PODS,
      'foo',
    ).items;
  const ts = new Date();
  const usage = (cpu: number, mem: number): { cpuNanoCores: number; memoryBytes: number } => ({
    cpuNanoCores: cpu,
    memoryBytes: mem,
  });
  cluster.metrics.record('n1', {
    node: { timestamp: ts, windowMs: 15_000, usage: usage(250e6, 512 * 1024 * 1024) },
    pods: pods()
      .filter((p) => p.metadata.name !== 'quiet')
      .map((p, i) => ({
        namespace: 'foo',
        name: p.metadata.name ?? '',
        uid: p.metadata.uid ?? '',
        timestamp: ts,
        windowMs: 15_000,
        containers: [{ name: 'c', usage: usage((i + 1) * 1e8, 1024 * 1024) }],
      })),
  });
  // The informers behind the store see the Running pods.
  await waitFor('pod metrics', () => (cluster.metrics.podMetrics('foo').length === 2 ? true : undefined));
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('discovery lists metrics.k8s.io/v1beta1 nodes and pods (get, list), legacy and aggregated', async () => {
  const groups = await get('/apis', 'tok-admin');
  const g = (groups.body['groups'] as { name: string; preferredVersion: { groupVersion: string } }[]).find(
    (x) => x.name === 'metrics.k8s.io',
  );
  assert.equal(g?.preferredVersion.groupVersion, 'metrics.k8s.io/v1beta1');
  const rl = await get(M, 'tok-admin');
  assert.deepEqual(
    (rl.body['resources'] as { name: string; kind: string; namespaced: boolean; verbs: string[] }[]).map(
      (r) => [r.name, r.kind, r.namespaced, r.verbs],
    ),
    [
      ['nodes', 'NodeMetrics', false, ['get', 'list']],
      ['pods', 'PodMetrics', true, ['get', 'list']],
    ],
  );
  const agg = await get('/apis', 'tok-admin', {
    Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  });
  const ag = (
    agg.body['items'] as { metadata: { name: string }; versions: { resources: { resource: string }[] }[] }[]
  ).find((x) => x.metadata.name === 'metrics.k8s.io');
  assert.deepEqual(
    ag?.versions[0]?.resources.map((r) => r.resource),
    ['nodes', 'pods'],
  );
});

test('get and list with selectors, in the upstream shape', async () => {
  const nodes = await get(`${M}/nodes`, 'tok-admin');
  assert.equal(nodes.code, 200);
  assert.equal(nodes.body['kind'], 'NodeMetricsList');
  const n = items(nodes)[0]!;
  assert.equal(n.kind, 'NodeMetrics');
  assert.deepEqual(n['usage'], { cpu: '250m', memory: '512Mi' });
  assert.equal(n['window'], '15s');
  assert.deepEqual(n.metadata.labels, { zone: 'a' });
  assert.equal((await get(`${M}/nodes/n1`, 'tok-admin')).body['kind'], 'NodeMetrics');
  const missing = await get(`${M}/nodes/nope`, 'tok-admin');
  assert.equal(missing.code, 404);
  assert.equal(missing.body['message'], 'nodes "nope" not found');
  assert.equal(items(await get(`${M}/nodes?labelSelector=zone%3Db`, 'tok-admin')).length, 0);

  const all = await get(`${M}/pods`, 'tok-admin');
  assert.deepEqual(
    items(all).map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    ['foo/db', 'foo/web'],
  );
  const web = await get(`${M}/namespaces/foo/pods?labelSelector=app%3Dweb`, 'tok-admin');
  assert.deepEqual(
    items(web).map((p) => p.metadata.name),
    ['web'],
  );
  assert.equal(items(await get(`${M}/namespaces/default/pods`, 'tok-admin')).length, 0);
  const one = await get(`${M}/namespaces/foo/pods/db`, 'tok-admin');
  assert.equal(one.body['kind'], 'PodMetrics');
  const quiet = await get(`${M}/namespaces/foo/pods/quiet`, 'tok-admin');
  assert.equal(quiet.code, 404);
  assert.equal(quiet.body['message'], 'pods.metrics.k8s.io "foo/quiet" not found');
  const none = await get(`${M}/namespaces/foo/pods/none`, 'tok-admin');
  assert.equal(none.code, 404);
  assert.equal(none.body['message'], 'pods "none" not found');
  const table = await get(`${M}/namespaces/foo/pods`, 'tok-admin', {
    Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  assert.equal(table.body['kind'], 'Table');
  assert.deepEqual(
    (table.body['columnDefinitions'] as { name: string }[]).map((c) => c.name),
    ['Name', 'cpu', 'memory', 'Window'],
  );
});

test('read-only: watch and writes are 405', async () => {
  assert.equal((await get(`${M}/nodes?watch=true`, 'tok-admin')).code, 405);
  assert.equal((await get(`${M}/nodes/n1`, 'tok-admin', {}, 'DELETE')).code, 405);
});

test('RBAC: view (aggregating system:aggregated-metrics-reader) reads pod metrics of its namespace only', async () => {
  await waitFor('view aggregates metrics rules', async () => {
    const r = await get(`${M}/namespaces/foo/pods`, 'tok-viewer');
    return r.code === 200 ? r : undefined;
  });
  assert.equal((await get(`${M}/pods`, 'tok-viewer')).code, 403);
  assert.equal((await get(`${M}/nodes`, 'tok-viewer')).code, 403);
  assert.equal((await get(`${M}/namespaces/foo/pods`, 'tok-nobody')).code, 403);
});
