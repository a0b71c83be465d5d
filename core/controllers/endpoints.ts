/**
 * The Endpoints controller (pkg/controller/endpoint semantics): for every Service with a selector, an
 * Endpoints object of the same name listing the selected pods:
 * - pods without an IP, terminal pods, and terminating pods (unless publishNotReadyAddresses) are left out;
 * - ready pods (or every pod with publishNotReadyAddresses) go to `addresses`, the others to
 *   `notReadyAddresses`, each as {ip, nodeName, targetRef} (hostname when the pod's subdomain names the
 *   service);
 * - ports are resolved per pod (podutil.FindPort: a named targetPort is looked up in the pod's container
 *   ports with the same protocol; pods where it does not resolve are left out of that port), and subsets
 *   are repacked (endpoints.RepackSubsets) so addresses sharing the same ports share a subset;
 * - labels are the Service's, plus service.kubernetes.io/headless on headless services; the
 *   endpoints.kubernetes.io/last-change-trigger-time annotation records the earliest change (pod readiness
 *   transition or Service creation) that triggered the write; above 1000 addresses the list is truncated
 *   and annotated endpoints.kubernetes.io/over-capacity: truncated;
 * - Services without a selector (and the apiserver-owned default/kubernetes) are left alone; the Endpoints
 *   of a deleted Service are deleted.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, type SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { isPodReady, podReadyCondition } from './replicaset.ts';

export const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
export const ENDPOINTS: ResourceRef = { group: '', version: 'v1', resource: 'endpoints' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };

export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** maxCapacity: the most addresses an Endpoints object carries. */
export const MAX_ENDPOINTS_CAPACITY = 1000;

// ---- shared helpers (also used by the EndpointSlice controller) ----

export interface ServicePort {
  name?: string;
  protocol?: string;
  appProtocol?: string;
  port: number;
  targetPort?: number | string;
}

export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  type?: string;
  publishNotReadyAddresses?: boolean;
  ipFamilies?: string[];
}

export interface PodShape {
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    restartPolicy?: string;
    containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
    initContainers?: {
      restartPolicy?: string;
      ports?: { name?: string; containerPort: number; protocol?: string }[];
    }[];
  };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
}

export const serviceSpec = (svc: KObject): ServiceSpec => (svc['spec'] ?? {}) as ServiceSpec;
export const podShape = (p: KObject): PodShape => p as unknown as PodShape;

/** The selector, or undefined for a Service the controllers must not manage. */
export function serviceSelector(svc: KObject): Record<string, string> | undefined {
  const sel = serviceSpec(svc).selector;
  return sel && Object.keys(sel).length ? sel : undefined;
}

