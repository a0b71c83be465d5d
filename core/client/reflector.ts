/**
 * An informer over any KubeClient (client-go's Reflector + DeltaFIFO-less store, for remote components
 * such as node agents): list, then watch from the list's resourceVersion; a watch that ends is resumed
 * from the last resourceVersion seen (events or bookmarks); 410 Gone → relist, diffing against the cache
 * so handlers see the deletes they missed; optional periodic resync. Handlers run in event order and
 * should only enqueue work.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { keyOf, type InformerHandlers } from './informer.ts';
import type { ClientWatch, KubeClient, ResourceRef } from './types.ts';

export interface ReflectorOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resyncMs?: number;
  /** Delay before re-watching after an error (default 1 s, doubling to 30 s). */
  retryMs?: number;
  /** Called on every error that made the reflector retry (for logs). */
  onError?: (e: Error) => void;
}

export class Reflector {
  private readonly cache = new Map<string, KObject>();
  private readonly handlers: InformerHandlers[] = [];
  private lastRV = '';
  private watch?: ClientWatch;
  private stopped = true;
  private synced = false;
  private resyncTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  /** Count of lists done (1 + relists), for tests and metrics. */
  lists = 0;

  constructor(
    private readonly client: KubeClient,
    readonly ref: ResourceRef,
    private readonly opts: ReflectorOptions = {},
  ) {}

  addHandlers(h: InformerHandlers): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) h.add?.(o);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): KObject | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KObject[] {
    return [...this.cache.values()];
  }

  /** Starts listing and watching; resolves after the first list is in the cache. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.cache.values()) for (const h of this.handlers) h.update?.(o, o);
      }, this.opts.resyncMs);
      this.resyncTimer.unref?.();
    }
    await this.relist();
    this.runWatch();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.watch = undefined;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async relist(): Promise<void> {
    this.lists++;
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list(this.ref, this.opts.namespace ?? '', {
        limit: 500,
        ...(cont ? { continue: cont } : {}),
        ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
        ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
      });
      rv ||= page.resourceVersion;
      for (const o of page.items) {
        seen.add(keyOf(o));
        this.apply('ADDED', o);
      }
      cont = page.continue;
    } while (cont);
    for (const [k, o] of [...this.cache]) if (!seen.has(k)) this.apply('DELETED', o);
    this.lastRV = rv;
    this.synced = true;
  }

  private runWatch(): void {
    if (this.stopped) return;
    this.client
      .watch(
        this.ref,
        this.opts.namespace ?? '',
        {
          resourceVersion: this.lastRV,
          ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
          ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
          timeoutSeconds: 300 + Math.floor(Math.random() * 300),
          onBookmark: (rv) => (this.lastRV = rv),
        },
        (type, obj) => {
          this.failures = 0;
          this.apply(type, obj);
        },
      )
      .then(async (w) => {
        this.watch = w;
        if (this.stopped) w.stop();
        const err = await w.done;
        if (this.stopped) return;
        if (err) await this.recover(err);
        else this.runWatch(); // server closed the stream normally (timeout): resume
      })
      .catch((e: unknown) => this.recover(e instanceof Error ? e : new Error(String(e))));
  }

  private async recover(err: Error): Promise<void> {
    if (this.stopped) return;
    this.opts.onError?.(err);
    if (
      err instanceof StatusError &&
      (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone')
    ) {
      try {
        await this.relist();
        this.runWatch();
        return;
      } catch (e) {
        this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const base = this.opts.retryMs ?? 1000;
    const delay = Math.min(base * 2 ** this.failures++, 30_000);
    this.retryTimer = setTimeout(() => {
      // After a failed relist the cache may be behind: list again when the last RV is gone.
      if (!this.lastRV)
        void this.relist().then(
          () => this.runWatch(),
          (e: unknown) => this.recover(e as Error),
        );
      else this.runWatch();
    }, delay);
    this.retryTimer.unref?.();
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const key = keyOf(obj);
    if (obj.metadata.resourceVersion) this.lastRV = obj.metadata.resourceVersion;
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      if (!old) return;
      this.cache.delete(key);
      for (const h of this.handlers) h.delete?.(obj);
      return;
    }
    this.cache.set(key, obj);
    if (old) {
      if (old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
      for (const h of this.handlers) h.update?.(old, obj);
    } else for (const h of this.handlers) h.add?.(obj);
  }
}
