/** apps/v1 Deployment (pkg/registry/apps/deployment, pkg/apis/apps/v1 defaults and validation). */
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
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
import { validateIntOrPercent, validateNonNegative, isZeroIntOrPercent } from './common.ts';

type D = { spec?: Deployment['spec'] & Record<string, unknown> };

export const deploymentStrategy: Strategy = {
  info: info('apps', 'v1', 'deployments', 'deployment', 'Deployment', true, {
    shortNames: ['deploy'],
    categories: ['all'],
  }),
  hasStatus: true,
  scale: replicasScale,
  defaults(obj) {
    const s = ((obj as D).spec ??= {} as NonNullable<D['spec']>) as Record<string, unknown>;
    s['replicas'] ??= 1;
    const strat = (s['strategy'] ??= {}) as {
      type?: string;
      rollingUpdate?: { maxUnavailable?: unknown; maxSurge?: unknown };
    };
    strat.type ??= 'RollingUpdate';
    if (strat.type === 'RollingUpdate') {
      strat.rollingUpdate ??= {};
      strat.rollingUpdate.maxUnavailable ??= '25%';
      strat.rollingUpdate.maxSurge ??= '25%';
    }
    s['revisionHistoryLimit'] ??= 10;
    s['progressDeadlineSeconds'] ??= 600;
    defaultPodTemplateSpec(s['template'] as never);
  },
  prepareForCreate: resetStatus,
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [
      ...validateNonNegative(s['replicas'], 'spec.replicas'),
      ...validateWorkloadTemplate(obj),
      ...validateNonNegative(s['minReadySeconds'], 'spec.minReadySeconds'),
      ...validateNonNegative(s['revisionHistoryLimit'], 'spec.revisionHistoryLimit'),
    ];
    const strat = (s['strategy'] ?? {}) as {
      type?: string;
      rollingUpdate?: { maxUnavailable?: unknown; maxSurge?: unknown };
    };
    if (strat.type !== 'RollingUpdate' && strat.type !== 'Recreate')
      errs.push(fieldErr.notSupported('spec.strategy.type', strat.type ?? '', ['Recreate', 'RollingUpdate']));
    if (strat.type === 'Recreate' && strat.rollingUpdate)
      errs.push(
        fieldErr.forbidden(
          'spec.strategy.rollingUpdate',
          "may not be specified when strategy `type` is 'Recreate'",
        ),
      );
    if (strat.type === 'RollingUpdate' && strat.rollingUpdate) {
      const ru = strat.rollingUpdate;
      errs.push(...validateIntOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
      errs.push(...validateIntOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
      if (isZeroIntOrPercent(ru.maxSurge) && isZeroIntOrPercent(ru.maxUnavailable))
        errs.push(
          fieldErr.invalid(
            'spec.strategy.rollingUpdate.maxUnavailable',
            ru.maxUnavailable,
            'may not be 0 when `maxSurge` is 0',
          ),
        );
    }
    const pd = s['progressDeadlineSeconds'];
    if (typeof pd === 'number' && typeof s['minReadySeconds'] === 'number' && pd <= s['minReadySeconds'])
      errs.push(fieldErr.invalid('spec.progressDeadlineSeconds', pd, 'must be greater than minReadySeconds'));
    return errs;
  },
  validateUpdate(obj, old) {
    return immutable('spec.selector', spec(old)['selector'], spec(obj)['selector']);
  },
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' },
    {
      name: 'Up-to-date',
      type: 'string',
      description:
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    },
    {
      name: 'Available',
      type: 'string',
      description:
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(obj: KObject, now) {
    const st = status(obj);
    return [
      obj.metadata.name ?? '',
      `${num(st['readyReplicas'])}/${num(spec(obj)['replicas'])}`,
      num(st['updatedReplicas']),
      num(st['availableReplicas']),
      age(obj.metadata.creationTimestamp, now),
      ...wideCells(obj),
    ];
  },
};
