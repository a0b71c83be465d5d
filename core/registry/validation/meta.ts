/** ObjectMeta validation (ValidateObjectMeta / ValidateObjectMetaUpdate in apimachinery). */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isPathSegmentName,
  isQualifiedName,
  isValidLabelValue,
  TotalAnnotationSizeLimitB,
} from './names.ts';

export type NameRule = 'subdomain' | 'label' | 'path-segment' | 'none';

export function validateName(rule: NameRule, name: string, prefix: boolean): string[] {
  // With generateName, the prefix is validated as if a suffix were appended.
  const v = prefix ? `${name}a` : name;
  switch (rule) {
    case 'subdomain':
      return isDNS1123Subdomain(v);
    case 'label':
      return isDNS1123Label(v);
    case 'path-segment':
      return isPathSegmentName(v);
    case 'none':
      return [];
  }
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (typeof labels !== 'object' || Array.isArray(labels))
    return [fieldErr.typeInvalid(field, labels, 'must be a map')];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const m of isQualifiedName(k)) errs.push(fieldErr.invalid(field, k, m));
    if (typeof v !== 'string') errs.push(fieldErr.typeInvalid(`${field}`, v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) errs.push(fieldErr.invalid(field, v, m));
  }
  return errs;
}

export function validateAnnotations(ann: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ann === undefined || ann === null) return errs;
  if (typeof ann !== 'object' || Array.isArray(ann))
    return [fieldErr.typeInvalid(field, ann, 'must be a map')];
  let total = 0;
  for (const [k, v] of Object.entries(ann as Record<string, unknown>)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErr.invalid(field, k, m));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > TotalAnnotationSizeLimitB) errs.push(fieldErr.tooLong(field, TotalAnnotationSizeLimitB));
  return errs;
}

export function validateObjectMeta(obj: KObject, namespaced: boolean, rule: NameRule): FieldError[] {
  const m = obj.metadata;
  const errs: FieldError[] = [];
  if (!m.name && !m.generateName) {
    errs.push(fieldErr.required('metadata.name', 'name or generateName is required'));
  } else if (m.name) {
    for (const msg of validateName(rule, m.name, false))
      errs.push(fieldErr.invalid('metadata.name', m.name, msg));
  } else if (m.generateName) {
    for (const msg of validateName(rule, m.generateName, true))
      errs.push(fieldErr.invalid('metadata.generateName', m.generateName, msg));
  }
  if (namespaced) {
    if (!m.namespace) errs.push(fieldErr.required('metadata.namespace', ''));
    else
      for (const msg of isDNS1123Label(m.namespace))
        errs.push(fieldErr.invalid('metadata.namespace', m.namespace, msg));
  } else if (m.namespace) {
    errs.push(fieldErr.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  if (m.finalizers) {
    for (const f of m.finalizers) {
      for (const msg of isQualifiedName(f)) errs.push(fieldErr.invalid('metadata.finalizers', f, msg));
    }
  }
  if (m.ownerReferences) {
    m.ownerReferences.forEach((r, i) => {
      const p = `metadata.ownerReferences[${i}]`;
      if (!r.apiVersion)
        errs.push(fieldErr.invalid(`${p}.apiVersion`, r.apiVersion ?? '', 'version must not be empty'));
      if (!r.kind) errs.push(fieldErr.invalid(`${p}.kind`, r.kind ?? '', 'kind must not be empty'));
      if (!r.name) errs.push(fieldErr.invalid(`${p}.name`, r.name ?? '', 'name must not be empty'));
      if (!r.uid) errs.push(fieldErr.invalid(`${p}.uid`, r.uid ?? '', 'uid must not be empty'));
    });
    if (m.ownerReferences.filter((r) => r.controller).length > 1)
      errs.push(
        fieldErr.invalid(
          'metadata.ownerReferences',
          m.ownerReferences,
          'Only one reference can have Controller set to true',
        ),
      );
  }
  return errs;
}

export function validateObjectMetaUpdate(obj: KObject, old: KObject): FieldError[] {
  const n = obj.metadata;
  const o = old.metadata;
  return [
    ...immutable('metadata.name', o.name, n.name),
    ...immutable('metadata.namespace', o.namespace ?? '', n.namespace ?? ''),
    ...immutable('metadata.uid', o.uid, n.uid),
    ...immutable('metadata.creationTimestamp', o.creationTimestamp, n.creationTimestamp),
  ];
}
