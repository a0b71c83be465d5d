/**
 * Preemption (kube-scheduler's DefaultPreemption PostFilter plugin, written from its semantics): when a
 * pod fits no node, find nodes where evicting lower-priority pods would make it fit, pick one, and name
 * the victims. Pure functions over the scheduler's NodeInfos; the scheduler does the API work (see
 * preempt-victims.ts).
 *
 * - Eligibility: preemptionPolicy Never never preempts; a pod already nominated to a node where a
 *   lower-priority pod is still terminating by preemption waits for it (unless that node became
 *   unresolvable).
 * - Candidates: only nodes whose filter failure was resolvable. On each, every lower-priority pod is
 *   removed; if the pod still does not fit, the node is out (with the filter's reasons). Otherwise the
 *   removed pods are re-added most important first (priority, then earlier start), PDB-violating ones
 *   first, each kept ("reprieved") if the pod still fits; those that cannot be are the victims.
 * - Dry runs stop, from a random offset, once max(10% of the nodes, 100) candidates are found with at
 *   least one that violates no PodDisruptionBudget.
 * - The node: fewest PDB violations, then lowest highest-victim priority, smallest sum of priorities,
 *   fewest victims, latest earliest start among the highest-priority victims, then the first.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import { selectorMatches } from '../registry/validation/selectors.ts';
import {
  feasible,
  filterNode,
  histogram,
  NO_PREEMPTION_VICTIMS,
  type NodeInfo,
  type NodeVerdict,
  PREEMPTION_NOT_HELPFUL,
  podRequests,
  type PodState,
  requestedOf,
  type Resources,
} from './plugins.ts';

export const podPriority = (p: Pod): number => p.spec?.priority ?? 0;

/** util.GetPodStartTime: status.startTime, or now for a pod that has not started. */
function startTime(p: Pod, now: number): number {
  const t = p.status?.startTime ? Date.parse(p.status.startTime) : NaN;
  return Number.isNaN(t) ? now : t;
}

/** util.MoreImportantPod: higher priority, then the one that started earlier. */
export function moreImportant(a: Pod, b: Pod, now: number): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a, now) < startTime(b, now);
}

/** What preemption reads of a PodDisruptionBudget. */
export interface DisruptionBudget {
  namespace: string;
  selector: unknown;
  disruptionsAllowed: number;
  /** status.disruptedPods: pods the API server already counted against the budget. */
  disruptedPods: Record<string, unknown>;
}

export function disruptionBudget(o: {
  metadata?: { namespace?: string };
  spec?: unknown;
  status?: unknown;
}): DisruptionBudget {
  const spec = (o.spec ?? {}) as { selector?: unknown };
  const status = (o.status ?? {}) as { disruptionsAllowed?: number; disruptedPods?: Record<string, unknown> };
  return {
    namespace: o.metadata?.namespace ?? '',
    selector: spec.selector,
    disruptionsAllowed: status.disruptionsAllowed ?? 0,
    disruptedPods: status.disruptedPods ?? {},
  };
}

/** A nil or empty selector matches nothing here (unlike policy/v1 elsewhere), as upstream's preemption. */
function budgetSelects(pdb: DisruptionBudget, pod: Pod): boolean {
  const sel = pdb.selector as { matchLabels?: object; matchExpressions?: unknown[] } | undefined | null;
  if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length))
    return false;
  return selectorMatches(sel, pod.metadata?.labels);
}

/**
 * Splits pods (kept in order) into those whose eviction would exceed a budget and the others, spending
 * each matching budget's allowed disruptions as it goes (filterPodsWithPDBViolation).
 */
export function splitByBudget(pods: Pod[], pdbs: DisruptionBudget[]): { violating: Pod[]; other: Pod[] } {
  const allowed = pdbs.map((p) => p.disruptionsAllowed);
  const violating: Pod[] = [];
  const other: Pod[] = [];
  for (const pod of pods) {
    let violates = false;
    if (Object.keys(pod.metadata?.labels ?? {}).length)
      pdbs.forEach((pdb, i) => {
        if (pdb.namespace !== (pod.metadata?.namespace ?? '') || !budgetSelects(pdb, pod)) return;
        if (Object.hasOwn(pdb.disruptedPods, pod.metadata?.name ?? '')) return;
        allowed[i] = allowed[i]! - 1;
        if (allowed[i]! < 0) violates = true;
      });
    (violates ? violating : other).push(pod);
  }
  return { violating, other };
}

/** A node's pods as a mutable NodeInfo for what-if filtering (requests kept as sums). */
class NodeSim {
  readonly info: NodeInfo & { requested: Resources };
  private readonly requests = new Map<Pod, Resources>();

