/**
 * Validation of a custom resource against its structural openAPIV3Schema, with the wording kube-apiserver
 * uses (go-openapi messages converted to field errors), e.g.
 * `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
 */
import { fieldErr, type FieldError } from '../api/field-errors.ts';
import { isPlainObject } from '../api/object.ts';
import { additionalOf, childPath, itemsOf, jsonTypeName } from './schema-walk.ts';
import type { JSONSchemaProps } from './types.ts';

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

function typeError(path: string, v: unknown, want: string): FieldError {
  const actual = jsonTypeName(v);
  return fieldErr.typeInvalid(path, actual, `${path} in body must be of type ${want}: "${actual}"`);
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function numberChecks(s: JSONSchemaProps, v: number, path: string, errs: FieldError[]): void {
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum))
    errs.push(
      fieldErr.invalid(
        path,
        v,
        `${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`,
      ),
    );
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum))
    errs.push(
      fieldErr.invalid(
        path,
        v,
        `${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`,
      ),
    );
  if (s.multipleOf !== undefined && s.multipleOf !== 0 && !Number.isInteger(v / s.multipleOf))
    errs.push(fieldErr.invalid(path, v, `${path} in body should be a multiple of ${s.multipleOf}`));
}

function stringChecks(s: JSONSchemaProps, v: string, path: string, errs: FieldError[]): void {
  const len = [...v].length;
  if (s.maxLength !== undefined && len > s.maxLength) errs.push(fieldErr.tooLong(path, s.maxLength));
  if (s.minLength !== undefined && len < s.minLength)
    errs.push(fieldErr.invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`));
  if (s.pattern !== undefined) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, 'u');
    } catch {
      re = undefined; // CRD validation refuses bad patterns; be lenient with stored ones
    }
    if (re && !re.test(v))
      errs.push(fieldErr.invalid(path, v, `${path} in body should match '${s.pattern}'`));
  }
}

function arrayChecks(s: JSONSchemaProps, v: unknown[], path: string, errs: FieldError[]): void {
  if (s.maxItems !== undefined && v.length > s.maxItems)
    errs.push(fieldErr.tooMany(path, v.length, s.maxItems));
  if (s.minItems !== undefined && v.length < s.minItems)
    errs.push(fieldErr.invalid(path, v, `${path} in body should have at least ${s.minItems} items`));
  const setLike = s.uniqueItems || s['x-kubernetes-list-type'] === 'set';
  if (setLike) {
    const seen = new Set<string>();
    v.forEach((item, i) => {
      const k = JSON.stringify(item);
      if (seen.has(k)) errs.push(fieldErr.duplicate(`${path}[${i}]`, item));
      seen.add(k);
    });
  }
  const items = itemsOf(s);
  if (items) v.forEach((item, i) => validateValue(item, items, `${path}[${i}]`, errs));
}

function objectChecks(
  s: JSONSchemaProps,
  v: Record<string, unknown>,
  path: string,
  errs: FieldError[],
): void {
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties)
    errs.push(fieldErr.tooMany(path, n, s.maxProperties));
  if (s.minProperties !== undefined && n < s.minProperties)
    errs.push(
      fieldErr.invalid(path, n, `${path} in body should have at least ${s.minProperties} properties`),
    );
  for (const r of s.required ?? [])
    if (v[r] === undefined) errs.push(fieldErr.required(childPath(path, r), ''));
  if (s['x-kubernetes-embedded-resource']) {
    for (const k of ['apiVersion', 'kind'])
      if (typeof v[k] !== 'string' || v[k] === '')
        errs.push(fieldErr.required(childPath(path, k), 'must not be empty'));
  }
  const extra = additionalOf(s);
  for (const [k, child] of Object.entries(v)) {
    const p = childPath(path, k);
    const prop = s.properties?.[k];
    if (prop) validateValue(child, prop, p, errs);
    else if (extra) validateValue(child, extra, p, errs);
  }
}

/** Validates `v` at `path` against schema `s`, appending field errors. */
export function validateValue(v: unknown, s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  if (v === undefined) return;
  if (v === null) {
    if (!s.nullable && s.type) errs.push(typeError(path, v, s.type));
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))))
      errs.push(typeError(path, v, 'integer,string'));
    else if (typeof v === 'string') stringChecks(s, v, path, errs);
    else numberChecks(s, v, path, errs);
    return;
  }
  if (s.type && !typeMatches(s.type, v)) {
    errs.push(typeError(path, v, s.type));
    return;
  }
  if (s.enum && !s.enum.some((e) => sameJSON(e, v)))
    errs.push(
      fieldErr.notSupported(
        path,
        v,
        s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
      ),
    );
  if (typeof v === 'number') numberChecks(s, v, path, errs);
  else if (typeof v === 'string') stringChecks(s, v, path, errs);
  else if (Array.isArray(v)) arrayChecks(s, v, path, errs);
  else if (isPlainObject(v)) objectChecks(s, v, path, errs);
  for (const sub of s.allOf ?? []) validateValue(v, sub, path, errs);
}

/**
 * Validates a whole custom resource (its root; metadata is validated by the generic layer, so only
 * the rest of the object is checked against the schema here).
 */
export function validateCustomResource(obj: Record<string, unknown>, schema: JSONSchemaProps): FieldError[] {
  const errs: FieldError[] = [];
  for (const r of schema.required ?? [])
    if (r !== 'metadata' && r !== 'apiVersion' && r !== 'kind' && obj[r] === undefined)
      errs.push(fieldErr.required(r, ''));
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
    const prop = schema.properties?.[k] ?? additionalOf(schema);
    if (prop) validateValue(v, prop, k, errs);
  }
  return errs;
}
