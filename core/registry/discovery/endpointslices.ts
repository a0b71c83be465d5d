/** discovery.k8s.io/v1 EndpointSlice. */
import { fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { ageColumn, info, nameColumn } from '../workload.ts';

interface Endpoint {
  addresses?: string[];
}
interface Port {
  port?: number;
}

export const endpointSliceStrategy: Strategy = {
  info: info('discovery.k8s.io', 'v1', 'endpointslices', 'endpointslice', 'EndpointSlice', true),
  allowCreateOnUpdate: false,
  validate(obj) {
    const t = obj['addressType'];
    return ['IPv4', 'IPv6', 'FQDN'].includes(String(t))
      ? []
      : [fieldErr.notSupported('addressType', t ?? '', ['FQDN', 'IPv4', 'IPv6'])];
  },
  validateUpdate(obj, old) {
    return obj['addressType'] === old['addressType']
      ? []
      : [fieldErr.invalid('addressType', obj['addressType'], 'field is immutable')];
  },
  columns: [
    nameColumn,
    { name: 'AddressType', type: 'string', description: 'Type of address carried by this EndpointSlice' },
    { name: 'Ports', type: 'string', description: 'Ports allowed by this EndpointSlice' },
    { name: 'Endpoints', type: 'string', description: 'Endpoints carried by this EndpointSlice' },
    ageColumn,
  ],
  row(obj, now) {
    const ports = ((obj['ports'] ?? []) as Port[]).map((p) => String(p.port ?? '')).filter(Boolean);
    const addrs = ((obj['endpoints'] ?? []) as Endpoint[]).flatMap((e) => e.addresses ?? []);
    const shown =
      addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
    return [
      obj.metadata.name ?? '',
      String(obj['addressType'] ?? ''),
      ports.length ? ports.join(',') : '<unset>',
      shown || '<unset>',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};
