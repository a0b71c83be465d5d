/**
 * Scrapes every Ready, non-simulated node's agent for its resource summary every 15 s (and right after
 * a node turns Ready, with follow-ups a few seconds later so that rates exist soon), a few nodes at a
 * time, each fetch bounded by a timeout. Each node's previous snapshot and the new one give its usage
 * (rates.ts), recorded in the MetricsStore.
 */
import type { KObject } from '../api/object.ts';
import type { InformerHandlers } from '../client/informer.ts';
import { SIMULATED_LABEL } from '../nodes/simulated/driver.ts';
import { nodeEndpoint, type SummaryFetcher } from './fetch-summary.ts';
import { computeUsage, snapshotOf, type NodeSnapshot } from './rates.ts';
import type { MetricsStore } from './store.ts';

export interface NodeSource {
  list(): KObject[];
  addHandlers(h: InformerHandlers): void;
}

export interface ScraperOptions {
  nodes: NodeSource;
  store: MetricsStore;
  fetch: SummaryFetcher;
  log?: (msg: string) => void;
  /** Default 15 s, as metrics-server's --metric-resolution. */
  intervalMs?: number;
  /**
   * After a node turns Ready: scrape at once and again after these delays (default 2 s and 7 s: the
   * agent's endpoint starts just after Ready, and two readings make the first rates).
   */
  followUpsMs?: readonly number[];
  /** Per fetch (default 10 s). */
  timeoutMs?: number;
  /** Nodes fetched at the same time (default 4). */
  concurrency?: number;
  now?: () => number;
}

export function isReadyNode(n: KObject): boolean {
  const conds = (n['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
  return (conds ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Nodes with an agent to ask: Ready, with an address, not simulated (those have no usage to report). */
export function scrapable(n: KObject): boolean {
  return isReadyNode(n) && n.metadata.labels?.[SIMULATED_LABEL] !== 'true' && !!nodeEndpoint(n);
}

export class MetricsScraper {
  private readonly last = new Map<string, NodeSnapshot>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Node → its last failure and how many scrapes in a row failed with it. */
  private readonly failing = new Map<string, { msg: string; times: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private interval?: NodeJS.Timeout;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;

  constructor(private readonly opts: ScraperOptions) {
    this.intervalMs = opts.intervalMs ?? 15_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    const turnedReady = (n: KObject): void => {
      if (!scrapable(n)) return;
      void this.scrapeNode(n);
      for (const ms of this.opts.followUpsMs ?? [2_000, 7_000]) this.later(ms, n.metadata.name ?? '');
    };
    this.opts.nodes.addHandlers({
      add: turnedReady,
      update: (old, cur) => {
        if (!isReadyNode(old) && isReadyNode(cur)) turnedReady(cur);
        else if (scrapable(old) && !scrapable(cur)) this.forget(cur.metadata.name ?? '');
      },
      delete: (n) => this.forget(n.metadata.name ?? ''),
    });
    this.interval = setInterval(() => void this.scrapeAll(), this.intervalMs);
    this.interval.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, name: string): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      const n = this.opts.nodes.list().find((x) => x.metadata.name === name);
      if (n && scrapable(n)) void this.scrapeNode(n);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private forget(name: string): void {
    this.last.delete(name);
    this.failing.delete(name);
    this.opts.store.forgetNode(name);
  }

  /** One round over every scrapable node, `concurrency` at a time. */
  async scrapeAll(): Promise<void> {
    const queue = this.opts.nodes.list().filter(scrapable);
    const worker = async (): Promise<void> => {
      for (let n = queue.shift(); n; n = queue.shift()) await this.scrapeNode(n);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
  }

  /** Scrapes one node (joining a scrape of it already under way). */
  scrapeNode(node: KObject): Promise<void> {
    const name = node.metadata.name ?? '';
    const running = this.inFlight.get(name);
    if (running) return running;
    const p = this.fetchAndRecord(node).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, p);
    return p;
  }

  private async fetchAndRecord(node: KObject): Promise<void> {
    const name = node.metadata.name ?? '';
    const target = nodeEndpoint(node);
    if (!target || this.stopped) return;
    const ac = new AbortController();
    const timer = setTimeout(
      () => ac.abort(new Error(`timed out after ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    try {
      const summary = await this.opts.fetch(target, ac.signal);
      if (this.stopped) return;
      const snap = snapshotOf(summary, this.now());
      const prev = this.last.get(name);
      this.last.set(name, snap);
      this.opts.store.record(name, computeUsage(prev, snap));
      const failed = this.failing.get(name);
      this.failing.delete(name);
      if (failed && failed.times >= 2) this.opts.log?.(`metrics: node ${name} answers again`);
    } catch (e) {
      const msg = ac.signal.aborted ? `timed out after ${this.timeoutMs} ms` : (e as Error).message;
      // Logged once per failure that persists (the scrape right after Ready may precede the agent's
      // endpoint); the store stops serving the node's usage once it is stale.
      const prev = this.failing.get(name);
      const times = prev?.msg === msg ? prev.times + 1 : 1;
      this.failing.set(name, { msg, times });
      if (times === 2) this.opts.log?.(`metrics: scraping node ${name} failed: ${msg}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
