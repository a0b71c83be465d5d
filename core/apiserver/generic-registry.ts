/**
 * The generic registry: Kubernetes REST semantics on top of the Store for every kind, driven by the
 * kind's Strategy (k8s.io/apiserver/pkg/registry/generic/registry.Store in spirit):
 * create/update/patch/delete with defaulting, validation, preconditions, generation, finalizers,
 * graceful deletion, dry-run and managed fields; list/watch with selectors.
 */
import { randomUUID } from 'node:crypto';
import { deepCopy, isPlainObject, type KObject, rfc3339 } from '../api/object.ts';
import { errors, StatusError, type GroupResource } from '../api/status.ts';
import type { FieldError } from '../api/field-errors.ts';
import type { RequestContext } from '../registry/types.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../registry/validation/meta.ts';
import { type Store, StoreCompacted, StoreConflict, type StoreEvent, type Watcher } from '../store/types.ts';
import { collectionPrefix, generateName, storageKey } from './names.ts';
import type { ResourceTable, Served } from './resources.ts';
import { matchesLabels, parseLabelSelector, type LabelSelector } from './label-selector.ts';
import {
  checkFieldsSupported,
  matchesFields,
  parseFieldSelector,
  type FieldRequirement,
} from './field-selector.ts';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface WriteOptions {
  fieldManager?: string;
  subresource?: string;
}

/** Admission plugins run on every write (after defaulting and strategy preparation, before storage). */
export interface AdmissionPlugin {
  name: string;
  /** Mutating phase. */
  admit?(
    op: 'CREATE' | 'UPDATE' | 'DELETE',
    s: Served,
    obj: KObject,
    old: KObject | undefined,
    ctx: RequestContext,
  ): void;
  /** Validating phase: throw a StatusError to refuse. */
  validate?(
    op: 'CREATE' | 'UPDATE' | 'DELETE',
    s: Served,
    obj: KObject,
    old: KObject | undefined,
    ctx: RequestContext,
  ): void;
  /** After a write has been committed (not on dry-run). */
  committed?(op: 'CREATE' | 'UPDATE' | 'DELETE', s: Served, obj: KObject, old: KObject | undefined): void;
  /** A write that passed admission was not committed (dry-run, or storage refused it). */
  aborted?(op: 'CREATE' | 'UPDATE' | 'DELETE', s: Served, obj: KObject, old: KObject | undefined): void;
}

/** Managed-fields bookkeeping hook (server-side apply's field manager). */
export interface FieldManager {
  /** Record an Update-operation write by `manager` (POST/PUT/merge/SMP/JSON patch). */
  update(
    oldObj: KObject | undefined,
    newObj: KObject,
    manager: string,
    apiVersion: string,
    now: Date,
    subresource?: string,
  ): void;
}

const GENERATION_IGNORED = new Set(['metadata', 'status', 'apiVersion', 'kind']);

function specChanged(a: KObject, b: KObject): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (GENERATION_IGNORED.has(k)) continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return true;
  }
  return false;
}

export function groupResource(s: Served): GroupResource {
  return { group: s.strategy.info.group, resource: s.strategy.info.resource };
}

/** Resets metadata a status write may not change (metav1.ResetObjectMetaForStatus). */
function resetMetaForStatus(obj: KObject, old: KObject): void {
  const m = obj.metadata;
  const o = old.metadata;
  for (const k of [
    'deletionTimestamp',
    'generation',
    'labels',
    'annotations',
    'finalizers',
    'ownerReferences',
  ] as const) {
    if (o[k] === undefined) delete m[k];
    else (m as Record<string, unknown>)[k] = deepCopy(o[k]);
  }
}

export class GenericRegistry {
  readonly admission: AdmissionPlugin[] = [];
  fieldManager?: FieldManager;

  constructor(
    readonly store: Store,
    readonly table: ResourceTable,
  ) {}

  // ---- conversion between the served version and the stored form ----

  private toStorage(s: Served, obj: KObject): KObject {
    return s.strategy.storedAs ? s.strategy.storedAs.toStorage(obj) : obj;
  }

  /** Stored object → the served version (with apiVersion and kind set). */
  fromStorage(s: Served, stored: KObject): KObject {
    const out = s.strategy.storedAs ? s.strategy.storedAs.fromStorage(deepCopy(stored)) : stored;
    out.apiVersion = s.gv;
    out.kind = s.strategy.info.kind;
    return out;
  }

