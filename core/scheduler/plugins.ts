/**
 * The scheduler's filter and score plugins, as pure functions over plain Pod and Node objects
 * (semantics of kube-scheduler's pkg/scheduler/framework/plugins, written from scratch).
 *
 * Filters run in kube-scheduler's default order; the first one that fails decides a node's reasons
 * (what the FailedScheduling message counts), but every filter is evaluated and kept for explain().
 */
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { tryParseQuantity } from '../registry/core/quantity.ts';
import { matchNodeSelectorTerm } from './node-selector.ts';
import { volumeBinding, type VolumeObjects, type VolumeState, volumeState } from './volume-binding.ts';

/** Resource amounts: cpu in millicores, every other resource in its base unit. */
export type Resources = Record<string, number>;

/** Non-zero defaults the scorers use for containers without requests (pkg/scheduler/util). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function amount(resource: string, q: unknown): number {
  const s = typeof q === 'number' ? String(q) : typeof q === 'string' ? q : '';
  const p = tryParseQuantity(s);
  if (!p) return 0;
  if (resource === 'cpu') {
    const m = p.nanos / 1_000_000n + (p.nanos % 1_000_000n > 0n ? 1n : 0n);
    return Number(m);
  }
  const v = p.nanos / 1_000_000_000n + (p.nanos % 1_000_000_000n > 0n ? 1n : 0n);
  return Number(v);
}

function add(into: Resources, r: Resources): void {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + v;
}

function maxInto(into: Resources, r: Resources): void {
  for (const [k, v] of Object.entries(r)) into[k] = Math.max(into[k] ?? 0, v);
}

function containerRequests(
  c: { resources?: { requests?: Record<string, unknown> } },
  nonZero: boolean,
): Resources {
  const out: Resources = {};
  for (const [k, v] of Object.entries(c.resources?.requests ?? {})) out[k] = amount(k, v);
  if (nonZero) {
    if (!out['cpu']) out['cpu'] = DEFAULT_MILLI_CPU_REQUEST;
    if (!out['memory']) out['memory'] = DEFAULT_MEMORY_REQUEST;
  }
  return out;
}

/**
 * A pod's effective requests (resource.PodRequests): the sum over app containers and restartable
 * (sidecar) init containers, at least the largest regular init container's requests (plus the sidecars
 * started before it), plus pod overhead. nonZero applies the scorers' defaults to unset cpu/memory.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const spec = pod.spec;
  const total: Resources = {};
  for (const c of spec?.containers ?? []) add(total, containerRequests(c, nonZero));
  const sidecars: Resources = {};
  const initMax: Resources = {};
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      add(sidecars, r);
      add(total, r);
    } else {
      const withSidecars = { ...sidecars };
      add(withSidecars, r);
      maxInto(initMax, withSidecars);
    }
  }
  maxInto(total, initMax);
  const overhead: Resources = {};
  for (const [k, v] of Object.entries(spec?.overhead ?? {})) overhead[k] = amount(k, v);
  add(total, overhead);
  return total;
}

export function nodeAllocatable(node: Node): Resources {
  const out: Resources = {};
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  for (const [k, v] of Object.entries(a)) out[k] = amount(k, v);
  return out;
}

/**
 * What the scheduler knows about one node: the node and the pods assigned to it. The scheduler's cache
 * (node-cache.ts) also carries the sums below, kept up to date as pods come and go, so a scheduling
 * cycle does not re-parse every pod's quantities on every node; without them they are computed here.
 */
export interface NodeInfo {
  node: Node;
  pods: Pod[];
  /** nodeAllocatable(node). */
  allocatable?: Resources;
  /** Sum of podRequests(p) over pods. */
  requested?: Resources;
  /** Sum of podRequests(p, true) over pods (what the scorers count). */
  nonZeroRequested?: Resources;
  /** Number of pods per controller uid (controllerUid). */
  controllers?: ReadonlyMap<string, number>;
}

export const allocatableOf = (info: NodeInfo): Resources => info.allocatable ?? nodeAllocatable(info.node);

function sumRequests(pods: Pod[], nonZero: boolean): Resources {
  const r: Resources = {};
  for (const p of pods) add(r, podRequests(p, nonZero));
  return r;
}

