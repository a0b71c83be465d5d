/**
 * The in-process client: how components inside the Berth process (controllers, bootstrap) use the API.
 * It skips HTTP but never authorization, admission or validation (DESIGN.md principle 1): every call is
 * authorized as the client's own user and goes through the generic registry.
 */
import type { KObject } from '../api/object.ts';
import { errors } from '../api/status.ts';
import type { Attributes, UserInfo } from '../auth/types.ts';
import type { ApiServer } from '../apiserver/server.ts';
import type { DeleteOptions } from '../apiserver/generic-registry.ts';
import { forbiddenReason } from '../apiserver/authz.ts';
import type { Served } from '../apiserver/resources.ts';
import type { ScaleAccess } from '../registry/types.ts';
import type { Watcher } from '../store/types.ts';
import { deepCopy } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { ClientWatch, KubeClient, PatchType } from './types.ts';

export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

export interface ListOpts {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export class InProcessClient {
  constructor(
    private readonly server: ApiServer,
    readonly user: UserInfo,
  ) {}

  private served(r: ResourceRef): Served {
    const s = this.server.table.lookup(r.group, r.version, r.resource);
    if (!s) throw errors.pathNotFound();
    return s;
  }

  private authorize(s: Served, verb: string, namespace: string, name: string, subresource = ''): void {
    const a: Attributes = {
      user: this.user,
      verb,
      resourceRequest: true,
      apiGroup: s.strategy.info.group,
      apiVersion: s.strategy.info.version,
      resource: s.strategy.info.resource,
      subresource,
      namespace: s.strategy.info.namespaced ? namespace : '',
      name,
      path: '',
    };
    const r = this.server.opts.authorizer.authorize(a);
    if (r.decision !== 'allow')
      throw errors.forbidden({ group: a.apiGroup, resource: a.resource }, name, forbiddenReason(a, r.reason));
  }

  /** Group commit of the writes fn makes (Store.batch): one fsync, watchers hear of them after it. */
  batch<T>(fn: () => T): T {
    return this.server.registry.store.batch(fn);
  }

  get(r: ResourceRef, namespace: string, name: string): KObject {
    const s = this.served(r);
    this.authorize(s, 'get', namespace, name);
    return this.server.registry.get(s, namespace, name);
  }

  list(
    r: ResourceRef,
    namespace: string,
    opts: ListOpts = {},
  ): { items: KObject[]; resourceVersion: string; continue?: string } {
    const s = this.served(r);
    this.authorize(s, 'list', namespace, '');
    return this.server.registry.list(s, namespace, opts);
  }

  watch(
    r: ResourceRef,
    namespace: string,
    opts: { labelSelector?: string; fieldSelector?: string; resourceVersion?: string },
    onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject) => void,
  ): Watcher {
    const s = this.served(r);
    this.authorize(s, 'watch', namespace, '');
    return this.server.registry.watch(s, namespace, opts, onEvent);
  }

  create(r: ResourceRef, namespace: string, obj: KObject, fieldManager?: string): KObject {
    const s = this.served(r);
    this.authorize(s, 'create', namespace, '');
    return this.server.registry.create(s, namespace, obj, this.server.context(this.user), {
      fieldManager: fieldManager ?? this.manager(),
    });
  }

  update(r: ResourceRef, namespace: string, obj: KObject, subresource?: string): KObject {
    const s = this.served(r);
    const name = obj.metadata.name ?? '';
    this.authorize(s, 'update', namespace, name, subresource);
    return this.server.registry.update(s, namespace, name, obj, this.server.context(this.user), {
      fieldManager: this.manager(),
      subresource,
    }).object;
  }

  delete(
    r: ResourceRef,
    namespace: string,
    name: string,
    opts: DeleteOptions = {},
  ): { object: KObject; gone: boolean } {
    const s = this.served(r);
    this.authorize(s, 'delete', namespace, name);
    return this.server.registry.delete(s, namespace, name, opts, this.server.context(this.user));
  }

