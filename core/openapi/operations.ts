/**
 * The REST operations of a group-version as kube-apiserver documents them, in a neutral form that the
 * OpenAPI v3 (JSON) and v2 (gnostic protobuf) builders both render.
 */
import type { ResourceInfo } from '../registry/types.ts';
import {
  DefinitionIndex,
  META,
  type Definitions,
  type GVK,
  schemasFor,
  subresourcesOf,
} from './definitions.ts';

export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
export type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';

export interface QueryParam {
  name: string;
  type: 'string' | 'integer' | 'boolean';
  description: string;
  uniqueItems?: boolean;
}

export interface Operation {
  method: Method;
  operationId: string;
  description: string;
  action: Action;
  gvk: GVK;
  query: QueryParam[];
  /** Definition name of the request body (put/post/delete), or 'patch' for PATCH's patch document. */
  body?: string;
  /** Definition name of the success response. */
  response: string;
  /** 201 as well as 200 (create, apply-create). */
  created?: boolean;
}

export interface PathItem {
  path: string;
  pathParams: string[];
  operations: Operation[];
}

/** The media types of PATCH; strategic-merge-patch is deliberately absent (kubectl-compat.md §2.3). */
export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
] as const;

const q = (name: string, type: QueryParam['type'], description: string): QueryParam => ({
  name,
  type,
  description,
  uniqueItems: true,
});

const DRY_RUN = q(
  'dryRun',
  'string',
  'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed',
);
const FIELD_MANAGER = q(
  'fieldManager',
  'string',
  'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.',
);
const FIELD_VALIDATION = q(
  'fieldValidation',
  'string',
  'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.',
);
const FORCE = q(
  'force',
  'boolean',
  'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
);
const PRETTY = q('pretty', 'string', "If 'true', then the output is pretty printed.");
const LIST_PARAMS: QueryParam[] = [
  q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  q('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  q(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields. Defaults to everything.',
  ),
  q(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels. Defaults to everything.',
  ),
  q('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  q(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from.',
  ),
  q(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls.',
  ),
  q('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  ),
];
const DELETE_PARAMS: QueryParam[] = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  q(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
  ),
];

function camel(s: string): string {
  return s.replace(/(^|[.-])([a-z])/g, (_m, _p: string, c: string) => c.toUpperCase()).replace(/[.-]/g, '');
}

/** Operation id prefix in Kubernetes' style: `CoreV1`, `AppsV1`, `RbacAuthorizationV1`. */
function idPrefix(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
  return camel(g) + camel(version);
}

export interface GroupVersionOps {
  group: string;
  version: string;
  paths: PathItem[];
  /** Definitions (and everything they reference) the operations use. */
  schemas: Definitions;
}

