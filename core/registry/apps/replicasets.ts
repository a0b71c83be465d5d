/** apps/v1 ReplicaSet. */
import type { KObject } from '../../api/object.ts';
import { type FieldError, immutable } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import {
  defaultPodTemplateSpec,
  validatePodTemplateSpec,
  validateTemplateRestartAlways,
} from '../core/pod-spec.ts';
import { validateLabelSelector, validateSelectorMatchesTemplate } from '../validation/selectors.ts';
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
  wideCells,
} from '../workload.ts';
import { validateNonNegative } from './common.ts';

type Tpl = { metadata?: { labels?: Record<string, string> } } | undefined;

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
      ...validateLabelSelector(s['selector'], 'spec.selector'),
      ...validateSelectorMatchesTemplate(s['selector'], (s['template'] as Tpl)?.metadata?.labels, 'spec'),
    ];
    if (s['template'] !== undefined) {
      errs.push(...validatePodTemplateSpec(s['template'] as never, 'spec.template'));
      errs.push(...validateTemplateRestartAlways(s['template'] as never, 'spec.template'));
    }
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
