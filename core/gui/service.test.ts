/**
 * The GUI services against a real cluster (API server over HTTPS, through @kubernetes/client-node and
 * the data dir's kubeconfig — the same path `berth serve` takes), plus the watch subscription's relist
 * on 410 Gone with a scripted client.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningCluster } from '../cluster/cluster.ts';
import { startGuiServiceFixture, type GuiServiceFixture } from '../testing/gui-service-fixture.ts';
import { waitFor } from '../testing/wait.ts';
import type { GuiService, GuiSession } from './service.ts';
import { WatchSubscription } from './watch.ts';
import { fieldPath } from './apply.ts';
import { buildEditorSchema, toJsonSchema } from './openapi-schema.ts';
import { RESTARTED_AT_ANNOTATION } from './object-actions.ts';
import type { EventMessage, JsonValue, KubeObject, WatchBatchMessage, WatchEvent } from './contract.ts';
import type { KubeClient } from './kube-client.ts';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

/** A JSON value's member by path (objects only); undefined when absent. */
function at(v: JsonValue | undefined, ...path: string[]): JsonValue | undefined {
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = v[k];
  }
  return v;
}

const deploymentYaml = (name: string, extra = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1${extra}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers: [{ name: c, image: registry.berth.test/x:1 }]
`;

describe('GUI services against a cluster', () => {
  let cluster: RunningCluster;
  let session: GuiSession;
  let service: GuiService;
  let id: string;
  let events: EventMessage[];
  let fixture: GuiServiceFixture | undefined;

  before(async () => {
    fixture = await startGuiServiceFixture('berth-gui');
    ({ cluster, service, session, events } = fixture);
  });
  after(async () => {
    await fixture?.stop();
  });

  test('clusters.list shows the data dir cluster as running', async () => {
    const list = await session.call('clusters.list', {});
    assert.equal(list.length, 1);
    assert.equal(list[0]!.source, 'berth');
    assert.equal(list[0]!.status, 'running');
    assert.equal(list[0]!.server, cluster.url);
    id = list[0]!.id;
  });

  test('subscribe: SYNC first, then batched watch events for changes', async () => {
    await session.call('resources.subscribe', {
      cluster: id,
      subscriptionId: 'cm',
      ref: CONFIGMAPS,
      namespace: 'default',
    });
    const batches = (): WatchEvent[] =>
      events
        .filter((e): e is WatchBatchMessage => e.channel === 'resources.watch' && e.subscriptionId === 'cm')
        .flatMap((e) => e.events);
    await waitFor('SYNC', () => batches()[0]?.type === 'SYNC');

    const yaml = ['a', 'b', 'c']
      .map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gui-${n}\ndata:\n  k: "${n}"\n`)
      .join('---\n');
    const applied = await session.call('resources.apply', { cluster: id, yaml });
    assert.equal(applied.dryRun, false);
    assert.deepEqual(
      applied.documents.map((d) => [d.name, d.action, d.line]),
      [
        ['gui-a', 'created', 1],
        ['gui-b', 'created', 8],
        ['gui-c', 'created', 15],
      ],
    );
    await waitFor('3 ADDED', () => batches().filter((e) => e.type === 'ADDED').length === 3);
    const added = batches().filter((e): e is Extract<WatchEvent, { object: unknown }> => e.type === 'ADDED');
    assert.deepEqual(
      added.map((e) => e.object.kind),
      ['ConfigMap', 'ConfigMap', 'ConfigMap'],
    );

    // Unchanged on re-apply (kubectl's wording), and nothing written.
    const again = await session.call('resources.apply', { cluster: id, yaml });
    assert.deepEqual(
      again.documents.map((d) => d.action),
      ['unchanged', 'unchanged', 'unchanged'],
    );

    await session.call('resources.delete', {
      cluster: id,
      ref: CONFIGMAPS,
      namespace: 'default',
      name: 'gui-b',
    });
    await waitFor('DELETED', () =>
      batches().some((e) => e.type === 'DELETED' && e.object.metadata.name === 'gui-b'),
    );
    const stopped = await session.call('resources.unsubscribe', { subscriptionId: 'cm' });
    assert.equal(stopped.stopped, true);
  });

  test('apply: a failing dry run applies nothing and points at the line', async () => {
    const yaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: gui-ok
data:
  a: b
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gui-bad
spec:
  replicas: "three"
  selector:
    matchLabels: { app: x }
  template:
    metadata:
      labels: { app: x }
    spec:
      containers: [{ name: c, image: registry.berth.test/x:1 }]
`;
    const r = await session.call('resources.apply', { cluster: id, yaml });
    assert.equal(r.dryRun, true);
    assert.equal(r.documents[0]!.action, 'created', 'the first document passed its dry run');
    assert.equal(r.documents[1]!.action, 'failed');
    assert.equal(
      r.documents[1]!.error?.line,
      13,
      `error on the replicas line: ${JSON.stringify(r.documents[1])}`,
    );
    await assert.rejects(
      session.call('resources.get', { cluster: id, ref: CONFIGMAPS, namespace: 'default', name: 'gui-ok' }),
      /not found/,
    );
    const bad = await session.call('resources.apply', {
      cluster: id,
      yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n',
    });
    assert.equal(bad.documents[0]!.action, 'failed');
    assert.equal(bad.documents[0]!.error?.line, 5, 'YAML errors point at their line');
  });

  test('get and list speak plain JSON; unknown methods and bad params are refused', async () => {
    const pods = await session.call('resources.list', { cluster: id, ref: PODS });
    assert.ok(/^\d+$/.test(pods.resourceVersion));
    const r = await session.handle('store.open', {});
    assert.equal(r.ok, false);
    const r2 = await session.handle('resources.list', {
      cluster: id,
      ref: { version: '../x', resource: 'pods' },
    });
    assert.equal(r2.ok, false);
    const r3 = await session.handle('resources.get', { cluster: 'berth:/nowhere', ref: PODS, name: 'x' });
    assert.equal(r3.ok, false);
  });

  test('openapi.schema: the editor schema of the manifest kinds, from /openapi/v3', async () => {
    const r = await session.call('openapi.schema', {
      cluster: id,
      kinds: [
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        { apiVersion: 'v1', kind: 'ConfigMap' },
        { apiVersion: 'example.com/v9', kind: 'Nope' },
      ],
    });
    assert.deepEqual(
      r.found.map((k) => k.kind),
      ['Deployment', 'ConfigMap'],
    );
    assert.deepEqual(r.missing, [{ apiVersion: 'example.com/v9', kind: 'Nope' }]);
    const defs = at(r.schema, 'definitions');
    const dep = at(defs, 'io.k8s.api.apps.v1.Deployment');
    assert.equal(at(dep, 'additionalProperties'), false, 'unknown fields are refused');
    const specRef = at(dep, 'properties', 'spec');
    assert.ok(specRef, 'Deployment has spec');
    assert.equal(at(defs, 'io.k8s.api.apps.v1.DeploymentSpec', 'properties', 'replicas', 'type'), 'integer');
    // Reachable types come along (PodSpec through the template), unrelated ones do not.
    assert.ok(at(defs, 'io.k8s.api.core.v1.PodSpec'));
    assert.equal(at(defs, 'io.k8s.api.batch.v1.JobSpec'), undefined);
    const branches = at(r.schema, 'allOf');
    assert.ok(Array.isArray(branches) && branches.length === 2);
    assert.deepEqual(at(branches[0], 'if', 'properties', 'kind'), { const: 'Deployment' });
    assert.deepEqual(at(branches[0], 'then'), { $ref: '#/definitions/io.k8s.api.apps.v1.Deployment' });
    // Every $ref resolves inside the schema.
    const refs = JSON.stringify(r.schema).match(/"\$ref":"#\/definitions\/[^"]+"/g) ?? [];
    for (const ref of refs) {
      const name = /definitions\/([^"]+)"/.exec(ref)![1]!;
      assert.ok(at(defs, name), `${name} is defined`);
    }
  });

  test('apply dryRun returns the current object beside the dry-run result (the diff)', async () => {
    await session.call('resources.apply', { cluster: id, yaml: deploymentYaml('gui-diff') });
    const r = await session.call('resources.apply', {
      cluster: id,
      yaml: deploymentYaml('gui-diff').replace('replicas: 1', 'replicas: 4'),
      dryRun: true,
    });
    const d = r.documents[0]!;
    assert.equal(r.dryRun, true);
    assert.equal(d.action, 'configured');
    assert.equal(at(d.current?.['spec'] as JsonValue, 'replicas'), 1);
    assert.equal(at(d.object?.['spec'] as JsonValue, 'replicas'), 4);
    const stored = await session.call('resources.get', {
      cluster: id,
      ref: DEPLOYMENTS,
      namespace: 'default',
      name: 'gui-diff',
    });
    assert.equal(at(stored['spec'] as JsonValue, 'replicas'), 1, 'a dry run changes nothing');
  });

  test('apply: a conflict with another field manager fails until forced', async () => {
    const yaml = deploymentYaml('gui-conflict');
    await session.call('resources.apply', { cluster: id, yaml });
    // Another manager takes spec.replicas over with its own server-side apply.
    await service.registry
      .client(id)
      .request('PATCH', '/apis/apps/v1/namespaces/default/deployments/gui-conflict', {
        query: { fieldManager: 'someone-else', force: true },
        body: yaml.replace('replicas: 1', 'replicas: 2'),
        contentType: 'application/apply-patch+yaml',
      });
    const r = await session.call('resources.apply', {
      cluster: id,
      yaml: yaml.replace('replicas: 1', 'replicas: 5'),
    });
    assert.equal(r.documents[0]!.action, 'failed');
    assert.equal(r.documents[0]!.error?.code, 409);
    const forced = await session.call('resources.apply', {
      cluster: id,
      yaml: yaml.replace('replicas: 1', 'replicas: 5'),
      force: true,
    });
    assert.equal(forced.dryRun, false);
    assert.equal(forced.documents[0]!.action, 'configured');
  });

  test('resources.scale and deployments.restart patch as kubectl does', async () => {
    await session.call('resources.apply', { cluster: id, yaml: deploymentYaml('gui-scale') });
    const scale = await session.call('resources.scale', {
      cluster: id,
      ref: DEPLOYMENTS,
      namespace: 'default',
      name: 'gui-scale',
      replicas: 3,
    });
    assert.equal(scale.kind, 'Scale');
    const get = (): Promise<KubeObject> =>
      session.call('resources.get', {
        cluster: id,
        ref: DEPLOYMENTS,
        namespace: 'default',
        name: 'gui-scale',
      });
    assert.equal(at((await get())['spec'] as JsonValue, 'replicas'), 3);
    const bad = await session.handle('resources.scale', {
      cluster: id,
      ref: DEPLOYMENTS,
      namespace: 'default',
      name: 'gui-scale',
      replicas: -1,
    });
    assert.equal(bad.ok, false);

    await session.call('deployments.restart', { cluster: id, namespace: 'default', name: 'gui-scale' });
    const stamped = at(
      (await get())['spec'] as JsonValue,
      'template',
      'metadata',
      'annotations',
      RESTARTED_AT_ANNOTATION,
    );
    assert.match(String(stamped), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    await session.call('resources.apply', {
      cluster: id,
      yaml: deploymentYaml('gui-paused', '\n  paused: true'),
    });
    await assert.rejects(
      session.call('deployments.restart', { cluster: id, namespace: 'default', name: 'gui-paused' }),
      /can't restart paused deployment/,
    );
  });

  test('pods.schedulingVerdict explains a Pending pod node by node', async () => {
    await session.call('resources.apply', {
      cluster: id,
      yaml: `apiVersion: v1
kind: Pod
metadata:
  name: gui-huge
spec:
  containers:
    - name: c
      image: registry.berth.test/x:1
      resources: { requests: { cpu: "500" } }
`,
    });
    let v = await session.call('pods.schedulingVerdict', {
      cluster: id,
      namespace: 'default',
      name: 'gui-huge',
    });
    const deadline = Date.now() + 15_000;
    while (v.attempts === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      v = await session.call('pods.schedulingVerdict', {
        cluster: id,
        namespace: 'default',
        name: 'gui-huge',
      });
    }
    assert.equal(v.kind, 'PodSchedulingVerdict');
    assert.ok(v.attempts >= 1);
    assert.match(v.message ?? '', /0\/1 nodes are available: 1 Insufficient cpu/);
    const node = v.nodes[0]!;
    assert.equal(node.fits, false);
    assert.equal(node.failedPlugin, 'NodeResourcesFit');
    const fit = node.filters.find((f) => f.plugin === 'NodeResourcesFit');
    const cpu = fit?.resources?.find((r) => r.resource === 'cpu');
    assert.equal(cpu?.requested, 500_000, 'millicores requested');
    assert.ok(cpu && cpu.allocatable > 0 && cpu.allocatable < 500_000);
    await assert.rejects(
      session.call('pods.schedulingVerdict', { cluster: id, namespace: 'default', name: 'gui-none' }),
      /not found/,
    );
  });

  test('kubeconfig.export returns the admin kubeconfig', async () => {
    const k = await session.call('kubeconfig.export', { cluster: id });
    assert.match(k.yaml, /client-certificate-data/);
    assert.equal(k.fileName, 'berth.kubeconfig');
  });
});

test('WatchSubscription relists after 410 Gone and resumes after a normal watch end', async () => {
  const obj = (name: string, rv: string): KubeObject => ({
    metadata: { name, namespace: 'd', resourceVersion: rv },
  });
  let lists = 0;
  const watches: string[] = [];
  const fake = {
    async kindOf() {
      return 'Pod';
    },
    async list(_r: unknown, _n: unknown, _q: unknown, onPage: (p: Record<string, unknown>) => void) {
      lists++;
      const page = { items: [obj(`p${lists}`, String(lists * 100))], resourceVersion: String(lists * 100) };
      onPage({ ...page, index: 0, last: true });
      return page;
    },
    async watch(
      _ref: unknown,
      _ns: unknown,
      q: { resourceVersion: string },
      onEvent: (t: string, o: unknown) => void,
      onDone: (e: unknown) => void,
    ) {
      watches.push(q.resourceVersion);
      const n = watches.length;
      setTimeout(() => {
        if (n === 1) {
          onEvent('ADDED', obj('x', '101'));
          onDone(null); // server-side timeout: resume from 101
        } else if (n === 2) {
          onEvent('ERROR', {
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old resource version',
          });
          onDone(null);
        } else if (n === 3) {
          onDone(Object.assign(new Error('Gone'), { statusCode: 410 })); // 410 as an HTTP status
        }
      }, 5);
      return new AbortController();
    },
  };
  const got: WatchEvent[] = [];
  const sub = new WatchSubscription(fake as unknown as KubeClient, { ref: PODS }, (b) => got.push(...b), {
    batchMs: 1,
    maxBackoffMs: 10,
  });
  await sub.start();
  await waitFor('three lists', () => lists === 3 && got.filter((e) => e.type === 'SYNC').length === 3, 3000);
  sub.stop();
  assert.deepEqual(watches.slice(0, 3), ['100', '101', '200']);
  assert.deepEqual(
    got.map((e) => e.type),
    ['SYNC', 'ADDED', 'ERROR', 'SYNC', 'ERROR', 'SYNC'],
  );
  const added = got[1] as Extract<WatchEvent, { object: unknown }>;
  assert.equal(added.object.kind, 'Pod', 'kind filled in when the server omits it');
});

test('toJsonSchema: OpenAPI idioms become JSON Schema', () => {
  assert.deepEqual(
    toJsonSchema({ 'x-kubernetes-int-or-string': true, type: 'string', format: 'int-or-string' }),
    {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    },
  );
  assert.deepEqual(toJsonSchema({ type: 'string', nullable: true }), { type: ['string', 'null'] });
  assert.deepEqual(toJsonSchema({ type: 'string', format: 'date-time' }), {
    type: ['string', 'null'],
    format: 'date-time',
  });
  assert.deepEqual(toJsonSchema({ type: 'object', properties: { a: { $ref: '#/components/schemas/A' } } }), {
    type: 'object',
    properties: { a: { $ref: '#/definitions/A' } },
    additionalProperties: false,
  });
  assert.deepEqual(
    toJsonSchema({ type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true }),
    { type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true },
  );
  const missing = buildEditorSchema([{ apiVersion: 'v1', kind: 'Pod' }], new Map());
  assert.deepEqual(missing.found, []);
  assert.equal(missing.missing.length, 1);
});

test('fieldPath parses Kubernetes field paths', () => {
  assert.deepEqual(fieldPath('spec.template.spec.containers[0].image'), [
    'spec',
    'template',
    'spec',
    'containers',
    0,
    'image',
  ]);
});
