/**
 * Dynamic volume provisioners: what the PersistentVolume controller (core/controllers/pv-binder.ts) calls
 * for a claim whose StorageClass names a registered provisioner (StorageClass.provisioner === name), in
 * the spirit of sig-storage-lib-external-provisioner's Provisioner interface. A provisioner creates the
 * backing storage and returns the volume source; the controller writes the PersistentVolume
 * (`pvc-<claim uid>`, annotation pv.kubernetes.io/provisioned-by) and binds it. On reclaim policy Delete
 * the controller calls delete() and then removes the PersistentVolume.
 *
 * Real nodes bring a hostPath provisioner (a directory on the selected node); tests and simulated nodes
 * use MemoryProvisioner.
 */
import type { KObject } from '../api/object.ts';

export interface ProvisionRequest {
  /** The PersistentVolume's name (pvc-<claim uid>). */
  pvName: string;
  /** The claim being provisioned for. */
  claim: KObject;
  /** The claim's StorageClass. */
  storageClass: KObject;
  /** StorageClass.parameters. */
  parameters: Record<string, string>;
  /** The requested size (the claim's spec.resources.requests.storage), canonical quantity string. */
  capacity: string;
  accessModes: string[];
  volumeMode: 'Filesystem' | 'Block';
  /** The node chosen for the consuming pod (WaitForFirstConsumer: volume.kubernetes.io/selected-node). */
  selectedNode?: string;
}

/** What the provisioner created: the PersistentVolumeSpec's volume source and placement. */
export interface ProvisionedVolume {
  /** Exactly one PersistentVolumeSource field, e.g. { hostPath: { path, type } } or { csi: {...} }. */
  source: Record<string, unknown>;
  /** The actual size when it differs from the request (e.g. rounded up). */
  capacity?: string;
  /** spec.nodeAffinity (node-local volumes). */
  nodeAffinity?: Record<string, unknown>;
  /** Extra PV annotations. */
  annotations?: Record<string, string>;
}

export interface Provisioner {
  /** The provisioner name StorageClasses refer to (e.g. "berth.dev/hostpath"). */
  readonly name: string;
  provision(req: ProvisionRequest): Promise<ProvisionedVolume>;
  /** Deletes the backing storage of a volume it provisioned (reclaim policy Delete). */
  delete(pv: KObject): Promise<void>;
}

/**
 * The provisioners a cluster knows, by name. A cluster has its own (two clusters in one process — the
 * desktop app runs several — must not provision on each other's nodes); it falls back to a parent
 * registry (the process-wide one, where tests register theirs).
 */
export class ProvisionerRegistry {
  private readonly byName = new Map<string, Provisioner>();

  constructor(private readonly parent?: ProvisionerRegistry) {}

  /** Registers a provisioner (replacing one with the same name); returns the unregistration. */
  register(p: Provisioner): () => void {
    this.byName.set(p.name, p);
    return () => {
      if (this.byName.get(p.name) === p) this.byName.delete(p.name);
    };
  }

  get(name: string): Provisioner | undefined {
    return this.byName.get(name) ?? this.parent?.get(name);
  }

  names(): string[] {
    return [...new Set([...this.byName.keys(), ...(this.parent?.names() ?? [])])].sort();
  }
}

/** The process-wide registry the PersistentVolume controller uses unless given another. */
export const provisioners = new ProvisionerRegistry();

/**
 * An in-memory provisioner: "creates" a hostPath-like volume under a fake root and remembers it.
 * Failures can be injected for tests (failNext).
 */
export class MemoryProvisioner implements Provisioner {
  /** Volumes that exist, by PV name. */
  readonly volumes = new Map<
    string,
    { capacity: string; node?: string; parameters: Record<string, string> }
  >();
  /** PV names deleted, in order. */
  readonly deleted: string[] = [];
  /** The next provision() rejects with this message. */
  failNext?: string;

  constructor(
    readonly name = 'berth.test/memory',
    private readonly root = '/var/lib/berth/volumes',
  ) {}

  provision(req: ProvisionRequest): Promise<ProvisionedVolume> {
    if (this.failNext) {
      const m = this.failNext;
      this.failNext = undefined;
      return Promise.reject(new Error(m));
    }
    this.volumes.set(req.pvName, {
      capacity: req.capacity,
      node: req.selectedNode,
      parameters: req.parameters,
    });
    return Promise.resolve({
      source: { hostPath: { path: `${this.root}/${req.pvName}`, type: 'DirectoryOrCreate' } },
      ...(req.selectedNode
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'kubernetes.io/hostname', operator: 'In', values: [req.selectedNode] },
                    ],
                  },
                ],
              },
            },
          }
        : {}),
    });
  }

  delete(pv: KObject): Promise<void> {
    const name = pv.metadata.name ?? '';
    this.volumes.delete(name);
    this.deleted.push(name);
    return Promise.resolve();
  }
}
