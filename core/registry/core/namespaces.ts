/** core/v1 Namespace (pkg/registry/core/namespace/strategy.go, ValidateNamespace, printNamespace). */
import type { Namespace } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { TableColumn, Verb } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isQualifiedName } from '../validation/names.ts';
import type { CoreStrategy } from './common.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MNamespace = Mutable<Namespace> & {
  spec?: { finalizers?: string[] };
  status?: { phase?: string; conditions?: unknown[] };
};
const asNs = (o: KObject): MNamespace => o as unknown as MNamespace;

export const FINALIZER_KUBERNETES = 'kubernetes';
const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** ValidateFinalizerName as used for spec.finalizers. */
export function validateFinalizerName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldErr.invalid(field, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !standardFinalizers.has(name))
    return [
      fieldErr.invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified'),
    ];
  return [];
}

function validateSpecFinalizers(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  (asNs(obj).spec?.finalizers ?? []).forEach((f) =>
    errs.push(...validateFinalizerName(f, 'spec.finalizers')),
  );
  return errs;
}

const namespaceVerbs: readonly Verb[] = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

const columns: readonly TableColumn[] = [
  nameColumn,
  { name: 'Status', type: 'string', description: 'The status of the namespace' },
  ageColumn,
];

export const namespaceStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    verbs: namespaceVerbs,
    shortNames: ['ns'],
  },
  nameValidation: 'label',
  hasStatus: true,
  extraSubresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  defaults(obj) {
    // SetDefaults_Namespace: the immutable name label.
    const name = obj.metadata.name;
    if (name) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
    const ns = asNs(obj);
    if (ns.status && !ns.status.phase) ns.status.phase = 'Active';
  },
  prepareForCreate(obj) {
    const ns = asNs(obj);
    ns.status = { phase: 'Active' };
    const spec = (ns.spec ??= {});
    const fins = spec.finalizers ?? [];
    if (!fins.includes(FINALIZER_KUBERNETES)) spec.finalizers = [...fins, FINALIZER_KUBERNETES];
  },
  prepareForUpdate(obj, old) {
    const ns = asNs(obj);
    const oldSpec = asNs(old).spec;
    if (oldSpec?.finalizers) ns.spec = { ...(ns.spec ?? {}), finalizers: [...oldSpec.finalizers] };
    else if (ns.spec) delete ns.spec.finalizers;
  },
  validate: validateSpecFinalizers,
  validateStatusUpdate(obj) {
    const phase = asNs(obj).status?.phase;
    if (!obj.metadata.deletionTimestamp) {
      if (phase !== 'Active')
        return [
          fieldErr.invalid(
            'status.Phase',
            phase ?? '',
            "may only be 'Active' if `deletionTimestamp` is empty",
          ),
        ];
    } else if (phase !== 'Terminating') {
      return [
        fieldErr.invalid(
          'status.Phase',
          phase ?? '',
          "may only be 'Terminating' if `deletionTimestamp` is not empty",
        ),
      ];
    }
    return [];
  },
  columns,
  row(obj, now) {
    return [obj.metadata.name ?? '', asNs(obj).status?.phase ?? '', age(obj.metadata.creationTimestamp, now)];
  },
  fieldSelectors(obj) {
    return { 'status.phase': asNs(obj).status?.phase ?? '' };
  },
  validateFinalize(obj) {
    return validateSpecFinalizers(obj);
  },
  holdsDeletion(obj) {
    return (asNs(obj).spec?.finalizers ?? []).length > 0;
  },
  markDeleting(obj) {
    const ns = asNs(obj);
    ns.status = { ...(ns.status ?? {}), phase: 'Terminating' };
  },
};

/** Validation for PUT namespaces/<n>/finalize (ValidateNamespaceFinalizeUpdate). */
export function validateNamespaceFinalize(obj: KObject): FieldError[] {
  return validateSpecFinalizers(obj);
}
