/**
 * LimitRanger admission (plugin/pkg/admission/limitranger, written anew) and DefaultStorageClass
 * (plugin/pkg/admission/storage/storageclass/setdefault):
 * - mutating, pods on create: each container and init container lacking a limit / request gets the
 *   LimitRange's `default` / `defaultRequest` for type Container, recorded in the annotation
 *   kubernetes.io/limit-ranger ("LimitRanger plugin set: cpu, memory request for container app; …");
 * - validating, pods on create and claims on create/update: type Container min/max/maxLimitRequestRatio
 *   per container, type Pod on the pod's sums, type PersistentVolumeClaim min/max storage request, with
 *   upstream's messages, refused as 403 Forbidden;
 * - DefaultStorageClass: a claim created without spec.storageClassName gets the default StorageClass
 *   (annotation storageclass.kubernetes.io/is-default-class: "true"; the newest if several).
 */
import type { KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import { computePodQOS } from '../../registry/core/pods.ts';
import { formatNanos } from '../../registry/core/quantity.ts';
import type { PodSpec } from 'kubernetes-types/core/v1';
import type { AdmissionPlugin, GenericRegistry } from '../generic-registry.ts';
import type { Served } from '../resources.ts';
import { parseQ, podResourceTotals, type Q, type ResourceList, toResourceList } from './resource-quota.ts';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

interface Resources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}
interface Container {
  name?: string;
  resources?: Resources;
}
interface LimitItem {
  type?: string;
  min?: Record<string, unknown>;
  max?: Record<string, unknown>;
  default?: Record<string, unknown>;
  defaultRequest?: Record<string, unknown>;
  maxLimitRequestRatio?: Record<string, unknown>;
}

const is = (s: Served, resource: string): boolean =>
  s.strategy.info.group === '' && s.strategy.info.resource === resource;

const str = (q: Q): string => formatNanos(q.nanos, q.format);

function limitRanges(registry: GenericRegistry, ns: string): KObject[] {
  const served = registry.table.lookup('', 'v1', 'limitranges');
  return served ? registry.list(served, ns, {}).items : [];
}

const itemsOf = (lr: KObject): LimitItem[] => ((lr['spec'] ?? {}) as { limits?: LimitItem[] }).limits ?? [];

