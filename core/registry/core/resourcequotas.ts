/** core/v1 ResourceQuota (ValidateResourceQuota, printResourceQuota). */
import type { ResourceQuota } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isQualifiedName } from '../validation/names.ts';
import type { CoreStrategy } from './common.ts';
import { quantityFormatError, quantityString, tryParseQuantity } from './quantity.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const asRQ = (o: KObject): Mutable<ResourceQuota> => o as unknown as Mutable<ResourceQuota>;

const standardQuotaResources = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);
const integerQuotaResources = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);
const scopes = [
  'BestEffort',
  'CrossNamespacePodAffinity',
  'NotBestEffort',
  'NotTerminating',
  'PriorityClass',
  'Terminating',
  'VolumeAttributesClass',
];

function validateQuotaResourceName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldErr.invalid(field, name, m));
  if (errs.length) return errs;
  if (name.includes('/') || name.startsWith('count/')) return [];
  if (
    standardQuotaResources.has(name) ||
    name.startsWith('hugepages-') ||
    name.startsWith('requests.hugepages-')
  )
    return [];
  return [fieldErr.invalid(field, name, 'must be a standard resource type or fully qualified')];
}

function validateResourceList(list: Record<string, unknown> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {})) {
    const f = `${path}[${k}]`;
    errs.push(...validateQuotaResourceName(k, f));
    const q =
      typeof v === 'string'
        ? tryParseQuantity(v)
        : typeof v === 'number'
          ? tryParseQuantity(String(v))
          : undefined;
    if (!q) {
      errs.push(fieldErr.invalid(f, v, quantityFormatError));
      continue;
    }
    if (q.nanos < 0n) errs.push(fieldErr.invalid(f, quantityString(v), 'must be greater than or equal to 0'));
    if ((integerQuotaResources.has(k) || k.startsWith('count/')) && q.nanos % 1_000_000_000n !== 0n)
      errs.push(fieldErr.invalid(f, quantityString(v), 'must be an integer'));
  }
  return errs;
}

export function validateResourceQuota(obj: KObject): FieldError[] {
  const spec = asRQ(obj).spec ?? {};
  const errs = validateResourceList(spec.hard as Record<string, unknown>, 'spec.hard');
  (spec.scopes ?? []).forEach((s) => {
    if (!scopes.includes(s)) errs.push(fieldErr.notSupported('spec.scopes', s, scopes));
  });
  (spec.scopeSelector?.matchExpressions ?? []).forEach((e, i) => {
    const p = `spec.scopeSelector.matchExpressions[${i}]`;
    if (!scopes.includes(e.scopeName))
      errs.push(fieldErr.notSupported(`${p}.scopeName`, e.scopeName, scopes));
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator))
      errs.push(
        fieldErr.notSupported(`${p}.operator`, e.operator, ['DoesNotExist', 'Exists', 'In', 'NotIn']),
      );
  });
  return errs;
}

const columns: readonly TableColumn[] = [
  nameColumn,
  ageColumn,
  {
    name: 'Request',
    type: 'string',
    description: 'Request represents a minimum amount of cpu/memory that a container may consume.',
  },
  {
    name: 'Limit',
    type: 'string',
    description:
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
  },
];

/** The sort order of SortableResourceNames (plain string order). */
export function resourceQuotaCells(rq: ResourceQuota): { request: string; limit: string } {
  const hard = (rq.status?.hard ?? {}) as Record<string, string>;
  const used = (rq.status?.used ?? {}) as Record<string, string>;
  const req: string[] = [];
  const lim: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const s = `${r}: ${quantityString(used[r])}/${quantityString(hard[r])}`;
    const pieces = r.split('.');
    if (pieces.length > 1 && pieces[0] === 'limits') lim.push(s);
    else req.push(s);
  }
  return { request: req.join(', '), limit: lim.join(', ') };
}

export const resourceQuotaStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'resourcequotas',
    singular: 'resourcequota',
    kind: 'ResourceQuota',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['quota'],
  },
  hasStatus: true,
  prepareForCreate(obj) {
    asRQ(obj).status = {};
  },
  validate: validateResourceQuota,
  validateStatusUpdate(obj) {
    const st = asRQ(obj).status ?? {};
    return [
      ...validateResourceList(st.hard as Record<string, unknown>, 'status.hard'),
      ...validateResourceList(st.used as Record<string, unknown>, 'status.used'),
    ];
  },
  columns,
  row(obj, now) {
    const { request, limit } = resourceQuotaCells(asRQ(obj));
    return [obj.metadata.name ?? '', age(obj.metadata.creationTimestamp, now), request, limit];
  },
};
