/** core/v1 Endpoints (ValidateEndpoints, printEndpoints). */
import type { EndpointAddress, Endpoints, EndpointSubset } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isDNS1123Subdomain, isIPv4 } from '../validation/names.ts';
import { type CoreStrategy, dns1123LabelErrs, inclusiveRangeError, isValidPortNum } from './common.ts';
import { ipErrorMsg, isIP } from './services.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const asEp = (o: KObject): Mutable<Endpoints> => o as unknown as Mutable<Endpoints>;

/** ValidateNonSpecialIP. */
export function nonSpecialIPErrors(ip: string): string[] {
  if (!isIP(ip)) return [ipErrorMsg];
  if (ip === '0.0.0.0' || ip === '::') return ['may not be unspecified (0.0.0.0)'];
  if (isIPv4(ip)) {
    const [a, b, c] = ip.split('.').map(Number) as [number, number, number];
    if (a === 127) return ['may not be in the loopback range (127.0.0.0/8, ::1/128)'];
    if (a === 169 && b === 254) return ['may not be in the link-local range (169.254.0.0/16, fe80::/10)'];
    if (a === 224 && b === 0 && c === 0)
      return ['may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'];
    return [];
  }
  const l = ip.toLowerCase();
  if (l === '::1') return ['may not be in the loopback range (127.0.0.0/8, ::1/128)'];
  if (/^fe[89ab]/.test(l)) return ['may not be in the link-local range (169.254.0.0/16, fe80::/10)'];
  if (l.startsWith('ff02:'))
    return ['may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'];
  return [];
}

function validateAddress(a: EndpointAddress, p: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const m of nonSpecialIPErrors(a.ip ?? '')) errs.push(fieldErr.invalid(`${p}.ip`, a.ip ?? '', m));
  if (a.hostname) errs.push(...dns1123LabelErrs(a.hostname, `${p}.hostname`));
  if (a.nodeName)
    for (const m of isDNS1123Subdomain(a.nodeName))
      errs.push(fieldErr.invalid(`${p}.nodeName`, a.nodeName, m));
  return errs;
}

export function validateEndpoints(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  (asEp(obj).subsets ?? []).forEach((ss: EndpointSubset, i) => {
    const sp = `subsets[${i}]`;
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, `${sp}.addresses[${j}]`)));
    (ss.notReadyAddresses ?? []).forEach((a, j) =>
      errs.push(...validateAddress(a, `${sp}.notReadyAddresses[${j}]`)),
    );
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = `${sp}.ports[${j}]`;
      if (ports.length > 1 && !port.name) errs.push(fieldErr.required(`${pp}.name`, ''));
      else if (port.name) errs.push(...dns1123LabelErrs(port.name, `${pp}.name`));
      if (!isValidPortNum(port.port))
        errs.push(fieldErr.invalid(`${pp}.port`, port.port, inclusiveRangeError(1, 65535)));
      if (!port.protocol) errs.push(fieldErr.required(`${pp}.protocol`, ''));
      else if (!['SCTP', 'TCP', 'UDP'].includes(port.protocol))
        errs.push(fieldErr.notSupported(`${pp}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
    });
  });
  return errs;
}

/** formatEndpoints: at most three host:port pairs, then " + N more...". */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

const columns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Endpoints',
    type: 'string',
    description:
      'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
  },
  ageColumn,
];

export const endpointsStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'endpoints',
    singular: 'endpoints',
    kind: 'Endpoints',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['ep'],
  },
  allowCreateOnUpdate: true,
  defaults(obj) {
    for (const ss of asEp(obj).subsets ?? [])
      for (const p of (ss.ports ?? []) as { protocol?: string }[]) if (!p.protocol) p.protocol = 'TCP';
  },
  validate: validateEndpoints,
  columns,
  row(obj, now) {
    return [obj.metadata.name ?? '', formatEndpoints(asEp(obj)), age(obj.metadata.creationTimestamp, now)];
  },
};