/** Groups resources by group-version and lists their operations. */
export function groupVersionOperations(
  resources: readonly ResourceInfo[],
  defs: Definitions,
): GroupVersionOps[] {
  const byGV = new Map<string, ResourceInfo[]>();
  for (const r of resources) {
    const k = `${r.group}/${r.version}`;
    const list = byGV.get(k) ?? [];
    list.push(r);
    byGV.set(k, list);
  }
  const index = new DefinitionIndex(defs);
  const scaleName = index.nameOf({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
  const out: GroupVersionOps[] = [];
  for (const list of [...byGV.values()].sort((a, b) => gvOrder(a[0]!, b[0]!))) {
    const first = list[0]!;
    const extra = [`${META}.Status`, `${META}.DeleteOptions`, `${META}.WatchEvent`];
    if (scaleName && list.some((r) => subresourcesOf(r, undefined).includes('scale'))) extra.push(scaleName);
    const { schemas, kindName, listName } = schemasFor(
      list,
      defs,
      extra.filter((n) => defs[n]),
    );
    const paths: PathItem[] = [];
    for (const r of [...list].sort((a, b) => (a.resource < b.resource ? -1 : 1)))
      paths.push(...resourcePaths(r, kindName(r), listName(r), schemas, scaleName));
    out.push({ group: first.group, version: first.version, paths, schemas });
  }
  return out;
}

function gvOrder(a: ResourceInfo, b: ResourceInfo): number {
  const ka = `${a.group === '' ? '' : 'apis/'}${a.group}/${a.version}`;
  const kb = `${b.group === '' ? '' : 'apis/'}${b.group}/${b.version}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function resourcePaths(
  r: ResourceInfo,
  kind: string,
  listKind: string,
  schemas: Definitions,
  scaleName: string | undefined,
): PathItem[] {
  const root = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespaced ? '/namespaces/{namespace}' : '';
  const collection = `${root}${ns}/${r.resource}`;
  const item = `${collection}/{name}`;
  const nsParams = r.namespaced ? ['namespace'] : [];
  const prefix = idPrefix(r.group, r.version);
  const scope = r.namespaced ? 'Namespaced' : '';
  const gvk: GVK = { group: r.group, version: r.version, kind: r.kind };
  const has = (v: string): boolean => (r.verbs as readonly string[]).includes(v);
  const status = `${META}.Status`;
  const paths: PathItem[] = [];

  const coll: Operation[] = [];
  if (has('list'))
    coll.push({
      method: 'get',
      operationId: `list${prefix}${scope}${r.kind}`,
      description: `list or watch objects of kind ${r.kind}`,
      action: 'list',
      gvk,
      query: LIST_PARAMS,
      response: listKind,
    });
  if (has('create'))
    coll.push({
      method: 'post',
      operationId: `create${prefix}${scope}${r.kind}`,
      description: `create a ${r.kind}`,
      action: 'post',
      gvk,
      query: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
      body: kind,
      response: kind,
      created: true,
    });
  if (has('deletecollection'))
    coll.push({
      method: 'delete',
      operationId: `deletecollection${prefix}${scope}${r.kind}`,
      description: `delete collection of ${r.kind}`,
      action: 'deletecollection',
      gvk,
      query: [
        ...DELETE_PARAMS,
        ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'),
      ],
      body: `${META}.DeleteOptions`,
      response: status,
    });
  if (coll.length) paths.push({ path: collection, pathParams: nsParams, operations: coll });

  const one = (target: string, sub: string, k: string, g: GVK): PathItem | undefined => {
    const ops: Operation[] = [];
    const name = `${prefix}${scope}${r.kind}${sub === '' ? '' : sub[0]!.toUpperCase() + sub.slice(1)}`;
    if (has('get'))
      ops.push({
        method: 'get',
        operationId: `read${name}`,
        description: `read the specified ${g.kind}`,
        action: 'get',
        gvk: g,
        query: [],
        response: k,
      });
    if (has('update'))
      ops.push({
        method: 'put',
        operationId: `replace${name}`,
        description: `replace the specified ${g.kind}`,
        action: 'put',
        gvk: g,
        query: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
        body: k,
        response: k,
        created: true,
      });
    if (has('patch'))
      ops.push({
        method: 'patch',
        operationId: `patch${name}`,
        description: `partially update the specified ${g.kind}`,
        action: 'patch',
        gvk: g,
        query: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
        body: 'patch',
        response: k,
        created: true,
      });
    if (sub === '' && has('delete'))
      ops.push({
        method: 'delete',
        operationId: `delete${name}`,
        description: `delete a ${g.kind}`,
        action: 'delete',
        gvk: g,
        query: DELETE_PARAMS,
        body: `${META}.DeleteOptions`,
        response: status,
      });
    return ops.length ? { path: target, pathParams: ['name', ...nsParams], operations: ops } : undefined;
  };
  const main = one(item, '', kind, gvk);
  if (main) paths.push(main);
  for (const sub of subresourcesOf(r, schemas[kind])) {
    const scale = sub === 'scale';
    if (scale && !scaleName) continue;
    const p = one(
      `${item}/${sub}`,
      sub,
      scale ? scaleName! : kind,
      scale ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : gvk,
    );
    if (p) paths.push(p);
  }
  if (r.namespaced && has('list'))
    paths.push({
      path: `${root}/${r.resource}`,
      pathParams: [],
      operations: [
        {
          method: 'get',
          operationId: `list${prefix}${r.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${r.kind}`,
          action: 'list',
          gvk,
          query: LIST_PARAMS,
          response: listKind,
        },
      ],
    });
  for (const p of paths) for (const op of p.operations) op.query = [...op.query, PRETTY];
  return paths;
}
