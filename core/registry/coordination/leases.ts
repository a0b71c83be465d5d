/** coordination.k8s.io/v1 Lease (node heartbeats, leader election). */
import { fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn, spec } from '../workload.ts';

export const leaseStrategy: Strategy = {
  info: info('coordination.k8s.io', 'v1', 'leases', 'lease', 'Lease', true),
  allowCreateOnUpdate: true,
  validate(obj) {
    const s = spec(obj);
    const errs = [];
    const d = s['leaseDurationSeconds'];
    if (d !== undefined && (typeof d !== 'number' || d <= 0))
      errs.push(fieldErr.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
    const t = s['leaseTransitions'];
    if (t !== undefined && (typeof t !== 'number' || t < 0))
      errs.push(fieldErr.invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
    return errs;
  },
  columns: [
    nameColumn,
    { name: 'Holder', type: 'string', description: 'The holder of the lease' },
    ageColumn,
  ],
  row(obj, now) {
    return [
      obj.metadata.name ?? '',
      String(spec(obj)['holderIdentity'] ?? ''),
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};
