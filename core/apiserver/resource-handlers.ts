/**
 * REST handlers for resource requests: get, list, watch, create, update, patch, delete,
 * deletecollection and the generic subresources (status, scale, binding, eviction, finalize).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deepCopy, isPlainObject, type KObject } from '../api/object.ts';
import { errors, StatusError, successStatus } from '../api/status.ts';
import type { RequestContext } from '../registry/types.ts';
import { decodeBody, decodePatch, type ProtobufDecoder } from './body.ts';
import { type DeleteOptions, type GenericRegistry, groupResource } from './generic-registry.ts';
import { readBody, sendJSON, warningHeader } from './http-util.ts';
import { mediaType, negotiateResource } from './negotiate.ts';
import { boolParam, type RequestInfo } from './request-info.ts';
import type { Served } from './resources.ts';
import { parseIncludeObject, toTable } from './table.ts';
import { serveWatch } from './watch-stream.ts';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

/** Applies a patch document. For apply patches it also maintains managedFields. */
export interface Patcher {
  patch(
    type: PatchType,
    current: KObject | undefined,
    patch: unknown,
    s: Served,
    opts: { fieldManager: string; force: boolean; subresource?: string; now: Date },
  ): KObject;
}

/** Field validation against the kind's schema, as the apiserver's decoder does it. */
export interface FieldValidator {
  /**
   * `unknown`: `unknown field "spec.foo"` messages (an error under Strict, a warning under Warn; the
   * fields are pruned in place either way). `invalid`: type errors such as a string where an integer
   * belongs — always a 400, as a failed decode is in Kubernetes.
   */
  check(s: Served, obj: KObject): { unknown: string[]; invalid: string[] };
}

export interface HandlerDeps {
  registry: GenericRegistry;
  protobuf?: ProtobufDecoder;
  patcher?: Patcher;
  fieldValidator?: FieldValidator;
}

type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  throw errors.badRequest(
    `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`,
  );
}

export function dryRunOf(values: string[]): boolean {
  for (const v of values)
    if (v !== 'All') throw errors.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

/**
 * What a PUT or PATCH of a generic-object subresource (scale, ephemeralcontainers) asks for: the decoded
 * body, or `current` with the patch applied as `served` (apply patches are refused there, as upstream).
 * Other verbs are 405.
 */
export async function requestedSubresourceObject(
  req: IncomingMessage,
  verb: string,
  current: KObject,
  served: Served,
  deps: { patcher?: Patcher; protobuf?: ProtobufDecoder },
  gr: { group: string; resource: string },
  now: Date,
): Promise<KObject> {
  if (verb === 'update')
    return decodeBody(
      await readBody(req),
      req.headers['content-type'],
      { apiVersion: served.gv, kind: served.strategy.info.kind },
      deps.protobuf,
    ) as KObject;
  if (verb !== 'patch') throw errors.methodNotSupported(gr, verb);
  const type = mediaType(req.headers['content-type']) as PatchType;
  if (!(PATCH_TYPES as readonly string[]).includes(type) || type === 'application/apply-patch+yaml')
    throw errors.unsupportedMediaType(type, PATCH_TYPES);
  if (!deps.patcher) throw errors.unsupportedMediaType(type, []);
  const doc = decodePatch(await readBody(req), type);
  return deps.patcher.patch(type, deepCopy(current), doc, served, { fieldManager: '', force: false, now });
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw errors.badRequest(`invalid ${name} "${v}"`);
  return n;
}

function userAgentManager(req: IncomingMessage): string {
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0]!.slice(0, 128);
}

export class ResourceHandlers {
  constructor(private readonly d: HandlerDeps) {}

