import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorString } from '../api/field-errors.ts';
import { structuralErrors } from './structural.ts';
import type { JSONSchemaProps } from './types.ts';

const P = 'spec.versions[0].schema.openAPIV3Schema';
const errs = (s: JSONSchemaProps): string[] => structuralErrors(s, P).map(fieldErrorString);

test('a structural schema passes', () => {
  assert.deepEqual(
    errs({
      type: 'object',
      properties: {
        metadata: {
          type: 'object',
          properties: { name: { type: 'string', maxLength: 20 } as JSONSchemaProps },
        },
        spec: {
          type: 'object',
          properties: {
            port: { 'x-kubernetes-int-or-string': true },
            raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            any: { 'x-kubernetes-preserve-unknown-fields': true },
            list: { type: 'array', items: { type: 'string' } },
            n: { type: 'integer', default: 3 },
          },
        },
      },
    }),
    [],
  );
});

test('missing types, wrong root, $ref, items arrays and bad defaults are refused', () => {
  assert.deepEqual(
    errs({ type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } }),
    [`${P}.properties[spec].type: Required value: must not be empty for specified object fields`],
  );
  assert.deepEqual(errs({ type: 'string' }), [
    `${P}.type: Invalid value: "string": must be object at the root`,
  ]);
  assert.deepEqual(errs({}), [`${P}.type: Required value: must not be empty at the root`]);
  assert.deepEqual(errs({ type: 'object', properties: { l: { type: 'array' } } }), [
    `${P}.properties[l].items: Required value: must be specified`,
  ]);
  assert.deepEqual(errs({ type: 'object', properties: { l: { type: 'array', items: {} } } }), [
    `${P}.properties[l].items.type: Required value: must not be empty for specified array items`,
  ]);
  assert.deepEqual(errs({ type: 'object', properties: { r: { $ref: '#/x', type: 'object' } } }), [
    `${P}.properties[r].$ref: Forbidden: $ref is not supported`,
  ]);
  assert.deepEqual(errs({ type: 'object', properties: { n: { type: 'integer', default: 'x' } } }), [
    `${P}.properties[n].default: Invalid value: "string": ${P}.properties[n].default in body must be of type integer: "string"`,
  ]);
  assert.deepEqual(
    errs({
      type: 'object',
      properties: { m: { type: 'object', properties: {}, additionalProperties: { type: 'string' } } },
    }),
    [
      `${P}.properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ],
  );
  assert.deepEqual(
    errs({
      type: 'object',
      properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } },
    }),
    [
      `${P}.properties[metadata].properties[labels]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ],
  );
  assert.deepEqual(errs({ type: 'object', properties: { t: { type: 'strin' } } }), [
    `${P}.properties[t].type: Unsupported value: "strin": supported values: "array", "boolean", "integer", "number", "object", "string"`,
  ]);
});
