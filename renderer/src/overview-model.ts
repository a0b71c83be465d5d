/**
 * The Overview page's numbers, pure: per node its status, allocatable cpu/memory/pods, what its
 * non-terminated pods request (a pod's effective request: the larger of its containers' sum and
 * its largest init container, plus overhead — as the scheduler counts), what it really uses (its
 * metrics.k8s.io NodeMetrics, when the metrics API answers), and recent Warning events.
 */
import type { Event as KubeEvent, Node, Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../electron/contract.ts';
import { eventTime, nodeStatus } from './kinds.ts';

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number (cpu in cores, memory in bytes); NaN when malformed. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const f = SUFFIX[m[2] ?? ''];
  return f === undefined ? NaN : Number(m[1]) * f;
}

type Requests = { cpu: number; memory: number };

export function podRequests(p: Pod): Requests {
  const sum = (list: { resources?: { requests?: Record<string, string> } }[] | undefined): Requests => {
    const r = { cpu: 0, memory: 0 };
    for (const c of list ?? []) {
      r.cpu += parseQuantity(c.resources?.requests?.['cpu']) || 0;
      r.memory += parseQuantity(c.resources?.requests?.['memory']) || 0;
    }
    return r;
  };
  const main = sum(p.spec?.containers);
  for (const c of p.spec?.initContainers ?? []) {
    const one = sum([c]);
    main.cpu = Math.max(main.cpu, one.cpu);
    main.memory = Math.max(main.memory, one.memory);
  }
  main.cpu += parseQuantity(p.spec?.overhead?.['cpu']) || 0;
  main.memory += parseQuantity(p.spec?.overhead?.['memory']) || 0;
  return main;
}

export interface NodeUsage {
  name: string;
  status: string;
  simulated: boolean;
  allocatable: { cpu: number; memory: number; pods: number };
  requested: Requests;
  pods: number;
  /** Pods per phase on this node (Running, Pending…). */
  phases: Record<string, number>;
  /** Actual usage from its NodeMetrics (cpu in cores, memory working set in bytes), when known. */
  used?: Requests;
}

/** Node name → usage, from metrics.k8s.io/v1beta1 NodeMetrics objects. */
export function nodeMetricsUsage(metrics: KubeObject[]): Map<string, Requests> {
  const out = new Map<string, Requests>();
  for (const m of metrics) {
    const u = (m as { usage?: Record<string, string> }).usage ?? {};
    const cpu = parseQuantity(u['cpu']);
    const memory = parseQuantity(u['memory']);
    if (m.metadata.name && Number.isFinite(cpu) && Number.isFinite(memory))
      out.set(m.metadata.name, { cpu, memory });
  }
  return out;
}

export function nodeUsage(
  nodes: KubeObject[],
  pods: KubeObject[],
  used: Map<string, Requests> = new Map(),
): NodeUsage[] {
  const byNode = new Map<string, NodeUsage>();
  for (const o of nodes) {
    const n = o as unknown as Node;
    const a = n.status?.allocatable ?? n.status?.capacity ?? {};
    byNode.set(o.metadata.name ?? '', {
      name: o.metadata.name ?? '',
      status: nodeStatus(n),
      simulated: o.metadata.annotations?.['berth.dev/driver'] === 'simulated',
      allocatable: {
        cpu: parseQuantity(a['cpu']) || 0,
        memory: parseQuantity(a['memory']) || 0,
        pods: parseQuantity(a['pods']) || 0,
      },
      requested: { cpu: 0, memory: 0 },
      pods: 0,
      phases: {},
      ...(used.has(o.metadata.name ?? '') ? { used: used.get(o.metadata.name ?? '') } : {}),
    });
  }
  for (const o of pods) {
    const p = o as unknown as Pod;
    const u = byNode.get(p.spec?.nodeName ?? '');
    if (!u) continue;
    const phase = p.status?.phase ?? 'Pending';
    u.phases[phase] = (u.phases[phase] ?? 0) + 1;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    u.pods++;
    const r = podRequests(p);
    u.requested.cpu += r.cpu;
    u.requested.memory += r.memory;
  }
  return [...byNode.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface Warning {
  key: string;
  time: string;
  object: string;
  reason: string;
  message: string;
  count: number;
}

export function recentWarnings(events: KubeObject[], limit = 20): Warning[] {
  return events
    .filter((o) => (o as unknown as KubeEvent).type === 'Warning')
    .map((o) => {
      const e = o as unknown as KubeEvent;
      return {
        key: `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`,
        time: eventTime(o),
        object: `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? ''}`,
        reason: e.reason ?? '',
        message: e.message ?? '',
        count: e.series?.count ?? e.count ?? 1,
      };
    })
    .sort((a, b) => b.time.localeCompare(a.time))
    .slice(0, limit);
}

export function percent(used: number, total: number): string {
  return total > 0 ? `${Math.round((used / total) * 100)}%` : '–';
}
