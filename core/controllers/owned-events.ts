/**
 * Event handlers for objects a controller owns through a controller ownerReference (pods of a ReplicaSet,
 * ReplicaSets of a Deployment, pods and ControllerRevisions of a DaemonSet or StatefulSet), as upstream's
 * addPod/updatePod/deletePod do: an owned object wakes its owner (resolveControllerRef: same name and
 * UID in the cache); an orphan wakes every owner whose selector matches it (adoption candidates); a
 * changed controllerRef also wakes the old owner; a pod turning Ready wakes its owner again once
 * minReadySeconds have passed.
 */
import type { KObject } from '../api/object.ts';
import { matchesLabels, type LabelSelector } from '../apiserver/label-selector.ts';
import { controllerRef, keyOf, type InformerHandlers, type SharedInformer } from '../client/informer.ts';
import type { WorkQueue } from '../client/workqueue.ts';
import { isPodReady } from './replicaset.ts';

export class OwnedObjectEvents {
  constructor(
    /** The owners' informer. */
    private readonly owners: SharedInformer,
    /** The owner kind named in controller refs (e.g. "ReplicaSet"). */
    private readonly kind: string,
    /** The owner's selector (undefined or empty selects nothing). */
    private readonly selector: (owner: KObject) => LabelSelector | undefined,
    private readonly queue: WorkQueue,
  ) {}

  /** The owner named by the object's controller ref, if it is in the cache with the same UID. */
  ownerOf(o: KObject): KObject | undefined {
    const r = controllerRef(o);
    if (!r || r.kind !== this.kind) return undefined;
    const owner = this.owners.get(o.metadata.namespace ?? '', r.name);
    return owner && owner.metadata.uid === r.uid ? owner : undefined;
  }

  enqueueOwner(o: KObject): void {
    const owner = this.ownerOf(o);
    if (owner) this.queue.add(keyOf(owner));
  }

  /** Wakes every owner whose selector matches an orphan (never one being deleted). */
  enqueueMatching(o: KObject): void {
    if (o.metadata.deletionTimestamp) return;
    for (const owner of this.owners.list(o.metadata.namespace ?? '')) {
      const sel = this.selector(owner);
      if (sel?.length && matchesLabels(sel, o.metadata.labels)) this.queue.add(keyOf(owner));
    }
  }

  changed(o: KObject): void {
    if (controllerRef(o)) this.enqueueOwner(o);
    else this.enqueueMatching(o);
  }

  /**
   * Handlers for the owned objects' informer. With `minReadySeconds`, a pod that turns Ready requeues its
   * owner when it becomes available.
   */
  handlers(minReadySeconds?: (owner: KObject) => number): InformerHandlers {
    return {
      add: (o) => this.changed(o),
      update: (old, o) => {
        const was = controllerRef(old);
        const now = controllerRef(o);
        if (was && was.uid !== now?.uid) this.enqueueOwner(old);
        if (!now && JSON.stringify(old.metadata.labels) !== JSON.stringify(o.metadata.labels))
          this.enqueueMatching(o);
        this.changed(o);
        if (minReadySeconds && !isPodReady(old) && isPodReady(o)) {
          const owner = this.ownerOf(o);
          const mrs = owner ? minReadySeconds(owner) : 0;
          if (owner && mrs > 0) this.queue.addAfter(keyOf(owner), mrs * 1000 + 50);
        }
      },
      delete: (o) => this.enqueueOwner(o),
    };
  }
}
