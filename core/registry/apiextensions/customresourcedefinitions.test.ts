import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorString } from '../../api/field-errors.ts';
import { deepCopy } from '../../api/object.ts';
import type { CustomResourceDefinition } from '../../apiextensions/types.ts';
import { customResourceDefinitionStrategy as strategy, validateCRD } from './customresourcedefinitions.ts';

function crd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } },
        },
      ],
    },
  };
}

function errorsAfterDefaults(c: CustomResourceDefinition): string[] {
  strategy.defaults!(c);
  return validateCRD(c).map(fieldErrorString);
}

test('defaults: singular, listKind and conversion None', () => {
  const c = crd();
  strategy.defaults!(c);
  assert.equal(c.spec.names.singular, 'crontab');
  assert.equal(c.spec.names.listKind, 'CronTabList');
  assert.deepEqual(c.spec.conversion, { strategy: 'None' });
  assert.deepEqual(validateCRD(c), []);
});

test('create: storedVersions and status reset; delete: the cleanup finalizer', () => {
  const c = crd();
  c.status = { conditions: [{ type: 'Established', status: 'True' }] };
  strategy.prepareForCreate!(c, {} as never);
  assert.deepEqual(c.status, { storedVersions: ['v1'] });
  assert.equal(c.metadata.finalizers, undefined);
  assert.equal(strategy.holdsDeletion!(c), true);
  strategy.markDeleting!(c);
  assert.deepEqual(c.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
  c.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(strategy.holdsDeletion!(c), false, 'once deleting, the finalizer holds it');
});

test('metadata.name must be <plural>.<group>; group needs a dot', () => {
  const c = crd();
  c.metadata.name = 'crontab.stable.example.com';
  assert.deepEqual(errorsAfterDefaults(c), [
    'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
  ]);
  const g = crd();
  g.spec.group = 'example';
  g.metadata.name = 'crontabs.example';
  assert.deepEqual(errorsAfterDefaults(g), [
    'spec.group: Invalid value: "example": should be a domain with at least one dot',
  ]);
});

test('names, scope, versions and schema are validated', () => {
  const c = crd();
  c.spec.names.shortNames = ['CT'];
  c.spec.names.listKind = 'CronTab';
  (c.spec as { scope: string }).scope = 'Global';
  assert.deepEqual(errorsAfterDefaults(c), [
    'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    'spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same',
    `spec.names.shortNames[0]: Invalid value: "CT": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  const two = crd();
  two.spec.versions.push({ ...deepCopy(two.spec.versions[0]!), name: 'v2' });
  assert.deepEqual(errorsAfterDefaults(two), [
    'spec.versions: Invalid value: ["v1","v2"]: must have exactly one version marked as storage version',
  ]);
  const noSchema = crd();
  delete noSchema.spec.versions[0]!.schema;
  assert.deepEqual(errorsAfterDefaults(noSchema), [
    'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
  ]);
  const notStructural = crd();
  notStructural.spec.versions[0]!.schema = { openAPIV3Schema: { type: 'object', properties: { spec: {} } } };
  assert.deepEqual(errorsAfterDefaults(notStructural), [
    'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
  ]);
});

test('scale paths and printer columns are validated', () => {
  const c = crd();
  c.spec.versions[0]!.subresources = {
    scale: { specReplicasPath: '.status.replicas', statusReplicasPath: '.status.replicas' },
  };
  c.spec.versions[0]!.additionalPrinterColumns = [{ name: 'X', type: 'map', jsonPath: 'spec.x' }];
  assert.deepEqual(errorsAfterDefaults(c), [
    'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
    'spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "map": supported values: "boolean", "date", "integer", "number", "string"',
    'spec.versions[0].additionalPrinterColumns[0].jsonPath: Invalid value: "spec.x": must be a simple json path starting with .',
  ]);
});

test('storedVersions must stay in spec.versions; scope is immutable once established', () => {
  const c = crd();
  c.status = { storedVersions: ['v1beta1', 'v1'] };
  assert.deepEqual(errorsAfterDefaults(c), [
    'status.storedVersions[0]: Invalid value: "v1beta1": must appear in spec.versions',
  ]);
  const old = crd();
  old.status = { conditions: [{ type: 'Established', status: 'True' }] };
  const next = crd();
  next.spec.scope = 'Cluster';
  assert.deepEqual(strategy.validateUpdate!(next, old, {} as never).map(fieldErrorString), [
    'spec.scope: Invalid value: "Cluster": field is immutable',
  ]);
});

test('selectableFields must be scalar fields of the schema', () => {
  const c = crd();
  c.spec.versions[0]!.schema = {
    openAPIV3Schema: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { color: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
  };
  c.spec.versions[0]!.selectableFields = [
    { jsonPath: '.spec.color' },
    { jsonPath: '.spec.tags' },
    { jsonPath: '.spec.size' },
  ];
  assert.deepEqual(errorsAfterDefaults(c), [
    'spec.versions[0].selectableFields[1].jsonPath: Invalid value: ".spec.tags": must point to a field of type string, boolean or integer',
    'spec.versions[0].selectableFields[2].jsonPath: Invalid value: ".spec.size": is an invalid path: must refer to a field in the schema',
  ]);
});
