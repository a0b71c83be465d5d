/**
 * The resource kinds the first views list, with kubectl-like columns. Objects arrive as plain JSON
 * (KubeObject); each column narrows to the kubernetes-types shape of its kind.
 */
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { Event as KubeEvent, Node, Pod } from 'kubernetes-types/core/v1';
import type { KubeObject, ResourceRef } from '../../electron/contract.ts';

export type KindName = 'pods' | 'deployments' | 'replicasets' | 'statefulsets' | 'nodes' | 'events';

export interface Column {
  title: string;
  cell(o: KubeObject, now: number): string;
}

/** What a table of objects needs: its rows' columns and title (resource kinds, RBAC kinds). */
export interface TableKind {
  /** Names the table in the DOM (`table-<name>`). */
  name: string;
  title: string;
  columns: Column[];
  /** Rows of the list, when not by namespace/name (events: newest first). */
  sort?: (a: KubeObject, b: KubeObject) => number;
}

export interface KindInfo extends TableKind {
  name: KindName;
  title: string;
  /** The Kubernetes kind (Pod, Deployment…). */
  kind: string;
  /** Has a scale subresource (the detail panel offers Scale). */
  scalable?: boolean;
  ref: ResourceRef;
  namespaced: boolean;
  columns: Column[];
}

