/**
 * The scheduler (kube-scheduler semantics): watches nodes and pods through the API, keeps a queue of
 * unscheduled pods of the default scheduler, runs the filter plugins on every node, scores the feasible
 * ones and binds the best through the in-process equivalent of pods/binding. A pod that fits nowhere gets
 * a FailedScheduling Warning event and PodScheduled=False (reason Unschedulable), and is retried with
 * backoff (1 s doubling to 10 s) when nodes or pods change, and every 5 minutes regardless. Before that,
 * preemption (preemption.ts) may evict lower-priority pods for it and nominate it to their node, whose
 * room other pods of lower priority then leave free; it binds there once they are gone.
 *
 * The full per-node verdict of each pod's last attempt is kept in memory: explain(ns, pod).
 */
import { randomBytes } from 'node:crypto';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { deepCopy, type KObject, rfc3339, rfc3339Micro } from '../api/object.ts';
import { errors, StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { Watcher } from '../store/types.ts';
import { NodeInfoCache } from './node-cache.ts';
import {
  failedSchedulingMessage,
  feasible,
  filterNode,
  type NodeInfo,
  type NodeScore,
  type NodeVerdict,
  podState,
  rejectedVerdict,
  scoreNodes,
} from './plugins.ts';
import { clearNominatedNodeName, listBudgets, preemptVictims } from './preempt-victims.ts';
import { podPriority, preempt, type PreemptionOutcome, withNominated } from './preemption.ts';
import { StorageCache } from './storage-cache.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const eventsRef: ResourceRef = { group: '', version: 'v1', resource: 'events' };

export interface SchedulerOptions {
  /** Initial backoff of an unschedulable pod (default 1000 ms), doubled per attempt… */
  initialBackoffMs?: number;
  /** …up to this (default 10000 ms). */
  maxBackoffMs?: number;
  /** Unschedulable pods are retried at least this often even without cluster changes (default 5 min). */
  unschedulableFlushMs?: number;
  /** Pods handled per turn of the event loop (default 200). */
  batchSize?: number;
  /** reportingInstance of events (default "default-scheduler-berth"). */
  instance?: string;
}

/**
 * How many nodes to look for feasible ones before scoring (kube-scheduler's numFeasibleNodesToFind with
 * the default adaptive percentageOfNodesToScore): every node below 100, else 50% minus 1% per 125 nodes,
 * at least 5% and at least 100 nodes. The search starts where the previous pod's stopped.
 */
export function numFeasibleNodesToFind(all: number): number {
  if (all < MIN_FEASIBLE_NODES) return all;
  const percentage = Math.max(MIN_FEASIBLE_PERCENTAGE, 50 - Math.trunc(all / 125));
  return Math.max(MIN_FEASIBLE_NODES, Math.trunc((all * percentage) / 100));
}
const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENTAGE = 5;

/**
 * A bound pod's explanation keeps every node's verdict and score only in clusters up to this size; in
 * larger ones it keeps the counts and the best scores (10,000 pods × 5,000 verdicts would be gigabytes).
 * A failed attempt always keeps every node's verdict: that is the "why is it Pending" answer.
 */
const FULL_EXPLANATION_MAX_NODES = 16;
const KEPT_SCORES = 10;

/** The last scheduling attempt of a pod, for "why is this pod Pending". */
export interface Explanation {
  namespace: string;
  name: string;
  uid: string;
  attemptedAt: string;
  /** Number of attempts so far. */
  attempts: number;
  /** The node it was bound to, when the attempt succeeded. */
  boundTo?: string;
  /** The FailedScheduling message, when it failed. */
  message?: string;
  /** Nodes whose filters ran (a bound pod in a large cluster: a sample, see numFeasibleNodesToFind). */
  evaluatedNodes: number;
  /** Of those, the feasible ones. */
  feasibleNodes: number;
  /**
   * Every node's verdict: each filter with its reasons (and requested/used/allocatable numbers). A pod
   * bound in a cluster of more than 16 nodes keeps none (see evaluatedNodes and feasibleNodes).
   */
  nodes: NodeVerdict[];
  /** Scores of the feasible nodes, best first (only the best 10 beyond 16 nodes). */
  scores: NodeScore[];
}

interface QueueEntry {
  attempts: number;
  /** Not before this time (backoff). */
  notBefore: number;
  /** Parked as unschedulable: waits for a cluster change (or the periodic flush). */
  parked: boolean;
}

const keyOf = (ns: string, name: string): string => `${ns}/${name}`;
const podKey = (p: Pod): string => keyOf(p.metadata?.namespace ?? '', p.metadata?.name ?? '');

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

export class Scheduler {
  private readonly nodes = new Map<string, Node>();
  private readonly pods = new Map<string, Pod>();
  /** Nodes with their assigned, non-terminal pods. */
  private readonly cache = new NodeInfoCache();
  /** Where the next search for feasible nodes starts (round robin over the cache's order). */
  private nextStartNode = 0;
  private readonly queue = new Map<string, QueueEntry>();
  /** Unbound pods with status.nominatedNodeName (preemptors waiting for their victims to go). */
  private readonly nominated = new Map<string, Pod>();
  private readonly explanations = new Map<string, Explanation>();
  private readonly events = new Map<string, { name: string; count: number }>();
  private watchers: Watcher[] = [];
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private flushTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly opts: Required<SchedulerOptions>;
  /** Claims, volumes and classes for VolumeBinding; a change retries the unschedulable pods. */
  private readonly storage = new StorageCache(() => this.moveAllToActive());

  constructor(
    private readonly client: InProcessClient,
    opts: SchedulerOptions = {},
  ) {
    this.opts = {
      initialBackoffMs: opts.initialBackoffMs ?? 1000,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      unschedulableFlushMs: opts.unschedulableFlushMs ?? 300_000,
      batchSize: opts.batchSize ?? 200,
      instance: opts.instance ?? 'default-scheduler-berth',
    };
  }

  start(): void {
    this.stopped = false;
    this.watchers.push(
      this.client.watch(nodesRef, '', { resourceVersion: '0' }, (t, o) =>
        this.onNode(t, o as unknown as Node),
      ),
      this.client.watch(podsRef, '', { resourceVersion: '0' }, (t, o) => this.onPod(t, o as unknown as Pod)),
      ...this.storage.watch(this.client),
    );
    this.flushTimer = setInterval(() => this.moveAllToActive(), this.opts.unschedulableFlushMs);
    this.flushTimer.unref?.();
    this.kick(0);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.stop();
    this.watchers = [];
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** The verdict of a pod's last scheduling attempt (undefined if never attempted or since deleted). */
  explain(namespace: string, name: string): Explanation | undefined {
    const e = this.explanations.get(keyOf(namespace, name));
    return e ? deepCopy(e) : undefined;
  }

  // ---- cache ----

  private onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: Node): void {
    const name = node.metadata?.name ?? '';
    const old = this.nodes.get(name);
    if (type === 'DELETED') {
      this.nodes.delete(name);
      this.cache.removeNode(name);
    } else {
      this.nodes.set(name, node);
      this.cache.setNode(node);
    }
    // Only changes that can make a pod fit retry the unschedulable ones (not condition heartbeats).
    if (type !== 'DELETED' && (!old || schedulingView(old) !== schedulingView(node))) this.moveAllToActive();
  }

  private assign(key: string, pod: Pod | undefined): void {
    const old = this.pods.get(key);
    const oldNode = old && !isTerminal(old) ? old.spec?.nodeName : undefined;
    if (oldNode) this.cache.removePod(oldNode, key);
    if (pod?.status?.nominatedNodeName && !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp)
      this.nominated.set(key, pod);
    else this.nominated.delete(key);
    if (pod) {
      this.pods.set(key, pod);
      const n = !isTerminal(pod) ? pod.spec?.nodeName : undefined;
      if (n) this.cache.addPod(n, key, pod);
    } else this.pods.delete(key);
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const key = podKey(pod);
    const old = this.pods.get(key);
    if (type === 'DELETED') {
      this.assign(key, undefined);
      this.queue.delete(key);
      this.explanations.delete(key);
      for (const k of [...this.events.keys()]) if (k.startsWith(`${key}\n`)) this.events.delete(k);
      if (old?.spec?.nodeName) this.moveAllToActive();
      return;
    }
    // A newer view of a pod we assumed bound (cache) must not undo the assumption.
    if (old?.spec?.nodeName && !pod.spec?.nodeName && old.metadata?.uid === pod.metadata?.uid) return;
    const freed = !!old?.spec?.nodeName && !!pod.spec?.nodeName && !isTerminal(old) && isTerminal(pod);
    this.assign(key, pod);
    if (this.wanted(pod)) {
      const e = this.queue.get(key);
      if (!e) {
        this.queue.set(key, { attempts: 0, notBefore: 0, parked: false });
        this.kick(0);
      } else if (e.parked && type === 'MODIFIED') {
        // The pod itself changed (labels, tolerations…): retry once its backoff is over.
        e.parked = false;
        this.kick(Math.max(0, e.notBefore - Date.now()));
      }
    } else this.queue.delete(key);
    if (freed) this.moveAllToActive();
  }

  /** Whether this scheduler should place the pod. */
  private wanted(pod: Pod): boolean {
    const spec = pod.spec;
    if (!spec || spec.nodeName) return false;
    if (pod.metadata?.deletionTimestamp) return false;
    if (isTerminal(pod)) return false;
    if ((spec.schedulerName || DEFAULT_SCHEDULER_NAME) !== DEFAULT_SCHEDULER_NAME) return false;
    if ((spec.schedulingGates ?? []).length) return false;
    return true;
  }

  /** A cluster change: every parked pod becomes active again once its backoff is over. */
  private moveAllToActive(): void {
    let soonest = Infinity;
    const now = Date.now();
    for (const e of this.queue.values()) {
      if (!e.parked) continue;
      e.parked = false;
      soonest = Math.min(soonest, Math.max(0, e.notBefore - now));
    }
    if (soonest !== Infinity) this.kick(soonest);
  }

  private kick(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.drain();
    }, ms);
  }

  private drain(): void {
    if (this.stopped) return;
    const now = Date.now();
    const ready: { key: string; prio: number; created: string }[] = [];
    let next = Infinity;
    for (const [key, e] of this.queue) {
      if (e.parked) continue;
      if (e.notBefore > now) {
        next = Math.min(next, e.notBefore - now);
        continue;
      }
      const p = this.pods.get(key);
      ready.push({ key, prio: p?.spec?.priority ?? 0, created: p?.metadata?.creationTimestamp ?? '' });
    }
    // PrioritySort: higher priority first, then older first.
    ready.sort((a, b) => b.prio - a.prio || (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
    const batch = ready.slice(0, this.opts.batchSize);
    // The batch's bindings and events share one commit (group commit; upstream binds asynchronously).
    this.client.batch(() => {
      for (const r of batch) {
        try {
          this.scheduleOne(r.key);
        } catch {
          const e = this.queue.get(r.key);
          if (e) this.backoff(e);
        }
      }
    });
    if (ready.length > batch.length) this.kick(0);
    else if (next !== Infinity) this.kick(next);
    for (const e of this.queue.values())
      if (!e.parked && e.notBefore > Date.now()) this.kick(e.notBefore - Date.now());
  }

  private backoff(e: QueueEntry): void {
    e.attempts++;
    const ms = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** (e.attempts - 1));
    e.notBefore = Date.now() + ms;
  }

  /**
   * The feasible nodes for the pod: the filters run node by node from where the last search stopped,
   * until numFeasibleNodesToFind are found or every node was tried. Returns them and how many were tried.
   */
  private findFeasible(
    pod: Pod,
    st: ReturnType<typeof podState>,
    infos: readonly NodeInfo[],
  ): { feasible: NodeInfo[]; tried: number } {
    const want = numFeasibleNodesToFind(infos.length);
    const out: NodeInfo[] = [];
    let tried = 0;
    const start = infos.length ? this.nextStartNode % infos.length : 0;
    while (tried < infos.length && out.length < want) {
      const info = infos[(start + tried) % infos.length]!;
      tried++;
      if (feasible(pod, info, st)) out.push(info);
    }
    this.nextStartNode = infos.length ? (start + tried) % infos.length : 0;
    return { feasible: out, tried };
  }

  /** One scheduling cycle for one pod (synchronous: filter, score, bind). */
  private scheduleOne(key: string): void {
    const pod = this.pods.get(key);
    const entry = this.queue.get(key);
    if (!pod || !entry || !this.wanted(pod)) {
      this.queue.delete(key);
      return;
    }
    const st = podState(pod, this.storage);
    const all = withNominated(this.cache.all(), this.nominatedPods(key, podPriority(pod)));
    const { feasible, tried } = st.volumes?.rejection
      ? { feasible: [], tried: 0 }
      : (this.fitsNominatedNode(pod, st, all) ?? this.findFeasible(pod, st, all));
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const explanation: Explanation = {
      namespace: ns,
      name,
      uid: pod.metadata?.uid ?? '',
      attemptedAt: rfc3339(),
      attempts: entry.attempts + 1,
      evaluatedNodes: tried,
      feasibleNodes: feasible.length,
      nodes: [],
      scores: [],
    };
    this.explanations.set(key, explanation);
    const rejection = st.volumes?.rejection;
    if (!feasible.length) {
      // Every node was tried and none fits: the verdict of each, for the message and explain().
      const verdicts = rejection
        ? all.map((i) => rejectedVerdict(i, 'VolumeBinding', rejection))
        : all.map((i) => filterNode(pod, i, st));
      const outcome = this.postFilter(key, pod, st, all, verdicts);
      const message = failedSchedulingMessage(pod, verdicts, rejection, outcome.message);
      explanation.nodes = verdicts;
      explanation.message = message;
      this.backoff(entry);
      entry.parked = true;
      const nominate =
        outcome.kind === 'nominated' ? outcome.node : outcome.kind === 'failed' ? '' : undefined;
      this.recordFailure(pod, message, nominate);
      return;
    }
    const scores = scoreNodes(pod, feasible, st);
    const full = all.length <= FULL_EXPLANATION_MAX_NODES;
    if (full) explanation.nodes = all.map((i) => filterNode(pod, i, st));
    explanation.scores = topScores(scores, full ? scores.length : KEPT_SCORES);
    let best: NodeScore[] = [];
    for (const s of scores) {
      if (!best.length || s.total > best[0]!.total) best = [s];
      else if (s.total === best[0]!.total) best.push(s);
    }
    const chosen = best[Math.floor(Math.random() * best.length)]!.node;
    try {
      this.bind(pod, chosen);
    } catch (e) {
      if (e instanceof StatusError && (e.code === 404 || e.code === 409)) {
        // Gone or already bound: the watch tells us what happened; a conflict retries with backoff.
        if (e.code === 409) this.backoff(entry);
        else this.queue.delete(key);
        return;
      }
      throw e;
    }
    explanation.boundTo = chosen;
    this.queue.delete(key);
    // Assume: the pod counts on its node before the watch event arrives.
    const assumed = deepCopy(pod);
    (assumed.spec as { nodeName?: string }).nodeName = chosen;
    this.assign(key, assumed);
  }

  private bind(pod: Pod, node: string): void {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const live = this.client.get(podsRef, ns, name);
    if (live.metadata.uid !== pod.metadata?.uid) throw errors.notFound({ group: '', resource: 'pods' }, name);
    const spec = (live['spec'] ?? {}) as { nodeName?: string };
    if (spec.nodeName)
      throw errors.conflict({ group: '', resource: 'pods/binding' }, name, 'already assigned');
    spec.nodeName = node;
    const status = (live['status'] ??= {}) as {
      conditions?: Record<string, unknown>[];
      nominatedNodeName?: string;
    };
    delete status.nominatedNodeName; // the binding clears the nomination (kube-apiserver ≥ 1.34)
    status.conditions = [
      ...(status.conditions ?? []).filter((c) => c['type'] !== 'PodScheduled'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() },
    ];
    this.client.update(podsRef, ns, live, 'binding');
    this.event(pod, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${ns}/${name} to ${node}`);
  }

  /**
   * Preemption for a pod that fits nowhere: on success the victims are marked and deleted, lower-priority
   * pods nominated to that node lose their nomination, and the pod is nominated there (in memory at
   * once: its space is held while the victims terminate). It is retried when they are gone.
   */
  private postFilter(
    key: string,
    pod: Pod,
    st: ReturnType<typeof podState>,
    infos: readonly NodeInfo[],
    verdicts: NodeVerdict[],
  ): PreemptionOutcome {
    const prio = podPriority(pod);
    const outcome = preempt({
      pod,
      st,
      infos,
      verdicts,
      pdbs: () => listBudgets(this.client),
      nominated: (node) => this.nominatedPods(key, prio).filter((p) => p.status?.nominatedNodeName === node),
      offset: Math.floor(Math.random() * Math.max(1, infos.length)),
    });
    if (outcome.kind !== 'nominated') return outcome;
    preemptVictims(this.client, pod, outcome.node, outcome.victims, (victim, msg) =>
      this.event(victim, 'Normal', 'Preempted', 'Preempting', msg, pod),
    );
    const displaced = [...this.nominated.values()].filter(
      (p) => p.status?.nominatedNodeName === outcome.node && podPriority(p) < prio,
    );
    clearNominatedNodeName(this.client, displaced);
    const nominatedPod = deepCopy(pod) as Pod & { status: { nominatedNodeName?: string } };
    nominatedPod.status = { ...nominatedPod.status, nominatedNodeName: outcome.node };
    this.assign(key, nominatedPod);
    return outcome;
  }

  /** A nominated pod tries its nominated node first (evaluateNominatedNode). */
  private fitsNominatedNode(
    pod: Pod,
    st: ReturnType<typeof podState>,
    infos: readonly NodeInfo[],
  ): { feasible: NodeInfo[]; tried: number } | undefined {
    const name = pod.status?.nominatedNodeName;
    const info = name ? infos.find((i) => i.node.metadata?.name === name) : undefined;
    return info && feasible(pod, info, st) ? { feasible: [info], tried: 1 } : undefined;
  }

  /** Pods nominated to nodes with at least this priority, other than the pod itself. */
  private nominatedPods(except: string, priority: number): Pod[] {
    if (!this.nominated.size) return [];
    return [...this.nominated]
      .filter(([k, p]) => k !== except && podPriority(p) >= priority)
      .map(([, p]) => p);
  }

  /** nominate: the node to nominate the pod to, '' to clear its nomination, undefined to leave it. */
  private recordFailure(pod: Pod, message: string, nominate?: string): void {
    this.event(pod, 'Warning', 'FailedScheduling', 'Scheduling', message);
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    try {
      const live = this.client.get(podsRef, ns, name);
      if (live.metadata.uid !== pod.metadata?.uid) return;
      if ((live['spec'] as { nodeName?: string } | undefined)?.nodeName) return;
      const status = (live['status'] ??= {}) as {
        conditions?: Record<string, unknown>[];
        nominatedNodeName?: string;
      };
      const conds = status.conditions ?? [];
      const cur = conds.find((c) => c['type'] === 'PodScheduled');
      const nominationKept = nominate === undefined || nominate === (status.nominatedNodeName ?? '');
      if (nominate) status.nominatedNodeName = nominate;
      else if (nominate === '') delete status.nominatedNodeName;
      if (
        nominationKept &&
        cur &&
        cur['status'] === 'False' &&
        cur['reason'] === 'Unschedulable' &&
        cur['message'] === message
      )
        return;
      status.conditions = [
        ...conds.filter((c) => c['type'] !== 'PodScheduled'),
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message,
          lastProbeTime: null,
          lastTransitionTime: cur && cur['status'] === 'False' ? cur['lastTransitionTime'] : rfc3339(),
        },
      ];
      this.client.update(podsRef, ns, live, 'status');
    } catch {
      /* the pod changed or went away: the next attempt records it again */
    }
  }

  /** A core/v1 Event about a pod, as the scheduler's events.k8s.io recorder writes them (with series). */
  private event(
    pod: Pod,
    type: string,
    reason: string,
    action: string,
    message: string,
    related?: Pod,
  ): void {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const dedupe = `${keyOf(ns, name)}\n${reason}\n${message}`;
    const now = new Date();
    try {
      const seen = this.events.get(dedupe);
      if (seen) {
        try {
          const ev = this.client.get(eventsRef, ns, seen.name);
          seen.count++;
          ev['series'] = { count: seen.count, lastObservedTime: rfc3339Micro(now) };
          this.client.update(eventsRef, ns, ev);
          return;
        } catch {
          this.events.delete(dedupe);
        }
      }
      const evName = `${name}.${randomBytes(8).toString('hex')}`;
      const ev: KObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: evName, namespace: ns },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: ns,
          name,
          uid: pod.metadata?.uid,
          resourceVersion: pod.metadata?.resourceVersion,
        },
        ...(related
          ? {
              related: {
                apiVersion: 'v1',
                kind: 'Pod',
                namespace: related.metadata?.namespace,
                name: related.metadata?.name,
                uid: related.metadata?.uid,
              },
            }
          : {}),
        reason,
        message,
        type,
        source: { component: DEFAULT_SCHEDULER_NAME },
        eventTime: rfc3339Micro(now),
        reportingComponent: DEFAULT_SCHEDULER_NAME,
        reportingInstance: this.opts.instance,
        action,
        firstTimestamp: null,
        lastTimestamp: null,
      };
      this.client.create(eventsRef, ns, ev);
      this.events.set(dedupe, { name: evName, count: 1 });
    } catch {
      /* events are best effort */
    }
  }
}

/** The n highest totals, best first (a bounded insertion: n is small, the scores many). */
function topScores(scores: NodeScore[], n: number): NodeScore[] {
  const out: NodeScore[] = [];
  for (const s of scores) {
    if (out.length === n && s.total <= out[n - 1]!.total) continue;
    let i = out.length;
    while (i > 0 && out[i - 1]!.total < s.total) i--;
    out.splice(i, 0, s);
    if (out.length > n) out.pop();
  }
  return out;
}

/** What of a node the filters read (labels, spec, allocatable). */
function schedulingView(n: Node): string {
  return JSON.stringify([n.metadata?.labels ?? {}, n.spec ?? {}, n.status?.allocatable ?? {}]);
}
