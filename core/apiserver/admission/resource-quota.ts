/**
 * ResourceQuota: the usage evaluators shared by the admission plugin and the quota controller
 * (k8s.io/kubernetes/pkg/quota/v1/evaluator/core and plugin/pkg/admission/resourcequota, written anew):
 * - pods: pods, count/pods, cpu/memory (= requests.*), requests.*, limits.*, ephemeral-storage,
 *   hugepages and extended requests; terminal pods (Succeeded/Failed, or past their deletion grace) only
 *   count in count/pods; scopes Terminating/NotTerminating/BestEffort/NotBestEffort/PriorityClass/
 *   CrossNamespacePodAffinity (spec.scopes and spec.scopeSelector);
 * - services (services, services.nodeports, services.loadbalancers), persistentvolumeclaims
 *   (persistentvolumeclaims, requests.storage, <class>.storageclass.storage.k8s.io/…), and object counts
 *   (configmaps, secrets, replicationcontrollers, resourcequotas, count/<resource>.<group>).
 * The admission plugin checks a create (or an update that grows usage) against every matching quota's
 * status and charges the quota's status.used before the object is stored, so two racing creates cannot
 * both pass; the controller recomputes usage from scratch later.
 */
import type { KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import { formatNanos, type QuantityFormat, tryParseQuantity } from '../../registry/core/quantity.ts';
import type { AdmissionPlugin, GenericRegistry } from '../generic-registry.ts';
import type { Served } from '../resources.ts';

// ---- resource lists ----

export interface Q {
  nanos: bigint;
  format: QuantityFormat;
}
export type ResourceList = Map<string, Q>;

const ONE = 1_000_000_000n;
const count = (n: number): Q => ({ nanos: BigInt(n) * ONE, format: 'DecimalSI' });

export function parseQ(v: unknown): Q | undefined {
  if (typeof v === 'number') return tryParseQuantity(String(v));
  return typeof v === 'string' ? tryParseQuantity(v) : undefined;
}

export function toResourceList(m: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (m && typeof m === 'object')
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      const q = parseQ(v);
      if (q) out.set(k, q);
    }
  return out;
}

export function fromResourceList(l: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...l.keys()].sort()) out[k] = formatNanos(l.get(k)!.nanos, l.get(k)!.format);
  return out;
}

/** Quantity.Add: a zero receiver takes the addend's format. */
function addQ(a: Q | undefined, b: Q): Q {
  if (!a) return { ...b };
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) out.set(k, { ...v });
  for (const [k, v] of b) out.set(k, addQ(out.get(k), v));
  return out;
}

function maxLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) out.set(k, { ...v });
  for (const [k, v] of b) {
    const cur = out.get(k);
    if (!cur || v.nanos > cur.nanos) out.set(k, { ...v });
  }
  return out;
}

function mask(l: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const n of names) {
    const v = l.get(n);
    if (v) out.set(n, v);
  }
  return out;
}

/** `k=v` pairs sorted by name, comma separated (the admission plugin's prettyPrint). */
export function prettyPrint(l: ResourceList): string {
  return [...l.keys()]
    .sort()
    .map((k) => `${k}=${formatNanos(l.get(k)!.nanos, l.get(k)!.format)}`)
    .join(',');
}

// ---- pods ----

interface Container {
  name?: string;
  restartPolicy?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}
interface PodSpecLike {
  containers?: Container[];
  initContainers?: Container[];
  overhead?: Record<string, unknown>;
  activeDeadlineSeconds?: number;
  priorityClassName?: string;
  affinity?: {
    podAffinity?: AffinityLike;
    podAntiAffinity?: AffinityLike;
  };
}
interface TermLike {
  namespaces?: string[];
  namespaceSelector?: unknown;
  podAffinityTerm?: { namespaces?: string[]; namespaceSelector?: unknown };
}
interface AffinityLike {
  requiredDuringSchedulingIgnoredDuringExecution?: TermLike[];
  preferredDuringSchedulingIgnoredDuringExecution?: TermLike[];
}

