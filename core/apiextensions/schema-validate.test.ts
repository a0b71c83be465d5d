import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorString } from '../api/field-errors.ts';
import { validateCustomResource } from './schema-validate.ts';
import type { JSONSchemaProps } from './types.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^\\S+ \\S+$', minLength: 3, maxLength: 20 },
        replicas: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
        port: { 'x-kubernetes-int-or-string': true },
        note: { type: 'string', nullable: true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
    },
  },
};

function errorsOf(spec: Record<string, unknown>): string[] {
  return validateCustomResource({ apiVersion: 'x/v1', kind: 'X', metadata: {}, spec }, schema).map(
    fieldErrorString,
  );
}

test('a valid object has no errors', () => {
  assert.deepEqual(
    errorsOf({
      cronSpec: '* *',
      replicas: 3,
      ratio: 0.5,
      mode: 'fast',
      tags: ['a'],
      port: 'http',
      note: null,
      labels: { a: 'b' },
      template: { apiVersion: 'v1', kind: 'Pod', spec: {} },
    }),
    [],
  );
  assert.deepEqual(errorsOf({ cronSpec: '* *', port: 8080 }), []);
});

test('type errors use the upstream wording', () => {
  assert.deepEqual(errorsOf({ cronSpec: '* *', replicas: 'three' }), [
    'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', replicas: 1.5 }), [
    'spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', labels: { a: 1 } }), [
    'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', mode: null }), [
    'spec.mode: Invalid value: "null": spec.mode in body must be of type string: "null"',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', port: true }), [
    'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
  ]);
});

test('required, enum, bounds, pattern, lengths and items', () => {
  assert.deepEqual(errorsOf({}), ['spec.cronSpec: Required value']);
  assert.deepEqual(errorsOf({ cronSpec: '* *', mode: 'medium' }), [
    'spec.mode: Unsupported value: "medium": supported values: "fast", "slow"',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', replicas: 0 }), [
    'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', replicas: 11 }), [
    'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: '* *', ratio: 0 }), [
    'spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: 'nospace' }), [
    'spec.cronSpec: Invalid value: "nospace": spec.cronSpec in body should match \'^\\S+ \\S+$\'',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: 'a b', tags: [] }), [
    'spec.tags: Invalid value: []: spec.tags in body should have at least 1 items',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: 'a b', tags: ['a', 'b', 'c'] }), [
    'spec.tags: Too many: 3: must have at most 2 items',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: 'a b c d e f g h i j k' }), [
    'spec.cronSpec: Too long: may not be more than 20 bytes',
    'spec.cronSpec: Invalid value: "a b c d e f g h i j k": spec.cronSpec in body should match \'^\\S+ \\S+$\'',
  ]);
  assert.deepEqual(errorsOf({ cronSpec: 'a b', tags: [1] }), [
    'spec.tags[0]: Invalid value: "integer": spec.tags[0] in body must be of type string: "integer"',
  ]);
});

test('embedded resources need apiVersion and kind', () => {
  assert.deepEqual(errorsOf({ cronSpec: 'a b', template: { spec: {} } }), [
    'spec.template.apiVersion: Required value: must not be empty',
    'spec.template.kind: Required value: must not be empty',
  ]);
});

test('a top-level required field is reported at the root', () => {
  const s: JSONSchemaProps = { type: 'object', required: ['spec'], properties: { spec: { type: 'object' } } };
  assert.deepEqual(validateCustomResource({ metadata: {} }, s).map(fieldErrorString), [
    'spec: Required value',
  ]);
});
