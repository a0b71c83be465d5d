/**
 * Which PersistentVolume can serve which PersistentVolumeClaim (the persistentvolume controller's
 * matching, pkg/controller/volume/persistentvolume/util semantics, written anew): shared by the PV
 * controller (binding) and the scheduler's VolumeBinding filter (which nodes a pod's claims allow).
 */
import type { Node, NodeSelectorTerm } from 'kubernetes-types/core/v1';
import type { KObject } from '../api/object.ts';
import { fromLabelSelectorObject, matchesLabels } from '../apiserver/label-selector.ts';
import { tryParseQuantity } from '../registry/core/quantity.ts';
import { matchNodeSelectorTerm } from '../scheduler/node-selector.ts';

export const ANN_BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export interface ClaimRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}
export interface PVSpec {
  capacity?: Record<string, string>;
  accessModes?: string[];
  volumeMode?: string;
  storageClassName?: string;
  claimRef?: ClaimRef;
  persistentVolumeReclaimPolicy?: string;
  nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
}
export interface PVCSpec {
  accessModes?: string[];
  volumeMode?: string;
  storageClassName?: string;
  volumeName?: string;
  selector?: unknown;
  resources?: { requests?: Record<string, string> };
}

export const pvSpec = (pv: KObject): PVSpec => (pv['spec'] ?? {}) as PVSpec;
export const pvcSpec = (c: KObject): PVCSpec => (c['spec'] ?? {}) as PVCSpec;
export const phaseOf = (o: KObject): string => ((o['status'] ?? {}) as { phase?: string }).phase ?? '';
export const ann = (o: KObject, k: string): string | undefined => o.metadata.annotations?.[k];

export const storageNanos = (v: string | undefined): bigint =>
  v === undefined ? 0n : (tryParseQuantity(v)?.nanos ?? 0n);

export function claimClassName(c: KObject): string {
  const beta = ann(c, ANN_BETA_CLASS);
  return beta !== undefined ? beta : (pvcSpec(c).storageClassName ?? '');
}
export function volumeClassName(pv: KObject): string {
  const beta = ann(pv, ANN_BETA_CLASS);
  return beta !== undefined ? beta : (pvSpec(pv).storageClassName ?? '');
}

/** IsVolumeBoundToClaim: claimRef names the claim (and its UID, when set). */
export function isVolumeBoundToClaim(pv: KObject, claim: KObject): boolean {
  const ref = pvSpec(pv).claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

export const volumeMode = (m: string | undefined): string => m || 'Filesystem';

export function nodeAffinityMatches(pv: KObject, node: KObject | undefined): boolean {
  const terms = pvSpec(pv).nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  if (!node) return false;
  return terms.some((t) => matchNodeSelectorTerm(t, node as unknown as Node));
}

/**
 * findMatchingVolume: the pre-bound volume, else the smallest Available one that satisfies the claim.
 * Volumes are tried by access-mode sets that are supersets of the claim's, smallest set first.
 * With delayBinding and no node, only pre-bound volumes are returned.
 */
export function findBestVolume(
  claim: KObject,
  volumes: KObject[],
  opts: { delayBinding?: boolean; node?: KObject } = {},
): KObject | undefined {
  const spec = pvcSpec(claim);
  const want = new Set(spec.accessModes ?? []);
  const requested = storageNanos(spec.resources?.requests?.['storage']);
  const cls = claimClassName(claim);
  const selector = spec.selector ? fromLabelSelectorObject(spec.selector) : undefined;
  const byModes = new Map<string, KObject[]>();
  for (const pv of volumes) {
    const modes = [...new Set(pvSpec(pv).accessModes ?? [])].sort();
    if (![...want].every((m) => modes.includes(m))) continue;
    const k = modes.join(',');
    byModes.set(k, [...(byModes.get(k) ?? []), pv]);
  }
  const sets = [...byModes.keys()].sort(
    (a, b) => a.split(',').length - b.split(',').length || (a < b ? -1 : 1),
  );
  for (const k of sets) {
    let best: KObject | undefined;
    for (const pv of byModes.get(k)!) {
      const ps = pvSpec(pv);
      if (volumeMode(ps.volumeMode) !== volumeMode(spec.volumeMode)) continue;
      if (pv.metadata.deletionTimestamp) continue;
      const affinityOk = opts.node ? nodeAffinityMatches(pv, opts.node) : true;
      if (isVolumeBoundToClaim(pv, claim)) return affinityOk ? pv : undefined;
      if (!opts.node && opts.delayBinding) continue;
      if (phaseOf(pv) !== 'Available' || ps.claimRef) continue;
      if (selector && !matchesLabels(selector, pv.metadata.labels)) continue;
      if (volumeClassName(pv) !== cls) continue;
      if (!affinityOk) continue;
      const size = storageNanos(ps.capacity?.['storage']);
      if (size < requested) continue;
      if (!best || storageNanos(pvSpec(best).capacity?.['storage']) > size) best = pv;
    }
    if (best) return best;
  }
  return undefined;
}

/** checkVolumeSatisfyClaim: why a requested volume cannot serve the claim (undefined when it can). */
export function volumeMismatch(pv: KObject, claim: KObject): string | undefined {
  const ps = pvSpec(pv);
  const cs = pvcSpec(claim);
  const requested = cs.resources?.requests?.['storage'];
  if (storageNanos(ps.capacity?.['storage']) < storageNanos(requested)) return 'requested PV is too small';
  if (volumeClassName(pv) !== claimClassName(claim)) return 'storageClassName does not match';
  if (volumeMode(ps.volumeMode) !== volumeMode(cs.volumeMode)) return 'incompatible volumeMode';
  const modes = ps.accessModes ?? [];
  if (!(cs.accessModes ?? []).every((m) => modes.includes(m))) return 'incompatible accessMode';
  return undefined;
}
