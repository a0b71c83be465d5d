/** storage.k8s.io/v1 StorageClass. */
import { fieldErr, immutable } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn } from '../workload.ts';

const DEFAULT_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

export const storageClassStrategy: Strategy = {
  info: info('storage.k8s.io', 'v1', 'storageclasses', 'storageclass', 'StorageClass', false, {
    shortNames: ['sc'],
  }),
  defaults(obj) {
    obj['reclaimPolicy'] ??= 'Delete';
    obj['volumeBindingMode'] ??= 'Immediate';
  },
  validate(obj) {
    const errs = [];
    if (typeof obj['provisioner'] !== 'string' || !obj['provisioner'])
      errs.push(fieldErr.required('provisioner', ''));
    if (!['Delete', 'Retain'].includes(String(obj['reclaimPolicy'])))
      errs.push(fieldErr.notSupported('reclaimPolicy', obj['reclaimPolicy'], ['Delete', 'Retain']));
    if (!['Immediate', 'WaitForFirstConsumer'].includes(String(obj['volumeBindingMode'])))
      errs.push(
        fieldErr.notSupported('volumeBindingMode', obj['volumeBindingMode'], [
          'Immediate',
          'WaitForFirstConsumer',
        ]),
      );
    return errs;
  },
  validateUpdate(obj, old) {
    return [
      ...immutable('parameters', old['parameters'], obj['parameters']),
      ...immutable('provisioner', old['provisioner'], obj['provisioner']),
      ...immutable('reclaimPolicy', old['reclaimPolicy'], obj['reclaimPolicy']),
      ...immutable('volumeBindingMode', old['volumeBindingMode'], obj['volumeBindingMode']),
    ];
  },
  columns: [
    nameColumn,
    { name: 'Provisioner', type: 'string', description: 'Indicates the type of the provisioner.' },
    {
      name: 'ReclaimPolicy',
      type: 'string',
      description:
        'Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy. Defaults to Delete.',
    },
    {
      name: 'VolumeBindingMode',
      type: 'string',
      description:
        'VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.',
    },
    {
      name: 'AllowVolumeExpansion',
      type: 'string',
      description: 'AllowVolumeExpansion shows whether the storage class allow volume expand',
    },
    ageColumn,
  ],
  row(obj, now) {
    const isDefault =
      obj.metadata.annotations?.[DEFAULT_ANNOTATION] === 'true' ||
      obj.metadata.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [
      `${obj.metadata.name ?? ''}${isDefault ? ' (default)' : ''}`,
      String(obj['provisioner'] ?? ''),
      String(obj['reclaimPolicy'] ?? 'Delete'),
      String(obj['volumeBindingMode'] ?? 'Immediate'),
      String(obj['allowVolumeExpansion'] === true),
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};