export const requestedOf = (info: NodeInfo): Resources => info.requested ?? sumRequests(info.pods, false);
export const nonZeroRequestedOf = (info: NodeInfo): Resources =>
  info.nonZeroRequested ?? sumRequests(info.pods, true);

/** What a scheduling cycle computes once per pod (upstream's CycleState of the PreFilter plugins). */
export interface PodState {
  requests: Resources;
  nonZeroRequests: Resources;
  hostPorts: HostPort[];
  controllerUid: string | undefined;
  /** The resources NodeResourcesFit compares: cpu, memory, then the others requested, sorted. */
  fitResources: string[];
  /** VolumeBinding's PreFilter result: the pod's claims (undefined without claims or storage caches). */
  volumes?: VolumeState;
}

function fitResources(req: Resources): string[] {
  const others = Object.keys(req).filter((k) => k !== 'cpu' && k !== 'memory' && k !== 'pods');
  return ['cpu', 'memory', ...others.sort()];
}

export function podState(pod: Pod, storage?: VolumeObjects): PodState {
  const requests = podRequests(pod);
  const volumes = storage ? volumeState(pod, storage) : undefined;
  return {
    ...(volumes ? { volumes } : {}),
    fitResources: fitResources(requests),
    requests,
    nonZeroRequests: podRequests(pod, true),
    hostPorts: hostPorts(pod),
    controllerUid: controllerUid(pod),
  };
}

export interface ResourceDetail {
  resource: string;
  /** What the pod requests. */
  requested: number;
  /** What the node's other pods already request. */
  used: number;
  allocatable: number;
}

export interface FilterResult {
  plugin: string;
  fits: boolean;
  /** The FailedScheduling reasons (Kubernetes wording); empty when it fits. */
  reasons: string[];
  /** Whether preemption could help (Unschedulable) or not (UnschedulableAndUnresolvable). */
  unresolvable?: boolean;
  /** NodeResourcesFit: every resource compared, with its numbers. */
  resources?: ResourceDetail[];
}

const OK = new Map<string, FilterResult>();
/** A passing result (shared and frozen: filters run on every node for every pod). */
function ok(plugin: string): FilterResult {
  let r = OK.get(plugin);
  if (!r)
    OK.set(
      plugin,
      (r = Object.freeze({ plugin, fits: true, reasons: Object.freeze<string[]>([]) as string[] })),
    );
  return r;
}

// ---------------------------------------------------------------------------------------------
// Tolerations and taints
// ---------------------------------------------------------------------------------------------

/** Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return !t.key || t.key === taint.key;
  return (t.key ?? '') === taint.key && (t.value ?? '') === (taint.value ?? '');
}

export function tolerated(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = 'Too many pods';

export function nodeUnschedulable(pod: Pod, info: NodeInfo): FilterResult {
  if (!info.node.spec?.unschedulable) return ok('NodeUnschedulable');
  const taint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
  if (tolerated(pod.spec?.tolerations, taint)) return ok('NodeUnschedulable');
  return { plugin: 'NodeUnschedulable', fits: false, reasons: [REASON_UNSCHEDULABLE], unresolvable: true };
}

export function nodeName(pod: Pod, info: NodeInfo): FilterResult {
  const want = pod.spec?.nodeName;
  if (!want || want === info.node.metadata?.name) return ok('NodeName');
  return { plugin: 'NodeName', fits: false, reasons: [REASON_NODE_NAME], unresolvable: true };
}

export function taintToleration(pod: Pod, info: NodeInfo): FilterResult {
  for (const taint of info.node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (tolerated(pod.spec?.tolerations, taint)) continue;
    return {
      plugin: 'TaintToleration',
      fits: false,
      reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`],
      unresolvable: true,
    };
  }
  return ok('TaintToleration');
}

function nodeAffinityFailure(): FilterResult {
  return { plugin: 'NodeAffinity', fits: false, reasons: [REASON_NODE_AFFINITY], unresolvable: true };
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms ORed). */
export function nodeAffinity(pod: Pod, info: NodeInfo): FilterResult {
  const labels = info.node.metadata?.labels ?? {};
  const fail = nodeAffinityFailure;
  const selector = pod.spec?.nodeSelector;
  if (selector) for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return fail();
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !(req.nodeSelectorTerms ?? []).some((t) => matchNodeSelectorTerm(t, info.node))) return fail();
  return ok('NodeAffinity');
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const cs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of cs)
    for (const p of c.ports ?? [])
      if (p.hostPort && p.hostPort > 0)
        out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
  return out;
}

