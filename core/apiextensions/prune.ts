/**
 * Pruning of fields a structural schema does not specify (apiextensions' structural pruning): unknown
 * fields are removed in place and their paths returned, so the handler can report them as
 * `unknown field "spec.foo"` (an error under fieldValidation=Strict, a warning under Warn).
 * x-kubernetes-preserve-unknown-fields keeps unknown fields of that object; the root and embedded
 * resources keep apiVersion, kind and metadata (pruned to ObjectMeta's fields).
 */
import { isPlainObject } from '../api/object.ts';
import { additionalOf, childPath, itemsOf } from './schema-walk.ts';
import type { JSONSchemaProps } from './types.ts';

const TYPE_META = new Set(['apiVersion', 'kind', 'metadata']);

/** The fields of ObjectMeta: anything else under an object's metadata is pruned. */
const OBJECT_META = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

function pruneMetadata(v: unknown, path: string, unknown: string[]): void {
  if (!isPlainObject(v)) return;
  for (const k of Object.keys(v))
    if (!OBJECT_META.has(k)) {
      unknown.push(childPath(path, k));
      delete v[k];
    }
}

function pruneValue(v: unknown, s: JSONSchemaProps, path: string, unknown: string[]): void {
  if (Array.isArray(v)) {
    const items = itemsOf(s);
    if (items) v.forEach((item, i) => pruneValue(item, items, `${path}[${i}]`, unknown));
    return;
  }
  if (!isPlainObject(v)) return;
  pruneObject(v, s, path, unknown, !!s['x-kubernetes-embedded-resource']);
}

function pruneObject(
  v: Record<string, unknown>,
  s: JSONSchemaProps,
  path: string,
  unknown: string[],
  keepTypeMeta: boolean,
): void {
  const extra = additionalOf(s);
  const preserve = !!s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties === true;
  for (const k of Object.keys(v)) {
    const p = childPath(path, k);
    if (keepTypeMeta && TYPE_META.has(k)) {
      if (k === 'metadata') pruneMetadata(v[k], p, unknown);
      continue;
    }
    const prop = s.properties?.[k] ?? extra;
    if (prop) pruneValue(v[k], prop, p, unknown);
    else if (!preserve) {
      unknown.push(p);
      delete v[k];
    }
  }
}

/** Prunes a custom resource in place; returns the pruned field paths. */
export function pruneCustomResource(obj: Record<string, unknown>, schema: JSONSchemaProps): string[] {
  const unknown: string[] = [];
  pruneObject(obj, schema, '', unknown, true);
  return unknown;
}
