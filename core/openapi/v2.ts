/**
 * `GET /openapi/v2`: the gnostic `openapi_v2.Document` protobuf kubectl 1.27/1.28 require (kubectl-compat.md
 * §2.1/§2.3). Our own encoder over protobufjs' Writer; the field numbers are facts taken from
 * google/gnostic-models openapiv2/OpenAPIv2.proto (no .proto file is shipped).
 *
 * What we serve (decided by testing with kubectl 1.27): swagger, info and `paths` with every operation
 * (the PATCH operations carry x-kubernetes-group-version-kind and the fieldValidation query parameter, so
 * the v2 query-param check also says "the server validates"), but NO `definitions` by default. With
 * definitions, kubectl 1.27/1.28 would (a) compute client-side-apply patches from them — and our generated
 * schemas have no x-kubernetes-patch-merge-key, so lists such as containers would be replaced instead of
 * merged — and (b) validate manifests client-side when the server check fails. Without them kubectl falls
 * back to its compiled-in types, which is correct for built-in kinds. `definitions: true` adds them (for
 * `kubectl explain --output=plaintext-openapiv2`).
 */
import { Writer } from 'protobufjs/minimal.js';
import { stringify } from 'yaml';
import type { ResourceInfo } from '../registry/types.ts';
import { type Definitions, refName, type Schema } from './definitions.ts';
import { groupVersionOperations, type Operation, PATCH_CONTENT_TYPES, type PathItem } from './operations.ts';

export const OPENAPI_V2_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

// Field numbers (gnostic-models openapiv2/OpenAPIv2.proto).
const F = {
  Document: { swagger: 1, info: 2, consumes: 6, produces: 7, paths: 8, definitions: 9 },
  Info: { title: 1, version: 2 },
  Paths: { path: 2 },
  NamedPathItem: { name: 1, value: 2 },
  PathItem: { get: 2, put: 3, post: 4, delete: 5, patch: 8, parameters: 9 },
  Operation: {
    tags: 1,
    description: 3,
    operationId: 5,
    produces: 6,
    consumes: 7,
    parameters: 8,
    responses: 9,
    schemes: 10,
    vendorExtension: 13,
  },
  ParametersItem: { parameter: 1 },
  Parameter: { bodyParameter: 1, nonBodyParameter: 2 },
  BodyParameter: { description: 1, name: 2, in: 3, required: 4, schema: 5 },
  NonBodyParameter: { query: 3, path: 4 },
  QueryParameterSubSchema: { required: 1, in: 2, description: 3, name: 4, type: 6, uniqueItems: 20 },
  PathParameterSubSchema: { required: 1, in: 2, description: 3, name: 4, type: 5, uniqueItems: 19 },
  Responses: { responseCode: 1 },
  NamedResponseValue: { name: 1, value: 2 },
  ResponseValue: { response: 1 },
  Response: { description: 1, schema: 2 },
  SchemaItem: { schema: 1 },
  Definitions: { additionalProperties: 1 },
  NamedSchema: { name: 1, value: 2 },
  Schema: {
    ref: 1,
    format: 2,
    description: 4,
    required: 19,
    additionalProperties: 21,
    type: 22,
    items: 23,
    allOf: 24,
    properties: 25,
    vendorExtension: 31,
  },
  AdditionalPropertiesItem: { schema: 1, boolean: 2 },
  TypeItem: { value: 1 },
  ItemsItem: { schema: 1 },
  Properties: { additionalProperties: 1 },
  NamedAny: { name: 1, value: 2 },
  Any: { yaml: 2 },
} as const;

type Build = (w: Writer) => void;

// wire types: 0 varint, 2 length-delimited
function str(w: Writer, field: number, v: string | undefined): void {
  if (v === undefined || v === '') return;
  w.uint32((field << 3) | 2).string(v);
}
function bool(w: Writer, field: number, v: boolean | undefined): void {
  if (!v) return;
  w.uint32(field << 3).bool(true);
}
function msg(w: Writer, field: number, build: Build): void {
  w.uint32((field << 3) | 2).fork();
  build(w);
  w.ldelim();
}