export function age(ts: string | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const as = <T>(o: KubeObject): T => o as unknown as T;

/** kubectl's STATUS column for a pod (simplified printPod: waiting/terminated reasons, Terminating). */
export function podStatus(p: Pod): string {
  let reason = p.status?.reason || p.status?.phase || 'Unknown';
  for (const c of p.status?.initContainerStatuses ?? []) {
    if (c.state?.terminated && c.state.terminated.exitCode !== 0) {
      reason = `Init:${c.state.terminated.reason || `ExitCode:${c.state.terminated.exitCode}`}`;
      break;
    }
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
      break;
    }
  }
  for (const c of p.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
  }
  if (p.metadata?.deletionTimestamp) reason = p.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

export function nodeStatus(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  let s = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  if (n.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

export function isSimulated(o: KubeObject): boolean {
  return o.metadata.annotations?.['berth.dev/driver'] === 'simulated';
}

/** When an event last happened (RFC 3339; '' when unknown). */
export function eventTime(o: KubeObject): string {
  const e = as<KubeEvent>(o);
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? o.metadata.creationTimestamp ?? '';
}

/** An event's object as kubectl names it: `pod/web-1`. */
export function involvedObject(o: KubeObject): string {
  const r = as<KubeEvent>(o).involvedObject;
  return `${(r.kind ?? '').toLowerCase()}/${r.name ?? ''}`;
}

const workloadColumns = <T extends ReplicaSet | StatefulSet>(): Column[] => [
  { title: 'Name', cell: (o) => o.metadata.name ?? '' },
  { title: 'Namespace', cell: (o) => o.metadata.namespace ?? '' },
  { title: 'Desired', cell: (o) => String(as<T>(o).spec?.replicas ?? 1) },
  { title: 'Ready', cell: (o) => String(as<T>(o).status?.readyReplicas ?? 0) },
  { title: 'Age', cell: (o, now) => age(o.metadata.creationTimestamp, now) },
];

export const KINDS: Record<KindName, KindInfo> = {
  pods: {
    name: 'pods',
    title: 'Pods',
    kind: 'Pod',
    ref: { group: '', version: 'v1', resource: 'pods' },
    namespaced: true,
    columns: [
      { title: 'Name', cell: (o) => o.metadata.name ?? '' },
      { title: 'Namespace', cell: (o) => o.metadata.namespace ?? '' },
      {
        title: 'Ready',
        cell: (o) => {
          const p = as<Pod>(o);
          const cs = p.status?.containerStatuses ?? [];
          return `${cs.filter((c) => c.ready).length}/${p.spec?.containers.length ?? 0}`;
        },
      },
      { title: 'Status', cell: (o) => podStatus(as<Pod>(o)) },
      {
        title: 'Restarts',
        cell: (o) =>
          String((as<Pod>(o).status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0)),
      },
      { title: 'Node', cell: (o) => as<Pod>(o).spec?.nodeName ?? '<none>' },
      { title: 'Age', cell: (o, now) => age(o.metadata.creationTimestamp, now) },
    ],
  },
  deployments: {
    name: 'deployments',
    title: 'Deployments',
    kind: 'Deployment',
    scalable: true,
    ref: { group: 'apps', version: 'v1', resource: 'deployments' },
    namespaced: true,
    columns: [
      { title: 'Name', cell: (o) => o.metadata.name ?? '' },
      { title: 'Namespace', cell: (o) => o.metadata.namespace ?? '' },
      {
        title: 'Ready',
        cell: (o) => {
          const d = as<Deployment>(o);
          return `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`;
        },
      },
      { title: 'Up-to-date', cell: (o) => String(as<Deployment>(o).status?.updatedReplicas ?? 0) },
      { title: 'Available', cell: (o) => String(as<Deployment>(o).status?.availableReplicas ?? 0) },
      { title: 'Age', cell: (o, now) => age(o.metadata.creationTimestamp, now) },
    ],
  },
  replicasets: {
    name: 'replicasets',
    title: 'ReplicaSets',
    kind: 'ReplicaSet',
    scalable: true,
    ref: { group: 'apps', version: 'v1', resource: 'replicasets' },
    namespaced: true,
    columns: workloadColumns<ReplicaSet>(),
  },
  statefulsets: {
    name: 'statefulsets',
    title: 'StatefulSets',
    kind: 'StatefulSet',
    scalable: true,
    ref: { group: 'apps', version: 'v1', resource: 'statefulsets' },
    namespaced: true,
    columns: workloadColumns<StatefulSet>(),
  },
  nodes: {
    name: 'nodes',
    title: 'Nodes',
    kind: 'Node',
    ref: { group: '', version: 'v1', resource: 'nodes' },
    namespaced: false,
    columns: [
      { title: 'Name', cell: (o) => o.metadata.name ?? '' },
      { title: 'Status', cell: (o) => nodeStatus(as<Node>(o)) },
      {
        title: 'Roles',
        cell: (o) =>
          Object.keys(o.metadata.labels ?? {})
            .filter((k) => k.startsWith('node-role.kubernetes.io/'))
            .map((k) => k.slice('node-role.kubernetes.io/'.length))
            .join(',') || '<none>',
      },
      {
        title: 'Driver',
        cell: (o) => (isSimulated(o) ? 'simulated' : (o.metadata.annotations?.['berth.dev/driver'] ?? '')),
      },
      { title: 'Version', cell: (o) => as<Node>(o).status?.nodeInfo?.kubeletVersion ?? '' },
      {
        title: 'CPU / Memory',
        cell: (o) => {
          const c = as<Node>(o).status?.capacity ?? {};
          return `${c['cpu'] ?? '?'} / ${c['memory'] ?? '?'}`;
        },
      },
      { title: 'Age', cell: (o, now) => age(o.metadata.creationTimestamp, now) },
    ],
  },
  events: {
    name: 'events',
    title: 'Events',
    kind: 'Event',
    sort: (a, b) => eventTime(b).localeCompare(eventTime(a)),
    ref: { group: '', version: 'v1', resource: 'events' },
    namespaced: true,
    columns: [
      {
        title: 'Last seen',
        cell: (o, now) => age(eventTime(o) || undefined, now),
      },
      { title: 'Type', cell: (o) => as<KubeEvent>(o).type ?? '' },
      { title: 'Reason', cell: (o) => as<KubeEvent>(o).reason ?? '' },
      { title: 'Object', cell: (o) => involvedObject(o) },
      { title: 'Count', cell: (o) => String(as<KubeEvent>(o).count ?? as<KubeEvent>(o).series?.count ?? 1) },
      { title: 'Message', cell: (o) => as<KubeEvent>(o).message ?? '' },
    ],
  },
};

export const NAMESPACES_REF: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
export const EVENTS_REF: ResourceRef = KINDS.events.ref;