const podSpec = (p: KObject): PodSpecLike => (p['spec'] ?? {}) as PodSpecLike;

/** resourcehelper.PodRequests / PodLimits: containers summed, init containers (sidecars) as maxima. */
function podResources(spec: PodSpecLike, which: 'requests' | 'limits'): ResourceList {
  let sum: ResourceList = new Map();
  for (const c of spec.containers ?? []) sum = addLists(sum, toResourceList(c.resources?.[which]));
  let sidecars: ResourceList = new Map();
  let initMax: ResourceList = new Map();
  for (const c of spec.initContainers ?? []) {
    const r = toResourceList(c.resources?.[which]);
    if (c.restartPolicy === 'Always') {
      sum = addLists(sum, r);
      sidecars = addLists(sidecars, r);
    } else initMax = maxLists(initMax, addLists(r, sidecars));
  }
  sum = maxLists(sum, initMax);
  if (spec.overhead) sum = addLists(sum, toResourceList(spec.overhead));
  return sum;
}

/** A pod's total requests and limits (without overhead), as LimitRanger's type Pod sees them. */
export function podResourceTotals(p: KObject): { requests: ResourceList; limits: ResourceList } {
  const spec = { ...podSpec(p) };
  delete spec.overhead;
  return { requests: podResources(spec, 'requests'), limits: podResources(spec, 'limits') };
}

const computeResources = ['cpu', 'memory', 'ephemeral-storage'];

/** podComputeUsageHelper. */
function podComputeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([['pods', count(1)]]);
  for (const r of computeResources) {
    const q = requests.get(r);
    if (q) {
      out.set(r, q);
      out.set(`requests.${r}`, q);
    }
    const l = limits.get(r);
    if (l) out.set(`limits.${r}`, l);
  }
  for (const [k, v] of requests) {
    if (computeResources.includes(k)) continue;
    if (k.startsWith('hugepages-')) {
      out.set(`requests.${k}`, v);
    } else if (k.includes('/') && !k.startsWith('kubernetes.io/') && !k.includes('.kubernetes.io/')) {
      out.set(`requests.${k}`, v); // extended resources
    }
  }
  return out;
}

/** Whether a pod still counts toward compute quota (QuotaV1Pod). */
export function podCountsForQuota(p: KObject, now = Date.now()): boolean {
  const phase = ((p['status'] ?? {}) as { phase?: string }).phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const dt = p.metadata.deletionTimestamp;
  const grace = p.metadata.deletionGracePeriodSeconds;
  if (dt && grace !== undefined) {
    if (now > Date.parse(dt) + grace * 1000) return false;
  }
  return true;
}

export function podUsage(p: KObject, now = Date.now()): ResourceList {
  const out: ResourceList = new Map([['count/pods', count(1)]]);
  if (!podCountsForQuota(p, now)) return out;
  const spec = podSpec(p);
  return addLists(out, podComputeUsage(podResources(spec, 'requests'), podResources(spec, 'limits')));
}

function isPodResource(name: string): boolean {
  if (name === 'pods' || name === 'count/pods') return true;
  if (computeResources.includes(name)) return true;
  if (name.startsWith('requests.') || name.startsWith('limits.')) {
    const rest = name.slice(name.indexOf('.') + 1);
    if (name.startsWith('limits.')) return computeResources.includes(rest);
    return rest !== 'storage' && !rest.includes('storageclass.storage.k8s.io');
  }
  return name.startsWith('hugepages-');
}

const podValidationSet = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

/** The pod evaluator's Constraints: every container must set each cpu/memory resource the quota limits. */
export function podConstraints(required: string[], p: KObject): string | undefined {
  const requiredSet = new Set(required.filter((r) => podValidationSet.includes(r)));
  if (!requiredSet.size) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = podSpec(p);
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const usage = podComputeUsage(toResourceList(c.resources?.requests), toResourceList(c.resources?.limits));
    for (const r of requiredSet)
      if (!usage.has(r)) {
        const s = missing.get(r) ?? new Set<string>();
        s.add(c.name ?? '');
        missing.set(r, s);
      }
  }
  if (!missing.size) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