function namedAny(w: Writer, field: number, name: string, value: unknown): void {
  msg(w, field, (a) => {
    str(a, F.NamedAny.name, name);
    msg(a, F.NamedAny.value, (v) => str(v, F.Any.yaml, stringify(value)));
  });
}

function schema(w: Writer, s: Schema): void {
  if (s.$ref) str(w, F.Schema.ref, `#/definitions/${refName(s.$ref)}`);
  str(w, F.Schema.format, s.format);
  str(w, F.Schema.description, s.description);
  for (const r of s.required ?? []) str(w, F.Schema.required, r);
  const ap = s.additionalProperties;
  if (ap !== undefined)
    msg(w, F.Schema.additionalProperties, (a) => {
      if (typeof ap === 'boolean') a.uint32(F.AdditionalPropertiesItem.boolean << 3).bool(ap);
      else msg(a, F.AdditionalPropertiesItem.schema, (x) => schema(x, ap));
    });
  if (s.type) msg(w, F.Schema.type, (t) => str(t, F.TypeItem.value, s.type));
  if (s.items) msg(w, F.Schema.items, (i) => msg(i, F.ItemsItem.schema, (x) => schema(x, s.items!)));
  for (const a of s.allOf ?? []) msg(w, F.Schema.allOf, (x) => schema(x, a));
  if (s.properties)
    msg(w, F.Schema.properties, (p) => {
      for (const [name, ps] of Object.entries(s.properties!))
        msg(p, F.Properties.additionalProperties, (n) => {
          str(n, F.NamedSchema.name, name);
          msg(n, F.NamedSchema.value, (x) => schema(x, ps));
        });
    });
  const gvk = s['x-kubernetes-group-version-kind'];
  if (gvk) namedAny(w, F.Schema.vendorExtension, 'x-kubernetes-group-version-kind', gvk);
  if (s['x-kubernetes-int-or-string'])
    namedAny(w, F.Schema.vendorExtension, 'x-kubernetes-int-or-string', true);
  if (s['x-kubernetes-preserve-unknown-fields'])
    namedAny(w, F.Schema.vendorExtension, 'x-kubernetes-preserve-unknown-fields', true);
}

