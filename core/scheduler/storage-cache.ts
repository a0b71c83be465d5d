/**
 * The scheduler's watch caches of PersistentVolumeClaims, PersistentVolumes and StorageClasses (what the
 * VolumeBinding plugin reads). Any change calls `changed` — upstream's VolumeBinding requeues pods on
 * claim, volume and class events, since each can make a pod schedulable.
 */
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { Watcher } from '../store/types.ts';
import type { VolumeObjects } from './volume-binding.ts';

const CLAIMS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const VOLUMES: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
const CLASSES: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class StorageCache implements VolumeObjects {
  private readonly claims = new Map<string, KObject>();
  private readonly pvs = new Map<string, KObject>();
  private readonly classes = new Map<string, KObject>();

  constructor(private readonly changed: () => void) {}

  /** Starts the three watches (from the current state); the caller stops them. */
  watch(client: InProcessClient): Watcher[] {
    const keep =
      (map: Map<string, KObject>, namespaced: boolean) =>
      (type: EventType, o: KObject): void => {
        const name = o.metadata.name ?? '';
        const key = namespaced ? `${o.metadata.namespace ?? ''}/${name}` : name;
        if (type === 'DELETED') map.delete(key);
        else map.set(key, o);
        this.changed();
      };
    const from = { resourceVersion: '0' };
    return [
      client.watch(CLAIMS, '', from, keep(this.claims, true)),
      client.watch(VOLUMES, '', from, keep(this.pvs, false)),
      client.watch(CLASSES, '', from, keep(this.classes, false)),
    ];
  }

  claim(namespace: string, name: string): KObject | undefined {
    return this.claims.get(`${namespace}/${name}`);
  }

  volume(name: string): KObject | undefined {
    return this.pvs.get(name);
  }

  storageClass(name: string): KObject | undefined {
    return this.classes.get(name);
  }

  volumes(): KObject[] {
    return [...this.pvs.values()];
  }
}
