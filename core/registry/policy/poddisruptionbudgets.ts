/** policy/v1 PodDisruptionBudget. */
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn, num, resetStatus, spec, status } from '../workload.ts';
import { validateLabelSelector } from '../validation/selectors.ts';
import { validateIntOrPercent } from '../apps/common.ts';

export const pdbStrategy: Strategy = {
  info: info('policy', 'v1', 'poddisruptionbudgets', 'poddisruptionbudget', 'PodDisruptionBudget', true, {
    shortNames: ['pdb'],
  }),
  hasStatus: true,
  prepareForCreate: resetStatus,
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [...validateLabelSelector(s['selector'], 'spec.selector')];
    if (s['minAvailable'] !== undefined && s['maxUnavailable'] !== undefined)
      errs.push(fieldErr.invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
    errs.push(...validateIntOrPercent(s['minAvailable'], 'spec.minAvailable'));
    errs.push(...validateIntOrPercent(s['maxUnavailable'], 'spec.maxUnavailable'));
    const upe = s['unhealthyPodEvictionPolicy'];
    if (upe !== undefined && upe !== 'IfHealthyBudget' && upe !== 'AlwaysAllow')
      errs.push(
        fieldErr.notSupported('spec.unhealthyPodEvictionPolicy', upe, ['AlwaysAllow', 'IfHealthyBudget']),
      );
    return errs;
  },
  columns: [
    nameColumn,
    {
      name: 'Min Available',
      type: 'string',
      description:
        'The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".',
    },
    {
      name: 'Max Unavailable',
      type: 'string',
      description:
        'The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".',
    },
    {
      name: 'Allowed Disruptions',
      type: 'integer',
      description: 'Number of pod disruptions that are currently allowed.',
    },
    ageColumn,
  ],
  row(obj, now) {
    const s = spec(obj);
    return [
      obj.metadata.name ?? '',
      s['minAvailable'] === undefined ? 'N/A' : String(s['minAvailable']),
      s['maxUnavailable'] === undefined ? 'N/A' : String(s['maxUnavailable']),
      num(status(obj)['disruptionsAllowed']),
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};
