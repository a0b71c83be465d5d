/**
 * One list+watch subscription for the GUI, reflector style (client-go's Reflector, simplified):
 * LIST → SYNC, then WATCH from the list's resourceVersion with bookmarks; when the watch ends normally
 * (server timeout) it resumes from the last seen resourceVersion; on 410 Gone (as an ERROR event or as
 * the HTTP status) it forwards the ERROR and relists (a fresh SYNC); other failures retry with capped
 * exponential backoff. Events are batched (default 50 ms or 500 events) before they are emitted.
 *
 * Objects go out without metadata.managedFields (as `kubectl get` shows them by default): no view
 * reads them, and they are some 40% of a pod's JSON, which every list and watch event would carry
 * to the renderer.
 */
import type { KubeObject, KubeStatus, ResourceRef, WatchEvent } from './contract.ts';
import { KubeApiError, type KubeClient } from './kube-client.ts';

export interface SubscriptionSpec {
  ref: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface SubscriptionOptions {
  batchMs?: number;
  maxBatch?: number;
  maxBackoffMs?: number;
  /**
   * Items in the first page of a list (default 100: more than a screen of rows, and it paints before
   * the rest is read; a first page of 200 costs the 5,000-pod first paint some 60-90 ms).
   */
  firstPage?: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object without metadata.managedFields (the same object when it has none). */
export function withoutManagedFields(o: KubeObject): KubeObject {
  if (!('managedFields' in o.metadata)) return o;
  const { managedFields: _dropped, ...metadata } = o.metadata as KubeObject['metadata'] & {
    managedFields?: unknown;
  };
  return { ...o, metadata };
}

/** Thrown from a page callback to end a list whose subscription stopped. */
class Stopped extends Error {}

function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.code;
  if (isObject(err) && typeof err['statusCode'] === 'number') return err['statusCode'];
  return undefined;
}

export class WatchSubscription {
  private client: KubeClient;
  private spec: SubscriptionSpec;
  private emit: (events: WatchEvent[]) => void;
  private batchMs: number;
  private maxBatch: number;
  private maxBackoffMs: number;
  private firstPage: number;
  private queue: WatchEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private resourceVersion = '';
  private stopped = false;
  private failures = 0;
  private apiVersion: string;
  private kind: string | undefined;

  constructor(
    client: KubeClient,
    spec: SubscriptionSpec,
    emit: (events: WatchEvent[]) => void,
    opts: SubscriptionOptions = {},
  ) {
    this.client = client;
    this.spec = spec;
    this.emit = emit;
    this.batchMs = opts.batchMs ?? 50;
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.firstPage = opts.firstPage ?? 100;
    this.apiVersion = spec.ref.group ? `${spec.ref.group}/${spec.ref.version}` : spec.ref.version;
  }

  /** Lists once; resolves after the first SYNC is queued, rejects if that first list fails. */
  async start(): Promise<void> {
    this.kind = await this.client.kindOf(this.spec.ref);
    await this.relist();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.controller?.abort();
    this.controller = undefined;
    this.flush();
  }

  private push(ev: WatchEvent): void {
    if (this.stopped) return;
    this.queue.push(ev);
    if (this.queue.length >= this.maxBatch) this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.batchMs);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.emit(batch);
  }

  private async relist(): Promise<void> {
    // Pages go out as they arrive (a small first page paints at once); later ones are `continued`.
    // A stop ends the paging too (a closed window's list must not keep the API server busy).
    const listed = await this.client
      .list(
        this.spec.ref,
        this.spec.namespace,
        {
          ...(this.spec.labelSelector ? { labelSelector: this.spec.labelSelector } : {}),
          ...(this.spec.fieldSelector ? { fieldSelector: this.spec.fieldSelector } : {}),
        },
        (page) => {
          if (this.stopped) throw new Stopped();
          this.push({
            type: 'SYNC',
            items: page.items.map(withoutManagedFields),
            resourceVersion: page.resourceVersion,
            ...(page.index > 0 ? { continued: true } : {}),
            ...(page.last ? {} : { more: true }),
          });
          if (!page.last) this.flush();
        },
        this.firstPage,
      )
      .catch((e: unknown) => {
        if (e instanceof Stopped) return undefined;
        throw e;
      });
    if (this.stopped || !listed) return;
    this.resourceVersion = listed.resourceVersion;
    this.failures = 0;
    void this.startWatch();
  }

  private retry(what: () => Promise<void>): void {
    if (this.stopped) return;
    const delay = Math.min(this.maxBackoffMs, 500 * 2 ** Math.min(this.failures, 10));
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      what().catch((e: unknown) => {
        this.push({ type: 'ERROR', status: this.statusFrom(e) });
        this.retry(what);
      });
    }, delay);
  }

  private statusFrom(e: unknown): KubeStatus {
    if (e instanceof KubeApiError) return e.status;
    return { status: 'Failure', message: e instanceof Error ? e.message : String(e) };
  }

  private async startWatch(): Promise<void> {
    if (this.stopped) return;
    let expired = false;
    let sawEvent = false;
    const onEvent = (type: string, obj: unknown): void => {
      if (this.stopped) return;
      sawEvent = true;
      if (type === 'ERROR') {
        const status: KubeStatus = isObject(obj) ? (obj as KubeStatus) : { message: String(obj) };
        if (status.code === 410) expired = true;
        this.push({ type: 'ERROR', status });
        return;
      }
      if (!isObject(obj) || !isObject(obj['metadata'])) return;
      const object = obj as unknown as KubeObject;
      const rv = object.metadata.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'BOOKMARK') {
        if (rv) this.push({ type: 'BOOKMARK', resourceVersion: rv });
      } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
        this.push({
          type,
          object: {
            ...withoutManagedFields(object),
            apiVersion: object.apiVersion ?? this.apiVersion,
            ...(object.kind || !this.kind ? {} : { kind: this.kind }),
          },
        });
      }
    };
    const onDone = (err: unknown): void => {
      this.controller = undefined;
      if (this.stopped) return;
      const code = statusCodeOf(err);
      if (expired || code === 410) {
        if (!expired)
          this.push({
            type: 'ERROR',
            status: { status: 'Failure', code: 410, reason: 'Expired', message: 'watch expired' },
          });
        void this.relist().catch((e: unknown) => {
          this.push({ type: 'ERROR', status: this.statusFrom(e) });
          this.retry(() => this.relist());
        });
      } else if (err) {
        this.retry(() => this.startWatch());
      } else {
        // A normal end (timeoutSeconds): resume right away from the last resourceVersion.
        if (sawEvent) this.failures = 0;
        if (sawEvent || this.failures === 0) {
          this.failures++;
          void this.startWatch();
        } else this.retry(() => this.startWatch());
      }
    };
    const query = {
      resourceVersion: this.resourceVersion,
      ...(this.spec.labelSelector ? { labelSelector: this.spec.labelSelector } : {}),
      ...(this.spec.fieldSelector ? { fieldSelector: this.spec.fieldSelector } : {}),
    };
    const controller = await this.client.watch(this.spec.ref, this.spec.namespace, query, onEvent, onDone);
    if (this.stopped) controller.abort();
    else this.controller = controller;
  }
}
