import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiateDiscovery, negotiateResource } from './negotiate.ts';

test('aggregated discovery follows the Accept header of each kubectl generation', () => {
  const k127 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  const k133 =
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  assert.equal(negotiateDiscovery(k127), 'v2beta1');
  assert.equal(negotiateDiscovery(k133), 'v2');
  assert.equal(negotiateDiscovery('application/json, */*'), undefined);
  assert.equal(negotiateDiscovery(undefined), undefined);
});

test('Table is chosen only when asked for', () => {
  const table =
    'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  assert.equal(negotiateResource(table).table, true);
  assert.equal(negotiateResource('application/json').table, false);
  assert.equal(negotiateResource('application/vnd.kubernetes.protobuf,application/json').table, false);
  assert.equal(
    negotiateResource('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io').partialMetadata,
    true,
  );
});