export function selects(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export const isHeadless = (svc: KObject): boolean => serviceSpec(svc).clusterIP === 'None';

/** podutil.IsPodTerminal. */
export function isPodTerminal(p: KObject): boolean {
  const phase = podShape(p).status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** endpointsliceutil.ShouldPodBeInEndpoints. */
export function shouldPodBeInEndpoints(p: KObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(p)) return false;
  const st = podShape(p).status ?? {};
  if (!st.podIP && !(st.podIPs ?? []).length) return false;
  if (!includeTerminating && p.metadata.deletionTimestamp) return false;
  return true;
}

const isIPv6 = (ip: string): boolean => ip.includes(':');

/** The pod's IP of a family (IPv4 unless asked for IPv6). */
export function podIPFor(p: KObject, family: 'IPv4' | 'IPv6' = 'IPv4'): string | undefined {
  const st = podShape(p).status ?? {};
  const ips = (st.podIPs ?? []).map((x) => x.ip);
  if (!ips.length && st.podIP) ips.push(st.podIP);
  return ips.find((ip) => (family === 'IPv6') === isIPv6(ip));
}

/** podutil.FindPort: the container port a service port targets on this pod, or undefined. */
export function findPort(p: KObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const proto = sp.protocol ?? 'TCP';
  const spec = podShape(p).spec ?? {};
  const containers = [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  for (const c of containers)
    for (const port of c.ports ?? [])
      if (port.name === target && (port.protocol ?? 'TCP') === proto) return port.containerPort;
  return undefined;
}

/** endpointutil.ShouldSetHostname. */
export function shouldSetHostname(p: KObject, svc: KObject): boolean {
  const spec = podShape(p).spec ?? {};
  return (
    !!spec.hostname &&
    spec.subdomain === svc.metadata.name &&
    (svc.metadata.namespace ?? '') === (p.metadata.namespace ?? '')
  );
}

/** Go's time.RFC3339Nano in UTC (fraction without trailing zeros). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d+)Z$/, (_m, f: string) => {
    const t = f.replace(/0+$/, '');
    return t ? `.${t}Z` : 'Z';
  });
}

/**
 * The trigger-time tracker (endpointutil.TriggerTimeTracker): per Service, the pods' readiness transition
 * times last seen; a sync's trigger time is the earliest among what changed since (the Service's creation
 * the first time it is seen).
 */
export class TriggerTimeTracker {
  private readonly state = new Map<string, { svcSeen: boolean; pods: Map<string, number> }>();

  compute(svcKey: string, svc: KObject, pods: KObject[]): number | undefined {
    const prev = this.state.get(svcKey);
    let min: number | undefined;
    const consider = (t: number): void => {
      if (t > 0 && (min === undefined || t < min)) min = t;
    };
    if (!prev?.svcSeen) consider(Date.parse(svc.metadata.creationTimestamp ?? '') || 0);
    const now = new Map<string, number>();
    for (const p of pods) {
      const t = Date.parse(podReadyCondition(p)?.lastTransitionTime ?? '') || 0;
      const k = p.metadata.name ?? '';
      now.set(k, t);
      if (!prev || prev.pods.get(k) !== t) consider(t);
    }
    this.state.set(svcKey, { svcSeen: true, pods: now });
    return min;
  }

  forget(svcKey: string): void {
    this.state.delete(svcKey);
  }
}

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

/** The Services of a namespace selecting these labels. */
export function servicesSelecting(
  services: SharedInformer,
  ns: string,
  labels: Record<string, string> | undefined,
): KObject[] {
  return services.list(ns).filter((s) => {
    const sel = serviceSelector(s);
    return !!sel && selects(sel, labels);
  });
}

// ---- Endpoints ----

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

const addrKey = (a: EndpointAddress): string => `${a.ip}/${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort): string =>
  JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? '']);

function compareAddr(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * endpoints.RepackSubsets: map every port to the addresses offering it (ready wins over not ready), then
 * group the ports sharing the same address set into one subset; sorted for a stable result.
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const SENTINEL = '__noports__';
  const portDefs = new Map<string, EndpointPort | undefined>();
  const byPort = new Map<string, Map<string, { addr: EndpointAddress; ready: boolean }>>();
  const add = (pk: string, port: EndpointPort | undefined, ss: EndpointSubset): void => {
    portDefs.set(pk, port);
    let m = byPort.get(pk);
    if (!m) byPort.set(pk, (m = new Map()));
    for (const a of ss.addresses ?? []) m.set(addrKey(a), { addr: a, ready: true });
    for (const a of ss.notReadyAddresses ?? []) {
      const k = addrKey(a);
      if (!m.get(k)?.ready) m.set(k, { addr: a, ready: false });
    }
  };
  for (const ss of subsets) {
    if (!(ss.ports ?? []).length) add(SENTINEL, undefined, ss);
    else for (const p of ss.ports ?? []) add(portKey(p), p, ss);
  }
  const groups = new Map<
    string,
    { addrs: Map<string, { addr: EndpointAddress; ready: boolean }>; ports: EndpointPort[] }
  >();
  for (const [pk, addrs] of byPort) {
    const key = JSON.stringify([...addrs.entries()].map(([k, v]) => [k, v.ready]).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { addrs, ports: [] }));
    const def = portDefs.get(pk);
    if (pk !== SENTINEL && def) g.ports.push(def);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready = [...g.addrs.values()]
      .filter((x) => x.ready)
      .map((x) => x.addr)
      .sort(compareAddr);
    const notReady = [...g.addrs.values()]
      .filter((x) => !x.ready)
      .map((x) => x.addr)
      .sort(compareAddr);
    const ss: EndpointSubset = {};
    if (ready.length) ss.addresses = ready;
    if (notReady.length) ss.notReadyAddresses = notReady;
    if (g.ports.length) ss.ports = [...g.ports].sort((a, b) => (portKey(a) < portKey(b) ? -1 : 1));
    out.push(ss);
  }
  const subsetKey = (s: EndpointSubset): string =>
    JSON.stringify([(s.addresses ?? s.notReadyAddresses ?? [])[0]?.ip ?? '', (s.ports ?? []).map(portKey)]);
  return out.sort((a, b) => (subsetKey(a) < subsetKey(b) ? -1 : subsetKey(a) > subsetKey(b) ? 1 : 0));
}

/** The subsets an Endpoints object should have for a Service and its candidate pods. */
export function computeSubsets(svc: KObject, pods: KObject[]): EndpointSubset[] {
  const spec = serviceSpec(svc);
  const tolerateUnready = !!spec.publishNotReadyAddresses;
  const family = (spec.ipFamilies ?? [])[0] === 'IPv6' ? 'IPv6' : 'IPv4';
  const subsets: EndpointSubset[] = [];
  for (const p of pods) {
    if (!shouldPodBeInEndpoints(p, tolerateUnready)) continue;
    const ip = podIPFor(p, family);
    if (!ip) continue;
    const ps = podShape(p).spec ?? {};
    const epa: EndpointAddress = { ip };
    if (shouldSetHostname(p, svc)) epa.hostname = ps.hostname;
    if (ps.nodeName) epa.nodeName = ps.nodeName;
    epa.targetRef = {
      kind: 'Pod',
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      uid: p.metadata.uid,
    };
    const ready = tolerateUnready || isPodReady(p);
    const put = (ports: EndpointPort[] | undefined): void => {
      const ss: EndpointSubset = ready ? { addresses: [epa] } : { notReadyAddresses: [epa] };
      if (ports) ss.ports = ports;
      subsets.push(ss);
    };
    const svcPorts = spec.ports ?? [];
    if (!svcPorts.length && spec.clusterIP === 'None') {
      put(undefined);
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(p, sp);
      if (port === undefined) continue;
      const epp: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) epp.name = sp.name;
      if (sp.appProtocol) epp.appProtocol = sp.appProtocol;
      put([epp]);
    }
  }
  return repackSubsets(subsets);
}

/** Truncate to MAX_ENDPOINTS_CAPACITY addresses (ready kept first), as the controller does. */
function truncate(subsets: EndpointSubset[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const total = subsets.reduce(
    (n, s) => n + (s.addresses ?? []).length + (s.notReadyAddresses ?? []).length,
    0,
  );
  if (total <= MAX_ENDPOINTS_CAPACITY) return { subsets, truncated: false };
  let budget = MAX_ENDPOINTS_CAPACITY;
  const out: EndpointSubset[] = [];
  for (const s of subsets) {
    const copy: EndpointSubset = { ...s };
    const ready = (s.addresses ?? []).slice(0, Math.max(0, budget));
    budget -= ready.length;
    const notReady = (s.notReadyAddresses ?? []).slice(0, Math.max(0, budget));
    budget -= notReady.length;
    if (ready.length) copy.addresses = ready;
    else delete copy.addresses;
    if (notReady.length) copy.notReadyAddresses = notReady;
    else delete copy.notReadyAddresses;
    if (ready.length || notReady.length) out.push(copy);
  }
  return { subsets: out, truncated: true };
}

export class EndpointsController {
  readonly queue = new WorkQueue();
  private readonly services: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly endpoints: SharedInformer;
  private readonly triggers = new TriggerTimeTracker();
  private running?: Promise<void>;
  private leftoverTimer?: NodeJS.Timeout;

  constructor(
    private readonly client: InProcessClient,
    factory: SharedInformerFactory,
    private readonly workers = 2,
  ) {
    this.services = factory.informer(SERVICES);
    this.pods = factory.informer(PODS);
    this.endpoints = factory.informer(ENDPOINTS);
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
    this.endpoints.addHandlers({
      // Edited or deleted Endpoints: reconcile them with their Service (an edited one without a Service
      // is deleted, as upstream); leftovers are checked once the cache has synced (start()).
      update: (_o, e) => this.queue.add(keyOf(e)),
      delete: (e) => this.queue.add(keyOf(e)),
    });
  }

  start(): void {
    this.running = runWorkers(this.queue, this.workers, (k) => this.sync(k), undefined, this.client);
    // checkLeftoverEndpoints: Endpoints whose Service is gone (deleted while the controller was down).
    const check = (): void => {
      if (this.queue.isShuttingDown) return;
      if (!this.endpoints.hasSynced || !this.services.hasSynced) {
        this.leftoverTimer = setTimeout(check, 50);
        return;
      }
      for (const e of this.endpoints.list()) if (!this.services.getByKey(keyOf(e))) this.queue.add(keyOf(e));
    };
    this.leftoverTimer = setTimeout(check, 0);
  }

  async stop(): Promise<void> {
    if (this.leftoverTimer) clearTimeout(this.leftoverTimer);
    this.queue.shutDown();
    await this.running;
  }

  private podChanged(p: KObject): void {
    for (const s of servicesSelecting(this.services, p.metadata.namespace ?? '', p.metadata.labels))
      this.queue.add(keyOf(s));
  }

  sync(key: string): void {
    const { namespace, name } = splitKey(key);
    if (namespace === 'default' && name === 'kubernetes') return; // the apiserver's own
    const svc = this.services.get(namespace, name);
    const current = this.endpoints.get(namespace, name);
    if (!svc) {
      this.triggers.forget(key);
      if (!current) return;
      // Leader-election Endpoints are not the controller's to delete.
      if (current.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader']) return;
      try {
        this.client.delete(ENDPOINTS, namespace, name, {
          preconditions: { uid: current.metadata.uid ?? '' },
        });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      return;
    }
    const selector = serviceSelector(svc);
    if (!selector) return;
    const pods = this.pods.list(namespace).filter((p) => selects(selector, p.metadata.labels));
    const trigger = this.triggers.compute(key, svc, pods);
    const { subsets, truncated } = truncate(computeSubsets(svc, pods));

    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];

    if (current) {
      const compareLabels = { ...(current.metadata.labels ?? {}) };
      delete compareLabels[HEADLESS_LABEL];
      const svcLabels = { ...(svc.metadata.labels ?? {}) };
      delete svcLabels[HEADLESS_LABEL];
      const capacityOk = (current.metadata.annotations?.[OVER_CAPACITY] === 'truncated') === truncated;
      if (
        JSON.stringify(current['subsets'] ?? []) === JSON.stringify(subsets) &&
        JSON.stringify(sortedEntries(compareLabels)) === JSON.stringify(sortedEntries(svcLabels)) &&
        (current.metadata.labels?.[HEADLESS_LABEL] !== undefined) === isHeadless(svc) &&
        capacityOk
      )
        return;
    }
    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (trigger !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(trigger);
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncated) annotations[OVER_CAPACITY] = 'truncated';
    else delete annotations[OVER_CAPACITY];

    const metadata: KObject['metadata'] = current ? { ...current.metadata } : { name, namespace };
    if (Object.keys(labels).length) metadata.labels = labels;
    else delete metadata.labels;
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
    const obj: KObject = { apiVersion: 'v1', kind: 'Endpoints', metadata };
    if (subsets.length) obj['subsets'] = subsets;
    if (current) this.client.update(ENDPOINTS, namespace, obj);
    else {
      try {
        this.client.create(ENDPOINTS, namespace, obj);
      } catch (e) {
        // Created by someone else meanwhile: the informer event brings us back.
        if (!(e instanceof StatusError && e.code === 409)) throw e;
      }
    }
  }
}

const sortedEntries = (o: Record<string, string>): [string, string][] =>
  Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
