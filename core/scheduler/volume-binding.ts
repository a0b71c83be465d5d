/**
 * The VolumeBinding plugin (kube-scheduler's pkg/scheduler/framework/plugins/volumebinding semantics,
 * written anew): a pod's PersistentVolumeClaims decide which nodes it may run on.
 *
 * - PreFilter (volumeState): a claim that does not exist or is being deleted, or an unbound claim whose
 *   StorageClass binds immediately, makes the pod unschedulable everywhere until the claims change
 *   ("pod has unbound immediate PersistentVolumeClaims").
 * - Filter (volumeBinding): a bound claim's volume must allow the node (its required node affinity — a
 *   local-path volume lives on one node); an unbound claim of a WaitForFirstConsumer class needs an
 *   Available volume usable from the node, or a provisioner whose allowedTopologies admit the node. The
 *   PersistentVolume controller then binds or provisions for the node the pod was bound to.
 */
import type { Node, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../api/object.ts';
import {
  claimClassName,
  findBestVolume,
  NO_PROVISIONER,
  nodeAffinityMatches,
  pvcSpec,
} from '../volumes/matching.ts';
import type { FilterResult, NodeInfo, PodState } from './plugins.ts';

export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const REASON_PV_NOT_EXIST =
  'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

/** The scheduler's view of the storage objects (its watch caches). */
export interface VolumeObjects {
  claim(namespace: string, name: string): KObject | undefined;
  volume(name: string): KObject | undefined;
  storageClass(name: string): KObject | undefined;
  volumes(): KObject[];
}

/** What the PreFilter step found for one pod (part of its PodState). */
export interface VolumeState {
  /** Set when the pod fits no node until its claims change (the FailedScheduling message's reason). */
  rejection?: string;
  /** Bound claims: their volumes (undefined when the named volume does not exist). */
  bound: (KObject | undefined)[];
  /** Unbound claims of WaitForFirstConsumer classes, with their class. */
  delayed: { claim: KObject; storageClass: KObject }[];
  /** The volumes a delayed claim may bind (a snapshot for this scheduling cycle). */
  candidates: KObject[];
}

function claimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? [])
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
  return out;
}

/** PreFilter: undefined for a pod without claims (the filter then passes every node). */
export function volumeState(pod: Pod, objs: VolumeObjects): VolumeState | undefined {
  const names = claimNames(pod);
  if (!names.length) return undefined;
  const ns = pod.metadata?.namespace ?? '';
  const st: VolumeState = { bound: [], delayed: [], candidates: [] };
  for (const name of names) {
    const claim = objs.claim(ns, name);
    if (!claim) return { ...st, rejection: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata.deletionTimestamp)
      return { ...st, rejection: `persistentvolumeclaim "${name}" is being deleted` };
    const volumeName = pvcSpec(claim).volumeName;
    if (volumeName) {
      st.bound.push(objs.volume(volumeName));
      continue;
    }
    const cls = objs.storageClass(claimClassName(claim));
    if (cls?.['volumeBindingMode'] !== 'WaitForFirstConsumer') return { ...st, rejection: UNBOUND_IMMEDIATE };
    st.delayed.push({ claim, storageClass: cls });
  }
  if (st.delayed.length) st.candidates = objs.volumes();
  return st;
}

interface TopologyTerm {
  matchLabelExpressions?: { key: string; values: string[] }[];
}

/** A StorageClass's allowedTopologies: none means everywhere; otherwise any term whose labels all match. */
function topologyAllows(cls: KObject, node: Node): boolean {
  const terms = cls['allowedTopologies'] as TopologyTerm[] | undefined;
  if (!terms?.length) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) =>
    (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '\u0000')),
  );
}

function required(pv: KObject): NodeSelectorTerm[] | undefined {
  const spec = pv['spec'] as { nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  return spec?.nodeAffinity?.required?.nodeSelectorTerms;
}

const PASS: FilterResult = Object.freeze({ plugin: 'VolumeBinding', fits: true, reasons: [] });

/** Filter: whether the node can serve every claim of the pod. */
export function volumeBinding(_pod: Pod, info: NodeInfo, st?: PodState): FilterResult {
  const vs = st?.volumes;
  if (!vs) return PASS;
  const node = info.node as unknown as KObject;
  const reasons = new Set<string>();
  for (const pv of vs.bound) {
    if (!pv) reasons.add(REASON_PV_NOT_EXIST);
    else if (required(pv) && !nodeAffinityMatches(pv, node)) reasons.add(REASON_NODE_CONFLICT);
  }
  for (const { claim, storageClass } of vs.delayed) {
    if (findBestVolume(claim, vs.candidates, { delayBinding: true, node })) continue;
    const provisioner = String(storageClass['provisioner'] ?? '');
    if (provisioner && provisioner !== NO_PROVISIONER && topologyAllows(storageClass, info.node)) continue;
    reasons.add(REASON_BIND_CONFLICT);
  }
  if (!reasons.size) return PASS;
  return { plugin: 'VolumeBinding', fits: false, reasons: [...reasons], unresolvable: true };
}
