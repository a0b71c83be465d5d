/**
 * Walking our generated schema definitions (core/openapi/generated) by JSON field, so patch logic knows
 * the type — and so the patch strategy — of every list at any depth.
 */
import { loadDefinitions } from '../openapi/definitions.ts';

export interface SchemaNode {
  type?: string;
  $ref?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}
export type Definitions = Record<string, SchemaNode>;

/** A position in the schema: the definition it belongs to (for patch facts) and its node. */
export interface SchemaPos {
  def?: string;
  node?: SchemaNode;
}

let defs: Definitions | undefined;
const byGVK = new Map<string, string>();

export function definitions(): Definitions {
  if (!defs) {
    defs = loadDefinitions() as Definitions;
    for (const [name, d] of Object.entries(defs))
      for (const g of d['x-kubernetes-group-version-kind'] ?? [])
        byGVK.set(`${g.group}/${g.version}/${g.kind}`, name);
  }
  return defs;
}

/** For tests: use these definitions instead of the generated file. */
export function setDefinitions(d: Definitions): void {
  defs = d;
  byGVK.clear();
  for (const [name, x] of Object.entries(d))
    for (const g of x['x-kubernetes-group-version-kind'] ?? [])
      byGVK.set(`${g.group}/${g.version}/${g.kind}`, name);
}

function deref(node: SchemaNode | undefined): SchemaPos {
  let def: string | undefined;
  let n = node;
  for (let i = 0; n?.$ref && i < 10; i++) {
    def = n.$ref.replace(/^#\/(definitions|components\/schemas)\//, '');
    n = definitions()[def];
  }
  return { def, node: n };
}

export function rootFor(apiVersion: string, kind: string): SchemaPos {
  definitions();
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const def = byGVK.get(`${group}/${version}/${kind}`);
  return def ? { def, node: definitions()[def] } : {};
}

/** The schema of a map field (or of a map value for additionalProperties). */
export function fieldOf(pos: SchemaPos, field: string): SchemaPos {
  const n = pos.node;
  if (!n) return {};
  const p = n.properties?.[field];
  if (p) {
    const d = deref(p);
    return d.def ? d : { def: undefined, node: d.node };
  }
  if (n.additionalProperties && typeof n.additionalProperties === 'object')
    return deref(n.additionalProperties);
  return {};
}

/** The schema of a list's elements. */
export function itemsOf(pos: SchemaPos): SchemaPos {
  return pos.node?.items ? deref(pos.node.items) : {};
}
