/**
 * The EndpointSlice controller (pkg/controller/endpointslice semantics): for every Service with a
 * selector (not ExternalName), discovery.k8s.io/v1 EndpointSlices named `<svc>-<random5>` (generateName
 * `<svc>-`), labelled kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by:
 * endpointslice-controller.k8s.io (plus the Service's labels, and service.kubernetes.io/headless on headless
 * Services), controlled by the Service (ownerReference), addressType IPv4 (IPv6 for IPv6 Services).
 * - Every pod with an IP that is not terminal is an endpoint (terminating ones included) with conditions
 *   ready (serving and not terminating, or publishNotReadyAddresses), serving (pod Ready) and
 *   terminating, nodeName, zone (topology.kubernetes.io/zone of the node), hostname and targetRef.
 * - Endpoints are grouped by their resolved port list (named targetPorts resolved per pod); each group
 *   fills slices of at most maxEndpointsPerSlice (100). Existing slices are kept and updated in place
 *   where possible; emptied slices are deleted; a Service without endpoints keeps one placeholder slice
 *   with no endpoints and no ports.
 * - Pods on a node missing from the cache are skipped and the Service retried later (as upstream).
 * - Slices written in a sync get the endpoints.kubernetes.io/last-change-trigger-time annotation.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import {
  controllerRef,
  keyOf,
  splitKey,
  type SharedInformer,
  type SharedInformerFactory,
} from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import {
  findPort,
  HEADLESS_LABEL,
  isHeadless,
  LAST_CHANGE_TRIGGER_TIME,
  podIPFor,
  podShape,
  rfc3339Nano,
  selects,
  SERVICES,
  servicesSelecting,
  serviceSelector,
  serviceSpec,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  TriggerTimeTracker,
} from './endpoints.ts';
import { isPodReady } from './replicaset.ts';

export const ENDPOINT_SLICES: ResourceRef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
};
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
  nodeName?: string;
  zone?: string;
}

export interface SlicePort {
  name: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

const endpointId = (e: SliceEndpoint): string => e.targetRef?.uid ?? e.addresses.join(',');
const portsKey = (ports: SlicePort[] | undefined): string =>
  JSON.stringify(
    (ports ?? [])
      .map((p) => [p.name, p.protocol, p.port, p.appProtocol ?? ''])
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );

/** The slice name prefix (getEndpointSlicePrefix): `<svc>-`, trimmed to leave room for the suffix. */
function slicePrefix(svcName: string): string {
  const prefix = `${svcName}-`;
  return prefix.length > 253 - 5 ? prefix.slice(0, 253 - 5) : prefix;
}