  key(s: Served, namespace: string, name: string): string {
    return storageKey(s.storageGroup, s.storageResource, s.strategy.info.namespaced ? namespace : '', name);
  }

  // ---- reads ----

  get(s: Served, namespace: string, name: string): KObject {
    const stored = this.store.get(this.key(s, namespace, name));
    if (!stored) throw errors.notFound(groupResource(s), name);
    return this.fromStorage(s, stored);
  }

  tryGet(s: Served, namespace: string, name: string): KObject | undefined {
    const stored = this.store.get(this.key(s, namespace, name));
    return stored ? this.fromStorage(s, stored) : undefined;
  }

  supportedFields(s: Served): Set<string> {
    const set = new Set(['metadata.name', 'metadata.namespace']);
    // Ask the strategy with an empty object to learn its field names.
    if (s.strategy.fieldSelectors) {
      try {
        for (const k of Object.keys(s.strategy.fieldSelectors({ metadata: {} }))) set.add(k);
      } catch {
        /* strategies must tolerate empty objects; if not, only metadata fields are supported */
      }
    }
    return set;
  }

  /** Build a predicate from selector strings (throws 400 on parse errors / unsupported fields). */
  predicate(s: Served, labelSelector?: string, fieldSelector?: string): (obj: KObject) => boolean {
    const ls: LabelSelector = parseLabelSelector(labelSelector);
    const fs: FieldRequirement[] = parseFieldSelector(fieldSelector);
    if (fs.length) checkFieldsSupported(fs, this.supportedFields(s));
    if (!ls.length && !fs.length) return () => true;
    return (obj) => {
      if (ls.length && !matchesLabels(ls, obj.metadata.labels)) return false;
      if (fs.length) {
        const fields: Record<string, string> = {
          'metadata.name': obj.metadata.name ?? '',
          'metadata.namespace': obj.metadata.namespace ?? '',
          ...(s.strategy.fieldSelectors ? s.strategy.fieldSelectors(obj) : {}),
        };
        if (!matchesFields(fs, fields)) return false;
      }
      return true;
    };
  }

  list(
    s: Served,
    namespace: string,
    opts: {
      labelSelector?: string;
      fieldSelector?: string;
      limit?: number;
      continue?: string;
      resourceVersion?: string;
      resourceVersionMatch?: string;
    },
  ): { items: KObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number } {
    const pred = this.predicate(s, opts.labelSelector, opts.fieldSelector);
    if (opts.resourceVersionMatch && opts.resourceVersion === undefined)
      throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (opts.continue && opts.resourceVersion && opts.resourceVersion !== '0')
      throw errors.badRequest('specifying resource version is not allowed when using continue');
    let atRevision: number | undefined;
    if (opts.resourceVersionMatch === 'Exact') {
      atRevision = parseRV(opts.resourceVersion);
    } else if (opts.resourceVersionMatch && opts.resourceVersionMatch !== 'NotOlderThan') {
      throw errors.badRequest(`resourceVersionMatch: Unsupported value: "${opts.resourceVersionMatch}"`);
    }
    const prefix = collectionPrefix(
      s.storageGroup,
      s.storageResource,
      s.strategy.info.namespaced ? namespace : '',
    );
    try {
      const r = this.store.list(prefix, {
        limit: opts.limit && opts.limit > 0 ? opts.limit : undefined,
        continue: opts.continue,
        atRevision,
        filter: (o) => pred(this.fromStorage(s, o)),
      });
      return {
        items: r.items.map((o) => this.fromStorage(s, o)),
        resourceVersion: String(r.revision),
        ...(r.continue ? { continue: r.continue } : {}),
        ...(r.remainingItemCount !== undefined ? { remainingItemCount: r.remainingItemCount } : {}),
      };
    } catch (e) {
      throw translateStoreError(e, s, '');
    }
  }