export function isBestEffort(p: KObject): boolean {
  const spec = podSpec(p);
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const m of [c.resources?.requests, c.resources?.limits])
      for (const [k, v] of Object.entries(m ?? {}))
        if ((k === 'cpu' || k === 'memory' || k.startsWith('hugepages-')) && (parseQ(v)?.nanos ?? 0n) > 0n)
          return false;
  }
  return true;
}

export interface ScopeSelector {
  scopeName: string;
  operator: string;
  values?: string[];
}

interface QuotaSpec {
  hard?: Record<string, unknown>;
  scopes?: string[];
  scopeSelector?: { matchExpressions?: ScopeSelector[] };
}

export function scopeSelectorsOf(quota: KObject): ScopeSelector[] {
  const spec = (quota['spec'] ?? {}) as QuotaSpec;
  return [
    ...(spec.scopes ?? []).map((s) => ({ scopeName: s, operator: 'Exists' })),
    ...(spec.scopeSelector?.matchExpressions ?? []),
  ];
}

function crossNamespaceAffinity(spec: PodSpecLike): boolean {
  for (const a of [spec.affinity?.podAffinity, spec.affinity?.podAntiAffinity]) {
    for (const t of [
      ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm ?? {}),
    ])
      if ((t.namespaces ?? []).length > 0 || t.namespaceSelector !== undefined) return true;
  }
  return false;
}