function operation(w: Writer, op: Operation, pathParams: string[]): void {
  str(
    w,
    F.Operation.tags,
    op.gvk.group === '' ? `core_${op.gvk.version}` : `${op.gvk.group}_${op.gvk.version}`,
  );
  str(w, F.Operation.description, op.description);
  str(w, F.Operation.operationId, op.operationId);
  for (const t of ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'])
    str(w, F.Operation.produces, t);
  for (const t of op.body === 'patch' ? PATCH_CONTENT_TYPES : ['*/*']) str(w, F.Operation.consumes, t);
  const param = (build: Build): void =>
    msg(w, F.Operation.parameters, (pi) => msg(pi, F.ParametersItem.parameter, build));
  for (const p of pathParams)
    param((pp) =>
      msg(pp, F.Parameter.nonBodyParameter, (nb) =>
        msg(nb, F.NonBodyParameter.path, (x) => {
          bool(x, F.PathParameterSubSchema.required, true);
          str(x, F.PathParameterSubSchema.in, 'path');
          str(
            x,
            F.PathParameterSubSchema.description,
            p === 'namespace'
              ? 'object name and auth scope, such as for teams and projects'
              : 'name of the resource',
          );
          str(x, F.PathParameterSubSchema.name, p);
          str(x, F.PathParameterSubSchema.type, 'string');
          bool(x, F.PathParameterSubSchema.uniqueItems, true);
        }),
      ),
    );
  if (op.body)
    param((pp) =>
      msg(pp, F.Parameter.bodyParameter, (b) => {
        str(b, F.BodyParameter.name, 'body');
        str(b, F.BodyParameter.in, 'body');
        bool(b, F.BodyParameter.required, op.method !== 'delete');
        msg(b, F.BodyParameter.schema, (x) =>
          schema(x, op.body === 'patch' ? { type: 'object' } : { $ref: op.body! }),
        );
      }),
    );
  for (const q of op.query)
    param((pp) =>
      msg(pp, F.Parameter.nonBodyParameter, (nb) =>
        msg(nb, F.NonBodyParameter.query, (x) => {
          str(x, F.QueryParameterSubSchema.in, 'query');
          str(x, F.QueryParameterSubSchema.description, q.description);
          str(x, F.QueryParameterSubSchema.name, q.name);
          str(x, F.QueryParameterSubSchema.type, q.type);
          bool(x, F.QueryParameterSubSchema.uniqueItems, q.uniqueItems);
        }),
      ),
    );
  msg(w, F.Operation.responses, (rs) => {
    for (const code of op.created ? ['200', '201'] : ['200'])
      msg(rs, F.Responses.responseCode, (n) => {
        str(n, F.NamedResponseValue.name, code);
        msg(n, F.NamedResponseValue.value, (rv) =>
          msg(rv, F.ResponseValue.response, (r) => {
            str(r, F.Response.description, code === '201' ? 'Created' : 'OK');
            msg(r, F.Response.schema, (si) =>
              msg(si, F.SchemaItem.schema, (x) => schema(x, { $ref: op.response })),
            );
          }),
        );
      });
  });
  str(w, F.Operation.schemes, 'https');
  namedAny(w, F.Operation.vendorExtension, 'x-kubernetes-action', op.action);
  namedAny(w, F.Operation.vendorExtension, 'x-kubernetes-group-version-kind', {
    group: op.gvk.group,
    kind: op.gvk.kind,
    version: op.gvk.version,
  });
}

function pathItem(w: Writer, p: PathItem): void {
  const order: Operation['method'][] = ['get', 'put', 'post', 'delete', 'patch'];
  for (const m of order)
    for (const op of p.operations)
      if (op.method === m) msg(w, F.PathItem[m], (o) => operation(o, op, p.pathParams));
}

export interface OpenAPIv2Options {
  /** Encode paths (operations with GVK and fieldValidation). Default true. */
  paths?: boolean;
  /** Encode the schema definitions. Default false (see the file comment). */
  definitions?: boolean;
}

/** Encodes the minimal gnostic Document: swagger "2.0" and info {title, version}. */
export function encodeOpenAPIv2Minimal(version: string, title = 'Kubernetes'): Buffer {
  const w = Writer.create();
  str(w, F.Document.swagger, '2.0');
  msg(w, F.Document.info, (i) => {
    str(i, F.Info.title, title);
    str(i, F.Info.version, version);
  });
  return Buffer.from(w.finish());
}

/** The /openapi/v2 protobuf body (Content-Type: OPENAPI_V2_CONTENT_TYPE). */
export function buildOpenAPIv2Protobuf(
  resources: readonly ResourceInfo[],
  defs: Definitions,
  version: string,
  options: OpenAPIv2Options = {},
): Buffer {
  const withPaths = options.paths ?? true;
  const withDefs = options.definitions ?? false;
  const w = Writer.create();
  str(w, F.Document.swagger, '2.0');
  msg(w, F.Document.info, (i) => {
    str(i, F.Info.title, 'Kubernetes');
    str(i, F.Info.version, version);
  });
  if (!withPaths && !withDefs) return Buffer.from(w.finish());
  const gvs = groupVersionOperations(resources, defs);
  if (withPaths)
    msg(w, F.Document.paths, (ps) => {
      for (const gv of gvs)
        for (const p of gv.paths)
          msg(ps, F.Paths.path, (np) => {
            str(np, F.NamedPathItem.name, p.path);
            msg(np, F.NamedPathItem.value, (pi) => pathItem(pi, p));
          });
    });
  if (withDefs) {
    const all: Definitions = {};
    for (const gv of gvs) Object.assign(all, gv.schemas);
    msg(w, F.Document.definitions, (d) => {
      for (const name of Object.keys(all).sort())
        msg(d, F.Definitions.additionalProperties, (n) => {
          str(n, F.NamedSchema.name, name);
          msg(n, F.NamedSchema.value, (x) => schema(x, all[name]!));
        });
    });
  }
  return Buffer.from(w.finish());
}
