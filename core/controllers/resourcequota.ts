/**
 * The ResourceQuota controller (pkg/controller/resourcequota semantics): for every quota, status.hard =
 * spec.hard and status.used = the namespace's usage of each resource named in spec.hard, from the
 * evaluators shared with the ResourceQuota admission plugin. A quota is recalculated when it changes,
 * when a tracked object in its namespace changes (replenishment: deletes, pods becoming terminal, …) and
 * on a full resync every `resyncMs` (--resource-quota-sync-period, 5 minutes). Status is written through
 * the status subresource only when it differs.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import {
  addLists,
  BUILTIN_EVALUATORS,
  evaluatorFor,
  type Evaluator,
  fromResourceList,
  matchesScopes,
  parseCountName,
  type ResourceList,
  toResourceList,
} from '../apiserver/admission/resource-quota.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, type SharedInformer, SharedInformerFactory, splitKey } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';

const QUOTAS: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas' };

/** kube-controller-manager's --resource-quota-sync-period default. */
export const QUOTA_RESYNC_MS = 5 * 60 * 1000;

export class ResourceQuotaController {
  readonly queue = new WorkQueue();
  private readonly quotas: SharedInformer;
  private readonly tracked = new Map<string, SharedInformer>();
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly resyncMs = QUOTA_RESYNC_MS,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.quotas = f.informer(QUOTAS);
    this.quotas.addHandlers({
      add: (q) => this.queue.add(keyOf(q)),
      update: (_o, q) => this.queue.add(keyOf(q)),
    });
    for (const ev of BUILTIN_EVALUATORS) {
      if (ev.resource === 'resourcequotas') continue;
      const inf = f.informer({ group: ev.group, version: 'v1', resource: ev.resource });
      this.tracked.set(ev.resource, inf);
      inf.addHandlers({
        add: (o) => this.enqueueNamespace(o),
        update: (old, o) => {
          // Replenish when usage changed (a pod became terminal, a claim grew, a service changed type).
          if (changedUsage(ev, old, o)) this.enqueueNamespace(o);
        },
        delete: (o) => this.enqueueNamespace(o),
      });
    }
    this.quotas.addHandlers({ delete: (q) => this.enqueueNamespace(q) });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, 2, (k) => this.sync(k));
    this.timer = setInterval(() => {
      for (const q of this.quotas.list()) this.queue.add(keyOf(q));
    }, this.resyncMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  private enqueueNamespace(o: KObject): void {
    const ns = o.metadata.namespace ?? '';
    if (!ns) return;
    for (const q of this.quotas.list(ns)) this.queue.add(keyOf(q));
  }

  /** The objects of a resource in a namespace: from an informer cache when watched, else a live list. */
  private objects(group: string, resource: string, ns: string): KObject[] {
    const inf = group === '' ? this.tracked.get(resource) : undefined;
    if (inf) return inf.list(ns);
    if (group === '' && resource === 'resourcequotas') return this.quotas.list(ns);
    const ref = this.client.storageResources().find((r) => r.group === group && r.resource === resource);
    if (!ref) return [];
    try {
      return this.client.list(ref, ns).items;
    } catch {
      return [];
    }
  }

  /** The usage of `hard`'s resources in the namespace, under the quota's scopes. */
  calculateUsage(quota: KObject, hard: string[]): ResourceList {
    const ns = quota.metadata.namespace ?? '';
    const evaluators = new Map<string, Evaluator>();
    for (const ev of BUILTIN_EVALUATORS)
      if (ev.matchingResources(hard).length) evaluators.set(`${ev.group}/${ev.resource}`, ev);
    for (const h of hard) {
      const c = parseCountName(h);
      if (c && !evaluators.has(`${c.group}/${c.resource}`))
        evaluators.set(`${c.group}/${c.resource}`, evaluatorFor(c.group, c.resource));
    }
    let used: ResourceList = new Map();
    for (const h of hard) used.set(h, { nanos: 0n, format: 'DecimalSI' });
    const now = Date.now();
    for (const ev of evaluators.values()) {
      const names = new Set(ev.matchingResources(hard));
      for (const o of this.objects(ev.group, ev.resource, ns)) {
        if (!matchesScopes(ev, quota, o)) continue;
        const u = ev.usage(o, now);
        for (const k of [...u.keys()]) if (!names.has(k)) u.delete(k);
        used = addLists(used, u);
      }
    }
    return used;
  }

  sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const q = this.quotas.get(namespace, name);
    if (!q || q.metadata.deletionTimestamp) return;
    const spec = (q['spec'] ?? {}) as { hard?: Record<string, unknown> };
    const hard = toResourceList(spec.hard);
    const used = this.calculateUsage(q, [...hard.keys()]);
    const status = { hard: fromResourceList(hard), used: fromResourceList(used) };
    if (JSON.stringify(sortKeys(q['status'])) === JSON.stringify(sortKeys(status))) return;
    try {
      this.client.update(QUOTAS, namespace, { ...q, status }, 'status');
    } catch (e) {
      // A conflict (the admission plugin charged the quota meanwhile) or a deleted quota: retry from cache.
      if (e instanceof StatusError && e.code === 404) return;
      throw e;
    }
  }
}

function changedUsage(ev: Evaluator, a: KObject, b: KObject): boolean {
  const x = fromResourceList(ev.usage(a));
  const y = fromResourceList(ev.usage(b));
  return JSON.stringify(x) !== JSON.stringify(y);
}

function sortKeys(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}