export function nodePorts(pod: Pod, info: NodeInfo, st?: PodState): FilterResult {
  const want = st?.hostPorts ?? hostPorts(pod);
  if (!want.length) return ok('NodePorts');
  const used = info.pods.flatMap(hostPorts);
  for (const w of want)
    for (const u of used)
      if (
        w.port === u.port &&
        w.protocol === u.protocol &&
        (w.ip === u.ip || w.ip === '0.0.0.0' || u.ip === '0.0.0.0')
      )
        return { plugin: 'NodePorts', fits: false, reasons: [REASON_NODE_PORTS] };
  return ok('NodePorts');
}

function insufficient(r: string, req: Resources, alloc: Resources, used: Resources): boolean {
  const requested = req[r] ?? 0;
  return requested > 0 && requested > (alloc[r] ?? 0) - (used[r] ?? 0);
}

/**
 * NodeResourcesFit: requests of the pod vs allocatable minus what the node's pods request. With
 * detail false (the scheduler's pass over the nodes) the numbers are left out of a passing result.
 */
export function nodeResourcesFit(pod: Pod, info: NodeInfo, st?: PodState, detail = true): FilterResult {
  const alloc = allocatableOf(info);
  const used = requestedOf(info);
  const req = st?.requests ?? podRequests(pod);
  const allowedPods = alloc['pods'] ?? 0;
  const tooMany = info.pods.length + 1 > allowedPods;
  const names = st?.fitResources ?? fitResources(req);
  if (!detail && !tooMany) {
    let fits = true;
    for (const r of names) if (insufficient(r, req, alloc, used)) fits = false;
    if (fits) return ok('NodeResourcesFit');
  }
  const reasons: string[] = [];
  const details: ResourceDetail[] = [];
  details.push({ resource: 'pods', requested: 1, used: info.pods.length, allocatable: allowedPods });
  if (tooMany) reasons.push(REASON_TOO_MANY_PODS);
  for (const r of names) {
    details.push({ resource: r, requested: req[r] ?? 0, used: used[r] ?? 0, allocatable: alloc[r] ?? 0 });
    if (insufficient(r, req, alloc, used)) reasons.push(`Insufficient ${r}`);
  }
  return reasons.length
    ? { plugin: 'NodeResourcesFit', fits: false, reasons, resources: details }
    : { plugin: 'NodeResourcesFit', fits: true, reasons: [], resources: details };
}

/** A filter plugin; detail false lets it leave the explain() numbers out of a passing result. */
export type Filter = (pod: Pod, info: NodeInfo, st?: PodState, detail?: boolean) => FilterResult;

export const FILTERS: readonly Filter[] = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodePorts,
  nodeResourcesFit,
  volumeBinding,
];

export interface NodeVerdict {
  node: string;
  fits: boolean;
  /** The first failing filter (the one the FailedScheduling message counts). */
  failedPlugin?: string;
  reasons: string[];
  unresolvable: boolean;
  filters: FilterResult[];
}

/** The verdict of a node when the PreFilter step rejected the pod (every node, one reason). */
export function rejectedVerdict(info: NodeInfo, plugin: string, reason: string): NodeVerdict {
  return {
    node: info.node.metadata?.name ?? '',
    fits: false,
    failedPlugin: plugin,
    reasons: [reason],
    unresolvable: true,
    filters: [{ plugin, fits: false, reasons: [reason], unresolvable: true }],
  };
}

/** Runs every filter on one node. */
export function filterNode(pod: Pod, info: NodeInfo, st: PodState = podState(pod)): NodeVerdict {
  const filters = FILTERS.map((f) => f(pod, info, st));
  const first = filters.find((f) => !f.fits);
  return {
    node: info.node.metadata?.name ?? '',
    fits: !first,
    failedPlugin: first?.plugin,
    reasons: first?.reasons ?? [],
    unresolvable: first?.unresolvable === true,
    filters,
  };
}

// ---------------------------------------------------------------------------------------------
// FailedScheduling message (framework.FitError.Error)
// ---------------------------------------------------------------------------------------------