/** mergeContainerResources: fill missing limits and requests; returns the annotation pieces. */
function mergeContainer(
  c: Container,
  defLimits: Record<string, unknown>,
  defRequests: Record<string, unknown>,
  prefix: string,
  out: string[],
): void {
  const res: Resources = (c.resources ??= {});
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [k, v] of Object.entries(defLimits)) {
    if (res.limits && k in res.limits) continue;
    (res.limits ??= {})[k] = String(v);
    setLimits.push(k);
  }
  for (const [k, v] of Object.entries(defRequests)) {
    if (res.requests && k in res.requests) continue;
    (res.requests ??= {})[k] = String(v);
    setRequests.push(k);
  }
  if (setRequests.length) out.push(`${setRequests.sort().join(', ')} request for ${prefix} ${c.name ?? ''}`);
  if (setLimits.length) out.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${c.name ?? ''}`);
}

function minConstraint(
  type: string,
  name: string,
  enforced: Q,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const req = request.get(name);
  const lim = limit.get(name);
  if (!req) return `minimum ${name} usage per ${type} is ${str(enforced)}.  No request is specified`;
  if (req.nanos < enforced.nanos)
    return `minimum ${name} usage per ${type} is ${str(enforced)}, but request is ${str(req)}`;
  if (lim && lim.nanos < enforced.nanos)
    return `minimum ${name} usage per ${type} is ${str(enforced)}, but limit is ${str(lim)}`;
  return undefined;
}

function maxConstraint(
  type: string,
  name: string,
  enforced: Q,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const req = request.get(name);
  const lim = limit.get(name);
  if (!lim) return `maximum ${name} usage per ${type} is ${str(enforced)}.  No limit is specified`;
  if (lim.nanos > enforced.nanos)
    return `maximum ${name} usage per ${type} is ${str(enforced)}, but limit is ${str(lim)}`;
  if (req && req.nanos > enforced.nanos)
    return `maximum ${name} usage per ${type} is ${str(enforced)}, but request is ${str(req)}`;
  return undefined;
}

function maxRequestConstraint(
  type: string,
  name: string,
  enforced: Q,
  request: ResourceList,
): string | undefined {
  const req = request.get(name);
  if (!req) return `maximum ${name} usage per ${type} is ${str(enforced)}.  No request is specified`;
  if (req.nanos > enforced.nanos)
    return `maximum ${name} usage per ${type} is ${str(enforced)}, but request is ${str(req)}`;
  return undefined;
}

/** Go's %f: six decimals. */
const goFloat = (x: number): string => x.toFixed(6);

function ratioConstraint(
  type: string,
  name: string,
  enforced: Q,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const req = request.get(name);
  const lim = limit.get(name);
  const head = `${name} max limit to request ratio per ${type} is ${str(enforced)}`;
  if (!req || req.nanos === 0n) return `${head}, but no request is specified or request is 0`;
  if (!lim || lim.nanos === 0n) return `${head}, but no limit is specified or limit is 0`;
  const ratio = Number(lim.nanos) / Number(req.nanos);
  if (ratio * 1e9 > Number(enforced.nanos)) return `${head}, but provided ratio is ${goFloat(ratio)}`;
  return undefined;
}

function checkItem(
  type: string,
  it: LimitItem,
  requests: ResourceList,
  limits: ResourceList,
  errs: string[],
): void {
  for (const [k, v] of Object.entries(it.min ?? {})) {
    const q = parseQ(v);
    const e = q && minConstraint(type, k, q, requests, limits);
    if (e) errs.push(e);
  }
  for (const [k, v] of Object.entries(it.max ?? {})) {
    const q = parseQ(v);
    const e = q && maxConstraint(type, k, q, requests, limits);
    if (e) errs.push(e);
  }
  for (const [k, v] of Object.entries(it.maxLimitRequestRatio ?? {})) {
    const q = parseQ(v);
    const e = q && ratioConstraint(type, k, q, requests, limits);
    if (e) errs.push(e);
  }
}

/** utilerrors.NewAggregate(errs).Error(). */
const aggregate = (errs: string[]): string => (errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);

export function validatePodLimits(lr: KObject, pod: KObject): string[] {
  const errs: string[] = [];
  const spec = (pod['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  for (const it of itemsOf(lr)) {
    if (it.type === 'Container') {
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])])
        checkItem(
          'Container',
          it,
          toResourceList(c.resources?.requests),
          toResourceList(c.resources?.limits),
          errs,
        );
    }
    if (it.type === 'Pod') {
      const { requests, limits } = podResourceTotals(pod);
      checkItem('Pod', it, requests, limits, errs);
    }
  }
  return errs;
}

export function validateClaimLimits(lr: KObject, pvc: KObject): string[] {
  const errs: string[] = [];
  const requests = toResourceList(
    ((pvc['spec'] ?? {}) as { resources?: { requests?: unknown } }).resources?.requests,
  );
  for (const it of itemsOf(lr)) {
    if (it.type !== 'PersistentVolumeClaim') continue;
    for (const [k, v] of Object.entries(it.min ?? {})) {
      const q = parseQ(v);
      const e = q && minConstraint('PersistentVolumeClaim', k, q, requests, new Map());
      if (e) errs.push(e);
    }
    for (const [k, v] of Object.entries(it.max ?? {})) {
      const q = parseQ(v);
      const e = q && maxRequestConstraint('PersistentVolumeClaim', k, q, requests);
      if (e) errs.push(e);
    }
  }
  return errs;
}

/** Applies every LimitRange's Container defaults to a pod; returns whether anything was set. */
export function applyPodDefaults(pod: KObject, ranges: KObject[]): boolean {
  const defLimits: Record<string, unknown> = {};
  const defRequests: Record<string, unknown> = {};
  // defaultContainerResourceRequirements: the (last) Container item of each range, ranges in order.
  let any = false;
  const notes: string[] = [];
  for (const lr of ranges) {
    for (const it of itemsOf(lr)) {
      if (it.type !== 'Container') continue;
      Object.assign(defLimits, it.default ?? {});
      Object.assign(defRequests, it.defaultRequest ?? {});
    }
    const spec = (pod['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
    for (const c of spec.containers ?? []) mergeContainer(c, defLimits, defRequests, 'container', notes);
    for (const c of spec.initContainers ?? [])
      mergeContainer(c, defLimits, defRequests, 'init container', notes);
    if (notes.length) {
      pod.metadata.annotations = {
        ...(pod.metadata.annotations ?? {}),
        [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
      };
      any = true;
    }
    notes.length = 0;
    for (const k of Object.keys(defLimits)) delete defLimits[k];
    for (const k of Object.keys(defRequests)) delete defRequests[k];
  }
  return any;
}

export function limitRanger(registry: GenericRegistry): AdmissionPlugin {
  return {
    name: 'LimitRanger',
    admit(op, s, obj) {
      if (op !== 'CREATE' || !is(s, 'pods')) return;
      const ranges = limitRanges(registry, obj.metadata.namespace ?? '');
      if (!ranges.length) return;
      if (applyPodDefaults(obj, ranges)) {
        // The pod's QoS class was computed before admission: recompute it from the defaulted spec.
        const st = (obj['status'] ??= {}) as { qosClass?: string };
        st.qosClass = computePodQOS(obj['spec'] as PodSpec);
      }
    },
    validate(op, s, obj, _old, ctx) {
      // As upstream (SupportsAttributes): subresource writes are not LimitRanger's business.
      if (op === 'DELETE' || ctx.subresource) return;
      const pods = is(s, 'pods');
      if (!(pods && op === 'CREATE') && !is(s, 'persistentvolumeclaims')) return;
      const errs: string[] = [];
      for (const lr of limitRanges(registry, obj.metadata.namespace ?? ''))
        errs.push(...(pods ? validatePodLimits(lr, obj) : validateClaimLimits(lr, obj)));
      if (errs.length)
        throw errors.forbidden(
          { group: '', resource: s.strategy.info.resource },
          obj.metadata.name ?? '',
          aggregate(errs),
        );
    },
  };
}

/** The default StorageClass: annotated is-default-class "true"; the newest (then by name) if several. */
export function defaultStorageClass(classes: KObject[]): KObject | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
  return defaults[0];
}

export function defaultStorageClassAdmission(registry: GenericRegistry): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    admit(op, s, obj) {
      if (op !== 'CREATE' || !is(s, 'persistentvolumeclaims')) return;
      const spec = (obj['spec'] ??= {}) as { storageClassName?: string };
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      if (obj.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
      const served = registry.table.lookup('storage.k8s.io', 'v1', 'storageclasses');
      if (!served) return;
      const def = defaultStorageClass(registry.list(served, '', {}).items);
      if (def?.metadata.name) spec.storageClassName = def.metadata.name;
    },
  };
}
