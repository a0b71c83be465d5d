/**
 * HorizontalPodAutoscaler: autoscaling/v2 is the stored version; autoscaling/v1 is served from the same
 * storage with the conversion Kubernetes does (targetCPUUtilizationPercentage ↔ a CPU Utilization metric).
 */
import { deepCopy, type KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn, num, resetStatus, spec, status } from '../workload.ts';
import { defaultBehavior, type Behavior } from './hpa-behavior.ts';

type Obj = Record<string, unknown>;
interface Metric {
  type?: string;
  resource?: {
    name?: string;
    target?: { type?: string; averageUtilization?: number; averageValue?: string; value?: string };
    current?: { averageUtilization?: number; averageValue?: string };
  };
}

function validateHpa(obj: KObject): FieldError[] {
  const s = spec(obj);
  const errs: FieldError[] = [];
  const ref = s['scaleTargetRef'] as { kind?: string; name?: string } | undefined;
  if (!ref?.kind) errs.push(fieldErr.required('spec.scaleTargetRef.kind', ''));
  if (!ref?.name) errs.push(fieldErr.required('spec.scaleTargetRef.name', ''));
  const min = s['minReplicas'];
  const max = s['maxReplicas'];
  if (typeof max !== 'number' || max < 1)
    errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than or equal to 1'));
  if (typeof min === 'number' && min < 1)
    errs.push(fieldErr.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (typeof min === 'number' && typeof max === 'number' && max < min)
    errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  return errs;
}

function targetsCell(obj: KObject): string {
  const metrics = (spec(obj)['metrics'] ?? []) as Metric[];
  const current = (status(obj)['currentMetrics'] ?? []) as Metric[];
  if (!metrics.length) return '<none>';
  return metrics
    .map((m, i) => {
      if (m.type === 'Resource' && m.resource?.target?.type === 'Utilization') {
        const cur = current[i]?.resource?.current?.averageUtilization;
        return `${m.resource.name ?? ''}: ${cur === undefined ? '<unknown>' : `${cur}%`}/${m.resource.target.averageUtilization ?? 0}%`;
      }
      const t = m.resource?.target;
      return `${m.resource?.name ?? m.type ?? ''}: <unknown>/${t?.averageValue ?? t?.value ?? ''}`;
    })
    .join(', ');
}

const columns = [
  nameColumn,
  {
    name: 'Reference',
    type: 'string' as const,
    description:
      'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.',
  },
  {
    name: 'Targets',
    type: 'string' as const,
    description:
      'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).',
  },
  {
    name: 'MinPods',
    type: 'string' as const,
    description:
      'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.',
  },
  {
    name: 'MaxPods',
    type: 'integer' as const,
    description:
      'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.',
  },
  {
    name: 'Replicas',
    type: 'integer' as const,
    description:
      'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.',
  },
  ageColumn,
];

function row(obj: KObject, now: Date): (string | number)[] {
  const s = spec(obj);
  const ref = (s['scaleTargetRef'] ?? {}) as { kind?: string; name?: string };
  return [
    obj.metadata.name ?? '',
    `${ref.kind ?? ''}/${ref.name ?? ''}`,
    targetsCell(obj),
    typeof s['minReplicas'] === 'number' ? String(s['minReplicas']) : '<unset>',
    num(s['maxReplicas']),
    num(status(obj)['currentReplicas']),
    age(obj.metadata.creationTimestamp, now),
  ];
}

export const hpaV2Strategy: Strategy = {
  info: info(
    'autoscaling',
    'v2',
    'horizontalpodautoscalers',
    'horizontalpodautoscaler',
    'HorizontalPodAutoscaler',
    true,
    { shortNames: ['hpa'], categories: ['all'] },
  ),
  hasStatus: true,
  // metadata.generation counts spec changes, as upstream (the autoscaler reacts to them at once).
  tracksGeneration: true,
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Obj;
    s['minReplicas'] ??= 1;
    if (s['behavior'] && typeof s['behavior'] === 'object')
      s['behavior'] = defaultBehavior(s['behavior'] as Behavior);
    if (!Array.isArray(s['metrics']) || s['metrics'].length === 0)
      s['metrics'] = [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ];
  },
  prepareForCreate: resetStatus,
  validate: validateHpa,
  columns,
  row,
};

/** v1 → v2 (storage). */
function v1ToV2(o: KObject): KObject {
  const c = deepCopy(o);
  const s = (c['spec'] ?? {}) as Obj;
  const pct = s['targetCPUUtilizationPercentage'];
  delete s['targetCPUUtilizationPercentage'];
  if (typeof pct === 'number')
    s['metrics'] = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } },
      },
    ];
  const st = (c['status'] ?? {}) as Obj;
  const cur = st['currentCPUUtilizationPercentage'];
  delete st['currentCPUUtilizationPercentage'];
  if (typeof cur === 'number')
    st['currentMetrics'] = [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } },
    ];
  c.apiVersion = 'autoscaling/v2';
  return c;
}

/** v2 (storage) → v1: the CPU utilization metric becomes targetCPUUtilizationPercentage. */
function v2ToV1(o: KObject): KObject {
  const c = deepCopy(o);
  const s = (c['spec'] ?? {}) as Obj;
  const metrics = (s['metrics'] ?? []) as Metric[];
  delete s['metrics'];
  delete s['behavior'];
  const cpu = metrics.find(
    (m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization',
  );
  if (cpu?.resource?.target?.averageUtilization !== undefined)
    s['targetCPUUtilizationPercentage'] = cpu.resource.target.averageUtilization;
  const st = (c['status'] ?? {}) as Obj;
  const cur = ((st['currentMetrics'] ?? []) as Metric[]).find(
    (m) => m.type === 'Resource' && m.resource?.name === 'cpu',
  );
  delete st['currentMetrics'];
  delete st['conditions'];
  if (cur?.resource?.current?.averageUtilization !== undefined)
    st['currentCPUUtilizationPercentage'] = cur.resource.current.averageUtilization;
  return c;
}

export const hpaV1Strategy: Strategy = {
  info: info(
    'autoscaling',
    'v1',
    'horizontalpodautoscalers',
    'horizontalpodautoscaler',
    'HorizontalPodAutoscaler',
    true,
    { shortNames: ['hpa'], categories: ['all'] },
  ),
  hasStatus: true,
  // metadata.generation counts spec changes, as upstream (the autoscaler reacts to them at once).
  tracksGeneration: true,
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Obj;
    s['minReplicas'] ??= 1;
  },
  prepareForCreate: resetStatus,
  validate: validateHpa,
  storedAs: {
    group: 'autoscaling',
    resource: 'horizontalpodautoscalers',
    toStorage: v1ToV2,
    fromStorage: v2ToV1,
  },
  columns,
  row: (obj, now) => row(v1ToV2(obj), now),
};
