/** apps/v1 StatefulSet. */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { age } from '../printers.ts';
import {
  ageColumn,
  containersColumn,
  imagesColumn,
  info,
  nameColumn,
  num,
  replicasScale,
  resetStatus,
  spec,
  status,
  validateWorkloadTemplate,
  wideCells,
} from '../workload.ts';
import { validateNonNegative } from './common.ts';

const MUTABLE = new Set([
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
]);

export const statefulSetStrategy: Strategy = {
  info: info('apps', 'v1', 'statefulsets', 'statefulset', 'StatefulSet', true, {
    shortNames: ['sts'],
    categories: ['all'],
  }),
  hasStatus: true,
  scale: replicasScale,
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Record<string, unknown>;
    s['replicas'] ??= 1;
    s['podManagementPolicy'] ??= 'OrderedReady';
    const us = (s['updateStrategy'] ??= {}) as { type?: string; rollingUpdate?: { partition?: number } };
    us.type ??= 'RollingUpdate';
    if (us.type === 'RollingUpdate') {
      us.rollingUpdate ??= {};
      us.rollingUpdate.partition ??= 0;
    }
    s['revisionHistoryLimit'] ??= 10;
    const pvc = (s['persistentVolumeClaimRetentionPolicy'] ??= {}) as Record<string, string>;
    pvc['whenDeleted'] ??= 'Retain';
    pvc['whenScaled'] ??= 'Retain';
    for (const t of (s['volumeClaimTemplates'] ?? []) as {
      apiVersion?: string;
      kind?: string;
      spec?: { volumeMode?: string };
      status?: unknown;
    }[]) {
      t.apiVersion ??= 'v1';
      t.kind ??= 'PersistentVolumeClaim';
      t.spec ??= {};
      t.spec.volumeMode ??= 'Filesystem';
      t.status ??= { phase: 'Pending' };
    }
    defaultPodTemplateSpec(s['template'] as never);
  },
  prepareForCreate: resetStatus,
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [
      ...validateNonNegative(s['replicas'], 'spec.replicas'),
      ...validateWorkloadTemplate(obj),
    ];
    const pmp = s['podManagementPolicy'];
    if (pmp !== 'OrderedReady' && pmp !== 'Parallel')
      errs.push(fieldErr.notSupported('spec.podManagementPolicy', pmp, ['OrderedReady', 'Parallel']));
    return errs;
  },
  validateUpdate(obj, old) {
    const a = spec(obj);
    const b = spec(old);
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      if (!MUTABLE.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
        return [
          fieldErr.forbidden(
            'spec',
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
          ),
        ];
    return [];
  },
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' },
    ageColumn,
    containersColumn,
    imagesColumn,
  ],
  row(obj: KObject, now) {
    return [
      obj.metadata.name ?? '',
      `${num(status(obj)['readyReplicas'])}/${num(spec(obj)['replicas'])}`,
      age(obj.metadata.creationTimestamp, now),
      ...wideCells(obj, false),
    ];
  },
};