export class EndpointSliceController {
  readonly queue = new WorkQueue();
  private readonly services: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly slices: SharedInformer;
  private readonly triggers = new TriggerTimeTracker();
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    private readonly maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
    private readonly workers = 2,
  ) {
    this.services = factory.informer(SERVICES);
    this.pods = factory.informer(PODS);
    this.nodes = factory.informer(NODES);
    this.slices = factory.informer(ENDPOINT_SLICES);
    this.services.addHandlers({
      add: (s) => this.queue.add(keyOf(s)),
      update: (_o, s) => this.queue.add(keyOf(s)),
      delete: (s) => this.queue.add(keyOf(s)),
    });
    this.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (old, p) => {
        if (JSON.stringify(old.metadata.labels) !== JSON.stringify(p.metadata.labels)) this.podChanged(old);
        this.podChanged(p);
      },
      delete: (p) => this.podChanged(p),
    });
    this.nodes.addHandlers({
      // Zones come from node labels.
      update: (old, n) => {
        if (old.metadata.labels?.[ZONE_LABEL] !== n.metadata.labels?.[ZONE_LABEL]) this.nodeChanged(n);
      },
      add: (n) => this.nodeChanged(n),
    });
    this.slices.addHandlers({
      add: (s) => this.sliceChanged(s),
      update: (_o, s) => this.sliceChanged(s),
      delete: (s) => this.sliceChanged(s),
    });
  }

  start(): void {
    this.running = runWorkers(this.queue, this.workers, (k) => this.sync(k), undefined, this.client);
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.running;
  }

  private podChanged(p: KObject): void {
    for (const s of servicesSelecting(this.services, p.metadata.namespace ?? '', p.metadata.labels))
      this.queue.add(keyOf(s));
  }

  private nodeChanged(n: KObject): void {
    const name = n.metadata.name ?? '';
    const seen = new Set<string>();
    for (const p of this.pods.list())
      if (podShape(p).spec?.nodeName === name)
        for (const s of servicesSelecting(this.services, p.metadata.namespace ?? '', p.metadata.labels))
          if (!seen.has(keyOf(s))) {
            seen.add(keyOf(s));
            this.queue.add(keyOf(s));
          }
  }

  private sliceChanged(s: KObject): void {
    if (s.metadata.labels?.[MANAGED_BY_LABEL] !== CONTROLLER_NAME) return;
    const svc = s.metadata.labels[SERVICE_NAME_LABEL];
    if (svc) this.queue.add(`${s.metadata.namespace ?? ''}/${svc}`);
  }

  private ownedSlices(namespace: string, name: string): KObject[] {
    return this.slices
      .list(namespace)
      .filter(
        (s) =>
          s.metadata.labels?.[SERVICE_NAME_LABEL] === name &&
          s.metadata.labels[MANAGED_BY_LABEL] === CONTROLLER_NAME,
      );
  }

  /** The endpoints wanted for a Service, grouped by port list (key → ports, endpoints). */
  desired(
    svc: KObject,
    pods: KObject[],
    addressType: 'IPv4' | 'IPv6',
  ): { groups: Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>; missingNode: boolean } {
    const spec = serviceSpec(svc);
    const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
    let missingNode = false;
    for (const p of pods) {
      if (!shouldPodBeInEndpoints(p, true)) continue;
      const ip = podIPFor(p, addressType);
      if (!ip) continue;
      const ps = podShape(p).spec ?? {};
      let node: KObject | undefined;
      if (ps.nodeName) {
        node = this.nodes.get('', ps.nodeName);
        if (!node) {
          missingNode = true;
          continue;
        }
      }
      const serving = isPodReady(p);
      const terminating = !!p.metadata.deletionTimestamp;
      const ep: SliceEndpoint = {
        addresses: [ip],
        conditions: {
          ready: !!spec.publishNotReadyAddresses || (serving && !terminating),
          serving,
          terminating,
        },
      };
      if (shouldSetHostname(p, svc) && ps.hostname) ep.hostname = ps.hostname;
      ep.targetRef = {
        kind: 'Pod',
        namespace: p.metadata.namespace,
        name: p.metadata.name,
        uid: p.metadata.uid,
      };
      if (ps.nodeName) ep.nodeName = ps.nodeName;
      const zone = node?.metadata.labels?.[ZONE_LABEL];
      if (zone) ep.zone = zone;
      const ports: SlicePort[] = [];
      for (const sp of spec.ports ?? []) {
        const port = findPort(p, sp);
        if (port === undefined) continue;
        const epp: SlicePort = { name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port };
        if (sp.appProtocol) epp.appProtocol = sp.appProtocol;
        ports.push(epp);
      }
      const k = portsKey(ports);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { ports, endpoints: [] }));
      g.endpoints.push(ep);
    }
    return { groups, missingNode };
  }

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(namespace, name);
    // A deleted Service's slices go with it (garbage collector, via the ownerReference).
    if (!svc) {
      this.triggers.forget(key);
      return;
    }
    if (serviceSpec(svc).type === 'ExternalName') return;
    const selector = serviceSelector(svc);
    if (!selector) return;
    const addressType: 'IPv4' | 'IPv6' = (serviceSpec(svc).ipFamilies ?? [])[0] === 'IPv6' ? 'IPv6' : 'IPv4';
    const pods = this.pods.list(namespace).filter((p) => selects(selector, p.metadata.labels));
    const trigger = this.triggers.compute(key, svc, pods);
    const { groups, missingNode } = this.desired(svc, pods, addressType);

    const existing = this.ownedSlices(namespace, name).filter((s) => !s.metadata.deletionTimestamp);
    const toCreate: KObject[] = [];
    const toUpdate: KObject[] = [];
    const toDelete: KObject[] = [];
    const labels = this.sliceLabels(svc);

    // Slices of another address type are not ours to keep.
    const byPorts = new Map<string, KObject[]>();
    for (const s of existing) {
      if (s['addressType'] !== addressType) {
        toDelete.push(s);
        continue;
      }
      const k = portsKey(s['ports'] as SlicePort[] | undefined);
      const list = byPorts.get(k) ?? [];
      list.push(s);
      byPorts.set(k, list);
    }

    for (const [k, g] of groups) {
      const want = new Map(g.endpoints.map((e) => [endpointId(e), e]));
      const slices = byPorts.get(k) ?? [];
      byPorts.delete(k);
      const placed = new Set<string>();
      const kept: { slice: KObject; endpoints: SliceEndpoint[]; changed: boolean }[] = [];
      for (const s of slices) {
        const eps: SliceEndpoint[] = [];
        let changed = false;
        for (const e of (s['endpoints'] ?? []) as SliceEndpoint[]) {
          const id = endpointId(e);
          const w = want.get(id);
          if (!w || placed.has(id)) {
            changed = true;
            continue;
          }
          placed.add(id);
          if (JSON.stringify(w) !== JSON.stringify(e)) changed = true;
          eps.push(w);
        }
        kept.push({ slice: s, endpoints: eps, changed });
      }
      const remaining = g.endpoints.filter((e) => !placed.has(endpointId(e)));
      // Fill the existing slices with room first, then create new ones.
      for (const ks of kept) {
        while (remaining.length && ks.endpoints.length < this.maxPerSlice) {
          ks.endpoints.push(remaining.shift()!);
          ks.changed = true;
        }
      }
      for (const ks of kept) {
        if (!ks.endpoints.length) toDelete.push(ks.slice);
        else if (ks.changed || !this.labelsMatch(ks.slice, labels))
          toUpdate.push(this.withEndpoints(ks.slice, labels, g.ports, ks.endpoints, trigger));
      }
      while (remaining.length) {
        const chunk = remaining.splice(0, this.maxPerSlice);
        toCreate.push(this.newSlice(svc, labels, addressType, g.ports, chunk, trigger));
      }
    }
    // Slices whose port list no longer exists.
    for (const list of byPorts.values()) toDelete.push(...list);

    // Placeholder: a Service with no endpoints keeps one empty slice.
    if (!groups.size) {
      const placeholder = toDelete.find(
        (s) =>
          s['addressType'] === addressType && !((s['endpoints'] ?? []) as unknown[]).length && !s['ports'],
      );
      if (placeholder) {
        toDelete.splice(toDelete.indexOf(placeholder), 1);
        if (!this.labelsMatch(placeholder, labels))
          toUpdate.push(this.withEndpoints(placeholder, labels, undefined, [], trigger));
      } else {
        const reuse = toDelete.find((s) => s['addressType'] === addressType);
        if (reuse) {
          toDelete.splice(toDelete.indexOf(reuse), 1);
          toUpdate.push(this.withEndpoints(reuse, labels, undefined, [], trigger));
        } else toCreate.push(this.newSlice(svc, labels, addressType, undefined, [], trigger));
      }
    }

    for (const s of toCreate) this.client.create(ENDPOINT_SLICES, namespace, s);
    for (const s of toUpdate) {
      try {
        this.client.update(ENDPOINT_SLICES, namespace, s);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    for (const s of toDelete) {
      try {
        this.client.delete(ENDPOINT_SLICES, namespace, s.metadata.name ?? '', {
          preconditions: { uid: s.metadata.uid ?? '' },
        });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
    if (missingNode) return { requeueAfterMs: 1000 };
  }

  private sliceLabels(svc: KObject): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.metadata.labels ?? {}))
      if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL && k !== HEADLESS_LABEL) labels[k] = v;
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
    labels[SERVICE_NAME_LABEL] = svc.metadata.name ?? '';
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
    return labels;
  }

  private labelsMatch(slice: KObject, labels: Record<string, string>): boolean {
    const a = slice.metadata.labels ?? {};
    return (
      Object.keys(a).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => a[k] === v)
    );
  }

  private annotate(meta: KObject['metadata'], trigger: number | undefined): void {
    const ann = { ...(meta.annotations ?? {}) };
    if (trigger !== undefined) ann[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(trigger);
    else delete ann[LAST_CHANGE_TRIGGER_TIME];
    if (Object.keys(ann).length) meta.annotations = ann;
    else delete meta.annotations;
  }

  private newSlice(
    svc: KObject,
    labels: Record<string, string>,
    addressType: string,
    ports: SlicePort[] | undefined,
    endpoints: SliceEndpoint[],
    trigger: number | undefined,
  ): KObject {
    const metadata: KObject['metadata'] = {
      generateName: slicePrefix(svc.metadata.name ?? ''),
      namespace: svc.metadata.namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc.metadata.name ?? '',
          uid: svc.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    };
    this.annotate(metadata, trigger);
    const obj: KObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata,
      addressType,
      endpoints,
    };
    if (ports) obj['ports'] = ports;
    return obj;
  }

  private withEndpoints(
    slice: KObject,
    labels: Record<string, string>,
    ports: SlicePort[] | undefined,
    endpoints: SliceEndpoint[],
    trigger: number | undefined,
  ): KObject {
    const metadata = { ...slice.metadata, labels };
    this.annotate(metadata, trigger);
    const obj: KObject = { ...slice, metadata, endpoints };
    if (ports) obj['ports'] = ports;
    else delete obj['ports'];
    return obj;
  }
}

/** Whether a slice is managed by this controller for a Service (exported for tests). */
export function isManagedSliceOf(slice: KObject, svc: KObject): boolean {
  return (
    slice.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name &&
    slice.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME &&
    controllerRef(slice)?.uid === svc.metadata.uid
  );
}
