/**
 * Shared informers (client-go tools/cache semantics, in-process): one watch per resource keeps a cache of
 * the objects by "namespace/name", an index by controller/owner UID, and fans events out to handlers.
 * The initial list is the watch from resourceVersion "0" (synthetic ADDED for the current state, then live
 * changes). A restart resumes from the last resourceVersion seen; if that is too old (410 Gone) the
 * informer relists, diffing against the cache so handlers see the deletes they missed.
 *
 * Handlers are called synchronously from the store's event fan-out: they must only enqueue work.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { Watcher } from '../store/types.ts';
import type { InProcessClient, ResourceRef } from './in-process.ts';

export interface InformerHandlers {
  add?(obj: KObject): void;
  update?(oldObj: KObject, newObj: KObject): void;
  delete?(obj: KObject): void;
}

export const keyOf = (obj: KObject): string =>
  obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The ownerReference with controller: true, if any. */
export function controllerRef(
  obj: KObject,
): NonNullable<KObject['metadata']['ownerReferences']>[number] | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

export class SharedInformer {
  private readonly cache = new Map<string, KObject>();
  /** owner UID → keys of objects that name it in an ownerReference. */
  private readonly owners = new Map<string, Set<string>>();
  private readonly handlers: InformerHandlers[] = [];
  private watcher?: Watcher;
  private lastRV = '';
  private synced = false;
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    private readonly client: InProcessClient,
    readonly ref: ResourceRef,
    private readonly opts: { namespace?: string; labelSelector?: string; resyncMs?: number } = {},
  ) {}

  addHandlers(h: InformerHandlers): void {
    this.handlers.push(h);
    // Late registration: replay the cache as adds (client-go does the same).
    if (this.synced) for (const o of this.cache.values()) h.add?.(o);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  start(): void {
    if (this.watcher) return;
    this.watch();
    if (this.opts.resyncMs && !this.resyncTimer) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncMs);
      this.resyncTimer.unref?.();
    }
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
  }

  /** Restart the watch: resume from the last resourceVersion, or relist if that is gone (410). */
  restart(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.watch();
  }

  /** Drop the watch and list again from scratch. */
  relist(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.lastRV = '';
    this.watch();
  }

  get(namespace: string, name: string): KObject | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): KObject | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): KObject[] {
    const out: KObject[] = [];
    for (const o of this.cache.values())
      if (namespace === undefined || (o.metadata.namespace ?? '') === namespace) out.push(o);
    return out;
  }

  /** Objects with an ownerReference to this UID. */
  byOwner(uid: string): KObject[] {
    const out: KObject[] = [];
    for (const k of this.owners.get(uid) ?? []) {
      const o = this.cache.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  private watch(): void {
    const resuming = this.lastRV !== '';
    const seen = new Set<string>();
    let listing = !resuming;
    try {
      this.watcher = this.client.watch(
        this.ref,
        this.opts.namespace ?? '',
        {
          resourceVersion: resuming ? this.lastRV : '0',
          ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
        },
        (type, obj) => {
          if (listing) seen.add(keyOf(obj));
          this.onEvent(type, obj);
        },
      );
    } catch (e) {
      if (resuming && e instanceof StatusError && e.code === 410) {
        this.lastRV = '';
        this.watch();
        return;
      }
      throw e;
    }
    if (listing) {
      listing = false;
      // Objects that vanished while we were not watching.
      for (const [k, o] of [...this.cache]) if (!seen.has(k)) this.onEvent('DELETED', o);
    }
    this.synced = true;
  }

  private onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const key = keyOf(obj);
    if (obj.metadata.resourceVersion) this.lastRV = obj.metadata.resourceVersion;
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      if (!old) return;
      this.cache.delete(key);
      this.unindex(key, old);
      for (const h of this.handlers) h.delete?.(obj);
      return;
    }
    if (old) this.unindex(key, old);
    this.cache.set(key, obj);
    for (const r of obj.metadata.ownerReferences ?? []) {
      let s = this.owners.get(r.uid);
      if (!s) this.owners.set(r.uid, (s = new Set()));
      s.add(key);
    }
    if (old) for (const h of this.handlers) h.update?.(old, obj);
    else for (const h of this.handlers) h.add?.(obj);
  }

  private unindex(key: string, obj: KObject): void {
    for (const r of obj.metadata.ownerReferences ?? []) {
      const s = this.owners.get(r.uid);
      if (s?.delete(key) && s.size === 0) this.owners.delete(r.uid);
    }
  }

  private resync(): void {
    for (const o of this.cache.values()) for (const h of this.handlers) h.update?.(o, o);
  }
}

/** One informer per resource, shared by every controller of a process. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer>();
  private started = false;
  constructor(
    private readonly client: InProcessClient,
    private readonly resyncMs = 0,
  ) {}

  informer(ref: ResourceRef): SharedInformer {
    const k = `${ref.group}/${ref.version}/${ref.resource}`;
    let i = this.informers.get(k);
    if (!i) {
      i = new SharedInformer(this.client, ref, this.resyncMs ? { resyncMs: this.resyncMs } : {});
      this.informers.set(k, i);
      // Asked for after start(): start it now, as client-go's factory does on its next Start.
      if (this.started) i.start();
    }
    return i;
  }

  start(): void {
    this.started = true;
    for (const i of this.informers.values()) i.start();
  }

  stop(): void {
    this.started = false;
    for (const i of this.informers.values()) i.stop();
  }
}