/** "2 Insufficient cpu, 1 node(s) were unschedulable": each reason with its count, sorted. */
export function histogram(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts]
    .map(([r, n]) => `${n} ${r}`)
    .sort()
    .join(', ');
}

export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_PREEMPTION_VICTIMS = 'No preemption victims found for incoming pod';

/** Whether the pod fits the node: the filters in order, stopping at the first that fails. */
export function feasible(pod: Pod, info: NodeInfo, st: PodState): boolean {
  for (const f of FILTERS) if (!f(pod, info, st, false).fits) return false;
  return true;
}

/**
 * "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.
 * preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is
 * not helpful for scheduling." The second sentence is what preemption (the PostFilter step, see
 * preemption.ts) said: the scheduler passes it, empty when preemption nominated a node (upstream then
 * prints no preemption part). Without it, the preemption part is the one of a cluster where no node has
 * lower-priority pods: resolvable nodes count as "No preemption victims found", unresolvable ones as
 * "Preemption is not helpful".
 */
export function failedSchedulingMessage(
  pod: Pod,
  verdicts: readonly NodeVerdict[],
  preFilter?: string,
  preemption?: string,
): string {
  const n = verdicts.length;
  if (n === 0) return 'no nodes available to schedule pods';
  // A PreFilter rejection is said once, not counted per node (framework.FitError).
  const reasons = preFilter ?? histogram(verdicts.flatMap((v) => v.reasons));
  const main = `0/${n} nodes are available: ${reasons}.`;
  if (preemption !== undefined) return preemption ? `${main} ${preemption}` : main;
  if (pod.spec?.preemptionPolicy === 'Never')
    return `${main} preemption: not eligible due to preemptionPolicy=Never.`;
  const pre = histogram(
    verdicts.map((v) => (v.unresolvable ? PREEMPTION_NOT_HELPFUL : NO_PREEMPTION_VICTIMS)),
  );
  return `${main} preemption: 0/${n} nodes are available: ${pre}.`;
}

// ---------------------------------------------------------------------------------------------
// Scores (each 0..100; higher is better)
// ---------------------------------------------------------------------------------------------

export const MAX_NODE_SCORE = 100;

const SCORED_RESOURCES = ['cpu', 'memory'] as const;

/**
 * Per scored resource (cpu, memory): allocatable and the node's requests with the pod's added (non-zero
 * defaults), as [a0, q0, a1, q1] (no closures or objects: this runs for every node of every pod).
 */
function cpuMemory(pod: Pod, info: NodeInfo, st?: PodState): [number, number, number, number] {
  const alloc = allocatableOf(info);
  const onNode = nonZeroRequestedOf(info);
  const own = st?.nonZeroRequests ?? podRequests(pod, true);
  const [c, m] = SCORED_RESOURCES;
  return [alloc[c] ?? 0, (onNode[c] ?? 0) + (own[c] ?? 0), alloc[m] ?? 0, (onNode[m] ?? 0) + (own[m] ?? 0)];
}

/** NodeResourcesFit LeastAllocated (cpu and memory, weight 1 each). */
export function leastAllocatedScore(pod: Pod, info: NodeInfo, st?: PodState): number {
  let sum = 0;
  let weights = 0;
  const v = cpuMemory(pod, info, st);
  for (let i = 0; i < v.length; i += 2) {
    const a = v[i]!;
    const q = v[i + 1]!;
    weights++;
    if (a === 0 || q > a) continue;
    sum += Math.floor(((a - q) * MAX_NODE_SCORE) / a);
  }
  return weights ? Math.floor(sum / weights) : 0;
}

/** NodeResourcesBalancedAllocation: 1 − standard deviation of the cpu/memory fractions, × 100. */
export function balancedAllocationScore(pod: Pod, info: NodeInfo, st?: PodState): number {
  const fractions: number[] = [];
  const v = cpuMemory(pod, info, st);
  for (let i = 0; i < v.length; i += 2) {
    const a = v[i]!;
    const q = v[i + 1]!;
    if (a === 0) continue;
    fractions.push(Math.min(1, q / a));
  }
  if (fractions.length < 2) return MAX_NODE_SCORE;
  const mean = fractions.reduce((x, y) => x + y, 0) / fractions.length;
  const std = Math.sqrt(fractions.reduce((x, f) => x + (f - mean) ** 2, 0) / fractions.length);
  return Math.floor((1 - std) * MAX_NODE_SCORE);
}

