import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaFieldValidator, type Definitions } from './field-validation.ts';
import type { Served } from './resources.ts';
import type { KObject } from '../api/object.ts';

const defs: Definitions = {
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      spec: { $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentSpec' },
    },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    properties: {
      replicas: { type: 'integer', format: 'int32' },
      template: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              containers: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    ports: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          containerPort: { type: 'integer', format: 'int32' },
                          targetPort: { type: 'string', format: 'int-or-string' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
};

const served = {
  strategy: { info: { group: 'apps', version: 'v1', kind: 'Deployment' } },
} as unknown as Served;

test('unknown fields are reported with their path and pruned', () => {
  const v = new SchemaFieldValidator(defs);
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', bogus: 1 },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', extra: true }] } } },
    special: 1,
  } as unknown as KObject;
  const r = v.check(served, obj);
  assert.deepEqual(r.invalid, []);
  assert.deepEqual(r.unknown.sort(), [
    'unknown field "metadata.bogus"',
    'unknown field "spec.template.spec.containers[0].extra"',
    'unknown field "special"',
  ]);
  assert.equal((obj as Record<string, unknown>)['special'], undefined);
});

test('wrong types are decode errors, in the Go decoder wording', () => {
  const v = new SchemaFieldValidator(defs);
  const obj = {
    metadata: { name: 'x', labels: { a: 1 } },
    spec: { replicas: 'three' },
  } as unknown as KObject;
  const r = v.check(served, obj);
  assert.deepEqual(r.invalid, [
    'json: cannot unmarshal number into Go struct field Deployment.metadata.labels[a] of type string',
    'json: cannot unmarshal string into Go struct field Deployment.spec.replicas of type int32',
  ]);
});

test('int-or-string accepts both and null means unset', () => {
  const v = new SchemaFieldValidator(defs);
  const obj = {
    metadata: null,
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'c', ports: [{ containerPort: 80, targetPort: 'http' }, { targetPort: 8080 }] },
          ],
        },
      },
    },
  } as unknown as KObject;
  assert.deepEqual(v.check(served, obj), { unknown: [], invalid: [] });
});