  constructor(base: NodeInfo, pods: Pod[]) {
    this.info = {
      node: base.node,
      pods: [],
      requested: {},
      ...(base.allocatable ? { allocatable: base.allocatable } : {}),
    };
    for (const p of pods) this.add(p);
  }

  private req(p: Pod): Resources {
    let r = this.requests.get(p);
    if (!r) this.requests.set(p, (r = podRequests(p)));
    return r;
  }

  add(p: Pod): void {
    this.info.pods.push(p);
    for (const [k, v] of Object.entries(this.req(p)))
      this.info.requested[k] = (this.info.requested[k] ?? 0) + v;
  }

  remove(p: Pod): void {
    const i = this.info.pods.indexOf(p);
    if (i < 0) return;
    this.info.pods.splice(i, 1);
    for (const [k, v] of Object.entries(this.req(p)))
      this.info.requested[k] = (this.info.requested[k] ?? 0) - v;
  }
}

export type VictimSelection = { victims: Pod[]; pdbViolations: number } | { reasons: string[] };

/**
 * The fewest pods of a node to evict for the pod to fit (SelectVictimsOnNode). `nominated`: pods
 * nominated to this node with at least the pod's priority, which count as if they ran there.
 */
export function selectVictims(
  pod: Pod,
  info: NodeInfo,
  st: PodState,
  pdbs: DisruptionBudget[],
  now: number,
  nominated: Pod[] = [],
): VictimSelection {
  const prio = podPriority(pod);
  const potential = info.pods.filter((p) => podPriority(p) < prio);
  if (!potential.length) return { reasons: [NO_PREEMPTION_VICTIMS] };
  const lower = new Set(potential);
  const sim = new NodeSim(info, [...info.pods.filter((p) => !lower.has(p)), ...nominated]);
  if (!feasible(pod, sim.info, st)) return { reasons: filterNode(pod, sim.info, st).reasons };
  potential.sort((a, b) => (moreImportant(a, b, now) ? -1 : moreImportant(b, a, now) ? 1 : 0));
  const { violating, other } = splitByBudget(potential, pdbs);
  const victims: Pod[] = [];
  let pdbViolations = 0;
  const reprieve = (p: Pod): boolean => {
    sim.add(p);
    if (feasible(pod, sim.info, st)) return true;
    sim.remove(p);
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of other) reprieve(p);
  if (violating.length && other.length)
    victims.sort((a, b) => (moreImportant(a, b, now) ? -1 : moreImportant(b, a, now) ? 1 : 0));
  return { victims, pdbViolations };
}

export interface Candidate {
  node: string;
  /** Most important first. */
  victims: Pod[];
  pdbViolations: number;
}

/** calculateNumCandidates with the default args (minCandidateNodesPercentage 10, absolute 100). */
export function numCandidates(nodes: number): number {
  return Math.min(nodes, Math.max(100, Math.trunc((nodes * 10) / 100)));
}

/** Ties broken one criterion at a time (pickOneNodeForPreemption); victims are most important first. */
export function pickCandidate(candidates: Candidate[], now: number): Candidate | undefined {
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.pdbViolations,
    (c) => -(c.victims[0] ? podPriority(c.victims[0]) : -Infinity),
    // Priorities shifted to be non-negative, as upstream (MaxInt32 + 1).
    (c) => -c.victims.reduce((s, p) => s + podPriority(p) + 2 ** 31, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfMostImportant(c.victims, now),
  ];
  let left = candidates;
  for (const score of criteria) {
    if (left.length <= 1) break;
    let best = -Infinity;
    let next: Candidate[] = [];
    for (const c of left) {
      const s = score(c);
      if (s > best) {
        best = s;
        next = [c];
      } else if (s === best) next.push(c);
    }
    left = next;
  }
  return left[0];
}

/** util.GetEarliestPodStartTime: the earliest start among the victims of the highest priority. */
function earliestStartOfMostImportant(victims: Pod[], now: number): number {
  const top = victims[0] ? podPriority(victims[0]) : 0;
  let earliest = Infinity;
  for (const v of victims) if (podPriority(v) === top) earliest = Math.min(earliest, startTime(v, now));
  return earliest === Infinity ? -Infinity : earliest;
}

/** What preemption concluded. `message` is the FailedScheduling message's preemption part. */
export type PreemptionOutcome =
  /** Not eligible: nothing changes, the pod keeps its nominated node. */
  | { kind: 'ineligible'; message: string }
  /** No node would do: the pod's nominated node is cleared. */
  | { kind: 'failed'; message: string }
  /** Evict these victims; the pod is nominated to the node. */
  | { kind: 'nominated'; message: ''; node: string; victims: Pod[] };

