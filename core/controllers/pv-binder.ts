/**
 * The PersistentVolume controller (pkg/controller/volume/persistentvolume semantics, written anew):
 * - binds claims to volumes: a pre-bound volume (spec.claimRef naming the claim) or the claim's
 *   spec.volumeName first; otherwise the best Available volume of the claim's StorageClass whose access
 *   modes are a superset of the claim's (the smallest such set first), with the same volumeMode, matching
 *   spec.selector and capacity ≥ the request — the smallest fitting one. Binding writes the volume's
 *   claimRef (annotation pv.kubernetes.io/bound-by-controller when the controller chose it), phase Bound,
 *   then the claim's spec.volumeName (pv.kubernetes.io/bind-completed, bound-by-controller) and its status
 *   (Bound, accessModes, capacity);
 * - volume phases Available / Bound / Released / Failed, claim phases Pending / Bound / Lost;
 * - on claim deletion the volume becomes Released; reclaim policy Retain keeps it, Delete asks the
 *   provisioner that made it (pv.kubernetes.io/provisioned-by) to delete the storage and deletes the
 *   PersistentVolume, Recycle fails (no recycler);
 * - dynamic provisioning: an unbound claim whose StorageClass names a provisioner gets
 *   volume.kubernetes.io/storage-provisioner (and the beta annotation); a registered Provisioner
 *   (core/nodes/provisioner.ts) creates the storage and the controller writes PV `pvc-<claim uid>`
 *   pre-bound to the claim. Unregistered provisioners are treated as external (event
 *   ExternalProvisioning) and waited for;
 * - volumeBindingMode WaitForFirstConsumer: the claim waits (event WaitForFirstConsumer) until a pod using
 *   it is scheduled; then (the scheduler's VolumeBinding step, done here) an Available volume usable from
 *   the pod's node is bound, or the claim is annotated volume.kubernetes.io/selected-node and provisioned
 *   for that node.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, type SharedInformer, SharedInformerFactory, splitKey } from '../client/informer.ts';
import { runWorkers, type SyncResult, WorkQueue } from '../client/workqueue.ts';
import { formatNanos, tryParseQuantity } from '../registry/core/quantity.ts';
import { type ProvisionerRegistry, provisioners as defaultProvisioners } from '../nodes/provisioner.ts';
import { recordEvent } from './replicaset.ts';
import {
  ann,
  claimClassName,
  findBestVolume,
  isVolumeBoundToClaim,
  NO_PROVISIONER,
  phaseOf,
  pvcSpec,
  pvSpec,
  volumeMismatch,
} from '../volumes/matching.ts';

const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const CLASSES: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const COMPONENT = 'persistentvolume-controller';

/** How long to wait before looking again for an external provisioner's volume. */
const EXTERNAL_RECHECK_MS = 5000;

const isStatus = (e: unknown, code: number): boolean => e instanceof StatusError && e.code === code;

