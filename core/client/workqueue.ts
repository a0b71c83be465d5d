/**
 * A keyed work queue with client-go's semantics (k8s.io/client-go/util/workqueue):
 * - a key is queued at most once (de-duplication), and never handed to two workers at once: a key added
 *   while it is being processed is queued again when the worker calls done();
 * - addAfter() delays an add; addRateLimited() delays it by the rate limiter (per-key exponential backoff
 *   5 ms · 2^n capped at 1000 s, combined with an overall token bucket of 10 qps / burst 100, like
 *   DefaultControllerRateLimiter), and forget() resets a key's backoff;
 * - runWorkers() runs a few async workers that pull keys until shutDown().
 */

export interface RateLimiter {
  /** How long to wait before the key may be processed again (records a failure). */
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: base · 2^failures, capped. */
export class ExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000_000,
  ) {}
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const d = this.baseMs * Math.pow(2, n);
    return d > this.maxMs || !Number.isFinite(d) ? this.maxMs : d;
  }
  forget(key: string): void {
    this.failures.delete(key);
  }
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/** An overall token bucket (qps, burst): the delay until a token is free. Not per key. */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  when(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  forget(): void {}
  numRequeues(): number {
    return 0;
  }
}

/** The worst (longest) of several limiters, as client-go's MaxOfRateLimiter. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }
  when(key: string): number {
    let d = 0;
    for (const l of this.limiters) d = Math.max(d, l.when(key));
    return d;
  }
  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }
  numRequeues(key: string): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(key));
    return n;
  }
}

export function defaultControllerRateLimiter(): RateLimiter {
  return new MaxOfRateLimiter(new ExponentialRateLimiter(5, 1000_000), new BucketRateLimiter(10, 100));
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(readonly rateLimiter: RateLimiter = defaultControllerRateLimiter()) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const g = this.getters.shift();
    if (g) {
      this.dirty.delete(key);
      this.processing.add(key);
      g(key);
    } else this.queue.push(key);
  }

  /** Add after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const w = this.waiting.get(key);
    if (w) {
      if (w.at <= at) return;
      clearTimeout(w.timer);
    }
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key (waits for one); undefined once the queue is shut down. Call done(key) after. */
  get(): Promise<string | undefined> {
    const key = this.tryGet();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The next key if one is queued now (never waits). Call done(key) after. */
  tryGet(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  len(): number {
    return this.queue.length;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  /** Whether nothing is queued, processing or waiting. */
  idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.waiting.size === 0;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}

export type SyncResult = void | { requeueAfterMs?: number };

/** What offers Store.batch (the in-process client): the writes of fn share one commit. */
export interface Batcher {
  batch<T>(fn: () => T): T;
}

/** Continuous work a worker does before it yields to timers and I/O. */
const SLICE_MS = 20;

const isPromise = (v: unknown): v is Promise<unknown> =>
  typeof (v as { then?: unknown } | null | undefined)?.then === 'function';

/**
 * Run `workers` loops pulling keys from the queue until it shuts down. A sync that throws is retried with
 * the rate limiter; one that succeeds is forgotten (and re-added after requeueAfterMs if it asks).
 *
 * With a `batcher`, a worker that finds several keys queued syncs them one after another in one batch (one
 * commit for their writes, up to 20 ms of work, each key at most once): what a synchronous sync writes
 * is durable, and seen by watchers and informers, when the batch commits — like the lag of a real
 * informer, other keys' syncs in the same batch do not see it yet; an asynchronous sync's writes after
 * its first await are its own. Not for a controller whose sync reads back its own writes from an informer
 * (the ReplicaSet's status counts the pods it has just created): inside the batch it would not see them.
 */
export function runWorkers(
  queue: WorkQueue,
  workers: number,
  sync: (key: string) => SyncResult | Promise<SyncResult>,
  onError?: (key: string, err: unknown) => void,
  batcher?: Batcher,
): Promise<void> {
  const succeeded = (key: string, r: SyncResult): void => {
    queue.forget(key);
    if (r && r.requeueAfterMs !== undefined) queue.addAfter(key, r.requeueAfterMs);
    queue.done(key);
  };
  const failed = (key: string, e: unknown): void => {
    onError?.(key, e);
    queue.addRateLimited(key);
    queue.done(key);
  };
  /** Syncs key and, while time is left, the keys queued behind it; returns the async ones to await. */
  const syncRun = (first: string, since: number): Promise<void>[] => {
    const pending: Promise<void>[] = [];
    // A key synced twice in one batch would not see its first sync's writes in the informers (their
    // events wait for the commit): it goes back to the queue and the batch ends.
    const seen = new Set<string>();
    for (let key: string | undefined = first; key !== undefined; key = queue.tryGet()) {
      const k = key;
      if (seen.has(k)) {
        queue.done(k);
        queue.add(k);
        break;
      }
      seen.add(k);
      try {
        const r = sync(k);
        if (isPromise(r))
          pending.push(
            r.then(
              (v) => succeeded(k, v),
              (e: unknown) => failed(k, e),
            ),
          );
        else succeeded(k, r);
      } catch (e) {
        failed(k, e);
      }
      if (Date.now() - since > SLICE_MS) break;
    }
    return pending;
  };
  const loop = async (): Promise<void> => {
    let since = Date.now();
    for (;;) {
      // Keys that are always ready resolve get() at once: yield to timers and I/O every 20 ms of
      // continuous work so that a busy controller cannot starve the rest of the process.
      if (Date.now() - since > SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        since = Date.now();
      }
      const key = await queue.get();
      if (key === undefined) return;
      if (batcher) {
        const pending = batcher.batch(() => syncRun(key, since));
        await Promise.all(pending);
        continue;
      }
      try {
        const r = await sync(key);
        queue.forget(key);
        if (r && r.requeueAfterMs !== undefined) queue.addAfter(key, r.requeueAfterMs);
      } catch (e) {
        onError?.(key, e);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  return Promise.all(Array.from({ length: Math.max(1, workers) }, loop)).then(() => undefined);
}