  /**
   * Patches through the server's patch engine (JSON, merge or strategic merge; apply patches go through
   * HTTP), retrying on conflicts from concurrent writers as the apiserver does.
   */
  patch(
    r: ResourceRef,
    namespace: string,
    name: string,
    type: Exclude<PatchType, 'application/apply-patch+yaml'>,
    body: unknown,
    subresource?: string,
  ): KObject {
    const s = this.served(r);
    this.authorize(s, 'patch', namespace, name, subresource);
    const patcher = this.server.opts.patcher;
    if (!patcher) throw errors.unsupportedMediaType(type, []);
    for (let attempt = 0; ; attempt++) {
      const current = this.server.registry.get(s, namespace, name);
      const ctx = this.server.context(this.user);
      const next = patcher.patch(type, deepCopy(current), body, s, {
        fieldManager: this.manager(),
        force: false,
        subresource,
        now: ctx.now,
      });
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      try {
        return this.server.registry.update(s, namespace, name, next, ctx, {
          fieldManager: this.manager(),
          subresource,
        }).object;
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 409 && e.reason === 'Conflict' && attempt < 5)) throw e;
      }
    }
  }

  /** The served kind and its scale access; 404 for kinds without a scale subresource. */
  private scalable(r: ResourceRef, name: string): { s: Served; sc: ScaleAccess } {
    const s = this.served(r);
    const sc = s.strategy.scale;
    if (!sc)
      throw errors.notFound(
        { group: s.strategy.info.group, resource: `${s.strategy.info.resource}/scale` },
        name,
      );
    return { s, sc };
  }

  /**
   * The scale subresource of any kind that serves one (what a polymorphic scale client reads): spec and
   * status replicas and the label selector string, authorized as `get` on `<resource>/scale`.
   */
  getScale(
    r: ResourceRef,
    namespace: string,
    name: string,
  ): { replicas: number; statusReplicas: number; selector: string; resourceVersion: string } {
    const { s, sc } = this.scalable(r, name);
    this.authorize(s, 'get', namespace, name, 'scale');
    const obj = this.server.registry.get(s, namespace, name);
    return {
      replicas: sc.specReplicas(obj),
      statusReplicas: sc.statusReplicas(obj),
      selector: sc.selector(obj),
      resourceVersion: obj.metadata.resourceVersion ?? '',
    };
  }

  /** Sets spec.replicas through the scale subresource (authorized as `update` on `<resource>/scale`). */
  updateScale(
    r: ResourceRef,
    namespace: string,
    name: string,
    replicas: number,
    resourceVersion?: string,
  ): void {
    const { s, sc } = this.scalable(r, name);
    this.authorize(s, 'update', namespace, name, 'scale');
    const next = deepCopy(this.server.registry.get(s, namespace, name));
    sc.setSpecReplicas(next, replicas);
    if (resourceVersion) next.metadata.resourceVersion = resourceVersion;
    this.server.registry.update(s, namespace, name, next, this.server.context(this.user), {
      fieldManager: this.manager(),
    });
  }

  /** This client behind the common (asynchronous) interface. */
  asKubeClient(): KubeClient {
    const run = <T>(f: () => T): Promise<T> => {
      try {
        return Promise.resolve(f());
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    return {
      get: (r, ns, name) => run(() => this.get(r, ns, name)),
      list: (r, ns, opts) => run(() => this.list(r, ns, opts)),
      create: (r, ns, obj) => run(() => this.create(r, ns, obj)),
      update: (r, ns, obj, sub) => run(() => this.update(r, ns, obj, sub)),
      patch: (r, ns, name, type, body, opts) =>
        run(() => {
          if (type === 'application/apply-patch+yaml')
            throw errors.unsupportedMediaType(type, [
              'application/json-patch+json',
              'application/merge-patch+json',
              'application/strategic-merge-patch+json',
            ]);
          return this.patch(r, ns, name, type, body, opts?.subresource);
        }),
      delete: (r, ns, name, opts) => run(() => this.delete(r, ns, name, opts)),
      watch: (r, ns, opts, onEvent) =>
        run((): ClientWatch => {
          let settle: (e: Error | undefined) => void = () => {};
          const done = new Promise<Error | undefined>((res) => (settle = res));
          const w = this.watch(r, ns, opts, onEvent);
          return {
            stop() {
              w.stop();
              settle(undefined);
            },
            done,
          };
        }),
    };
  }

  /** Every served resource that is the storage owner (not served from another's storage). */
  storageResources(): ResourceRef[] {
    return this.server.table.all
      .filter((s) => !s.strategy.storedAs && !s.strategy.virtualCreate)
      .map((s) => ({
        group: s.strategy.info.group,
        version: s.strategy.info.version,
        resource: s.strategy.info.resource,
      }));
  }

  /** Calls `listener` when the served resources change (custom resources come and go); returns the unsubscribe. */
  onResourcesChanged(listener: () => void): () => void {
    return this.server.table.onChange(listener);
  }

  /** The resource serving a kind of an apiVersion (e.g. "apps/v1", "Deployment"), if served. */
  resourceFor(apiVersion: string, kind: string): ResourceRef | undefined {
    const [group, version] = apiVersion.includes('/')
      ? (apiVersion.split('/') as [string, string])
      : ['', apiVersion];
    const s =
      this.server.table.all.find(
        (x) =>
          x.strategy.info.group === group &&
          x.strategy.info.version === version &&
          x.strategy.info.kind === kind,
      ) ?? this.server.table.byKind(group, kind);
    return s
      ? { group: s.strategy.info.group, version: s.strategy.info.version, resource: s.strategy.info.resource }
      : undefined;
  }

  isNamespaced(r: ResourceRef): boolean {
    return this.served(r).strategy.info.namespaced;
  }

  private manager(): string {
    return this.user.username.replace(/^system:serviceaccount:[^:]+:/, '').replace(/^system:/, '');
  }
}