export class PersistentVolumeBinder {
  readonly queue = new WorkQueue();
  private readonly pvs: SharedInformer;
  private readonly pvcs: SharedInformer;
  private readonly classes: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  /** Claims already told they wait (one event per reason and claim, not one per sync). */
  private readonly told = new Set<string>();

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly provisioners: ProvisionerRegistry = defaultProvisioners,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.pvs = f.informer(PVS);
    this.pvcs = f.informer(PVCS);
    this.classes = f.informer(CLASSES);
    this.pods = f.informer(PODS);
    this.nodes = f.informer(NODES);
    this.pvcs.addHandlers({
      add: (c) => this.queue.add(`claim:${keyOf(c)}`),
      update: (_o, c) => this.queue.add(`claim:${keyOf(c)}`),
      delete: (c) => {
        const vn = pvcSpec(c).volumeName;
        if (vn) this.queue.add(`volume:${vn}`);
        for (const pv of this.pvs.list())
          if (isVolumeBoundToClaim(pv, c)) this.queue.add(`volume:${keyOf(pv)}`);
      },
    });
    this.pvs.addHandlers({
      add: (pv) => this.volumeChanged(pv),
      update: (_o, pv) => this.volumeChanged(pv),
      delete: (pv) => {
        const ref = pvSpec(pv).claimRef;
        if (ref?.name) this.queue.add(`claim:${ref.namespace ?? ''}/${ref.name}`);
      },
    });
    this.classes.addHandlers({
      add: () => {
        for (const c of this.pvcs.list()) if (phaseOf(c) !== 'Bound') this.queue.add(`claim:${keyOf(c)}`);
      },
    });
    this.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (_o, p) => this.podChanged(p),
    });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, 2, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  private volumeChanged(pv: KObject): void {
    this.queue.add(`volume:${keyOf(pv)}`);
    const ref = pvSpec(pv).claimRef;
    if (ref?.name) this.queue.add(`claim:${ref.namespace ?? ''}/${ref.name}`);
  }

  private podChanged(p: KObject): void {
    const spec = (p['spec'] ?? {}) as {
      nodeName?: string;
      volumes?: { persistentVolumeClaim?: { claimName?: string } }[];
    };
    if (!spec.nodeName || p.metadata.deletionTimestamp) return;
    if (!(spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName)) return;
    this.queue.add(`pod:${keyOf(p)}`);
  }

  async sync(key: string): Promise<SyncResult> {
    const i = key.indexOf(':');
    const kind = key.slice(0, i);
    const rest = key.slice(i + 1);
    if (kind === 'claim') return this.syncClaim(rest);
    if (kind === 'volume') return this.syncVolume(rest);
    if (kind === 'pod') return this.syncPod(rest);
    return undefined;
  }

  // ---- events ----

  private event(
    obj: KObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component = COMPONENT,
  ): void {
    recordEvent(
      this.client,
      component,
      { ...obj, apiVersion: 'v1', kind: obj.kind ?? 'PersistentVolumeClaim' },
      type,
      reason,
      message,
    );
  }

  /** An event once per claim UID and reason (upstream repeats them every resync; we keep the noise down). */
  private tell(
    claim: KObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component?: string,
  ): void {
    const k = `${claim.metadata.uid ?? ''}/${reason}`;
    if (this.told.has(k)) return;
    this.told.add(k);
    this.event(claim, type, reason, message, component);
  }

  // ---- claims ----

  private setClaimPhase(claim: KObject, phase: string, pv?: KObject): KObject {
    const st = (claim['status'] ?? {}) as Record<string, unknown>;
    const next: Record<string, unknown> = { ...st, phase };
    if (pv) {
      next['accessModes'] = pvSpec(pv).accessModes ?? [];
      next['capacity'] = { ...(pvSpec(pv).capacity ?? {}) };
    } else if (phase === 'Pending') {
      delete next['accessModes'];
      delete next['capacity'];
    }
    if (JSON.stringify(next) === JSON.stringify(st)) return claim;
    return this.client.update(PVCS, claim.metadata.namespace ?? '', { ...claim, status: next }, 'status');
  }

  private setVolumePhase(pv: KObject, phase: string, reason?: string, message?: string): KObject {
    const st = (pv['status'] ?? {}) as Record<string, unknown>;
    const next: Record<string, unknown> = { ...st, phase };
    if (reason) next['reason'] = reason;
    else delete next['reason'];
    if (message) next['message'] = message;
    else delete next['message'];
    if (JSON.stringify(next) === JSON.stringify(st)) return pv;
    return this.client.update(PVS, '', { ...pv, status: next }, 'status');
  }

  private async syncClaim(key: string): Promise<SyncResult> {
    const { namespace, name } = splitKey(key);
    const claim = this.pvcs.get(namespace, name);
    if (!claim) return undefined;
    if (ann(claim, ANN_BIND_COMPLETED) === undefined) return this.syncUnboundClaim(claim);
    this.syncBoundClaim(claim);
    return undefined;
  }

  private syncBoundClaim(claim: KObject): void {
    const vn = pvcSpec(claim).volumeName;
    if (!vn) {
      this.setClaimPhase(claim, 'Lost');
      this.tell(
        claim,
        'Warning',
        'ClaimLost',
        'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
      );
      return;
    }
    const pv = this.pvs.get('', vn);
    if (!pv) {
      this.setClaimPhase(claim, 'Lost');
      this.tell(
        claim,
        'Warning',
        'ClaimLost',
        'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
      );
      return;
    }
    if (!pvSpec(pv).claimRef || isVolumeBoundToClaim(pv, claim)) {
      this.bind(pv, claim);
      return;
    }
    this.setClaimPhase(claim, 'Lost');
    this.tell(
      claim,
      'Warning',
      'ClaimMisbound',
      'Two claims are bound to the same volume, this one is bound incorrectly',
    );
  }

  private async syncUnboundClaim(claim: KObject): Promise<SyncResult> {
    const spec = pvcSpec(claim);
    if (spec.volumeName) {
      const pv = this.pvs.get('', spec.volumeName);
      if (!pv) {
        this.setClaimPhase(claim, 'Pending');
        return undefined;
      }
      if (!pvSpec(pv).claimRef || isVolumeBoundToClaim(pv, claim)) {
        const why = volumeMismatch(pv, claim);
        if (why) {
          this.setClaimPhase(claim, 'Pending');
          this.tell(
            claim,
            'Warning',
            'VolumeMismatch',
            `Cannot bind to requested volume "${spec.volumeName}": ${why}`,
          );
          return undefined;
        }
        this.bind(pv, claim);
        return undefined;
      }
      this.setClaimPhase(claim, 'Pending');
      this.tell(
        claim,
        'Warning',
        'FailedBinding',
        `volume "${spec.volumeName}" already bound to a different claim.`,
      );
      return undefined;
    }
    if (claim.metadata.deletionTimestamp) return undefined;
    const clsName = claimClassName(claim);
    const cls = clsName ? this.classes.get('', clsName) : undefined;
    const delay = (cls?.['volumeBindingMode'] as string | undefined) === 'WaitForFirstConsumer';
    const selectedNode = ann(claim, ANN_SELECTED_NODE);
    const node = selectedNode ? this.nodes.get('', selectedNode) : undefined;
    const pv = findBestVolume(claim, this.pvs.list(), {
      delayBinding: delay,
      node: delay ? node : undefined,
    });
    if (pv) {
      this.bind(pv, claim);
      return undefined;
    }
    if (delay && !selectedNode) {
      this.setClaimPhase(claim, 'Pending');
      this.tell(
        claim,
        'Normal',
        'WaitForFirstConsumer',
        'waiting for first consumer to be created before binding',
      );
      return undefined;
    }
    if (!clsName) {
      this.setClaimPhase(claim, 'Pending');
      this.tell(
        claim,
        'Normal',
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
      );
      return undefined;
    }
    if (!cls) {
      this.setClaimPhase(claim, 'Pending');
      this.tell(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${clsName}" not found`);
      return undefined;
    }
    this.setClaimPhase(claim, 'Pending');
    return this.provision(claim, cls, selectedNode);
  }

  /** Bind a volume and a claim (bindVolumeToClaim, volume phase Bound, bindClaimToVolume, claim status). */
  private bind(pvIn: KObject, claimIn: KObject): void {
    let pv = pvIn;
    if (!isVolumeBoundToClaim(pv, claimIn) || pvSpec(pv).claimRef?.uid !== claimIn.metadata.uid) {
      const byController = !isVolumeBoundToClaim(pv, claimIn);
      const annotations = { ...(pv.metadata.annotations ?? {}) };
      if (byController) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      pv = this.client.update(PVS, '', {
        ...pv,
        metadata: { ...pv.metadata, annotations },
        spec: {
          ...pvSpec(pv),
          claimRef: {
            kind: 'PersistentVolumeClaim',
            namespace: claimIn.metadata.namespace,
            name: claimIn.metadata.name,
            uid: claimIn.metadata.uid,
            apiVersion: 'v1',
            resourceVersion: claimIn.metadata.resourceVersion,
          },
        },
      });
    }
    pv = this.setVolumePhase(pv, 'Bound');
    let claim = claimIn;
    const spec = pvcSpec(claim);
    if (spec.volumeName !== pv.metadata.name || ann(claim, ANN_BIND_COMPLETED) !== 'yes') {
      const annotations: Record<string, string> = {
        ...(claim.metadata.annotations ?? {}),
        [ANN_BIND_COMPLETED]: 'yes',
      };
      if (spec.volumeName !== pv.metadata.name) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      claim = this.client.update(PVCS, claim.metadata.namespace ?? '', {
        ...claim,
        metadata: { ...claim.metadata, annotations },
        spec: { ...spec, volumeName: pv.metadata.name },
      });
    }
    this.setClaimPhase(claim, 'Bound', pv);
  }

  // ---- provisioning ----

  private async provision(claimIn: KObject, cls: KObject, selectedNode?: string): Promise<SyncResult> {
    const provName = String(cls['provisioner'] ?? '');
    const clsName = cls.metadata.name ?? '';
    if (provName === NO_PROVISIONER) {
      this.tell(claimIn, 'Warning', 'ProvisioningFailed', `no volume plugin matched name: ${NO_PROVISIONER}`);
      return undefined;
    }
    let claim = claimIn;
    if (
      ann(claim, ANN_STORAGE_PROVISIONER) !== provName ||
      ann(claim, ANN_BETA_STORAGE_PROVISIONER) !== provName
    ) {
      claim = this.client.update(PVCS, claim.metadata.namespace ?? '', {
        ...claim,
        metadata: {
          ...claim.metadata,
          annotations: {
            ...(claim.metadata.annotations ?? {}),
            [ANN_BETA_STORAGE_PROVISIONER]: provName,
            [ANN_STORAGE_PROVISIONER]: provName,
          },
        },
      });
    }
    const prov = this.provisioners.get(provName);
    if (!prov) {
      this.tell(
        claim,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${provName}' or manually by the system administrator. If volume creation is delayed, please verify that your external provisioner is running and correctly registered.`,
      );
      return { requeueAfterMs: EXTERNAL_RECHECK_MS };
    }
    const pvName = `pvc-${claim.metadata.uid ?? ''}`;
    if (this.pvs.get('', pvName)) return undefined;
    const ns = claim.metadata.namespace ?? '';
    const spec = pvcSpec(claim);
    const req = tryParseQuantity(spec.resources?.requests?.['storage'] ?? '0');
    const capacity = req ? formatNanos(req.nanos, req.format) : '0';
    this.event(
      claim,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${ns}/${claim.metadata.name ?? ''}"`,
      provName,
    );
    let vol;
    try {
      vol = await prov.provision({
        pvName,
        claim,
        storageClass: cls,
        parameters: (cls['parameters'] ?? {}) as Record<string, string>,
        capacity,
        accessModes: spec.accessModes ?? [],
        volumeMode: spec.volumeMode === 'Block' ? 'Block' : 'Filesystem',
        ...(selectedNode ? { selectedNode } : {}),
      });
    } catch (e) {
      this.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${clsName}": ${e instanceof Error ? e.message : String(e)}`,
        provName,
      );
      throw e;
    }
    const mountOptions = cls['mountOptions'] as string[] | undefined;
    try {
      this.client.create(PVS, '', {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name: pvName,
          annotations: { ...(vol.annotations ?? {}), [ANN_PROVISIONED_BY]: provName },
        },
        spec: {
          ...vol.source,
          capacity: { storage: vol.capacity ?? capacity },
          accessModes: spec.accessModes ?? [],
          volumeMode: spec.volumeMode ?? 'Filesystem',
          persistentVolumeReclaimPolicy: (cls['reclaimPolicy'] as string | undefined) ?? 'Delete',
          storageClassName: clsName,
          ...(mountOptions?.length ? { mountOptions } : {}),
          ...(vol.nodeAffinity ? { nodeAffinity: vol.nodeAffinity } : {}),
          claimRef: {
            kind: 'PersistentVolumeClaim',
            namespace: ns,
            name: claim.metadata.name,
            uid: claim.metadata.uid,
            apiVersion: 'v1',
            resourceVersion: claim.metadata.resourceVersion,
          },
        },
      });
    } catch (e) {
      if (!isStatus(e, 409)) throw e;
    }
    this.event(
      claim,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${pvName}`,
      provName,
    );
    this.queue.add(`claim:${keyOf(claim)}`);
    return undefined;
  }

  // ---- volumes ----

  private async syncVolume(name: string): Promise<SyncResult> {
    const pv = this.pvs.get('', name);
    if (!pv) return undefined;
    const ref = pvSpec(pv).claimRef;
    if (!ref || !ref.uid) {
      if (phaseOf(pv) !== 'Available' && phaseOf(pv) !== 'Failed') this.setVolumePhase(pv, 'Available');
      else if (phaseOf(pv) === 'Available') return undefined;
      return undefined;
    }
    let claim = this.pvcs.get(ref.namespace ?? '', ref.name ?? '');
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
    if (!claim) return this.reclaim(pv);
    const vn = pvcSpec(claim).volumeName;
    if (!vn) {
      this.queue.add(`claim:${keyOf(claim)}`);
      return undefined;
    }
    if (vn === name) {
      if (phaseOf(pv) !== 'Bound') this.setVolumePhase(pv, 'Bound');
      return undefined;
    }
    // The claim is bound to another volume: unbind this one (unbindVolume).
    const annotations = { ...(pv.metadata.annotations ?? {}) };
    const spec = { ...pvSpec(pv) };
    if (annotations[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      delete spec.claimRef;
      delete annotations[ANN_BOUND_BY_CONTROLLER];
    } else spec.claimRef = { ...ref, uid: '' };
    const out = this.client.update(PVS, '', { ...pv, metadata: { ...pv.metadata, annotations }, spec });
    this.setVolumePhase(out, 'Available');
    return undefined;
  }

  /** The claim is gone: Released, then the reclaim policy. */
  private async reclaim(pvIn: KObject): Promise<SyncResult> {
    let pv = pvIn;
    if (phaseOf(pv) === 'Failed') return undefined;
    if (phaseOf(pv) !== 'Released') pv = this.setVolumePhase(pv, 'Released');
    const policy = pvSpec(pv).persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return undefined;
    const asPV = { ...pv, apiVersion: 'v1', kind: 'PersistentVolume' };
    if (policy === 'Recycle') {
      this.setVolumePhase(pv, 'Failed', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      this.event(asPV, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      return undefined;
    }
    const provName = ann(pv, ANN_PROVISIONED_BY);
    const prov = provName ? this.provisioners.get(provName) : undefined;
    if (!prov) {
      if (provName) return { requeueAfterMs: EXTERNAL_RECHECK_MS }; // an external provisioner deletes it
      const msg = `error getting deleter volume plugin for volume "${pv.metadata.name ?? ''}": no deletable volume plugin matched`;
      this.setVolumePhase(pv, 'Failed', 'VolumeFailedDelete', msg);
      this.event(asPV, 'Warning', 'VolumeFailedDelete', msg);
      return undefined;
    }
    try {
      await prov.delete(pv);
    } catch (e) {
      this.event(asPV, 'Warning', 'VolumeFailedDelete', e instanceof Error ? e.message : String(e));
      throw e;
    }
    try {
      this.client.delete(PVS, '', pv.metadata.name ?? '', { preconditions: { uid: pv.metadata.uid } });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
    return undefined;
  }

  // ---- WaitForFirstConsumer: a scheduled pod picks the volumes' node ----

  private syncPod(key: string): void {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(namespace, name);
    if (!pod) return;
    const spec = (pod['spec'] ?? {}) as {
      nodeName?: string;
      volumes?: { persistentVolumeClaim?: { claimName?: string } }[];
    };
    const nodeName = spec.nodeName;
    if (!nodeName) return;
    const node = this.nodes.get('', nodeName);
    for (const v of spec.volumes ?? []) {
      const cn = v.persistentVolumeClaim?.claimName;
      if (!cn) continue;
      const claim = this.pvcs.get(namespace, cn);
      if (!claim || pvcSpec(claim).volumeName || ann(claim, ANN_SELECTED_NODE)) continue;
      const cls = this.classes.get('', claimClassName(claim));
      if ((cls?.['volumeBindingMode'] as string | undefined) !== 'WaitForFirstConsumer') continue;
      const pv = findBestVolume(claim, this.pvs.list(), {
        delayBinding: true,
        node: node ?? { metadata: { name: nodeName } },
      });
      if (pv) {
        this.bind(pv, claim);
        continue;
      }
      const provName = String(cls?.['provisioner'] ?? '');
      if (!provName || provName === NO_PROVISIONER) continue;
      this.client.update(PVCS, namespace, {
        ...claim,
        metadata: {
          ...claim.metadata,
          annotations: { ...(claim.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: nodeName },
        },
      });
    }
  }
}
