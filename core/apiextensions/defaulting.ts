/**
 * Structural defaulting: a missing field whose schema has `default` gets a copy of it (and so does a
 * null one that is not nullable), top-down, so defaults inside a defaulted object apply too.
 */
import { deepCopy, isPlainObject } from '../api/object.ts';
import { additionalOf, itemsOf } from './schema-walk.ts';
import type { JSONSchemaProps } from './types.ts';

export function applyDefaults(v: unknown, s: JSONSchemaProps): void {
  if (Array.isArray(v)) {
    const items = itemsOf(s);
    if (items) for (const item of v) applyDefaults(item, items);
    return;
  }
  if (!isPlainObject(v)) return;
  for (const [k, prop] of Object.entries(s.properties ?? {})) {
    const missing = v[k] === undefined || (v[k] === null && !prop.nullable);
    if (missing && prop.default !== undefined) v[k] = deepCopy(prop.default);
  }
  const extra = additionalOf(s);
  for (const [k, child] of Object.entries(v)) {
    const prop = s.properties?.[k] ?? extra;
    if (prop) applyDefaults(child, prop);
  }
}
