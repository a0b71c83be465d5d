/**
 * OpenAPI v3 documents (`GET /openapi/v3` and `/openapi/v3/<api|apis/group>/<version>`), built from the
 * served resources and the generated definitions. See docs kubectl-compat.md §2: every PATCH operation carries
 * x-kubernetes-group-version-kind and the fieldValidation query parameter (so kubectl leaves validation to
 * the server), and PATCH does not list strategic-merge-patch (so kubectl 1.29+ computes apply patches from
 * its compiled-in types, whose patch merge keys our generated schemas do not have).
 */
import type { ResourceInfo } from '../registry/types.ts';
import { contentHash, type Definitions, gvPath, refName, type Schema } from './definitions.ts';
import { groupVersionOperations, type Operation, PATCH_CONTENT_TYPES, type PathItem } from './operations.ts';

export interface OpenAPIv3Index {
  paths: Record<string, { serverRelativeURL: string }>;
}

export interface OpenAPIv3Docs {
  index: OpenAPIv3Index;
  /** Keyed by `api/v1`, `apis/apps/v1`, …: the document JSON and its content hash. */
  docs: Map<string, { json: string; hash: string }>;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/** Rewrites `#/definitions/X` refs to `#/components/schemas/X`, and `$ref` + siblings to `allOf` like upstream. */
function toV3(s: Schema): Json {
  const out: { [k: string]: Json } = {};
  if (s.$ref) {
    const ref = `#/components/schemas/${refName(s.$ref)}`;
    const rest = Object.keys(s).filter((k) => k !== '$ref');
    if (rest.length === 0) return { $ref: ref };
    out.allOf = [{ $ref: ref }];
  }
  for (const [k, v] of Object.entries(s) as [keyof Schema, unknown][]) {
    if (k === '$ref' || v === undefined) continue;
    if (k === 'items') out.items = toV3(v as Schema);
    else if (k === 'additionalProperties')
      out.additionalProperties = typeof v === 'boolean' ? v : toV3(v as Schema);
    else if (k === 'properties')
      out.properties = Object.fromEntries(
        Object.entries(v as Record<string, Schema>).map(([n, p]) => [n, toV3(p)]),
      );
    else if (k === 'allOf') out.allOf = (v as Schema[]).map(toV3);
    else out[k] = v as Json;
  }
  return out;
}

const schemaRef = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

function operationV3(op: Operation, pathParams: string[]): Json {
  const parameters: Json[] = [
    ...pathParams.map((p) => ({
      name: p,
      in: 'path',
      required: true,
      description:
        p === 'namespace'
          ? 'object name and auth scope, such as for teams and projects'
          : 'name of the resource',
      schema: { type: 'string', uniqueItems: true },
    })),
    ...op.query.map((p) => ({
      name: p.name,
      in: 'query',
      description: p.description,
      schema: { type: p.type, uniqueItems: true },
    })),
  ];
  const o: { [k: string]: Json } = {
    tags: [op.gvk.group === '' ? `core_${op.gvk.version}` : `${op.gvk.group}_${op.gvk.version}`],
    description: op.description,
    operationId: op.operationId,
    parameters,
  };
  if (op.body === 'patch') {
    o.requestBody = {
      content: Object.fromEntries(PATCH_CONTENT_TYPES.map((t) => [t, { schema: { type: 'object' } }])),
      required: true,
    };
  } else if (op.body) {
    o.requestBody = { content: Object.fromEntries(['*/*'].map((t) => [t, { schema: schemaRef(op.body!) }])) };
    if (op.method !== 'delete') (o.requestBody as { [k: string]: Json }).required = true;
  }
  const content: Json = Object.fromEntries(JSON_TYPES.map((t) => [t, { schema: schemaRef(op.response) }]));
  const responses: { [k: string]: Json } = { '200': { description: 'OK', content } };
  if (op.created) responses['201'] = { description: 'Created', content };
  if (op.method === 'delete' && op.action === 'delete')
    responses['202'] = { description: 'Accepted', content };
  responses['401'] = { description: 'Unauthorized' };
  o.responses = responses;
  o['x-kubernetes-action'] = op.action;
  o['x-kubernetes-group-version-kind'] = { group: op.gvk.group, version: op.gvk.version, kind: op.gvk.kind };
  return o;
}

function pathItemV3(p: PathItem): Json {
  const item: { [k: string]: Json } = {};
  for (const op of p.operations) item[op.method] = operationV3(op, p.pathParams);
  return item;
}

/**
 * Builds the /openapi/v3 index and one OpenAPI 3.0 document per served group-version.
 * `version` is the advertised gitVersion (e.g. `v1.30.0`), used as info.version.
 */
export function buildOpenAPIv3(
  resources: readonly ResourceInfo[],
  defs: Definitions,
  version = 'v1.30.0',
): OpenAPIv3Docs {
  const docs = new Map<string, { json: string; hash: string }>();
  const index: OpenAPIv3Index = { paths: {} };
  for (const gv of groupVersionOperations(resources, defs)) {
    const key = gvPath(gv.group, gv.version);
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version },
      paths: Object.fromEntries(gv.paths.map((p) => [p.path, pathItemV3(p)])),
      components: {
        schemas: Object.fromEntries(Object.entries(gv.schemas).map(([n, s]) => [n, toV3(s)])),
        securitySchemes: {
          BearerToken: {
            type: 'apiKey',
            description: 'Bearer Token authentication',
            name: 'authorization',
            in: 'header',
          },
        },
      },
      security: [{ BearerToken: [] }],
    };
    const json = JSON.stringify(doc);
    const hash = contentHash(json);
    docs.set(key, { json, hash });
    index.paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { index, docs };
}
