/**
 * Field validation as kube-apiserver's decoder does it: unknown fields are pruned (and reported, which
 * is an error under fieldValidation=Strict and a warning under Warn); a value of the wrong JSON type is a
 * decode error (400) whatever the mode. Driven by our generated schema definitions (core/openapi).
 */
import { isPlainObject, type KObject } from '../api/object.ts';
import type { FieldValidator } from './resource-handlers.ts';
import type { Served } from './resources.ts';

export interface SchemaNode {
  type?: string;
  format?: string;
  $ref?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export type Definitions = Record<string, SchemaNode>;

function refName(ref: string): string {
  return ref.replace(/^#\/(definitions|components\/schemas)\//, '');
}

function goType(node: SchemaNode): string {
  if (node.type === 'integer') return node.format === 'int64' ? 'int64' : 'int32';
  if (node.type === 'number') return 'float64';
  if (node.type === 'boolean') return 'bool';
  if (node.type === 'array') return '[]' + (node.items ? goType(node.items) : 'interface {}');
  if (node.type === 'string') return 'string';
  return 'map[string]interface {}';
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

export class SchemaFieldValidator implements FieldValidator {
  private readonly byGVK = new Map<string, string>();

  constructor(private readonly defs: Definitions) {
    for (const [name, def] of Object.entries(defs)) {
      for (const g of def['x-kubernetes-group-version-kind'] ?? [])
        this.byGVK.set(`${g.group}/${g.version}/${g.kind}`, name);
    }
  }

  private resolve(node: SchemaNode): SchemaNode | undefined {
    let n: SchemaNode | undefined = node;
    for (let i = 0; n?.$ref && i < 10; i++) n = this.defs[refName(n.$ref)];
    return n;
  }

  check(s: Served, obj: KObject): { unknown: string[]; invalid: string[] } {
    const i = s.strategy.info;
    const name = this.byGVK.get(`${i.group}/${i.version}/${i.kind}`);
    const unknown: string[] = [];
    const invalid: string[] = [];
    if (!name) return { unknown, invalid };
    const root = this.defs[name]!;
    const short = name.split('.').pop()!;
    this.walk(obj, root, '', short, unknown, invalid);
    return { unknown, invalid };
  }

  private walk(
    value: unknown,
    node: SchemaNode,
    path: string,
    owner: string,
    unknown: string[],
    invalid: string[],
  ): void {
    if (value === null || value === undefined) return; // null means unset in Kubernetes' decoder
    const n = this.resolve(node);
    if (!n || n['x-kubernetes-preserve-unknown-fields']) return;
    const typeError = (want: SchemaNode): void => {
      invalid.push(
        `json: cannot unmarshal ${jsonType(value) === 'object' ? 'object' : jsonType(value)} into Go struct field ${owner}.${path} of type ${goType(want)}`,
      );
    };
    if (n['x-kubernetes-int-or-string'] || n.format === 'int-or-string') {
      if (typeof value !== 'string' && typeof value !== 'number') typeError({ type: 'string' });
      return;
    }
    if (n.format === 'quantity') {
      if (typeof value !== 'string' && typeof value !== 'number') typeError({ type: 'string' });
      return;
    }
    switch (n.type) {
      case 'string':
        if (typeof value !== 'string') typeError(n);
        return;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) typeError(n);
        return;
      case 'number':
        if (typeof value !== 'number') typeError(n);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') typeError(n);
        return;
      case 'array':
        if (!Array.isArray(value)) return typeError(n);
        if (n.items)
          value.forEach((v, idx) => this.walk(v, n.items!, `${path}[${idx}]`, owner, unknown, invalid));
        return;
      default:
        break;
    }
    // object
    if (!n.properties && (n.additionalProperties === undefined || n.additionalProperties === true)) return; // free-form
    if (!isPlainObject(value)) return typeError(n);
    if (n.properties) {
      for (const key of Object.keys(value)) {
        const child = n.properties[key];
        const p = path ? `${path}.${key}` : key;
        if (!child) {
          if (path === '' && (key === 'apiVersion' || key === 'kind')) continue;
          unknown.push(`unknown field "${p}"`);
          delete value[key];
          continue;
        }
        this.walk(value[key], child, p, owner, unknown, invalid);
      }
    } else if (isPlainObject(n.additionalProperties)) {
      for (const key of Object.keys(value))
        this.walk(value[key], n.additionalProperties, `${path}[${key}]`, owner, unknown, invalid);
    }
  }
}
