/**
 * The latest resource usage per node, pod and container (what the scraper recorded), served as
 * metrics.k8s.io objects. As metrics-server, listing starts from the Nodes / Pods the API knows (their
 * labels select, their names name) and keeps those with usage; usage older than `maxAgeMs` (a node
 * that stopped answering) is not served. Nodes without usage (simulated ones) simply have no metrics.
 */
import type { KObject } from '../api/object.ts';
import { matchesLabels, parseLabelSelector } from '../apiserver/label-selector.ts';
import { checkFieldsSupported, matchesFields, parseFieldSelector } from '../apiserver/field-selector.ts';
import { nodeMetricsObject, podMetricsObject } from './objects.ts';
import type { NodeUsageResult, PodUsage, RatedUsage } from './rates.ts';

/** The Nodes and Pods the API server knows (informer caches). */
export interface MetricsSources {
  nodes(): KObject[];
  /** Pods of one namespace, or of all when undefined. */
  pods(namespace?: string): KObject[];
}

export interface MetricsStoreOptions {
  /** Usage recorded longer ago than this is not served (default 60 s). */
  maxAgeMs?: number;
  now?: () => Date;
}

interface NodeEntry {
  recordedMs: number;
  node?: RatedUsage;
  pods: Map<string, PodUsage>;
}

const NODE_FIELDS = new Set(['metadata.name']);
const POD_FIELDS = new Set(['metadata.name', 'metadata.namespace']);

export class MetricsStore {
  private readonly byNode = new Map<string, NodeEntry>();
  private readonly maxAgeMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly sources: MetricsSources,
    opts: MetricsStoreOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.now = opts.now ?? (() => new Date());
  }

  /** Replaces what one node reported. */
  record(nodeName: string, result: NodeUsageResult): void {
    this.byNode.set(nodeName, {
      recordedMs: this.now().getTime(),
      ...(result.node ? { node: result.node } : {}),
      pods: new Map(result.pods.map((p) => [p.uid, p])),
    });
  }

  forgetNode(nodeName: string): void {
    this.byNode.delete(nodeName);
  }

  private fresh(): NodeEntry[] {
    const cutoff = this.now().getTime() - this.maxAgeMs;
    return [...this.byNode.values()].filter((e) => e.recordedMs >= cutoff);
  }

  private isFresh(e: NodeEntry | undefined): e is NodeEntry {
    return e !== undefined && e.recordedMs >= this.now().getTime() - this.maxAgeMs;
  }

  exists(resource: 'nodes' | 'pods', namespace: string, name: string): boolean {
    const list = resource === 'nodes' ? this.sources.nodes() : this.sources.pods(namespace);
    return list.some((o) => o.metadata.name === name);
  }

  /** NodeMetrics of the Nodes matching the selectors that have usage, sorted by name. */
  nodeMetrics(labelSelector?: string, fieldSelector?: string): KObject[] {
    const sel = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector);
    checkFieldsSupported(fields, NODE_FIELDS);
    const now = this.now();
    const out: KObject[] = [];
    for (const n of this.sources.nodes()) {
      const name = n.metadata.name ?? '';
      if (!matchesLabels(sel, n.metadata.labels) || !matchesFields(fields, { 'metadata.name': name }))
        continue;
      const e = this.byNode.get(name);
      if (this.isFresh(e) && e.node) out.push(nodeMetricsObject(n, e.node, now));
    }
    return out.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  }

  /** PodMetrics of the Pods (of `namespace`, or all) matching the selectors that have usage. */
  podMetrics(namespace?: string, labelSelector?: string, fieldSelector?: string): KObject[] {
    const sel = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector);
    checkFieldsSupported(fields, POD_FIELDS);
    const usage = new Map<string, PodUsage>();
    for (const e of this.fresh()) for (const [uid, p] of e.pods) usage.set(uid, p);
    const now = this.now();
    const out: KObject[] = [];
    for (const p of this.sources.pods(namespace || undefined)) {
      const { name = '', namespace: ns = '', uid = '', labels } = p.metadata;
      if (!matchesLabels(sel, labels)) continue;
      if (!matchesFields(fields, { 'metadata.name': name, 'metadata.namespace': ns })) continue;
      const u = usage.get(uid);
      if (u) out.push(podMetricsObject(p, u, now));
    }
    return out.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
  }
}
