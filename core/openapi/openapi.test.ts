import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from 'protobufjs/minimal.js';
import type { ResourceInfo } from '../registry/types.ts';
import { loadDefinitions, META, type Schema } from './definitions.ts';
import { buildOpenAPIv2Protobuf, encodeOpenAPIv2Minimal } from './v2.ts';
import { buildOpenAPIv3 } from './v3.ts';

const defs = loadDefinitions();
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const RESOURCES: ResourceInfo[] = [
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: VERBS,
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    verbs: VERBS,
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    verbs: VERBS,
  },
  {
    group: 'example.berth.dev',
    version: 'v1alpha1',
    resource: 'widgets',
    singular: 'widget',
    kind: 'Widget',
    namespaced: true,
    verbs: VERBS,
  },
];

const def = (name: string): Schema => {
  const d = defs[name];
  assert.ok(d, `definition ${name}`);
  return d;
};

test('generated definitions: PodSpec, Container, Deployment, special types', () => {
  const podSpec = def('io.k8s.api.core.v1.PodSpec');
  assert.deepEqual(podSpec.properties?.containers?.items, {
    $ref: '#/definitions/io.k8s.api.core.v1.Container',
  });
  assert.equal(podSpec.properties?.containers?.type, 'array');
  assert.ok(podSpec.required?.includes('containers'));
  assert.match(podSpec.properties?.containers?.description ?? '', /List of containers/);
  const container = def('io.k8s.api.core.v1.Container');
  assert.ok(container.required?.includes('name'));
  assert.deepEqual(def('io.k8s.api.apps.v1.Deployment')['x-kubernetes-group-version-kind'], [
    { group: 'apps', version: 'v1', kind: 'Deployment' },
  ]);
  assert.deepEqual(def('io.k8s.api.core.v1.Pod')['x-kubernetes-group-version-kind'], [
    { group: '', version: 'v1', kind: 'Pod' },
  ]);
  assert.equal(
    def(`${META}.ObjectMeta`).properties?.labels?.additionalProperties &&
      typeof def(`${META}.ObjectMeta`).properties?.labels?.additionalProperties,
    'object',
  );
  assert.deepEqual(
    def(`${META}.ObjectMeta`).properties?.creationTimestamp?.$ref,
    `#/definitions/${META}.Time`,
  );
  assert.deepEqual(def(`${META}.Time`), { ...def(`${META}.Time`), type: 'string', format: 'date-time' });
  assert.deepEqual(def('io.k8s.api.core.v1.ResourceRequirements').properties?.limits?.additionalProperties, {
    $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity',
  });
  assert.equal(def('io.k8s.apimachinery.pkg.api.resource.Quantity').format, 'quantity');
  const ios = def('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(ios.format, 'int-or-string');
  assert.equal(ios['x-kubernetes-int-or-string'], true);
  assert.deepEqual(
    def('io.k8s.api.apps.v1.RollingUpdateDeployment').properties?.maxSurge?.$ref,
    '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  );
  assert.equal(
    def('io.k8s.api.core.v1.EmptyDirVolumeSource').properties?.sizeLimit?.$ref,
    '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity',
  );
  assert.equal(
    def('io.k8s.api.apps.v1.ControllerRevision').properties?.data?.$ref,
    '#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension',
  );
  assert.equal(
    def('io.k8s.api.core.v1.Secret').properties?.data?.additionalProperties &&
      (def('io.k8s.api.core.v1.Secret').properties?.data?.additionalProperties as Schema).format,
    'byte',
  );
  // same-named types of different groups keep their packages
  assert.ok(defs['io.k8s.api.core.v1.EndpointPort'] && defs['io.k8s.api.discovery.v1.EndpointPort']);
  assert.ok(defs['io.k8s.api.core.v1.Event'] && defs['io.k8s.api.events.v1.Event']);
  assert.deepEqual(def('io.k8s.api.autoscaling.v1.Scale')['x-kubernetes-group-version-kind'], [
    { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  ]);
  assert.deepEqual(def('io.k8s.api.policy.v1.Eviction')['x-kubernetes-group-version-kind'], [
    { group: 'policy', version: 'v1', kind: 'Eviction' },
  ]);
  // every $ref resolves
  const walk = (s: unknown): void => {
    if (!s || typeof s !== 'object') return;
    const ref = (s as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') assert.ok(defs[ref.replace('#/definitions/', '')], ref);
    for (const v of Object.values(s)) walk(v);
  };
  walk(defs);
});

test('v3: index, GVK paths, fieldValidation on every patch op, no strategic-merge-patch', () => {
  const { index, docs } = buildOpenAPIv3(RESOURCES, defs, 'v1.30.0');
  assert.deepEqual(Object.keys(index.paths).sort(), [
    'api/v1',
    'apis/apps/v1',
    'apis/example.berth.dev/v1alpha1',
  ]);
  for (const [key, d] of docs) {
    assert.equal(index.paths[key]?.serverRelativeURL, `/openapi/v3/${key}?hash=${d.hash}`);
    const doc = JSON.parse(d.json) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { name: string; in: string; schema: { type: string } }[];
            requestBody?: { content: Record<string, unknown> };
            'x-kubernetes-action'?: string;
            'x-kubernetes-group-version-kind'?: unknown;
          }
        >
      >;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.0.0');
    assert.deepEqual(doc.info, { title: 'Kubernetes', version: 'v1.30.0' });
    let patches = 0;
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        assert.ok(op['x-kubernetes-action'], `${method} ${path} action`);
        assert.ok(op['x-kubernetes-group-version-kind'], `${method} ${path} gvk`);
        if (method !== 'patch') continue;
        patches++;
        const names = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        for (const n of ['fieldValidation', 'dryRun', 'fieldManager', 'force'])
          assert.ok(names.includes(n), `${path} ${n}`);
        assert.deepEqual(
          op.parameters?.find((p) => p.name === 'fieldValidation'),
          {
            name: 'fieldValidation',
            in: 'query',
            description: op.parameters?.find((p) => p.name === 'fieldValidation')?.['description' as 'name'],
            schema: { type: 'string', uniqueItems: true },
          },
        );
        const content = Object.keys(op.requestBody?.content ?? {});
        assert.deepEqual(content, [
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/apply-patch+yaml',
        ]);
        assert.ok(!content.includes('application/strategic-merge-patch+json'));
      }
    assert.ok(patches > 0);
    assert.ok(!d.json.includes('strategic-merge-patch'));
    assert.ok(!d.json.includes('#/definitions/'), 'refs point at components.schemas');
    for (const m of d.json.matchAll(/"#\/components\/schemas\/([^"]+)"/g))
      assert.ok(doc.components.schemas[m[1]!], String(m[1]));
  }
  const core = JSON.parse(docs.get('api/v1')!.json) as {
    paths: Record<string, Record<string, { 'x-kubernetes-group-version-kind': unknown }>>;
    components: { schemas: Record<string, Schema> };
  };
  assert.deepEqual(
    core.paths['/api/v1/namespaces/{namespace}/pods/{name}']?.patch?.['x-kubernetes-group-version-kind'],
    { group: '', version: 'v1', kind: 'Pod' },
  );
  assert.ok(core.paths['/api/v1/pods']?.get, 'all-namespaces list');
  assert.ok(core.paths['/api/v1/nodes/{name}']?.patch, 'cluster-scoped item');
  assert.ok(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/status']?.patch);
  assert.ok(core.components.schemas['io.k8s.api.core.v1.Container']);
  assert.ok(
    core.components.schemas[`${META}.Status`] &&
      core.components.schemas[`${META}.DeleteOptions`] &&
      core.components.schemas[`${META}.WatchEvent`],
  );
  assert.deepEqual(core.components.schemas['io.k8s.api.core.v1.Pod']?.['x-kubernetes-group-version-kind'], [
    { group: '', version: 'v1', kind: 'Pod' },
  ]);
  const apps = JSON.parse(docs.get('apis/apps/v1')!.json) as {
    paths: Record<string, Record<string, { 'x-kubernetes-group-version-kind': unknown }>>;
  };
  assert.deepEqual(
    apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.patch?.[
      'x-kubernetes-group-version-kind'
    ],
    {
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    },
  );
  // a kind the generated definitions do not know gets a permissive schema with its GVK
  const ex = JSON.parse(docs.get('apis/example.berth.dev/v1alpha1')!.json) as {
    components: { schemas: Record<string, Schema> };
  };
  const widget = ex.components.schemas['dev.berth.example.v1alpha1.Widget'];
  assert.deepEqual(widget?.['x-kubernetes-group-version-kind'], [
    { group: 'example.berth.dev', version: 'v1alpha1', kind: 'Widget' },
  ]);
  assert.equal(widget?.['x-kubernetes-preserve-unknown-fields'], true);
  // stable
  assert.equal(buildOpenAPIv3(RESOURCES, defs, 'v1.30.0').docs.get('api/v1')?.hash, docs.get('api/v1')?.hash);
});

test('v2: minimal document bytes match the known-good 28 bytes', () => {
  assert.equal(
    encodeOpenAPIv2Minimal('v1.30.0').toString('hex'),
    '0a03322e3012150a0a4b756265726e65746573120776312e33302e30',
  );
  assert.equal(
    buildOpenAPIv2Protobuf(RESOURCES, defs, 'v1.30.0', { paths: false }).toString('hex'),
    '0a03322e3012150a0a4b756265726e65746573120776312e33302e30',
  );
});

/** Reads the top-level fields of a protobuf message: field number → raw length-delimited payloads. */
function fields(buf: Uint8Array): Map<number, Uint8Array[]> {
  const r = Reader.create(buf);
  const out = new Map<number, Uint8Array[]>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    const f = tag >>> 3;
    if ((tag & 7) === 2) {
      const list = out.get(f) ?? [];
      list.push(r.bytes());
      out.set(f, list);
    } else r.skipType(tag & 7);
  }
  return out;
}
const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('utf8');

test('v2: paths carry patch operations with GVK and the fieldValidation query parameter', () => {
  const doc = fields(buildOpenAPIv2Protobuf(RESOURCES, defs, 'v1.30.0'));
  assert.equal(text(doc.get(1)?.[0]), '2.0');
  assert.equal(doc.get(9), undefined, 'no definitions by default');
  const paths = fields(doc.get(8)![0]!).get(2)!;
  const byName = new Map(
    paths.map((p) => {
      const f = fields(p);
      return [text(f.get(1)?.[0]), f.get(2)![0]!];
    }),
  );
  const item = byName.get('/apis/apps/v1/namespaces/{namespace}/deployments/{name}');
  assert.ok(item);
  const patch = fields(fields(item).get(8)![0]!);
  const exts = (patch.get(13) ?? []).map((e) => {
    const f = fields(e);
    return [text(f.get(1)?.[0]), text(fields(f.get(2)![0]!).get(2)?.[0])];
  });
  const gvk = exts.find(([n]) => n === 'x-kubernetes-group-version-kind');
  assert.match(gvk?.[1] ?? '', /group: apps\nkind: Deployment\nversion: v1/);
  const queryNames = (patch.get(8) ?? []).flatMap((pi) => {
    const nb = fields(fields(fields(pi).get(1)![0]!).get(2)?.[0] ?? new Uint8Array()).get(3)?.[0];
    return nb ? [text(fields(nb).get(4)?.[0])] : [];
  });
  for (const n of ['fieldValidation', 'dryRun', 'fieldManager', 'force'])
    assert.ok(queryNames.includes(n), n);
  const consumes = (patch.get(7) ?? []).map(text);
  assert.ok(!consumes.includes('application/strategic-merge-patch+json'));
  // with definitions: Deployment is there with its GVK extension
  const full = fields(buildOpenAPIv2Protobuf(RESOURCES, defs, 'v1.30.0', { definitions: true }));
  const names = fields(full.get(9)![0]!)
    .get(1)!
    .map((n) => text(fields(n).get(1)?.[0]));
  assert.ok(
    names.includes('io.k8s.api.apps.v1.Deployment') && names.includes('io.k8s.api.core.v1.Container'),
  );
});
