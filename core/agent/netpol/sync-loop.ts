/**
 * A debounced, never-overlapping sync: `schedule()` (from watch handlers) runs `sync` once after
 * `debounceMs`; a schedule during a run queues exactly one more run; a failed run is retried after
 * `retryMs` as a full one. `forceFull()` marks the next run full (periodic resync). The sync
 * function receives whether the run is full.
 */
import type { Reflector } from '../../client/reflector.ts';

export class SyncLoop {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private full = true;
  private stopped = false;

  constructor(
    private readonly sync: (full: boolean) => Promise<void>,
    private readonly onError: (e: Error) => void,
    private readonly debounceMs = 50,
    private readonly retryMs = 1000,
  ) {}

  readonly schedule = (): void => {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.debounceMs);
  };

  forceFull(): void {
    this.full = true;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const full = this.full;
    this.full = false;
    this.sync(full)
      .catch((e: unknown) => {
        this.full = true;
        this.onError(e instanceof Error ? e : new Error(String(e)));
        setTimeout(this.schedule, this.retryMs).unref?.();
      })
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
  }
}

/**
 * Drives `loop` from `reflectors`: every watch event schedules it, a full run comes every `resyncMs`,
 * and the first lists are retried every `retryMs` until all of them succeed. Returns a stop function
 * (which stops the loop and the reflectors too).
 */
export function driveFromReflectors(
  loop: SyncLoop,
  reflectors: Reflector[],
  opts: { resyncMs: number; retryMs?: number; onListError: (e: Error) => void },
): () => void {
  let stopped = false;
  const handlers = { add: loop.schedule, update: loop.schedule, delete: loop.schedule };
  for (const r of reflectors) r.addHandlers(handlers);
  const resync = setInterval(() => loop.forceFull(), opts.resyncMs);
  resync.unref?.();
  const start = (): void => {
    void Promise.all(reflectors.map((r) => r.start())).then(loop.schedule, (e: unknown) => {
      opts.onListError(e instanceof Error ? e : new Error(String(e)));
      for (const r of reflectors) if (!r.hasSynced) r.stop();
      if (!stopped) setTimeout(start, opts.retryMs ?? 2000).unref?.();
    });
  };
  start();
  return () => {
    stopped = true;
    clearInterval(resync);
    loop.stop();
    for (const r of reflectors) r.stop();
  };
}
