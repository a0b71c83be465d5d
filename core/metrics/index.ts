/**
 * Resource metrics for a cluster (what metrics-server does, in-process): a MetricsStore fed by a scraper
 * of the node agents' /stats/summary, over the control plane's Node and Pod informers. The API server
 * serves the store as metrics.k8s.io/v1beta1; controllers (HPA) read it directly.
 */
import type { SharedInformerFactory } from '../client/informer.ts';
import { httpsSummaryFetcher, type AgentCredentials } from './fetch-summary.ts';
import { MetricsScraper } from './scraper.ts';
import { MetricsStore } from './store.ts';

export { MetricsStore } from './store.ts';

export interface ClusterMetrics {
  store: MetricsStore;
  scraper: MetricsScraper;
  stop(): void;
}

export function startClusterMetrics(opts: {
  informers: SharedInformerFactory;
  /** The API server's kubelet-client certificate (what the agents accept). */
  credentials: AgentCredentials;
  log?: (msg: string) => void;
  intervalMs?: number;
}): ClusterMetrics {
  const nodes = opts.informers.informer({ group: '', version: 'v1', resource: 'nodes' });
  const pods = opts.informers.informer({ group: '', version: 'v1', resource: 'pods' });
  const store = new MetricsStore({
    nodes: () => nodes.list(),
    // Only running pods have usage (metrics-server ignores the others).
    pods: (ns) =>
      pods.list(ns).filter((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running'),
  });
  const scraper = new MetricsScraper({
    nodes,
    store,
    fetch: httpsSummaryFetcher(opts.credentials),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.intervalMs ? { intervalMs: opts.intervalMs } : {}),
  });
  scraper.start();
  return { store, scraper, stop: () => scraper.stop() };
}
