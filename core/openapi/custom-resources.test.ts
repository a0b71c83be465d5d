import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceTable } from '../apiserver/resources.ts';
import type { OpenAPIProvider } from '../apiserver/server.ts';
import { customResourceStrategy } from '../apiextensions/custom-resource-strategy.ts';
import type { CustomResourceDefinition } from '../apiextensions/types.ts';
import { customResourceOpenAPI } from './custom-resources.ts';

const base: OpenAPIProvider = {
  v2: () => Buffer.from(''),
  v3Index: () => ({ paths: { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=X' } } }),
  v3Doc: (p) => (p === 'api/v1' ? { json: '{}', hash: 'X' } : undefined),
};

const crd: CustomResourceDefinition = {
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                description: 'The schedule.',
                properties: { cronSpec: { type: 'string', description: 'A cron expression.' } },
              },
            },
          },
        },
      },
    ],
  },
};

test('custom resources get a v3 document with their schema and fieldValidation on PATCH', () => {
  const table = new ResourceTable([]);
  const oa = customResourceOpenAPI(base, table, 'v1.30.0');
  assert.deepEqual(Object.keys((oa.v3Index() as { paths: object }).paths), ['api/v1']);
  table.setDynamic(crd.metadata.name!, [customResourceStrategy(crd, crd.spec.versions[0]!)]);
  const paths = (oa.v3Index() as { paths: Record<string, { serverRelativeURL: string }> }).paths;
  assert.deepEqual(Object.keys(paths), ['api/v1', 'apis/stable.example.com/v1']);
  const doc = JSON.parse(oa.v3Doc('apis/stable.example.com/v1')!.json) as {
    paths: Record<
      string,
      Record<string, { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': object }>
    >;
    components: {
      schemas: Record<string, { properties: Record<string, { description?: string; $ref?: string }> }>;
    };
  };
  const patch = doc.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}']!['patch']!;
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], {
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
  });
  assert.ok(patch.parameters.some((p) => p.name === 'fieldValidation'));
  const kind = doc.components.schemas['com.example.stable.v1.CronTab']!;
  assert.equal(kind.properties['spec']?.description, 'The schedule.');
  assert.equal(
    kind.properties['metadata']?.$ref,
    '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  );
  assert.ok(doc.components.schemas['com.example.stable.v1.CronTabList']);
  table.setDynamic(crd.metadata.name!, []);
  assert.equal(oa.v3Doc('apis/stable.example.com/v1'), undefined);
});