  private get registry(): GenericRegistry {
    return this.d.registry;
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> {
    const sub = info.subresource;
    if (sub) return this.subresource(req, res, info, s, ctx, q);
    switch (info.verb) {
      case 'get':
        return this.get(req, res, info, s, ctx, q);
      case 'list':
        return this.list(req, res, info, s, ctx, q);
      case 'watch':
        return this.watch(req, res, info, s, q);
      case 'create':
        return this.create(req, res, info, s, ctx, q);
      case 'update':
        return this.update(req, res, info, s, ctx, q);
      case 'patch':
        return this.patch(req, res, info, s, ctx, q);
      case 'delete':
        return this.delete(req, res, info, s, ctx);
      case 'deletecollection':
        return this.deleteCollection(req, res, info, s, ctx, q);
      default:
        throw errors.methodNotSupported(groupResource(s), info.verb);
    }
  }

  private checkVerb(s: Served, verb: string): void {
    if (!(s.strategy.info.verbs as readonly string[]).includes(verb))
      throw errors.methodNotSupported(groupResource(s), verb);
  }

  private sendObject(
    req: IncomingMessage,
    res: ServerResponse,
    s: Served,
    obj: KObject,
    code: number,
    q: URLSearchParams,
    warnings: string[] = [],
  ): void {
    const accept = negotiateResource(req.headers.accept);
    if (accept.table && req.method === 'GET') {
      sendJSON(
        res,
        code,
        toTable(
          s,
          [obj],
          { resourceVersion: obj.metadata.resourceVersion },
          parseIncludeObject(q.get('includeObject')),
          new Date(),
        ),
        warningHeader(warnings),
      );
      return;
    }
    if (accept.partialMetadata) {
      sendJSON(
        res,
        code,
        { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
        warningHeader(warnings),
      );
      return;
    }
    sendJSON(res, code, obj, warningHeader(warnings));
  }

  private get(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    _ctx: RequestContext,
    q: URLSearchParams,
  ): void {
    this.checkVerb(s, 'get');
    this.sendObject(req, res, s, this.registry.get(s, info.namespace, info.name), 200, q);
  }

  private list(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): void {
    this.checkVerb(s, 'list');
    const r = this.registry.list(s, info.namespace, {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      limit: intParam(q, 'limit'),
      continue: q.get('continue') || undefined,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    });
    const accept = negotiateResource(req.headers.accept);
    const meta = {
      resourceVersion: r.resourceVersion,
      continue: r.continue,
      remainingItemCount: r.remainingItemCount,
    };
    if (accept.table) {
      sendJSON(res, 200, toTable(s, r.items, meta, parseIncludeObject(q.get('includeObject')), ctx.now));
      return;
    }
    const listMeta = {
      resourceVersion: r.resourceVersion,
      ...(r.continue ? { continue: r.continue } : {}),
      ...(r.remainingItemCount !== undefined ? { remainingItemCount: r.remainingItemCount } : {}),
    };
    if (accept.partialMetadata) {
      sendJSON(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: listMeta,
        items: r.items.map((o) => ({
          kind: 'PartialObjectMetadata',
          apiVersion: 'meta.k8s.io/v1',
          metadata: o.metadata,
        })),
      });
      return;
    }
    sendJSON(res, 200, {
      kind: s.strategy.info.listKind ?? `${s.strategy.info.kind}List`,
      apiVersion: s.gv,
      metadata: listMeta,
      items: r.items,
    });
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    q: URLSearchParams,
  ): void {
    this.checkVerb(s, 'watch');
    let fieldSelector = q.get('fieldSelector') ?? undefined;
    if (info.name) fieldSelector = [fieldSelector, `metadata.name=${info.name}`].filter(Boolean).join(',');
    const sendInitialEvents = boolParam(q, 'sendInitialEvents');
    if (
      sendInitialEvents &&
      (q.get('resourceVersionMatch') !== 'NotOlderThan' || !boolParam(q, 'allowWatchBookmarks'))
    )
      throw errors.invalid('', 'ListOptions', '', [
        {
          type: 'FieldValueForbidden',
          field: 'sendInitialEvents',
          detail:
            'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled and resourceVersionMatch is NotOlderThan and allowWatchBookmarks is true',
        },
      ]);
    const accept = negotiateResource(req.headers.accept);
    serveWatch(this.registry, s, req, res, {
      namespace: info.namespace,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      timeoutSeconds: intParam(q, 'timeoutSeconds'),
      allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
      sendInitialEvents,
      table: accept.table,
      includeObject: parseIncludeObject(q.get('includeObject')),
    });
  }

  private async readObject(
    req: IncomingMessage,
    s: Served,
    q: URLSearchParams,
  ): Promise<{ obj: KObject; warnings: string[] }> {
    const body = await readBody(req);
    const expected = { apiVersion: s.gv, kind: s.strategy.info.kind };
    const obj = decodeBody(body, req.headers['content-type'], expected, this.d.protobuf) as KObject;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    const warnings = this.validateFields(s, obj, fieldValidationOf(q));
    return { obj, warnings };
  }

  private validateFields(s: Served, obj: KObject, mode: FieldValidation): string[] {
    if (!this.d.fieldValidator) return [];
    const { unknown, invalid } = this.d.fieldValidator.check(s, obj);
    const what = `${s.strategy.info.kind} in version "${s.strategy.info.version}" cannot be handled as a ${s.strategy.info.kind}`;
    if (invalid.length) throw errors.badRequest(`${what}: ${invalid.join(', ')}`);
    if (!unknown.length || mode === 'Ignore') return [];
    if (mode === 'Strict') throw errors.badRequest(`${what}: strict decoding error: ${unknown.join(', ')}`);
    return unknown;
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> {
    this.checkVerb(s, 'create');
    const { obj, warnings } = await this.readObject(req, s, q);
    const c = { ...ctx, dryRun: dryRunOf(q.getAll('dryRun')) };
    if (s.strategy.virtualCreate) {
      this.registry.checkTypeAndNamespace(s, obj, info.namespace);
      const out = await s.strategy.virtualCreate(obj, c);
      out.apiVersion = s.gv;
      out.kind = s.strategy.info.kind;
      sendJSON(res, 201, out, warningHeader(warnings));
      return;
    }
    const created = this.registry.create(s, info.namespace, obj, c, {
      fieldManager: q.get('fieldManager') ?? userAgentManager(req),
    });
    sendJSON(res, 201, created, warningHeader([...warnings, ...(c.warnings ?? [])]));
  }

  private async update(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
    subresource?: string,
  ): Promise<void> {
    this.checkVerb(s, 'update');
    const { obj, warnings } = await this.readObject(req, s, q);
    const c = { ...ctx, dryRun: dryRunOf(q.getAll('dryRun')) };
    const r = this.registry.update(s, info.namespace, info.name, obj, c, {
      fieldManager: q.get('fieldManager') ?? userAgentManager(req),
      subresource,
      allowCreate: s.strategy.allowCreateOnUpdate ?? false,
    });
    sendJSON(res, r.created ? 201 : 200, r.object, warningHeader([...warnings, ...(c.warnings ?? [])]));
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
    subresource?: string,
  ): Promise<void> {
    this.checkVerb(s, 'patch');
    const type = mediaType(req.headers['content-type']) as PatchType;
    if (!(PATCH_TYPES as readonly string[]).includes(type))
      throw errors.unsupportedMediaType(type, PATCH_TYPES);
    if (type === 'application/strategic-merge-patch+json' && s.strategy.supportsStrategicMerge === false)
      throw errors.unsupportedMediaType(
        type,
        PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json'),
      );
    if (!this.d.patcher) throw errors.unsupportedMediaType(type, []);
    const body = await readBody(req);
    const doc = decodePatch(body, type);
    const isApply = type === 'application/apply-patch+yaml';
    const fieldManager = q.get('fieldManager') ?? (isApply ? '' : userAgentManager(req));
    if (isApply && !fieldManager)
      throw errors.badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    const force = boolParam(q, 'force');
    if (force && !isApply)
      throw errors.badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
      );
    const mode = fieldValidationOf(q);
    const c = { ...ctx, dryRun: dryRunOf(q.getAll('dryRun')) };
    // Retry on conflicts caused by concurrent writers (the patch itself carries no precondition unless it sets one).
    const admissionWarnings = c.warnings?.length ?? 0;
    for (let attempt = 0; ; attempt++) {
      c.warnings?.splice(admissionWarnings); // a retried attempt warns afresh
      const current = this.registry.tryGet(s, info.namespace, info.name);
      if (!current && !(isApply && !subresource)) throw errors.notFound(groupResource(s), info.name);
      let next: KObject;
      next = this.d.patcher.patch(type, current ? deepCopy(current) : undefined, doc, s, {
        fieldManager,
        force,
        subresource,
        now: ctx.now,
      });
      if (!isPlainObject(next))
        throw errors.badRequest('the patch produced an object that is not a JSON object');
      if (!isPlainObject(next.metadata)) next = { ...next, metadata: {} };
      const warnings = this.validateFields(s, next, mode);
      try {
        if (!current) {
          // Server-side apply of a missing object creates it.
          next.metadata.name ??= info.name;
          if (next.metadata.name !== info.name)
            throw errors.badRequest(
              `the name of the object (${next.metadata.name}) does not match the name on the URL (${info.name})`,
            );
          const created = this.registry.create(s, info.namespace, next, c, {});
          sendJSON(res, 201, created, warningHeader([...warnings, ...(c.warnings ?? [])]));
          return;
        }
        // A resourceVersion in the patch is a precondition; otherwise update against what we read.
        const patchedRV = next.metadata.resourceVersion;
        const expectedRV =
          patchedRV && patchedRV !== current.metadata.resourceVersion
            ? patchedRV
            : current.metadata.resourceVersion;
        next.metadata.resourceVersion = expectedRV;
        const r = this.registry.update(s, info.namespace, info.name, next, c, {
          fieldManager: isApply ? undefined : fieldManager,
          subresource,
        });
        sendJSON(res, 200, r.object, warningHeader([...warnings, ...(c.warnings ?? [])]));
        return;
      } catch (e) {
        const retriable =
          e instanceof StatusError && e.code === 409 && e.reason === 'Conflict' && attempt < 5;
        const hadPrecondition =
          isPlainObject(doc) && isPlainObject(doc['metadata']) && 'resourceVersion' in doc['metadata'];
        if (
          !retriable ||
          hadPrecondition ||
          (e instanceof StatusError && e.message.startsWith('Apply failed'))
        )
          throw e;
      }
    }
  }

  private async readDeleteOptions(req: IncomingMessage): Promise<DeleteOptions> {
    const body = await readBody(req);
    if (!body.length) return {};
    const opts = decodeBody(
      body,
      req.headers['content-type'],
      { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' },
      this.d.protobuf,
    );
    return opts as DeleteOptions;
  }

  private async delete(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
  ): Promise<void> {
    this.checkVerb(s, 'delete');
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const opts = await this.readDeleteOptions(req);
    const gp = intParam(q, 'gracePeriodSeconds');
    if (gp !== undefined) opts.gracePeriodSeconds = gp;
    const pp = q.get('propagationPolicy');
    if (pp) opts.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
    if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy))
      throw errors.badRequest(
        `propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
      );
    const dry = dryRunOf([...(opts.dryRun ?? []), ...q.getAll('dryRun')]);
    const r = this.registry.delete(s, info.namespace, info.name, opts, { ...ctx, dryRun: dry });
    if (!r.gone) {
      sendJSON(res, 200, r.object);
      return;
    }
    sendJSON(
      res,
      200,
      s.strategy.returnDeletedObject
        ? r.object
        : successStatus({
            name: info.name,
            group: s.strategy.info.group,
            kind: s.strategy.info.resource,
            uid: r.object.metadata.uid,
          }),
    );
  }

  private async deleteCollection(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> {
    this.checkVerb(s, 'deletecollection');
    const opts = await this.readDeleteOptions(req);
    const dry = dryRunOf([...(opts.dryRun ?? []), ...q.getAll('dryRun')]);
    const r = this.registry.list(s, info.namespace, {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
    });
    const deleted: KObject[] = [];
    for (const item of r.items) {
      try {
        deleted.push(
          this.registry.delete(s, item.metadata.namespace ?? '', item.metadata.name ?? '', opts, {
            ...ctx,
            dryRun: dry,
          }).object,
        );
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) throw e;
      }
    }
    sendJSON(res, 200, {
      kind: s.strategy.info.listKind ?? `${s.strategy.info.kind}List`,
      apiVersion: s.gv,
      metadata: {},
      items: deleted,
    });
  }

  // ---- subresources ----

  private async subresource(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> {
    const sub = info.subresource;
    const gr = groupResource(s);
    if (sub === 'status' && s.strategy.hasStatus) {
      if (info.verb === 'get') return this.get(req, res, info, s, ctx, q);
      if (info.verb === 'update') return this.update(req, res, info, s, ctx, q, 'status');
      if (info.verb === 'patch') return this.patch(req, res, info, s, ctx, q, 'status');
      throw errors.methodNotSupported({ group: gr.group, resource: `${gr.resource}/status` }, info.verb);
    }
    if (sub === 'scale' && s.strategy.scale) return this.scale(req, res, info, s, ctx, q);
    const extra = this.extraSubresources.get(`${s.strategy.info.group}/${s.strategy.info.resource}/${sub}`);
    if (extra) return extra(req, res, info, s, ctx, q);
    throw errors.pathNotFound();
  }

  /** Handlers for named subresources (binding, eviction, finalize, log, exec…), registered by the server. */
  readonly extraSubresources = new Map<
    string,
    (
      req: IncomingMessage,
      res: ServerResponse,
      info: RequestInfo,
      s: Served,
      ctx: RequestContext,
      q: URLSearchParams,
    ) => Promise<void>
  >();

  private toScale(s: Served, obj: KObject): KObject {
    const sc = s.strategy.scale!;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: sc.specReplicas(obj) },
      status: { replicas: sc.statusReplicas(obj), selector: sc.selector(obj) },
    };
  }

  private async scale(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> {
    const sc = s.strategy.scale!;
    const current = this.registry.get(s, info.namespace, info.name);
    if (info.verb === 'get') {
      sendJSON(res, 200, this.toScale(s, current));
      return;
    }
    const scaleServed: Served = {
      ...s,
      gv: 'autoscaling/v1',
      strategy: {
        ...s.strategy,
        info: { ...s.strategy.info, kind: 'Scale', group: 'autoscaling', version: 'v1' },
      },
    };
    const scale = await requestedSubresourceObject(
      req,
      info.verb,
      this.toScale(s, current),
      scaleServed,
      this.d,
      { group: s.strategy.info.group, resource: `${s.strategy.info.resource}/scale` },
      ctx.now,
    );
    const spec = isPlainObject(scale['spec']) ? scale['spec'] : {};
    const replicas = spec['replicas'];
    if (
      replicas !== undefined &&
      (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    )
      throw errors.invalid('autoscaling', 'Scale', info.name, [
        {
          type: 'FieldValueInvalid',
          field: 'spec.replicas',
          value: replicas,
          detail: 'must be greater than or equal to 0',
        },
      ]);
    const next = deepCopy(current);
    sc.setSpecReplicas(next, typeof replicas === 'number' ? replicas : 0);
    const rv = isPlainObject(scale['metadata'])
      ? (scale['metadata'] as { resourceVersion?: string }).resourceVersion
      : undefined;
    next.metadata.resourceVersion = rv || current.metadata.resourceVersion;
    const c = { ...ctx, dryRun: dryRunOf(q.getAll('dryRun')) };
    const r = this.registry.update(s, info.namespace, info.name, next, c, {
      fieldManager: q.get('fieldManager') ?? userAgentManager(req),
    });
    sendJSON(res, 200, this.toScale(s, r.object));
  }
}

export { StatusError };
