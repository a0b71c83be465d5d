/**
 * The generated OpenAPI definitions (core/openapi/generated/definitions.json, written by
 * bin/build-schemas.mjs from @kubernetes/client-node's model typings) and helpers shared by the v2 and v3
 * document builders.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResourceInfo } from '../registry/types.ts';

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** One JSON schema node as the generator writes it (a subset of OpenAPI 2/3 schema). */
export interface Schema {
  description?: string;
  type?: string;
  format?: string;
  $ref?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  allOf?: Schema[];
  'x-kubernetes-group-version-kind'?: GVK[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Definition name (e.g. `io.k8s.api.core.v1.PodSpec`) → schema; `$ref`s are `#/definitions/<name>`. */
export type Definitions = Record<string, Schema>;

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const GENERATED = fileURLToPath(new URL('./generated/definitions.json', import.meta.url));
const GENERATOR = fileURLToPath(new URL('../../bin/build-schemas.mjs', import.meta.url));

let loaded: Definitions | undefined;

/** Loads the generated definitions, running bin/build-schemas.mjs first when the file is missing. */
export function loadDefinitions(): Definitions {
  if (loaded) return loaded;
  if (!existsSync(GENERATED)) {
    const r = spawnSync(process.execPath, [GENERATOR, '--quiet'], { encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(GENERATED))
      throw new Error(
        `could not generate ${GENERATED}: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`,
      );
  }
  loaded = JSON.parse(readFileSync(GENERATED, 'utf8')) as Definitions;
  return loaded;
}

export function refName(ref: string): string {
  return ref.replace(/^#\/(definitions|components\/schemas)\//, '');
}

/** Stable content hash, in the style kube-apiserver uses for `?hash=` (upper-case hex SHA-512). */
export function contentHash(text: string): string {
  return createHash('sha512').update(text).digest('hex').toUpperCase();
}

/** `api/v1` or `apis/<group>/<version>`. */
export function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const gvkKey = (g: GVK): string => `${g.group}/${g.version}/${g.kind}`;

/** Index of definitions by their x-kubernetes-group-version-kind. */
export class DefinitionIndex {
  private readonly byGVK = new Map<string, string>();

  constructor(readonly defs: Definitions) {
    for (const [name, s] of Object.entries(defs))
      for (const g of s['x-kubernetes-group-version-kind'] ?? [])
        if (!this.byGVK.has(gvkKey(g))) this.byGVK.set(gvkKey(g), name);
  }

  nameOf(gvk: GVK): string | undefined {
    return this.byGVK.get(gvkKey(gvk));
  }
}

/** Reverse-DNS definition name for a kind the generated definitions do not know (like CRD schemas). */
export function syntheticName(gvk: GVK): string {
  const group = gvk.group === '' ? 'core' : gvk.group.split('.').reverse().join('.');
  return `${group}.${gvk.version}.${gvk.kind}`;
}

/**
 * The schemas a set of resources needs: for each resource its kind and list kind (known definitions, or
 * permissive synthetic ones for kinds the generated definitions lack), the meta types every document
 * references, plus everything reachable from them. Returns names in a stable order.
 */
export function schemasFor(
  resources: readonly ResourceInfo[],
  defs: Definitions,
  extraRoots: readonly string[] = [],
): { schemas: Definitions; kindName: (r: ResourceInfo) => string; listName: (r: ResourceInfo) => string } {
  const index = new DefinitionIndex(defs);
  const synthetic: Definitions = {};
  const nameFor = (gvk: GVK, list: boolean): string => {
    const known = index.nameOf(gvk);
    if (known) return known;
    const name = syntheticName(gvk);
    synthetic[name] ??= list
      ? {
          description: `${gvk.kind} is a list of ${gvk.kind.replace(/List$/, '')} objects.`,
          type: 'object',
          properties: {
            apiVersion: {
              description: 'APIVersion defines the versioned schema of this representation of an object.',
              type: 'string',
            },
            items: {
              type: 'array',
              items: {
                $ref: `#/definitions/${syntheticName({ ...gvk, kind: gvk.kind.replace(/List$/, '') })}`,
              },
            },
            kind: {
              description: 'Kind is a string value representing the REST resource this object represents.',
              type: 'string',
            },
            metadata: { $ref: `#/definitions/${META}.ListMeta` },
          },
          required: ['items'],
          'x-kubernetes-group-version-kind': [gvk],
        }
      : {
          description: `${gvk.kind} (${gvk.group || 'core'}/${gvk.version}).`,
          type: 'object',
          properties: {
            apiVersion: {
              description: 'APIVersion defines the versioned schema of this representation of an object.',
              type: 'string',
            },
            kind: {
              description: 'Kind is a string value representing the REST resource this object represents.',
              type: 'string',
            },
            metadata: { $ref: `#/definitions/${META}.ObjectMeta` },
          },
          'x-kubernetes-group-version-kind': [gvk],
          'x-kubernetes-preserve-unknown-fields': true,
        };
    return name;
  };
  const kindName = (r: ResourceInfo): string =>
    nameFor({ group: r.group, version: r.version, kind: r.kind }, false);
  const listName = (r: ResourceInfo): string => {
    kindName(r);
    return nameFor({ group: r.group, version: r.version, kind: r.listKind ?? `${r.kind}List` }, true);
  };
  const roots = [...extraRoots];
  for (const r of resources) roots.push(kindName(r), listName(r));
  const all: Definitions = { ...defs, ...synthetic };
  const out: Definitions = {};
  const visit = (name: string): void => {
    if (out[name]) return;
    const s = all[name];
    if (!s) return;
    out[name] = s;
    walkRefs(s, visit);
  };
  for (const n of roots) visit(n);
  const schemas = Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]!]),
  );
  return { schemas, kindName, listName };
}

function walkRefs(s: Schema, f: (name: string) => void): void {
  if (s.$ref) f(refName(s.$ref));
  if (s.items) walkRefs(s.items, f);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    walkRefs(s.additionalProperties, f);
  for (const p of Object.values(s.properties ?? {})) walkRefs(p, f);
  for (const a of s.allOf ?? []) walkRefs(a, f);
}

/** Kinds that serve a /scale subresource (autoscaling/v1 Scale) in Kubernetes. */
export const SCALABLE = new Set([
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  '/replicationcontrollers',
]);

/** The subresources (status, scale) a resource is documented with. */
export function subresourcesOf(r: ResourceInfo, kindSchema: Schema | undefined): ('status' | 'scale')[] {
  const out: ('status' | 'scale')[] = [];
  if (kindSchema?.properties?.status && r.verbs.includes('update')) out.push('status');
  if (SCALABLE.has(`${r.group}/${r.resource}`)) out.push('scale');
  return out;
}
