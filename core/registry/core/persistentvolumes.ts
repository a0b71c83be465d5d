/** core/v1 PersistentVolume and PersistentVolumeClaim (defaults, ValidatePersistentVolume*, printers). */
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PersistentVolumeSpec,
} from 'kubernetes-types/core/v1';
import { type KObject, rfc3339 } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isDNS1123Subdomain } from '../validation/names.ts';
import type { CoreStrategy } from './common.ts';
import { canonicalJSON } from './pods.ts';
import { validateQuantityValue } from './pod-spec.ts';
import { compareQuantities, quantityString, tryParseQuantity } from './quantity.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MPV = Mutable<PersistentVolume> & { spec?: Mutable<PersistentVolumeSpec> };
type MPVC = Mutable<PersistentVolumeClaim> & { spec?: Mutable<PersistentVolumeClaimSpec> };
const asPV = (o: KObject): MPV => o as unknown as MPV;
const asPVC = (o: KObject): MPVC => o as unknown as MPVC;
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const volumeModes = ['Block', 'Filesystem'];
const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];
const pvSourceKeys = [
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'hostPath',
  'glusterfs',
  'nfs',
  'rbd',
  'iscsi',
  'cinder',
  'cephfs',
  'fc',
  'flocker',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'local',
  'storageos',
  'csi',
];

/** GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const m = modes ?? [];
  const out: string[] = [];
  if (m.includes('ReadWriteOnce')) out.push('RWO');
  if (m.includes('ReadOnlyMany')) out.push('ROX');
  if (m.includes('ReadWriteMany')) out.push('RWX');
  if (m.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

function validateAccessModes(
  modes: readonly string[] | undefined,
  field: string,
  requiredDetail: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const m = modes ?? [];
  if (m.length === 0) errs.push(fieldErr.required(field, requiredDetail));
  for (const x of m) if (!accessModes.includes(x)) errs.push(fieldErr.notSupported(field, x, accessModes));
  if (m.includes('ReadWriteOncePod') && m.length > 1)
    errs.push(fieldErr.forbidden(field, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume
// ---------------------------------------------------------------------------------------------

export function validatePersistentVolume(obj: KObject): FieldError[] {
  const spec = asPV(obj).spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes', ''));
  const cap = spec.capacity ?? {};
  if (Object.keys(cap).length === 0) errs.push(fieldErr.required('spec.capacity', ''));
  else if (!('storage' in cap) || Object.keys(cap).length > 1)
    errs.push(fieldErr.notSupported('spec.capacity', cap, ['storage']));
  for (const [k, v] of Object.entries(cap)) errs.push(...validateQuantityValue(k, v, `spec.capacity[${k}]`));
  const rp = spec.persistentVolumeReclaimPolicy;
  if (rp && !reclaimPolicies.includes(rp))
    errs.push(fieldErr.notSupported('spec.persistentVolumeReclaimPolicy', rp, reclaimPolicies));
  if (spec.storageClassName)
    for (const m of isDNS1123Subdomain(spec.storageClassName))
      errs.push(fieldErr.invalid('spec.storageClassName', spec.storageClassName, m));
  if (spec.volumeMode && !volumeModes.includes(spec.volumeMode))
    errs.push(fieldErr.notSupported('spec.volumeMode', spec.volumeMode, volumeModes));
  const s = spec as Record<string, unknown>;
  const present = pvSourceKeys.filter((k) => s[k] !== undefined && s[k] !== null);
  if (present.length === 0) errs.push(fieldErr.required('spec', 'must specify a volume type'));
  for (const k of present.slice(1))
    errs.push(fieldErr.forbidden(`spec.${k}`, 'may not specify more than 1 volume type'));
  const hp = spec.hostPath;
  if (hp && !hp.path) errs.push(fieldErr.required('spec.hostPath.path', ''));
  const local = spec.local;
  if (local) {
    if (!local.path) errs.push(fieldErr.required('spec.local.path', ''));
    if (!spec.nodeAffinity)
      errs.push(fieldErr.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (spec.nfs) {
    if (!spec.nfs.server) errs.push(fieldErr.required('spec.nfs.server', ''));
    if (!spec.nfs.path) errs.push(fieldErr.required('spec.nfs.path', ''));
  }
  if (spec.csi) {
    if (!spec.csi.driver) errs.push(fieldErr.required('spec.csi.driver', ''));
    if (!spec.csi.volumeHandle) errs.push(fieldErr.required('spec.csi.volumeHandle', ''));
  }
  return errs;
}

function pvSource(spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of pvSourceKeys) if (spec[k] !== undefined) out[k] = spec[k];
  return out;
}

const pvColumns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Capacity',
    type: 'string',
    description:
      "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
  },
  {
    name: 'Access Modes',
    type: 'string',
    description:
      'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes',
  },
  {
    name: 'Reclaim Policy',
    type: 'string',
    description:
      'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming',
  },
  {
    name: 'Status',
    type: 'string',
    description:
      'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase',
  },
  {
    name: 'Claim',
    type: 'string',
    description:
      'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding',
  },
  { name: 'StorageClass', type: 'string', description: 'StorageClass of the pv' },
  { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pv' },
  {
    name: 'Reason',
    type: 'string',
    description:
      'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.',
  },
  ageColumn,
  {
    name: 'VolumeMode',
    type: 'string',
    priority: 1,
    description:
      'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.',
  },
];

export const persistentVolumeStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'persistentvolumes',
    singular: 'persistentvolume',
    kind: 'PersistentVolume',
    namespaced: false,
    verbs: ALL_VERBS,
    shortNames: ['pv'],
  },
  hasStatus: true,
  defaults(obj) {
    const pv = asPV(obj);
    const spec = (pv.spec ??= {});
    if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
    if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
    if (spec.hostPath && spec.hostPath.type === undefined) (spec.hostPath as { type?: string }).type = '';
    if (pv.status && !pv.status.phase) pv.status.phase = 'Pending';
  },
  prepareForCreate(obj, ctx) {
    asPV(obj).status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339(ctx.now) };
  },
  prepareForStatusUpdate(obj, old, ctx) {
    const pv = asPV(obj);
    const st = (pv.status ??= {});
    if (!st.phase) st.phase = 'Pending';
    const oldSt = asPV(old).status ?? {};
    if (st.phase !== oldSt.phase) st.lastPhaseTransitionTime = rfc3339(ctx.now);
    else if (!st.lastPhaseTransitionTime && oldSt.lastPhaseTransitionTime)
      st.lastPhaseTransitionTime = oldSt.lastPhaseTransitionTime;
  },
  validate: validatePersistentVolume,
  validateUpdate(obj, old) {
    const n = (asPV(obj).spec ?? {}) as Record<string, unknown>;
    const o = (asPV(old).spec ?? {}) as Record<string, unknown>;
    const errs: FieldError[] = [];
    if (canonicalJSON(pvSource(n)) !== canonicalJSON(pvSource(o)))
      errs.push(
        fieldErr.forbidden(
          'spec.persistentvolumesource',
          'spec.persistentvolumesource is immutable after creation',
        ),
      );
    errs.push(...immutable('spec.volumeMode', o['volumeMode'], n['volumeMode']));
    if (
      o['nodeAffinity'] !== undefined &&
      canonicalJSON(o['nodeAffinity']) !== canonicalJSON(n['nodeAffinity'])
    )
      errs.push(...immutable('spec.nodeAffinity', o['nodeAffinity'], n['nodeAffinity']));
    return errs;
  },
  columns: pvColumns,
  row(obj, now) {
    const pv = asPV(obj);
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    const cls = obj.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? spec.storageClassName ?? '';
    return [
      obj.metadata.name ?? '',
      quantityString(spec.capacity?.['storage']),
      accessModesString(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      cls,
      spec.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      age(obj.metadata.creationTimestamp, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaim
// ---------------------------------------------------------------------------------------------

export function validatePersistentVolumeClaimSpec(
  spec: PersistentVolumeClaimSpec | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec ?? {};
  errs.push(
    ...validateAccessModes(s.accessModes, `${path}.accessModes`, 'at least 1 access mode is required'),
  );
  const req = s.resources?.requests ?? {};
  const storage = req['storage'];
  if (storage === undefined) errs.push(fieldErr.required(`${path}.resources[storage]`, ''));
  else {
    const qErrs = validateQuantityValue('storage', storage, `${path}.resources.requests[storage]`);
    errs.push(...qErrs);
    if (!qErrs.length && (tryParseQuantity(String(storage))?.nanos ?? 0n) <= 0n)
      errs.push(
        fieldErr.invalid(
          `${path}.resources.requests[storage]`,
          quantityString(storage),
          'must be greater than zero',
        ),
      );
  }
  if (s.storageClassName)
    for (const m of isDNS1123Subdomain(s.storageClassName))
      errs.push(fieldErr.invalid(`${path}.storageClassName`, s.storageClassName, m));
  if (s.volumeMode && !volumeModes.includes(s.volumeMode))
    errs.push(fieldErr.notSupported(`${path}.volumeMode`, s.volumeMode, volumeModes));
  return errs;
}

export function validatePersistentVolumeClaimUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const n = JSON.parse(JSON.stringify(asPVC(obj).spec ?? {})) as Mutable<PersistentVolumeClaimSpec>;
  const o = JSON.parse(JSON.stringify(asPVC(old).spec ?? {})) as Mutable<PersistentVolumeClaimSpec>;
  if (!o.volumeName) o.volumeName = n.volumeName;
  // Retroactive default StorageClass (KEP-3333, GA in 1.28): a claim created without a class (no
  // storageClassName, no beta annotation) may be given one, once; any other class change stays forbidden.
  if (
    o.storageClassName === undefined &&
    asPVC(old).metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] === undefined &&
    typeof n.storageClassName === 'string' &&
    n.storageClassName !== ''
  )
    delete n.storageClassName;
  const bound = asPVC(obj).status?.phase === 'Bound';
  const newSize = n.resources?.requests?.['storage'];
  const oldSize = o.resources?.requests?.['storage'];
  if (bound && n.resources?.requests)
    (n.resources.requests as Record<string, string>)['storage'] = oldSize as string;
  n.volumeAttributesClassName = o.volumeAttributesClassName;
  if (canonicalJSON(n) !== canonicalJSON(o))
    errs.push(
      fieldErr.forbidden(
        'spec',
        'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      ),
    );
  if (typeof newSize === 'string' && typeof oldSize === 'string' && compareQuantities(newSize, oldSize) < 0)
    errs.push(
      fieldErr.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'),
    );
  return errs;
}

const pvcColumns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Status',
    type: 'string',
    description: 'phase represents the current phase of PersistentVolumeClaim.',
  },
  {
    name: 'Volume',
    type: 'string',
    description: 'volumeName is the binding reference to the PersistentVolume backing this claim.',
  },
  {
    name: 'Capacity',
    type: 'string',
    description: 'capacity represents the actual resources of the underlying volume.',
  },
  {
    name: 'Access Modes',
    type: 'string',
    description:
      'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1',
  },
  { name: 'StorageClass', type: 'string', description: 'StorageClass of the pvc' },
  { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pvc' },
  ageColumn,
  {
    name: 'VolumeMode',
    type: 'string',
    priority: 1,
    description:
      'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.',
  },
];

export const persistentVolumeClaimStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['pvc'],
  },
  hasStatus: true,
  defaults(obj) {
    const pvc = asPVC(obj);
    const spec = (pvc.spec ??= {});
    if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
    if (pvc.status && !pvc.status.phase) pvc.status.phase = 'Pending';
  },
  prepareForCreate(obj) {
    asPVC(obj).status = { phase: 'Pending' };
  },
  validate(obj) {
    return validatePersistentVolumeClaimSpec(asPVC(obj).spec, 'spec');
  },
  validateUpdate: validatePersistentVolumeClaimUpdate,
  columns: pvcColumns,
  row(obj, now) {
    const pvc = asPVC(obj);
    const spec = pvc.spec ?? {};
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    let capacity = '';
    let modes = '';
    if (spec.volumeName) {
      modes = accessModesString(pvc.status?.accessModes);
      capacity = quantityString(pvc.status?.capacity?.['storage']);
    }
    const cls = obj.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? spec.storageClassName ?? '';
    return [
      obj.metadata.name ?? '',
      phase,
      spec.volumeName ?? '',
      capacity,
      modes,
      cls,
      spec.volumeAttributesClassName ?? '<unset>',
      age(obj.metadata.creationTimestamp, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};
