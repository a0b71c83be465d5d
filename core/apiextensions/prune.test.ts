import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pruneCustomResource } from './prune.ts';
import { applyDefaults } from './defaulting.ts';
import type { JSONSchemaProps } from './types.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer', default: 1 },
        items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
        free: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { known: { type: 'object', properties: { a: { type: 'string' } } } },
        },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { spec: { type: 'object', properties: { x: { type: 'string' } } } },
        },
        policy: {
          type: 'object',
          default: {},
          properties: {
            mode: { type: 'string', default: 'fast' },
            limit: { type: 'integer', nullable: true, default: 5 },
          },
        },
      },
    },
    metadata: { type: 'object', properties: { name: { type: 'string' } } },
  },
};

test('unknown fields are pruned and reported with their paths; metadata keeps ObjectMeta fields', () => {
  const obj = {
    apiVersion: 'x/v1',
    kind: 'X',
    metadata: { name: 'a', labels: { k: 'v' }, colour: 'red' },
    top: 1,
    spec: {
      replicas: 2,
      colour: 'blue',
      items: [{ name: 'a', extra: true }],
      free: { anything: { goes: 1 }, known: { a: 'x', b: 'y' } },
      labels: { any: 'key' },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', bogus: 1 }, spec: { x: 'y', z: 1 } },
    },
  };
  const unknown = pruneCustomResource(obj, schema);
  assert.deepEqual(unknown.sort(), [
    'metadata.colour',
    'spec.colour',
    'spec.free.known.b',
    'spec.items[0].extra',
    'spec.template.metadata.bogus',
    'spec.template.spec.z',
    'top',
  ]);
  assert.deepEqual(obj, {
    apiVersion: 'x/v1',
    kind: 'X',
    metadata: { name: 'a', labels: { k: 'v' } },
    spec: {
      replicas: 2,
      items: [{ name: 'a' }],
      free: { anything: { goes: 1 }, known: { a: 'x' } },
      labels: { any: 'key' },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 'y' } },
    },
  });
});

test('defaults fill missing fields top-down, and null non-nullable ones', () => {
  const obj: Record<string, unknown> = { spec: {} };
  applyDefaults(obj, schema);
  assert.deepEqual(obj, { spec: { replicas: 1, policy: { mode: 'fast', limit: 5 } } });
  const kept: Record<string, unknown> = { spec: { replicas: null, policy: { mode: 'slow', limit: null } } };
  applyDefaults(kept, schema);
  assert.deepEqual(kept, { spec: { replicas: 1, policy: { mode: 'slow', limit: null } } });
});