export interface PreemptionInput {
  pod: Pod;
  st: PodState;
  /** Every node, as the failed filter pass saw it. */
  infos: readonly NodeInfo[];
  /** Each node's verdict of that pass. */
  verdicts: readonly NodeVerdict[];
  /** The PodDisruptionBudgets (read only when some node is a potential candidate). */
  pdbs: () => DisruptionBudget[];
  /** Pods nominated to a node with at least the pod's priority (excluding the pod). */
  nominated?: (node: string) => Pod[];
  /** Where the dry runs start (upstream: random). */
  offset?: number;
  now?: number;
}

export const NOT_ELIGIBLE_NEVER = 'preemption: not eligible due to preemptionPolicy=Never.';
export const NOT_ELIGIBLE_TERMINATING =
  'preemption: not eligible due to a terminating pod on the nominated node.';

/** A pod being deleted because the scheduler preempted it (podTerminatingByPreemption). */
export function terminatingByPreemption(p: Pod): boolean {
  if (!p.metadata?.deletionTimestamp) return false;
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'DisruptionTarget');
  return c?.status === 'True' && c.reason === 'PreemptionByScheduler';
}

/** PodEligibleToPreemptOthers: undefined when eligible, else the reason. */
export function notEligible(
  pod: Pod,
  input: Pick<PreemptionInput, 'infos' | 'verdicts'>,
): string | undefined {
  if (pod.spec?.preemptionPolicy === 'Never') return NOT_ELIGIBLE_NEVER;
  const nominated = pod.status?.nominatedNodeName;
  if (!nominated) return undefined;
  if (input.verdicts.find((v) => v.node === nominated)?.unresolvable) return undefined;
  const info = input.infos.find((i) => i.node.metadata?.name === nominated);
  const prio = podPriority(pod);
  if (info?.pods.some((p) => podPriority(p) < prio && terminatingByPreemption(p)))
    return NOT_ELIGIBLE_TERMINATING;
  return undefined;
}

/** The PostFilter step for a pod that fits no node. */
export function preempt(input: PreemptionInput): PreemptionOutcome {
  const { pod, st, infos } = input;
  const why = notEligible(pod, input);
  if (why) return { kind: 'ineligible', message: why };
  const now = input.now ?? Date.now();
  const verdictOf = new Map(input.verdicts.map((v) => [v.node, v]));
  const potential = infos.filter((i) => {
    const v = verdictOf.get(i.node.metadata?.name ?? '');
    return v && !v.fits && !v.unresolvable;
  });
  const reasons = new Map<string, string[]>();
  const good: Candidate[] = [];
  const violating: Candidate[] = [];
  if (potential.length) {
    const pdbs = input.pdbs();
    const want = numCandidates(potential.length);
    const offset = input.offset ?? 0;
    for (let i = 0; i < potential.length; i++) {
      const info = potential[(offset + i) % potential.length]!;
      const node = info.node.metadata?.name ?? '';
      const r = selectVictims(pod, info, st, pdbs, now, input.nominated?.(node) ?? []);
      if ('reasons' in r) reasons.set(node, r.reasons);
      else if (!r.victims.length) reasons.set(node, [`expected at least one victim pod on node "${node}"`]);
      else (r.pdbViolations ? violating : good).push({ node, ...r });
      if (good.length && good.length + violating.length >= want) break;
    }
  }
  const chosen = pickCandidate([...good, ...violating], now);
  if (chosen) return { kind: 'nominated', message: '', node: chosen.node, victims: chosen.victims };
  const all = infos.flatMap((i) => reasons.get(i.node.metadata?.name ?? '') ?? [PREEMPTION_NOT_HELPFUL]);
  return {
    kind: 'failed',
    message: `preemption: 0/${infos.length} nodes are available: ${histogram(all)}.`,
  };
}

/**
 * The NodeInfos with the given nominated pods counted on their nominated nodes (what the filters see
 * for a pod of lower or equal priority: RunFilterPluginsWithNominatedPods). Unchanged without any.
 */
export function withNominated(infos: readonly NodeInfo[], nominated: Pod[]): readonly NodeInfo[] {
  if (!nominated.length) return infos;
  const byNode = new Map<string, Pod[]>();
  for (const p of nominated) {
    const n = p.status?.nominatedNodeName ?? '';
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  return infos.map((info) => {
    const extra = byNode.get(info.node.metadata?.name ?? '');
    if (!extra) return info;
    const requested = { ...requestedOf(info) };
    for (const p of extra)
      for (const [k, v] of Object.entries(podRequests(p))) requested[k] = (requested[k] ?? 0) + v;
    const pods = [...info.pods, ...extra];
    return {
      node: info.node,
      pods,
      requested,
      ...(info.allocatable ? { allocatable: info.allocatable } : {}),
    };
  });
}