/** The uid of a pod's controller (ownerReference with controller: true), if any. */
export function controllerUid(pod: Pod): string | undefined {
  return (pod.metadata?.ownerReferences ?? []).find((o) => o.controller)?.uid;
}

/** Pods of the same controller already on each node (raw counts; normalised by spreadScores). */
export function sameControllerCount(pod: Pod, info: NodeInfo, st?: PodState): number {
  const uid = st ? st.controllerUid : controllerUid(pod);
  if (!uid) return 0;
  if (info.controllers) return info.controllers.get(uid) ?? 0;
  return info.pods.filter((p) => controllerUid(p) === uid).length;
}

/** Spreading of a controller's pods: fewer siblings on a node scores higher (0..100 over the nodes). */
export function spreadScores(counts: number[]): number[] {
  const max = Math.max(0, ...counts);
  return counts.map((c) => (max === 0 ? MAX_NODE_SCORE : Math.floor(((max - c) * MAX_NODE_SCORE) / max)));
}

/** Preferred node affinity: sum of matching terms' weights (normalised over the nodes by the caller). */
export function preferredAffinityRaw(pod: Pod, info: NodeInfo): number {
  let sum = 0;
  for (const t of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    if (t.preference && matchNodeSelectorTerm(t.preference, info.node)) sum += t.weight;
  return sum;
}

/** TaintToleration score: untolerated PreferNoSchedule taints (fewer is better; normalised, reversed). */
export function intolerablePreferNoSchedule(pod: Pod, info: NodeInfo): number {
  return (info.node.spec?.taints ?? []).filter(
    (t) => t.effect === 'PreferNoSchedule' && !tolerated(pod.spec?.tolerations, t),
  ).length;
}

/** DefaultNormalizeScore: scale to 0..100 by the maximum (reverse: higher raw is worse). */
export function normalize(raw: number[], reverse: boolean): number[] {
  const max = Math.max(0, ...raw);
  if (max === 0) return raw.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return raw.map((r) => {
    const s = Math.floor((r * MAX_NODE_SCORE) / max);
    return reverse ? MAX_NODE_SCORE - s : s;
  });
}

export interface NodeScore {
  node: string;
  total: number;
  scores: Record<string, number>;
}

/** Plugin weights of the default profile. */
export const SCORE_WEIGHTS: Record<string, number> = {
  NodeResourcesFit: 1,
  NodeResourcesBalancedAllocation: 1,
  PodTopologySpread: 2,
  NodeAffinity: 2,
  TaintToleration: 3,
};

/** Scores every feasible node. */
export function scoreNodes(pod: Pod, infos: NodeInfo[], st: PodState = podState(pod)): NodeScore[] {
  const spread = spreadScores(infos.map((i) => sameControllerCount(pod, i, st)));
  const affinity = normalize(
    infos.map((i) => preferredAffinityRaw(pod, i)),
    false,
  );
  const taints = normalize(
    infos.map((i) => intolerablePreferNoSchedule(pod, i)),
    true,
  );
  const w = (k: string): number => SCORE_WEIGHTS[k] ?? 1;
  const [wFit, wBalanced, wSpread, wAffinity, wTaints] = [
    w('NodeResourcesFit'),
    w('NodeResourcesBalancedAllocation'),
    w('PodTopologySpread'),
    w('NodeAffinity'),
    w('TaintToleration'),
  ];
  return infos.map((info, i) => {
    const scores = {
      NodeResourcesFit: leastAllocatedScore(pod, info, st),
      NodeResourcesBalancedAllocation: balancedAllocationScore(pod, info, st),
      PodTopologySpread: spread[i] ?? 0,
      NodeAffinity: affinity[i] ?? 0,
      TaintToleration: taints[i] ?? 0,
    };
    const total =
      scores.NodeResourcesFit * wFit +
      scores.NodeResourcesBalancedAllocation * wBalanced +
      scores.PodTopologySpread * wSpread +
      scores.NodeAffinity * wAffinity +
      scores.TaintToleration * wTaints;
    return { node: info.node.metadata?.name ?? '', total, scores };
  });
}
