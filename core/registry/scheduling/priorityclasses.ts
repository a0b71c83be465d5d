/** scheduling.k8s.io/v1 PriorityClass. */
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn } from '../workload.ts';

const HIGHEST_USER = 1_000_000_000;

export const priorityClassStrategy: Strategy = {
  info: info('scheduling.k8s.io', 'v1', 'priorityclasses', 'priorityclass', 'PriorityClass', false, {
    shortNames: ['pc'],
  }),
  defaults(obj) {
    obj['preemptionPolicy'] ??= 'PreemptLowerPriority';
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const v = obj['value'];
    const system = (obj.metadata.name ?? '').startsWith('system-');
    if (typeof v !== 'number' || !Number.isInteger(v)) errs.push(fieldErr.required('value', ''));
    else if (!system && v > HIGHEST_USER)
      errs.push(
        fieldErr.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER}`),
      );
    if (system && !['system-node-critical', 'system-cluster-critical'].includes(obj.metadata.name ?? ''))
      errs.push(
        fieldErr.forbidden(
          'metadata.name',
          "priority class names with 'system-' prefix are reserved for system use only",
        ),
      );
    const pp = obj['preemptionPolicy'];
    if (pp !== 'PreemptLowerPriority' && pp !== 'Never')
      errs.push(fieldErr.notSupported('preemptionPolicy', pp, ['Never', 'PreemptLowerPriority']));
    return errs;
  },
  validateUpdate(obj, old) {
    return [
      ...immutable('value', old['value'], obj['value']),
      ...immutable('preemptionPolicy', old['preemptionPolicy'], obj['preemptionPolicy']),
    ];
  },
  columns: [
    nameColumn,
    {
      name: 'Value',
      type: 'integer',
      description:
        'The value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.',
    },
    {
      name: 'Global-Default',
      type: 'boolean',
      description:
        'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.',
    },
    ageColumn,
    {
      name: 'PreemptionPolicy',
      type: 'string',
      description: 'PreemptionPolicy is the Policy for preempting pods with lower priority.',
    },
  ],
  row(obj, now) {
    return [
      obj.metadata.name ?? '',
      Number(obj['value'] ?? 0),
      obj['globalDefault'] === true,
      age(obj.metadata.creationTimestamp, now),
      String(obj['preemptionPolicy'] ?? ''),
    ];
  },
};
