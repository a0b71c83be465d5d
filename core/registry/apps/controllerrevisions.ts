/** apps/v1 ControllerRevision (DaemonSet and StatefulSet history). */
import type { KObject } from '../../api/object.ts';
import { fieldErr, immutable } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn } from '../workload.ts';

export const controllerRevisionStrategy: Strategy = {
  info: info('apps', 'v1', 'controllerrevisions', 'controllerrevision', 'ControllerRevision', true),
  validate(obj) {
    const r = obj['revision'];
    return typeof r === 'number' && r >= 0
      ? []
      : [fieldErr.invalid('revision', r, 'must be greater than or equal to 0')];
  },
  validateUpdate(obj, old) {
    return immutable('data', old['data'], obj['data']);
  },
  columns: [
    nameColumn,
    { name: 'Controller', type: 'string', description: 'Controller of the object' },
    {
      name: 'Revision',
      type: 'integer',
      description: 'Revision indicates the revision of the state represented by Data.',
    },
    ageColumn,
  ],
  row(obj: KObject, now) {
    const ref = obj.metadata.ownerReferences?.find((o) => o.controller);
    const group = ref?.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    const controller = ref ? `${ref.kind.toLowerCase()}${group ? `.${group}` : ''}/${ref.name}` : '<none>';
    return [
      obj.metadata.name ?? '',
      controller,
      typeof obj['revision'] === 'number' ? obj['revision'] : 0,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};
