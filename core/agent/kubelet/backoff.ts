/**
 * The kubelet's per-key back-off (client-go flowcontrol.Backoff as the kubelet uses it): the first
 * failure is retried at once and arms the back-off at `initial`; a failure while "in back-off since"
 * its finish time waits; every retry doubles the delay up to `max`. Entries are stamped with the
 * failure time, so one not renewed for 2 × max (10 min by default: a container that ran that long)
 * starts over.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  readonly initialMs: number;
  readonly maxMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && now - e.lastUpdate > 2 * this.maxMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** The current delay for `key` (0 when not backing off). */
  delayMs(key: string, now = Date.now()): number {
    return this.live(key, now)?.delayMs ?? 0;
  }

  /** Whether a retry of something that failed at `failedAt` must still wait at `now`. */
  inBackoffSince(key: string, failedAt: number, now = Date.now()): boolean {
    const e = this.live(key, now);
    if (!e) return false;
    return now - failedAt < e.delayMs;
  }

  /** Records a retry of a failure at `failedAt`: arms the back-off at `initial`, or doubles it (up to max). */
  next(key: string, failedAt = Date.now()): number {
    const e = this.live(key, failedAt);
    const delayMs = e ? Math.min(e.delayMs * 2, this.maxMs) : this.initialMs;
    this.entries.set(key, { delayMs, lastUpdate: failedAt });
    return delayMs;
  }

  /** Forgets `key` (a long run, or the thing it tracked is gone). */
  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key with this prefix (a pod's containers). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** "10s", "1m20s", "5m0s" as Go's time.Duration prints whole seconds. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
