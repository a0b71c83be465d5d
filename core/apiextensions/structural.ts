/**
 * The structural-schema rules apiextensions.k8s.io/v1 requires of every openAPIV3Schema: a type on every
 * specified node (unless x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields says
 * otherwise), an object at the root, only name/generateName under the root metadata, no $ref, single
 * `items` schemas, no properties together with additionalProperties, and defaults that validate.
 */
import { fieldErr, type FieldError } from '../api/field-errors.ts';
import { isPlainObject } from '../api/object.ts';
import { validateValue } from './schema-validate.ts';
import type { JSONSchemaProps } from './types.ts';

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

interface Walk {
  errs: FieldError[];
  /** Below x-kubernetes-preserve-unknown-fields or int-or-string, types may be omitted. */
}

function checkNode(
  s: JSONSchemaProps,
  path: string,
  where: 'root' | 'field' | 'item' | 'additional',
  w: Walk,
): void {
  if (!isPlainObject(s as unknown)) {
    w.errs.push(fieldErr.invalid(path, s, 'must be a schema object'));
    return;
  }
  const intOrString = !!s['x-kubernetes-int-or-string'];
  const preserve = !!s['x-kubernetes-preserve-unknown-fields'];
  if (s.$ref !== undefined) w.errs.push(fieldErr.forbidden(`${path}.$ref`, '$ref is not supported'));
  if (intOrString && s.type)
    w.errs.push(
      fieldErr.invalid(`${path}.type`, s.type, 'must be empty if x-kubernetes-int-or-string is true'),
    );
  if (!s.type && !intOrString && !preserve) {
    const detail =
      where === 'root'
        ? 'must not be empty at the root'
        : where === 'item'
          ? 'must not be empty for specified array items'
          : 'must not be empty for specified object fields';
    w.errs.push(fieldErr.required(`${path}.type`, detail));
  } else if (s.type && !TYPES.includes(s.type)) {
    w.errs.push(fieldErr.notSupported(`${path}.type`, s.type, TYPES));
  }
  if (where === 'root' && s.type && s.type !== 'object')
    w.errs.push(fieldErr.invalid(`${path}.type`, s.type, 'must be object at the root'));
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false)
    w.errs.push(
      fieldErr.forbidden(
        `${path}.additionalProperties`,
        'additionalProperties and properties are mutual exclusive',
      ),
    );
  if (s.properties && s.type && s.type !== 'object')
    w.errs.push(fieldErr.forbidden(`${path}.properties`, 'must be empty when type is not object'));
  if (Array.isArray(s.items))
    w.errs.push(fieldErr.forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  else if (s.items) checkNode(s.items, `${path}.items`, 'item', w);
  else if (s.type === 'array') w.errs.push(fieldErr.required(`${path}.items`, 'must be specified'));
  if (isPlainObject(s.additionalProperties))
    checkNode(s.additionalProperties, `${path}.additionalProperties`, 'additional', w);
  for (const [k, child] of Object.entries(s.properties ?? {})) {
    const p = `${path}.properties[${k}]`;
    if (where === 'root' && k === 'metadata') {
      checkRootMetadata(child, p, w);
      continue;
    }
    checkNode(child, p, 'field', w);
  }
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern, 'u');
    } catch (e) {
      w.errs.push(
        fieldErr.invalid(
          `${path}.pattern`,
          s.pattern,
          `must be a valid regular expression, but isn't: ${(e as Error).message}`,
        ),
      );
    }
  }
  if (s.default !== undefined) {
    if (where === 'root') w.errs.push(fieldErr.forbidden(`${path}.default`, 'must not be set at the root'));
    const errs: FieldError[] = [];
    validateValue(s.default, { ...s, default: undefined }, `${path}.default`, errs);
    w.errs.push(...errs);
  }
}

function checkRootMetadata(s: JSONSchemaProps, path: string, w: Walk): void {
  if (s.type && s.type !== 'object') w.errs.push(fieldErr.invalid(`${path}.type`, s.type, 'must be object'));
  for (const k of Object.keys(s.properties ?? {}))
    if (k !== 'name' && k !== 'generateName')
      w.errs.push(
        fieldErr.forbidden(
          `${path}.properties[${k}]`,
          'must not specify anything other than name and generateName, but metadata is implicitly specified',
        ),
      );
  const other = Object.keys(s).filter((k) => !['type', 'properties', 'description'].includes(k));
  for (const k of other)
    w.errs.push(
      fieldErr.forbidden(
        `${path}.${k}`,
        'must not be specified other than type, properties and description at the root metadata',
      ),
    );
}

/** Structural-schema errors of an openAPIV3Schema at `path` (…schema.openAPIV3Schema). */
export function structuralErrors(schema: JSONSchemaProps, path: string): FieldError[] {
  const w: Walk = { errs: [] };
  checkNode(schema, path, 'root', w);
  return w.errs;
}
