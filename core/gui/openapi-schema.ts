/**
 * The manifest editor's JSON Schema, derived from the cluster's own OpenAPI v3 (`GET /openapi/v3` and
 * the group-version documents it lists), so completion and validation follow whatever the cluster
 * serves. One schema covers a whole multi-document manifest: for each requested apiVersion/kind an
 * `if {apiVersion, kind} then $ref <its type>` branch. Converted from OpenAPI to JSON Schema draft-07:
 * `#/components/schemas/X` → `#/definitions/X`; objects with properties refuse unknown fields (the
 * API server's strict field validation) unless x-kubernetes-preserve-unknown-fields; int-or-string
 * becomes integer|string; `nullable` and date-time (Time) allow null.
 */
import type { EditorSchema, GroupVersionKind, JsonSchema, JsonValue } from './contract.ts';
import { splitApiVersion, type KubeClient } from './kube-client.ts';

type Json = JsonValue;
type JsonObject = { [key: string]: Json };

interface OpenAPIDoc {
  components?: { schemas?: Record<string, JsonObject> };
}

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const REF_PREFIX = '#/components/schemas/';

/** The key of a group-version in the /openapi/v3 index: `api/v1`, `apis/apps/v1`. */
export function openapiPathOf(apiVersion: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** The component schema's name for a GVK (by x-kubernetes-group-version-kind), if the document has it. */
export function schemaNameFor(doc: OpenAPIDoc, gvk: GroupVersionKind): string | undefined {
  const { group, version } = splitApiVersion(gvk.apiVersion);
  for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) {
    const list = s['x-kubernetes-group-version-kind'];
    const entries = Array.isArray(list) ? list : isObject(list) ? [list] : [];
    if (
      entries.some(
        (e) =>
          isObject(e) && (e['group'] ?? '') === group && e['version'] === version && e['kind'] === gvk.kind,
      )
    )
      return name;
  }
  return undefined;
}

/** One OpenAPI schema node → JSON Schema draft-07 (recursively). */
export function toJsonSchema(s: Json): Json {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!isObject(s)) return s;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string')
      out[k] = v.startsWith(REF_PREFIX) ? `#/definitions/${v.slice(REF_PREFIX.length)}` : v;
    else if (k === 'properties' && isObject(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, toJsonSchema(ps)]));
    else if (k === 'items' || k === 'additionalProperties' || k === 'not') out[k] = toJsonSchema(v);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = toJsonSchema(v);
    else if (k === 'nullable' || k === 'x-kubernetes-group-version-kind') continue;
    else out[k] = v;
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    delete out['type'];
    delete out['format'];
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  // A null optional field means "unset" to the API server; Time fields come back as null (e.g. a pod
  // template's metadata.creationTimestamp), so an object as read must validate as written.
  if ((s['nullable'] === true || s['format'] === 'date-time') && typeof out['type'] === 'string')
    out['type'] = [out['type'], 'null'];
  if (
    isObject(s['properties']) &&
    s['additionalProperties'] === undefined &&
    s['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out['additionalProperties'] = false;
  return out;
}

function refsOf(s: Json, found: Set<string>): void {
  if (Array.isArray(s)) for (const x of s) refsOf(x, found);
  else if (isObject(s))
    for (const [k, v] of Object.entries(s)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX))
        found.add(v.slice(REF_PREFIX.length));
      else refsOf(v, found);
    }
}

/** The editor schema for `kinds`, given their group-version documents (keyed by openapiPathOf). */
export function buildEditorSchema(
  kinds: GroupVersionKind[],
  docs: ReadonlyMap<string, OpenAPIDoc>,
): EditorSchema {
  const definitions: JsonObject = {};
  const branches: Json[] = [];
  const found: GroupVersionKind[] = [];
  const missing: GroupVersionKind[] = [];
  for (const gvk of kinds) {
    const doc = docs.get(openapiPathOf(gvk.apiVersion));
    const root = doc ? schemaNameFor(doc, gvk) : undefined;
    const all = doc?.components?.schemas ?? {};
    if (!root) {
      missing.push(gvk);
      continue;
    }
    found.push(gvk);
    // Every schema reachable from the root, converted once (names are unique across documents).
    const todo = [root];
    while (todo.length) {
      const name = todo.pop()!;
      if (definitions[name] !== undefined) continue;
      const s = all[name];
      if (!s) continue;
      definitions[name] = toJsonSchema(s);
      const refs = new Set<string>();
      refsOf(s, refs);
      todo.push(...refs);
    }
    branches.push({
      if: {
        properties: { apiVersion: { const: gvk.apiVersion }, kind: { const: gvk.kind } },
        required: ['apiVersion', 'kind'],
      },
      then: { $ref: `#/definitions/${root}` },
    });
  }
  const schema: JsonSchema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { type: 'string', description: 'The API group and version, e.g. v1 or apps/v1.' },
      kind: { type: 'string', description: 'The kind of object, e.g. Deployment.' },
    },
    allOf: branches,
    definitions,
  };
  return { schema, found, missing };
}

/** Per client: the group-version documents fetched so far, by their URL (which carries a content hash). */
const cache = new WeakMap<KubeClient, Map<string, Promise<OpenAPIDoc>>>();

/** The editor schema for `kinds` from the cluster behind `client`. */
export async function editorSchema(client: KubeClient, kinds: GroupVersionKind[]): Promise<EditorSchema> {
  let docs = cache.get(client);
  if (!docs) cache.set(client, (docs = new Map()));
  const index = await client.request<{ paths?: Record<string, { serverRelativeURL?: string }> }>(
    'GET',
    '/openapi/v3',
  );
  const byPath = new Map<string, OpenAPIDoc>();
  for (const path of new Set(kinds.map((k) => openapiPathOf(k.apiVersion)))) {
    const url = index.paths?.[path]?.serverRelativeURL;
    if (!url) continue;
    let p = docs.get(url);
    if (!p) {
      p = client.request<OpenAPIDoc>('GET', url);
      docs.set(url, p);
      p.catch(() => docs.delete(url));
    }
    byPath.set(path, await p);
  }
  return buildEditorSchema(kinds, byPath);
}
