/**
 * The resource metrics API (metrics.k8s.io/v1beta1) served read-only, as metrics-server serves it behind
 * the aggregator: nodes (cluster-scoped) and pods (namespaced and across namespaces), get and list with
 * label and field selectors, Tables for `kubectl get`; watch and writes are 405. The objects come from a
 * MetricsProvider (core/metrics MetricsStore). Its two resources join discovery (legacy and aggregated)
 * through `discoveryTable`, and are authorized like any resource by the caller.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../api/object.ts';
import { errors, StatusError } from '../api/status.ts';
import { formatNanos, tryParseQuantity } from '../registry/core/quantity.ts';
import { nameColumn } from '../registry/printers.ts';
import type { Strategy, TableCell } from '../registry/types.ts';
import { sendJSON } from './http-util.ts';
import { negotiateResource } from './negotiate.ts';
import type { RequestInfo } from './request-info.ts';
import { ResourceTable, type Served } from './resources.ts';
import { parseIncludeObject, toTable } from './table.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

/** What serves the objects (core/metrics MetricsStore). */
export interface MetricsProvider {
  nodeMetrics(labelSelector?: string, fieldSelector?: string): KObject[];
  podMetrics(namespace?: string, labelSelector?: string, fieldSelector?: string): KObject[];
  /** Whether the Node / Pod itself exists (a get of a missing one is the core 404, as upstream). */
  exists(resource: 'nodes' | 'pods', namespace: string, name: string): boolean;
}

type Usage = { cpu?: string; memory?: string };

/** A container's usage summed per resource, as metrics-server's table shows a pod. */
function podUsage(o: KObject): Usage {
  const sum = (k: 'cpu' | 'memory'): string => {
    let nanos = 0n;
    for (const c of (o['containers'] as { usage?: Usage }[] | undefined) ?? [])
      nanos += tryParseQuantity(c.usage?.[k] ?? '0')?.nanos ?? 0n;
    return formatNanos(nanos, k === 'cpu' ? 'DecimalSI' : 'BinarySI');
  };
  return { cpu: sum('cpu'), memory: sum('memory') };
}

const columns = [
  nameColumn,
  { name: 'cpu', type: 'string', format: 'quantity', description: 'CPU usage' },
  { name: 'memory', type: 'string', format: 'quantity', description: 'Memory usage (working set)' },
  { name: 'Window', type: 'string', format: 'duration', description: 'The window the CPU usage covers' },
] as const;

function row(usage: (o: KObject) => Usage): (o: KObject) => TableCell[] {
  return (o) => {
    const u = usage(o);
    return [o.metadata.name ?? '', u.cpu ?? '', u.memory ?? '', String(o['window'] ?? '')];
  };
}

const info = (resource: string, kind: string, namespaced: boolean): Strategy['info'] => ({
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  resource,
  singular: '',
  kind,
  namespaced,
  verbs: ['get', 'list'],
});

export const metricsStrategies: readonly Strategy[] = [
  {
    info: info('nodes', 'NodeMetrics', false),
    columns,
    row: row((o) => (o['usage'] as Usage | undefined) ?? {}),
  },
  { info: info('pods', 'PodMetrics', true), columns, row: row(podUsage) },
];

export class MetricsApi {
  private readonly table = new ResourceTable(metricsStrategies);

  constructor(private readonly provider: MetricsProvider) {}

  lookup(info: RequestInfo): Served | undefined {
    return this.table.lookup(info.apiGroup, info.apiVersion, info.resource);
  }

  /**
   * The server's resources plus the metrics group, for discovery documents (built per request: the
   * server's table may change, e.g. with custom resources).
   */
  discoveryTable(base: ResourceTable): ResourceTable {
    return new ResourceTable([...base.all.map((s) => s.strategy), ...metricsStrategies]);
  }

  /** Serves an (already authorized) request for nodes or pods of the group. */
  handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, s: Served, q: URLSearchParams): void {
    const gr = { group: METRICS_GROUP, resource: info.resource };
    if (info.subresource) throw errors.pathNotFound();
    if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotSupported(gr, info.verb);
    const nodes = info.resource === 'nodes';
    const label = q.get('labelSelector') ?? undefined;
    const field = q.get('fieldSelector') ?? undefined;
    const now = new Date();
    const table = negotiateResource(req.headers.accept).table;
    const include = parseIncludeObject(q.get('includeObject'));
    if (info.verb === 'get') {
      const byName = `metadata.name=${info.name}`;
      const found = nodes
        ? this.provider.nodeMetrics(undefined, byName)
        : this.provider.podMetrics(info.namespace, undefined, byName);
      const obj = found[0];
      if (!obj) {
        if (!this.provider.exists(nodes ? 'nodes' : 'pods', info.namespace, info.name))
          throw errors.notFound({ group: '', resource: info.resource }, info.name);
        const what = nodes ? info.name : `${info.namespace}/${info.name}`;
        throw new StatusError(404, 'NotFound', `${info.resource}.${METRICS_GROUP} "${what}" not found`, {
          name: what,
          group: METRICS_GROUP,
          kind: info.resource,
        });
      }
      return sendJSON(res, 200, table ? toTable(s, [obj], {}, include, now) : obj);
    }
    const items = nodes
      ? this.provider.nodeMetrics(label, field)
      : this.provider.podMetrics(info.namespace || undefined, label, field);
    if (table) return sendJSON(res, 200, toTable(s, items, {}, include, now));
    sendJSON(res, 200, {
      kind: nodes ? 'NodeMetricsList' : 'PodMetricsList',
      apiVersion: `${METRICS_GROUP}/${METRICS_VERSION}`,
      metadata: {},
      items,
    });
  }
}