  /**
   * Watch a collection (or one object via fieldSelector metadata.name). Events are converted to the
   * served version; objects moving in or out of the selector become ADDED/DELETED as the watch cache does.
   */
  watch(
    s: Served,
    namespace: string,
    opts: { labelSelector?: string; fieldSelector?: string; resourceVersion?: string },
    onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject) => void,
  ): Watcher {
    const pred = this.predicate(s, opts.labelSelector, opts.fieldSelector);
    const prefix = collectionPrefix(
      s.storageGroup,
      s.storageResource,
      s.strategy.info.namespaced ? namespace : '',
    );
    let from: number;
    const rv = opts.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      // Synthetic ADDED for current state, then live changes.
      const current = this.store.list(prefix, {});
      for (const o of current.items) {
        const obj = this.fromStorage(s, o);
        if (pred(obj)) onEvent('ADDED', obj);
      }
      from = current.revision;
    } else {
      from = parseRV(rv);
    }
    try {
      return this.store.watch(prefix, { fromRevision: from }, (ev: StoreEvent) => {
        const obj = this.fromStorage(s, ev.object);
        const now = pred(obj);
        const before = ev.prevObject ? pred(this.fromStorage(s, ev.prevObject)) : false;
        if (ev.type === 'ADDED') {
          if (now) onEvent('ADDED', obj);
        } else if (ev.type === 'DELETED') {
          if (before || now) onEvent('DELETED', obj);
        } else if (now && before) onEvent('MODIFIED', obj);
        else if (now && !before) onEvent('ADDED', obj);
        else if (!now && before) onEvent('DELETED', obj);
      });
    } catch (e) {
      throw translateStoreError(e, s, '');
    }
  }

  // ---- writes ----

  private runAdmit(
    op: 'CREATE' | 'UPDATE' | 'DELETE',
    s: Served,
    obj: KObject,
    old: KObject | undefined,
    ctx: RequestContext,
  ): void {
    for (const p of this.admission) p.admit?.(op, s, obj, old, ctx);
  }
  private runValidate(
    op: 'CREATE' | 'UPDATE' | 'DELETE',
    s: Served,
    obj: KObject,
    old: KObject | undefined,
    ctx: RequestContext,
  ): void {
    for (const p of this.admission) p.validate?.(op, s, obj, old, ctx);
  }
  private committed(
    op: 'CREATE' | 'UPDATE' | 'DELETE',
    s: Served,
    obj: KObject,
    old: KObject | undefined,
  ): void {
    for (const p of this.admission) {
      try {
        p.committed?.(op, s, obj, old);
      } catch {
        /* bookkeeping must never fail a committed write */
      }
    }
  }

  private aborted(
    op: 'CREATE' | 'UPDATE' | 'DELETE',
    s: Served,
    obj: KObject,
    old: KObject | undefined,
  ): void {
    for (const p of this.admission) {
      try {
        p.aborted?.(op, s, obj, old);
      } catch {
        /* best effort */
      }
    }
  }

  private invalid(s: Served, name: string, errs: FieldError[]): StatusError {
    return errors.invalid(s.strategy.info.group, s.strategy.info.kind, name, errs);
  }

  /** Checks the body's apiVersion/kind and namespace against the request (400 on mismatch). */
  checkTypeAndNamespace(s: Served, obj: KObject, namespace: string): void {
    if (!isPlainObject(obj) || !isPlainObject(obj.metadata)) {
      if (isPlainObject(obj) && obj.metadata === undefined) obj.metadata = {};
      else
        throw errors.badRequest(
          `${s.strategy.info.kind} in version "${s.strategy.info.version}" cannot be handled as a ${s.strategy.info.kind}: metadata must be an object`,
        );
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== s.gv)
      throw errors.badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${s.gv})`,
      );
    if (obj.kind !== undefined && obj.kind !== s.strategy.info.kind)
      throw errors.badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${s.strategy.info.kind})`,
      );
    if (s.strategy.info.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace)
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      if (namespace) obj.metadata.namespace = namespace;
      if (!obj.metadata.namespace)
        throw errors.badRequest('the server could not find the requested resource');
    } else {
      delete obj.metadata.namespace;
    }
  }

  create(
    s: Served,
    namespace: string,
    input: KObject,
    ctx: RequestContext,
    opts: WriteOptions = {},
  ): KObject {
    const st = s.strategy;
    const obj = deepCopy(input);
    this.checkTypeAndNamespace(s, obj, namespace);
    const m = obj.metadata;
    // Fields only the server sets.
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(ctx.now);
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.resourceVersion;
    delete (m as Record<string, unknown>)['selfLink'];
    delete m.generation;
    if (st.tracksGeneration) m.generation = 1;
    if (st.hasStatus && !st.prepareForCreate) delete obj['status'];
    st.defaults?.(obj);
    st.prepareForCreate?.(obj, ctx);
    // Mutating admission, then validation, then validating admission (the apiserver's order). As in
    // Kubernetes, a generated name is chosen after mutating admission (whose errors name the prefix, e.g.
    // `pods "web-7d4b9c-" is forbidden: …`, so retried creates report the same message).
    this.runAdmit('CREATE', s, obj, undefined, ctx);
    if (!m.name && m.generateName) m.name = generateName(m.generateName);
    try {
      const errs = [
        ...validateObjectMeta(obj, st.info.namespaced, st.nameValidation ?? 'subdomain'),
        ...(st.validate?.(obj, ctx) ?? []),
      ];
      if (errs.length) throw this.invalid(s, m.name ?? m.generateName ?? '', errs);
      this.runValidate('CREATE', s, obj, undefined, ctx);
    } catch (e) {
      this.aborted('CREATE', s, obj, undefined);
      throw e;
    }
    if (opts.fieldManager !== undefined)
      this.fieldManager?.update(undefined, obj, opts.fieldManager, s.gv, ctx.now, opts.subresource);
    if (ctx.dryRun) {
      this.aborted('CREATE', s, obj, undefined);
      return this.fromStorage(s, this.toStorage(s, obj));
    }
    try {
      const stored = this.store.create(this.key(s, namespace, m.name!), this.toStorage(s, obj));
      const out = this.fromStorage(s, stored);
      this.committed('CREATE', s, out, undefined);
      return out;
    } catch (e) {
      this.aborted('CREATE', s, obj, undefined);
      throw translateStoreError(e, s, m.name ?? '');
    }
  }

  /**
   * Update (PUT or the result of a PATCH). With subresource 'status' only .status changes; on the main
   * resource of a kind with a status subresource, .status is kept. Returns the stored object.
   */
  update(
    s: Served,
    namespace: string,
    name: string,
    input: KObject,
    ctx: RequestContext,
    opts: WriteOptions & { expectedRV?: string; allowCreate?: boolean } = {},
  ): { object: KObject; created: boolean } {
    const st = s.strategy;
    const key = this.key(s, namespace, name);
    const storedOld = this.store.get(key);
    const obj = deepCopy(input);
    this.checkTypeAndNamespace(s, obj, namespace);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    obj.metadata.name = name;
    if (!storedOld) {
      if (opts.allowCreate && !opts.subresource)
        return { object: this.create(s, namespace, obj, ctx, opts), created: true };
      throw errors.notFound(groupResource(s), name);
    }
    const old = this.fromStorage(s, storedOld);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion)
      throw errors.modified(groupResource(s), name);
    if (opts.expectedRV && opts.expectedRV !== old.metadata.resourceVersion)
      throw errors.modified(groupResource(s), name);
    if (obj.metadata.uid && obj.metadata.uid !== old.metadata.uid)
      throw errors.conflict(
        groupResource(s),
        name,
        `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
      );

    // Server-owned metadata.
    const m = obj.metadata;
    m.uid = old.metadata.uid;
    m.creationTimestamp = old.metadata.creationTimestamp;
    m.resourceVersion = old.metadata.resourceVersion;
    if (old.metadata.deletionTimestamp) {
      m.deletionTimestamp = old.metadata.deletionTimestamp;
      m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    if (m.managedFields === undefined && old.metadata.managedFields)
      m.managedFields = deepCopy(old.metadata.managedFields);
    if (old.metadata.generation === undefined) delete m.generation;
    else m.generation = old.metadata.generation;

    if (opts.subresource === 'finalize') {
      // namespaces/finalize: only spec.finalizers changes.
      const finals = isPlainObject(obj['spec'])
        ? (obj['spec'] as { finalizers?: unknown }).finalizers
        : undefined;
      for (const k of Object.keys(obj))
        if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
      for (const k of Object.keys(old))
        if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') obj[k] = deepCopy(old[k]);
      resetMetaForStatus(obj, old);
      const spec = (isPlainObject(obj['spec']) ? obj['spec'] : (obj['spec'] = {})) as {
        finalizers?: unknown;
      };
      if (Array.isArray(finals) && finals.length) spec.finalizers = finals;
      else delete spec.finalizers;
    } else if (opts.subresource === 'binding' || opts.subresource === 'ephemeralcontainers') {
      // pods/binding: the handler set spec.nodeName, annotations and the PodScheduled condition;
      // pods/ephemeralcontainers: the handler added (and validated) ephemeral containers.
    } else if (opts.subresource === 'status') {
      // Only status may change: everything else comes from the old object.
      for (const k of Object.keys(obj))
        if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
      for (const k of Object.keys(old))
        if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind')
          obj[k] = deepCopy(old[k]);
      resetMetaForStatus(obj, old);
      st.prepareForStatusUpdate?.(obj, old, ctx);
    } else {
      st.defaults?.(obj);
      if (st.hasStatus) {
        if (old['status'] === undefined) delete obj['status'];
        else obj['status'] = deepCopy(old['status']);
      }
      st.prepareForUpdate?.(obj, old, ctx);
      if ((st.tracksGeneration || old.metadata.generation !== undefined) && specChanged(obj, old))
        m.generation = (old.metadata.generation ?? 0) + 1;
    }
    const actx = opts.subresource ? { ...ctx, subresource: opts.subresource } : ctx;
    this.runAdmit('UPDATE', s, obj, old, actx);
    try {
      const errs = [
        ...validateObjectMeta(obj, st.info.namespaced, st.nameValidation ?? 'subdomain'),
        ...validateObjectMetaUpdate(obj, old),
        ...(opts.subresource === 'status'
          ? (st.validateStatusUpdate?.(obj, old, ctx) ?? [])
          : opts.subresource === 'binding' || opts.subresource === 'ephemeralcontainers'
            ? []
            : opts.subresource === 'finalize'
              ? (st.validateFinalize?.(obj) ?? [])
              : [...(st.validate?.(obj, ctx) ?? []), ...(st.validateUpdate?.(obj, old, ctx) ?? [])]),
      ];
      if (errs.length) throw this.invalid(s, name, errs);
      this.runValidate('UPDATE', s, obj, old, actx);
    } catch (e) {
      this.aborted('UPDATE', s, obj, old);
      throw e;
    }

    // No-op updates do not write (and do not bump resourceVersion), as etcd3's GuaranteedUpdate.
    if (sameObject(obj, old)) {
      this.aborted('UPDATE', s, obj, old);
      return { object: old, created: false };
    }
    if (opts.fieldManager !== undefined)
      this.fieldManager?.update(old, obj, opts.fieldManager, s.gv, ctx.now, opts.subresource);

    // Finalizers emptied on an object being deleted: the update completes the deletion.
    const finishDelete =
      !!m.deletionTimestamp && (m.finalizers ?? []).length === 0 && !st.holdsDeletion?.(obj);
    if (ctx.dryRun) {
      this.aborted('UPDATE', s, obj, old);
      return { object: this.fromStorage(s, this.toStorage(s, obj)), created: false };
    }
    try {
      const expected = Number(old.metadata.resourceVersion);
      if (finishDelete) {
        this.store.update(key, this.toStorage(s, obj), expected);
        const gone = this.fromStorage(s, this.store.delete(key));
        this.committed('DELETE', s, gone, old);
        return { object: gone, created: false };
      }
      const out = this.fromStorage(s, this.store.update(key, this.toStorage(s, obj), expected));
      this.committed('UPDATE', s, out, old);
      return { object: out, created: false };
    } catch (e) {
      this.aborted('UPDATE', s, obj, old);
      throw translateStoreError(e, s, name);
    }
  }

  /**
   * DELETE with Kubernetes semantics. Returns the object (still present with deletionTimestamp when
   * finalizers or a grace period hold it, or as it was when removed) and whether it is gone.
   */
  delete(
    s: Served,
    namespace: string,
    name: string,
    options: DeleteOptions,
    ctx: RequestContext,
  ): { object: KObject; gone: boolean } {
    const st = s.strategy;
    const key = this.key(s, namespace, name);
    const stored = this.store.get(key);
    if (!stored) throw errors.notFound(groupResource(s), name);
    const old = this.fromStorage(s, stored);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw errors.conflict(
        groupResource(s),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw errors.conflict(
        groupResource(s),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    this.runValidate('DELETE', s, old, old, ctx);

    const obj = deepCopy(old);
    const m = obj.metadata;
    let finalizers = [...(m.finalizers ?? [])];
    // Propagation policy → GC finalizers (the garbage collector acts on them).
    const policy = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : undefined);
    const pendingFinalizers = finalizers.length > 0;
    if (policy === 'Orphan' && !finalizers.includes('orphan'))
      finalizers = [...finalizers.filter((f) => f !== 'foregroundDeletion'), 'orphan'];
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion'))
      finalizers = [...finalizers.filter((f) => f !== 'orphan'), 'foregroundDeletion'];
    if (policy === 'Background')
      finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');

    // Deletion held by the object's own spec (namespaces): mark it and keep it.
    if (st.holdsDeletion?.(old)) {
      if (!m.deletionTimestamp) m.deletionTimestamp = rfc3339(ctx.now);
      m.deletionGracePeriodSeconds ??= 0;
      if (finalizers.length) m.finalizers = finalizers;
      st.markDeleting?.(obj);
      if (ctx.dryRun || sameObject(obj, old)) return { object: ctx.dryRun ? obj : old, gone: false };
      try {
        const out = this.fromStorage(
          s,
          this.store.update(key, this.toStorage(s, obj), Number(old.metadata.resourceVersion)),
        );
        this.committed('UPDATE', s, out, old);
        return { object: out, gone: false };
      } catch (e) {
        throw translateStoreError(e, s, name);
      }
    }

    // Graceful deletion (pods).
    const grace = st.gracePeriod ? st.gracePeriod(old, options.gracePeriodSeconds) : undefined;
    const needsGrace = grace !== undefined && grace > 0;
    const alreadyDeleting = !!m.deletionTimestamp;

    if (finalizers.length > 0 || needsGrace) {
      let changed = JSON.stringify(finalizers) !== JSON.stringify(m.finalizers ?? []);
      if (finalizers.length) m.finalizers = finalizers;
      if (!alreadyDeleting) {
        const when = new Date(ctx.now.getTime() + (needsGrace ? grace * 1000 : 0));
        m.deletionTimestamp = rfc3339(when);
        m.deletionGracePeriodSeconds = needsGrace ? grace : 0;
        changed = true;
      } else if (needsGrace && (m.deletionGracePeriodSeconds ?? 0) > grace) {
        // A shorter grace period may replace a longer one.
        m.deletionTimestamp = rfc3339(new Date(ctx.now.getTime() + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
        changed = true;
      } else if (!needsGrace && grace === 0 && !pendingFinalizers && finalizers.length === 0) {
        changed = false;
      }
      if (finalizers.length > 0 || needsGrace) {
        if (ctx.dryRun || !changed) return { object: ctx.dryRun ? obj : old, gone: false };
        try {
          const out = this.fromStorage(
            s,
            this.store.update(key, this.toStorage(s, obj), Number(old.metadata.resourceVersion)),
          );
          this.committed('UPDATE', s, out, old);
          return { object: out, gone: false };
        } catch (e) {
          throw translateStoreError(e, s, name);
        }
      }
    }
    if (ctx.dryRun) return { object: old, gone: true };
    try {
      const gone = this.fromStorage(s, this.store.delete(key, Number(old.metadata.resourceVersion)));
      this.committed('DELETE', s, gone, old);
      return { object: gone, gone: true };
    } catch (e) {
      throw translateStoreError(e, s, name);
    }
  }
}

/** Objects equal for the purpose of skipping a no-op write (managedFields timestamps ignored). */
function sameObject(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => {
    const c = { ...o, metadata: { ...o.metadata } };
    delete c.metadata.managedFields;
    delete c.apiVersion;
    delete c.kind;
    return JSON.stringify(sortKeys(c));
  };
  return strip(a) === strip(b);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

export function parseRV(rv: string | undefined): number {
  const n = Number(rv);
  if (rv === undefined || rv === '' || !Number.isInteger(n) || n < 0)
    throw errors.badRequest(`invalid resource version "${rv ?? ''}"`);
  return n;
}

export function translateStoreError(e: unknown, s: Served, name: string): unknown {
  if (e instanceof StoreConflict) {
    const gr = groupResource(s);
    if (e.kind === 'exists') return errors.alreadyExists(gr, name);
    if (e.kind === 'missing') return errors.notFound(gr, name);
    return errors.modified(gr, name);
  }
  if (e instanceof StoreCompacted) return errors.expired(e.message);
  if (e instanceof Error && e.name === 'StoreBadContinue')
    return errors.expired(
      'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    );
  return e;
}
