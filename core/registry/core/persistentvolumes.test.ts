import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { fieldErrorString } from '../../api/field-errors.ts';
import { validatePersistentVolumeClaimUpdate } from './persistentvolumes.ts';

const claim = (
  spec: Record<string, unknown>,
  phase = 'Pending',
  annotations?: Record<string, string>,
): KObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  status: { phase },
});

const errors = (obj: KObject, old: KObject): string[] =>
  validatePersistentVolumeClaimUpdate(obj, old).map(fieldErrorString);
const IMMUTABLE =
  'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

test('a claim created without a class may be given one, once (retroactive default StorageClass)', () => {
  assert.deepEqual(errors(claim({ storageClassName: 'standard' }), claim({})), []);
  // Setting it together with another spec change is still refused.
  assert.deepEqual(errors(claim({ storageClassName: 'standard', volumeMode: 'Block' }), claim({})), [
    IMMUTABLE,
  ]);
});

test('other storageClassName changes stay forbidden', () => {
  const cases: [string, KObject, KObject][] = [
    ['class to another class', claim({ storageClassName: 'fast' }), claim({ storageClassName: 'standard' })],
    ['class removed', claim({}), claim({ storageClassName: 'standard' })],
    ['"" to a class', claim({ storageClassName: 'standard' }), claim({ storageClassName: '' })],
    ['unset to ""', claim({ storageClassName: '' }), claim({})],
    [
      'unset but the beta annotation names a class',
      claim({ storageClassName: 'fast' }, 'Pending', { 'volume.beta.kubernetes.io/storage-class': 'slow' }),
      claim({}, 'Pending', { 'volume.beta.kubernetes.io/storage-class': 'slow' }),
    ],
  ];
  for (const [what, obj, old] of cases) assert.deepEqual(errors(obj, old), [IMMUTABLE], what);
});

test('bound claims may still only grow their storage request', () => {
  const bound = claim({ storageClassName: 'standard', volumeName: 'pv-1' }, 'Bound');
  const bigger = claim(
    { storageClassName: 'standard', volumeName: 'pv-1', resources: { requests: { storage: '2Gi' } } },
    'Bound',
  );
  assert.deepEqual(errors(bigger, bound), []);
  assert.deepEqual(errors(bound, bigger), [
    'spec.resources.requests.storage: Forbidden: field can not be less than previous value',
  ]);
});
