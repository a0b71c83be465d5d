/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition (cluster-scoped, status subresource), with the
 * apiextensions-apiserver's defaulting and validation of the definition itself: names, metadata.name =
 * <plural>.<group>, scope, exactly one storage version, a structural schema per version (required in
 * v1), scale paths, printer columns, selectableFields and storedVersions. Instances are served by
 * core/apiextensions once the CRD controller marks it Established; the cleanup finalizer (added on
 * delete) holds a deleted CRD until the controller removed every instance.
 */
import { fieldErr, immutable, type FieldError } from '../../api/field-errors.ts';
import { isPlainObject, type KObject } from '../../api/object.ts';
import { parseJSONPath } from '../../apiextensions/json-path.ts';
import { structuralErrors } from '../../apiextensions/structural.ts';
import {
  CLEANUP_FINALIZER,
  CRD_GROUP,
  CRD_RESOURCE,
  isEstablished,
  type CRDNames,
  type CRDSpec,
  type CRDVersion,
  type CustomResourceDefinition,
  type JSONSchemaProps,
} from '../../apiextensions/types.ts';
import { ALL_VERBS, type Strategy } from '../types.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation/names.ts';

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];

function specOf(obj: KObject): Partial<CRDSpec> {
  return isPlainObject(obj['spec']) ? (obj['spec'] as Partial<CRDSpec>) : {};
}

function dns1035(value: string | undefined, field: string, required: boolean, prefix = ''): FieldError[] {
  if (!value) return required ? [fieldErr.required(field, '')] : [];
  const errs = isDNS1035Label(prefix ? value.toLowerCase() : value);
  return errs.length ? [fieldErr.invalid(field, value, prefix + errs.join(','))] : [];
}

