/**
 * Storage object in-use protection (pkg/controller/volume/pvcprotection and pvprotection, and the
 * StorageObjectInUseProtection admission plugin, written anew):
 * - admission adds the finalizer kubernetes.io/pvc-protection to every new PersistentVolumeClaim and
 *   kubernetes.io/pv-protection to every new PersistentVolume;
 * - the controllers add a missing finalizer to live objects, and remove it from an object being deleted
 *   once nothing uses it: a claim when no non-terminal pod in its namespace mounts it, a volume when it is
 *   not Bound.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { AdmissionPlugin } from '../apiserver/generic-registry.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, type SharedInformer, SharedInformerFactory, splitKey } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };

/** StorageObjectInUseProtection admission. */
export function storageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: 'StorageObjectInUseProtection',
    admit(op, s, obj) {
      if (op !== 'CREATE' || s.strategy.info.group !== '') return;
      const r = s.strategy.info.resource;
      const f =
        r === 'persistentvolumeclaims'
          ? PVC_PROTECTION_FINALIZER
          : r === 'persistentvolumes'
            ? PV_PROTECTION_FINALIZER
            : undefined;
      if (!f) return;
      const fins = obj.metadata.finalizers ?? [];
      if (!fins.includes(f)) obj.metadata.finalizers = [...fins, f];
    },
  };
}

interface PodSpecVolumes {
  volumes?: { persistentVolumeClaim?: { claimName?: string } }[];
}
const claimsOf = (p: KObject): string[] =>
  (((p['spec'] ?? {}) as PodSpecVolumes).volumes ?? [])
    .map((v) => v.persistentVolumeClaim?.claimName ?? '')
    .filter((n) => n);
const terminal = (p: KObject): boolean => {
  const ph = ((p['status'] ?? {}) as { phase?: string }).phase;
  return ph === 'Succeeded' || ph === 'Failed';
};

const isStatus = (e: unknown, code: number): boolean => e instanceof StatusError && e.code === code;

export class StorageProtectionController {
  readonly queue = new WorkQueue();
  private readonly pvcs: SharedInformer;
  private readonly pvs: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.pvcs = f.informer(PVCS);
    this.pvs = f.informer(PVS);
    this.pods = f.informer(PODS);
    this.pvcs.addHandlers({
      add: (c) => this.queue.add(`claim:${keyOf(c)}`),
      update: (_o, c) => this.queue.add(`claim:${keyOf(c)}`),
    });
    this.pvs.addHandlers({
      add: (v) => this.queue.add(`volume:${keyOf(v)}`),
      update: (_o, v) => this.queue.add(`volume:${keyOf(v)}`),
    });
    const podGone = (p: KObject): void => {
      for (const c of claimsOf(p)) this.queue.add(`claim:${p.metadata.namespace ?? ''}/${c}`);
    };
    this.pods.addHandlers({
      update: (_o, p) => {
        if (terminal(p) || p.metadata.deletionTimestamp) podGone(p);
      },
      delete: podGone,
    });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, 1, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  sync(key: string): void {
    const i = key.indexOf(':');
    const kind = key.slice(0, i);
    const rest = key.slice(i + 1);
    if (kind === 'claim') {
      const { namespace, name } = splitKey(rest);
      const c = this.pvcs.get(namespace, name);
      if (c) this.reconcile(PVCS, c, PVC_PROTECTION_FINALIZER, () => this.claimInUse(c));
    } else if (kind === 'volume') {
      const v = this.pvs.get('', rest);
      if (v)
        this.reconcile(
          PVS,
          v,
          PV_PROTECTION_FINALIZER,
          () => ((v['status'] ?? {}) as { phase?: string }).phase === 'Bound',
        );
    }
  }

  private claimInUse(c: KObject): boolean {
    const name = c.metadata.name ?? '';
    return this.pods.list(c.metadata.namespace ?? '').some((p) => !terminal(p) && claimsOf(p).includes(name));
  }

  private reconcile(ref: ResourceRef, obj: KObject, finalizer: string, inUse: () => boolean): void {
    const fins = obj.metadata.finalizers ?? [];
    const ns = obj.metadata.namespace ?? '';
    let next: string[] | undefined;
    if (!obj.metadata.deletionTimestamp) {
      if (!fins.includes(finalizer)) next = [...fins, finalizer];
    } else if (fins.includes(finalizer) && !inUse()) next = fins.filter((f) => f !== finalizer);
    if (!next) return;
    const meta = { ...obj.metadata };
    if (next.length) meta.finalizers = next;
    else delete meta.finalizers;
    try {
      this.client.update(ref, ns, { ...obj, metadata: meta });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
  }
}