export function podMatchesScope(sel: ScopeSelector, p: KObject): boolean {
  const spec = podSpec(p);
  switch (sel.scopeName) {
    case 'Terminating':
      return spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0;
    case 'NotTerminating':
      return spec.activeDeadlineSeconds === undefined;
    case 'BestEffort':
      return isBestEffort(p);
    case 'NotBestEffort':
      return !isBestEffort(p);
    case 'CrossNamespacePodAffinity':
      return crossNamespaceAffinity(spec);
    case 'PriorityClass': {
      const pc = spec.priorityClassName ?? '';
      switch (sel.operator) {
        case 'Exists':
          return pc !== '';
        case 'DoesNotExist':
          return false; // the label set always has the key (possibly empty)
        case 'In':
          return (sel.values ?? []).includes(pc);
        case 'NotIn':
          return !(sel.values ?? []).includes(pc);
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

// ---- services, claims, object counts ----

interface ServiceSpecLike {
  type?: string;
  ports?: { nodePort?: number }[];
  allocateLoadBalancerNodePorts?: boolean;
}

export function serviceUsage(svc: KObject): ResourceList {
  const spec = (svc['spec'] ?? {}) as ServiceSpecLike;
  const out: ResourceList = new Map([
    ['services', count(1)],
    ['count/services', count(1)],
  ]);
  const ports = (spec.ports ?? []).length;
  if (spec.type === 'NodePort') out.set('services.nodeports', count(ports));
  if (spec.type === 'LoadBalancer') {
    out.set(
      'services.nodeports',
      count(
        spec.allocateLoadBalancerNodePorts === false
          ? (spec.ports ?? []).filter((p) => p.nodePort !== undefined && p.nodePort !== 0).length
          : ports,
      ),
    );
    out.set('services.loadbalancers', count(1));
  }
  return out;
}

const STORAGECLASS_SUFFIX = '.storageclass.storage.k8s.io/';

export function claimClass(pvc: KObject): string {
  const beta = pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (beta !== undefined) return beta;
  return ((pvc['spec'] ?? {}) as { storageClassName?: string }).storageClassName ?? '';
}

export function pvcUsage(pvc: KObject): ResourceList {
  const out: ResourceList = new Map([
    ['persistentvolumeclaims', count(1)],
    ['count/persistentvolumeclaims', count(1)],
  ]);
  const cls = claimClass(pvc);
  if (cls) out.set(`${cls}${STORAGECLASS_SUFFIX}persistentvolumeclaims`, count(1));
  const spec = (pvc['spec'] ?? {}) as { resources?: { requests?: Record<string, unknown> } };
  const status = (pvc['status'] ?? {}) as { allocatedResources?: Record<string, unknown> };
  let storage = parseQ(spec.resources?.requests?.['storage']);
  const allocated = parseQ(status.allocatedResources?.['storage']);
  if (allocated && (!storage || allocated.nanos > storage.nanos)) storage = allocated;
  if (storage) {
    out.set('requests.storage', storage);
    if (cls) out.set(`${cls}${STORAGECLASS_SUFFIX}requests.storage`, storage);
  }
  return out;
}

/** A quota-tracked kind: its resource (and group) and how one object uses quota. */
export interface Evaluator {
  group: string;
  resource: string;
  /** Which of the quota's resource names this evaluator accounts. */
  matchingResources(names: string[]): string[];
  usage(obj: KObject, now?: number): ResourceList;
  scoped: boolean;
  /** Whether updates are charged (only creates otherwise). */
  handlesUpdate: boolean;
}

export function countName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

function objectCountEvaluator(group: string, resource: string, legacy?: string): Evaluator {
  const cn = countName(group, resource);
  return {
    group,
    resource,
    matchingResources: (names) => names.filter((n) => n === cn || n === legacy),
    usage: () => {
      const out: ResourceList = new Map([[cn, count(1)]]);
      if (legacy) out.set(legacy, count(1));
      return out;
    },
    scoped: false,
    handlesUpdate: false,
  };
}

const podEvaluator: Evaluator = {
  group: '',
  resource: 'pods',
  matchingResources: (names) => names.filter(isPodResource),
  usage: podUsage,
  scoped: true,
  handlesUpdate: true,
};
const serviceEvaluator: Evaluator = {
  group: '',
  resource: 'services',
  matchingResources: (names) =>
    names.filter((n) =>
      ['services', 'count/services', 'services.nodeports', 'services.loadbalancers'].includes(n),
    ),
  usage: serviceUsage,
  scoped: false,
  handlesUpdate: true,
};
const pvcEvaluator: Evaluator = {
  group: '',
  resource: 'persistentvolumeclaims',
  matchingResources: (names) =>
    names.filter(
      (n) =>
        n === 'persistentvolumeclaims' ||
        n === 'count/persistentvolumeclaims' ||
        n === 'requests.storage' ||
        (n.includes(STORAGECLASS_SUFFIX) &&
          (n.endsWith('/requests.storage') || n.endsWith('/persistentvolumeclaims'))),
    ),
  usage: pvcUsage,
  scoped: false,
  handlesUpdate: true,
};

const builtin: Evaluator[] = [
  podEvaluator,
  serviceEvaluator,
  pvcEvaluator,
  objectCountEvaluator('', 'configmaps', 'configmaps'),
  objectCountEvaluator('', 'secrets', 'secrets'),
  objectCountEvaluator('', 'replicationcontrollers', 'replicationcontrollers'),
  objectCountEvaluator('', 'resourcequotas', 'resourcequotas'),
];

/** The evaluator for a resource: a built-in one, or a generic object count (count/<resource>.<group>). */
export function evaluatorFor(group: string, resource: string): Evaluator {
  return (
    builtin.find((e) => e.group === group && e.resource === resource) ?? objectCountEvaluator(group, resource)
  );
}

/** The built-in evaluators (the controller watches their kinds for replenishment). */
export const BUILTIN_EVALUATORS: readonly Evaluator[] = builtin;

/** count/<resource>.<group> names → {group, resource}. */
export function parseCountName(name: string): { group: string; resource: string } | undefined {
  if (!name.startsWith('count/')) return undefined;
  const rest = name.slice('count/'.length);
  const i = rest.indexOf('.');
  return i < 0 ? { group: '', resource: rest } : { group: rest.slice(i + 1), resource: rest.slice(0, i) };
}

/** Whether an object matches a quota's scopes (no scopes: all; non-pod evaluators ignore scopes). */
export function matchesScopes(ev: Evaluator, quota: KObject, obj: KObject): boolean {
  if (!ev.scoped) return true;
  return scopeSelectorsOf(quota).every((s) => podMatchesScope(s, obj));
}

// ---- admission ----

interface QuotaStatus {
  hard?: Record<string, unknown>;
  used?: Record<string, unknown>;
}

export function resourceQuotaAdmission(registry: GenericRegistry): AdmissionPlugin {
  const rqServed = () => registry.table.lookup('', 'v1', 'resourcequotas');
  return {
    name: 'ResourceQuota',
    validate(op, s, obj, old, ctx) {
      if (op === 'DELETE') return;
      const info = s.strategy.info;
      if (!info.namespaced) return;
      const ns = obj.metadata.namespace ?? '';
      if (!ns) return;
      // As upstream: quota ignores every subresource write (status, binding, …).
      if (ctx.subresource) return;
      const ev = evaluatorFor(info.group, info.resource);
      if (op === 'UPDATE' && !ev.handlesUpdate) return;
      const rqs = rqServed();
      if (!rqs) return;
      const quotas = registry.list(rqs, ns, {}).items;
      if (!quotas.length) return;
      const gr = { group: info.group, resource: info.resource };
      const name = obj.metadata.name ?? '';
      const interesting: KObject[] = [];
      for (const q of quotas) {
        const st = (q['status'] ?? {}) as QuotaStatus;
        const hardNames = Object.keys(st.hard ?? {});
        const restricted = ev.matchingResources(hardNames);
        if (!restricted.length || !matchesScopes(ev, q, obj)) continue;
        if (ev === podEvaluator) {
          const why = podConstraints(restricted, obj);
          if (why) throw errors.forbidden(gr, name, `failed quota: ${q.metadata.name ?? ''}: ${why}`);
        }
        const used = st.used ?? {};
        if (restricted.some((r) => !(r in used)))
          throw errors.forbidden(
            gr,
            name,
            `status unknown for quota: ${q.metadata.name ?? ''}, resources: ${[...restricted].sort().join(',')}`,
          );
        interesting.push(q);
      }
      if (!interesting.length) return;
      const now = ctx.now.getTime();
      let delta = ev.usage(obj, now);
      if (op === 'UPDATE' && old?.metadata.resourceVersion) {
        const prev = ev.usage(old, now);
        const d: ResourceList = new Map();
        for (const [k, v] of delta) {
          const n = v.nanos - (prev.get(k)?.nanos ?? 0n);
          d.set(k, { nanos: n > 0n ? n : 0n, format: v.format });
        }
        delta = d;
      }
      for (const [k, v] of delta) if (v.nanos === 0n) delta.delete(k);
      if (!delta.size) return;
      const updates: { quota: KObject; used: ResourceList }[] = [];
      for (const q of interesting) {
        const st = (q['status'] ?? {}) as QuotaStatus;
        const hard = toResourceList(st.hard);
        const used = toResourceList(st.used);
        const requested = mask(delta, hard.keys());
        const newUsage = addLists(used, requested);
        const exceeded: string[] = [];
        for (const k of requested.keys()) if (newUsage.get(k)!.nanos > hard.get(k)!.nanos) exceeded.push(k);
        if (exceeded.length)
          throw errors.forbidden(
            gr,
            name,
            `exceeded quota: ${q.metadata.name ?? ''}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
          );
        if (requested.size) updates.push({ quota: q, used: newUsage });
      }
      if (ctx.dryRun) return;
      // Charge: the quotas' status.used now includes this object (the controller recalculates later).
      for (const u of updates) {
        const q = {
          ...u.quota,
          status: { ...(u.quota['status'] as object), used: fromResourceList(u.used) },
        };
        registry.update(rqs, ns, u.quota.metadata.name ?? '', q, ctx, { subresource: 'status' });
      }
    },
  };
}

export function isResourceQuotas(s: Served): boolean {
  return s.strategy.info.group === '' && s.strategy.info.resource === 'resourcequotas';
}
