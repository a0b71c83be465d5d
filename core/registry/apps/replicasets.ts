/** apps/v1 ReplicaSet. */
import type { KObject } from '../../api/object.ts';
import { type FieldError, immutable } from '../../api/field-errors.ts';
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
  selectorColumn,
  spec,
  status,
  validateWorkloadTemplate,
  wideCells,
} from '../workload.ts';
import { validateNonNegative } from './common.ts';

export const replicaSetStrategy: Strategy = {
  info: info('apps', 'v1', 'replicasets', 'replicaset', 'ReplicaSet', true, {
    shortNames: ['rs'],
    categories: ['all'],
  }),
  hasStatus: true,
  scale: replicasScale,
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Record<string, unknown>;
    s['replicas'] ??= 1;
    defaultPodTemplateSpec(s['template'] as never);
  },
  prepareForCreate: resetStatus,
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [
      ...validateNonNegative(s['replicas'], 'spec.replicas'),
      ...validateNonNegative(s['minReadySeconds'], 'spec.minReadySeconds'),
      ...validateWorkloadTemplate(obj),
    ];
    return errs;
  },
  validateUpdate(obj, old) {
    return immutable('spec.selector', spec(old)['selector'], spec(obj)['selector']);
  },
  columns: [
    nameColumn,
    { name: 'Desired', type: 'integer', description: 'Number of desired pods.' },
    { name: 'Current', type: 'integer', description: 'Number of actual replicas.' },
    { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.' },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(obj: KObject, now) {
    const st = status(obj);
    return [
      obj.metadata.name ?? '',
      num(spec(obj)['replicas']),
      num(st['replicas']),
      num(st['readyReplicas']),
      age(obj.metadata.creationTimestamp, now),
      ...wideCells(obj),
    ];
  },
};