function validateNames(names: CRDNames | undefined): FieldError[] {
  const n = names ?? {};
  const p = 'spec.names';
  const errs = [
    ...dns1035(n.plural, `${p}.plural`, true),
    ...dns1035(n.singular, `${p}.singular`, true),
    ...dns1035(n.kind, `${p}.kind`, true, 'may have mixed case, but should otherwise match: '),
    ...dns1035(n.listKind, `${p}.listKind`, true, 'may have mixed case, but should otherwise match: '),
  ];
  if (n.kind && n.kind === n.listKind)
    errs.push(fieldErr.invalid(`${p}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  (n.shortNames ?? []).forEach((s, i) => errs.push(...dns1035(s, `${p}.shortNames[${i}]`, true)));
  (n.categories ?? []).forEach((s, i) => errs.push(...dns1035(s, `${p}.categories[${i}]`, true)));
  return errs;
}

function validateScalePaths(v: CRDVersion, path: string): FieldError[] {
  const scale = v.subresources?.scale;
  if (!scale) return [];
  const errs: FieldError[] = [];
  const check = (field: string, value: string | undefined, roots: string[], required: boolean): void => {
    if (!value) {
      if (required) errs.push(fieldErr.required(`${path}.${field}`, ''));
      return;
    }
    const steps = parseJSONPath(value);
    const ok = steps && steps.every((s) => 'key' in s) && roots.some((r) => value.startsWith(`.${r}.`));
    if (!ok)
      errs.push(
        fieldErr.invalid(
          `${path}.${field}`,
          value,
          `should be a json path under ${roots.map((r) => `.${r}`).join(' or ')}`,
        ),
      );
  };
  check('specReplicasPath', scale.specReplicasPath, ['spec'], true);
  check('statusReplicasPath', scale.statusReplicasPath, ['status'], true);
  check('labelSelectorPath', scale.labelSelectorPath, ['spec', 'status'], false);
  return errs;
}

/** The schema node a plain dotted path leads to. */
function schemaAt(schema: JSONSchemaProps | undefined, path: string): JSONSchemaProps | undefined {
  const steps = parseJSONPath(path);
  if (!steps?.every((s) => 'key' in s)) return undefined;
  let node = schema;
  for (const s of steps as { key: string }[]) node = node?.properties?.[s.key];
  return node;
}

function validateSelectableFields(v: CRDVersion, path: string): FieldError[] {
  const fields = v.selectableFields ?? [];
  const errs: FieldError[] = [];
  if (fields.length > 8) errs.push(fieldErr.tooMany(path, fields.length, 8));
  const seen = new Set<string>();
  fields.forEach((f, j) => {
    const p = `${path}[${j}].jsonPath`;
    if (!f.jsonPath) return errs.push(fieldErr.required(p, ''));
    if (seen.has(f.jsonPath)) errs.push(fieldErr.duplicate(p, f.jsonPath));
    seen.add(f.jsonPath);
    const node = schemaAt(v.schema?.openAPIV3Schema, f.jsonPath);
    if (!node)
      errs.push(fieldErr.invalid(p, f.jsonPath, 'is an invalid path: must refer to a field in the schema'));
    else if (!['string', 'integer', 'boolean'].includes(node.type ?? ''))
      errs.push(fieldErr.invalid(p, f.jsonPath, 'must point to a field of type string, boolean or integer'));
  });
  return errs;
}

function validateVersion(v: CRDVersion, i: number): FieldError[] {
  const p = `spec.versions[${i}]`;
  const errs = dns1035(v.name, `${p}.name`, true);
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) errs.push(fieldErr.required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
  else errs.push(...structuralErrors(schema, `${p}.schema.openAPIV3Schema`));
  errs.push(...validateScalePaths(v, `${p}.subresources.scale`));
  errs.push(...validateSelectableFields(v, `${p}.selectableFields`));
  (v.additionalPrinterColumns ?? []).forEach((c, j) => {
    const cp = `${p}.additionalPrinterColumns[${j}]`;
    if (!c.name) errs.push(fieldErr.required(`${cp}.name`, ''));
    if (!c.type) errs.push(fieldErr.required(`${cp}.type`, ''));
    else if (!COLUMN_TYPES.includes(c.type))
      errs.push(fieldErr.notSupported(`${cp}.type`, c.type, COLUMN_TYPES));
    if (!c.jsonPath) errs.push(fieldErr.required(`${cp}.jsonPath`, ''));
    else if (!parseJSONPath(c.jsonPath))
      errs.push(fieldErr.invalid(`${cp}.jsonPath`, c.jsonPath, 'must be a simple json path starting with .'));
    if (c.priority !== undefined && c.priority < 0)
      errs.push(fieldErr.invalid(`${cp}.priority`, c.priority, 'must be greater than or equal to 0'));
  });
  return errs;
}

export function validateCRD(crd: CustomResourceDefinition): FieldError[] {
  const spec = specOf(crd);
  const errs: FieldError[] = [];
  const group = spec.group ?? '';
  if (!group) errs.push(fieldErr.required('spec.group', ''));
  else {
    const dns = isDNS1123Subdomain(group);
    if (dns.length) errs.push(fieldErr.invalid('spec.group', group, dns.join(',')));
    else if (!group.includes('.'))
      errs.push(fieldErr.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const plural = spec.names?.plural ?? '';
  if (crd.metadata.name !== `${plural}.${group}`)
    errs.push(
      fieldErr.invalid('metadata.name', crd.metadata.name ?? '', 'must be spec.names.plural+"."+spec.group'),
    );
  if (!spec.scope) errs.push(fieldErr.required('spec.scope', ''));
  else if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    errs.push(fieldErr.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  errs.push(...validateNames(spec.names));
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (!versions.length)
    errs.push(fieldErr.required('spec.versions', 'must have exactly one version marked as storage version'));
  else {
    const storage = versions.filter((v) => v.storage).length;
    if (storage !== 1)
      errs.push({
        type: 'FieldValueInvalid',
        field: 'spec.versions',
        value: versions.map((v) => v.name),
        detail: 'must have exactly one version marked as storage version',
      });
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      if (seen.has(v.name)) errs.push(fieldErr.duplicate(`spec.versions[${i}].name`, v.name));
      seen.add(v.name);
      errs.push(...validateVersion(v, i));
    });
  }
  const strategy = spec.conversion?.strategy ?? 'None';
  if (strategy === 'Webhook')
    errs.push(
      fieldErr.forbidden(
        'spec.conversion.strategy',
        'Webhook conversion is not supported by this server; use None',
      ),
    );
  else if (strategy !== 'None')
    errs.push(fieldErr.notSupported('spec.conversion.strategy', strategy, ['None', 'Webhook']));
  if (spec.preserveUnknownFields === true)
    errs.push(
      fieldErr.invalid(
        'spec.preserveUnknownFields',
        true,
        'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
      ),
    );
  const names = new Set(versions.map((v) => v.name));
  (crd.status?.storedVersions ?? []).forEach((v, i) => {
    if (!names.has(v))
      errs.push(fieldErr.invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  return errs;
}

function addStoredVersion(crd: CustomResourceDefinition): void {
  const storage = (specOf(crd).versions ?? []).find((v) => v.storage)?.name;
  if (!storage) return;
  const status = (crd.status ??= {});
  const stored = (status.storedVersions ??= []);
  if (!stored.includes(storage)) stored.push(storage);
}

export const customResourceDefinitionStrategy: Strategy = {
  info: {
    group: CRD_GROUP,
    version: 'v1',
    resource: CRD_RESOURCE,
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    verbs: ALL_VERBS,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
  },
  hasStatus: true,
  tracksGeneration: true,
  defaults(obj) {
    const spec = specOf(obj);
    const names = spec.names;
    if (names && typeof names.kind === 'string' && names.kind) {
      names.singular ||= names.kind.toLowerCase();
      names.listKind ||= `${names.kind}List`;
    }
    if (isPlainObject(obj['spec'])) spec.conversion = { strategy: 'None', ...(spec.conversion ?? {}) };
  },
  prepareForCreate(obj) {
    const crd = obj as CustomResourceDefinition;
    crd.status = {};
    addStoredVersion(crd);
  },
  // DELETE of a live CRD only marks it and adds the cleanup finalizer (as the CRD registry's Delete);
  // the CRD controller deletes the instances, then removes the finalizer, which completes the deletion.
  holdsDeletion: (obj) => !obj.metadata.deletionTimestamp,
  markDeleting(obj) {
    const fins = obj.metadata.finalizers ?? [];
    if (!fins.includes(CLEANUP_FINALIZER)) obj.metadata.finalizers = [...fins, CLEANUP_FINALIZER];
  },
  prepareForUpdate(obj) {
    addStoredVersion(obj as CustomResourceDefinition);
  },
  validate: (obj) => validateCRD(obj as CustomResourceDefinition),
  validateUpdate(obj, old) {
    const o = old as CustomResourceDefinition;
    if (!isEstablished(o)) return [];
    return immutable('spec.scope', specOf(o).scope, specOf(obj).scope);
  },
  validateStatusUpdate: (obj) =>
    validateCRD(obj as CustomResourceDefinition).filter((e) => e.field.startsWith('status.')),
};
