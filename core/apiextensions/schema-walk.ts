/** Small helpers shared by validation, pruning and defaulting over a JSONSchemaProps tree. */
import type { JSONSchemaProps } from './types.ts';

/** The single items schema of an array node (structural schemas never use the tuple form). */
export function itemsOf(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return Array.isArray(s.items) ? undefined : s.items;
}

/** The additionalProperties schema, when it is one (not a boolean). */
export function additionalOf(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** Field path of a child: `spec.replicas`, `spec.items[0]`. */
export function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The JSON type name of a value as go-openapi reports it (integer vs number for numbers). */
export function jsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}
