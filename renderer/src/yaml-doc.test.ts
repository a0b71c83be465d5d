import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { ApplyDocumentResult, KubeObject } from '../../electron/contract.ts';
import { diffTexts, editableYaml, kindsOf } from './yaml-doc.ts';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    resourceVersion: '42',
    uid: 'u1',
    labels: { app: 'web' },
  },
  spec: { replicas: 2 },
  status: { readyReplicas: 2 },
};
Object.assign(deployment.metadata, { managedFields: [{ manager: 'kubectl' }] });

test('editableYaml leaves out managedFields, resourceVersion and status, apiVersion/kind first', () => {
  const text = editableYaml(deployment);
  assert.match(text, /^apiVersion: apps\/v1\nkind: Deployment\nmetadata:/);
  const back = parse(text) as Record<string, unknown>;
  assert.deepEqual(back['metadata'], {
    name: 'web',
    namespace: 'default',
    uid: 'u1',
    labels: { app: 'web' },
  });
  assert.deepEqual(back['spec'], { replicas: 2 });
  assert.equal(back['status'], undefined);
});

test('kindsOf lists the distinct kinds of the documents that parse', () => {
  const text = [
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: a }',
    'apiVersion: v1\nkind: Service',
    'apiVersion: apps/v1\nkind: Deployment',
    'kind: NoVersion',
    'apiVersion: v1\nkind: [broken',
    '',
  ].join('\n---\n');
  assert.deepEqual(kindsOf(text), [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'Service' },
  ]);
});

test('diffTexts joins current and proposed objects of the documents that passed', () => {
  const base = { index: 0, line: 1, apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
  const docs: ApplyDocumentResult[] = [
    { ...base, action: 'configured', current: deployment, object: { ...deployment, spec: { replicas: 3 } } },
    { ...base, index: 1, name: 'new', action: 'created', object: { metadata: { name: 'new' } } },
    { ...base, index: 2, action: 'failed', error: { message: 'no' } },
  ];
  const { current, proposed } = diffTexts(docs);
  assert.doesNotMatch(current, /managedFields/);
  assert.match(current, /replicas: 2/);
  assert.match(proposed, /replicas: 3/);
  assert.equal(current.split('---\n').length, 2, 'a created object has an empty left side');
  assert.match(proposed, /name: new/);
});
