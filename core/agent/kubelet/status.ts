/**
 * The pod status the kubelet reports (generateAPIPodStatus / getPhase / the status manager's
 * conditions), as pure functions: container states from CRI records, the pod phase per restartPolicy,
 * the conditions with lastTransitionTime kept while a condition's status does not change, and the
 * fields the kubelet owns merged into the status other writers share.
 */
import type { ContainerState, ContainerStatus, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { type KObject, rfc3339 } from '../../api/object.ts';
import { podSpec } from '../pod/types.ts';
import type { CriContainerStatus } from '../cri/types.ts';
import { sidecarNames } from './sidecars.ts';

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** One container as the status shows it. */
export interface ContainerView {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
}

export interface PodView {
  sandboxReady: boolean;
  podIPs: string[];
  hostIP: string;
  init: ContainerView[];
  containers: ContainerView[];
  /** Ephemeral containers (kubectl debug), when the pod has any. */
  ephemeral?: ContainerView[];
  qosClass: string;
  /** A pod-level terminal failure the kubelet decided (e.g. DeadlineExceeded). */
  failure?: { reason: string; message: string };
  /** The phase to report when the pod was already terminal (phases never leave Succeeded/Failed). */
  terminalPhase?: Phase;
  startTime: string;
}

/** RFC3339 of a CRI nanosecond timestamp. */
export const nsToTime = (ns: number): string => rfc3339(new Date(Math.floor(ns / 1e6)));

/** The runtime's id form in the API ("containerd://<id>"). */
export const containerIDOf = (id: string): string => `containerd://${id}`;

/** A CRI container record as a ContainerState; `terminationMessage` overrides the runtime message. */
export function criContainerState(c: CriContainerStatus, terminationMessage?: string): ContainerState {
  switch (c.state) {
    case 'CONTAINER_RUNNING':
      return { running: { startedAt: nsToTime(c.startedAt) } };
    case 'CONTAINER_CREATED':
      return { waiting: { reason: 'ContainerCreating' } };
    case 'CONTAINER_EXITED': {
      const message = terminationMessage || c.message;
      return {
        terminated: {
          exitCode: c.exitCode,
          reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
          ...(message ? { message } : {}),
          ...(c.startedAt > 0 ? { startedAt: nsToTime(c.startedAt) } : {}),
          finishedAt: nsToTime(c.finishedAt > 0 ? c.finishedAt : c.createdAt),
          containerID: containerIDOf(c.id),
        },
      };
    }
    default:
      return {
        terminated: {
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the pod was terminated',
          containerID: containerIDOf(c.id),
        },
      };
  }
}

const succeededState = (s: ContainerState): boolean => s.terminated?.exitCode === 0;

/** Whether a regular container has run (the pod was initialized before, whatever sidecars do now). */
const anyRegularStarted = (containers: ContainerView[]): boolean =>
  containers.some((c) => c.state.running || c.state.terminated || c.lastState.terminated);

/**
 * Init containers that keep the pod from being initialized: regular ones whose run did not (yet)
 * succeed, sidecars not (yet) started — none once a regular container has run beside sidecars.
 */
export function incompleteInit(pod: KObject, view: Pick<PodView, 'init' | 'containers'>): string[] {
  const sidecars = new Set(sidecarNames(podSpec(pod)));
  // (Only pods with sidecars can have regular containers running while init is incomplete.)
  if (sidecars.size > 0 && anyRegularStarted(view.containers)) return [];
  return view.init
    .filter((c) => (sidecars.has(c.name) ? !c.started : !succeededState(c.state)))
    .map((c) => c.name);
}

/** The pod phase (kubelet getPhase). */
export function podPhase(pod: KObject, view: Pick<PodView, 'init' | 'containers'>): Phase {
  const policy = podSpec(pod).restartPolicy ?? 'Always';
  let initFailed = false;
  let initPending = false;
  const sidecars = new Set(sidecarNames(podSpec(pod)));
  for (const c of view.init) {
    // A sidecar is pending until it started, unless the regular containers have run; else it does
    // not count for the phase.
    if (sidecars.has(c.name)) {
      if (!(c.state.running && c.started) && !anyRegularStarted(view.containers)) initPending = true;
      continue;
    }
    if (succeededState(c.state)) continue;
    if (
      c.state.terminated ||
      (c.state.waiting && c.lastState.terminated && c.lastState.terminated.exitCode !== 0)
    )
      initFailed = true;
    else initPending = true;
  }
  if (initFailed && policy === 'Never') return 'Failed';
  if (initFailed || initPending) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of view.containers) {
    if (c.state.running) running++;
    else if (c.state.terminated) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.state.waiting && c.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'OnFailure' ? 'Running' : 'Failed';
  }
  return 'Pending';
}

type Cond = { status: 'True' | 'False'; reason?: string; message?: string };

/** The conditions the kubelet owns, in its order, before lastTransitionTime is applied. */
export function ownConditions(pod: KObject, view: PodView, phase: Phase): [string, Cond][] {
  const hostNetwork = podSpec(pod).hostNetwork === true;
  const sandboxOk = view.sandboxReady && (hostNetwork || view.podIPs.length > 0);
  const completed = phase === 'Succeeded';
  const incomplete = incompleteInit(pod, view);
  const initialized: Cond =
    incomplete.length === 0
      ? completed && view.init.length > 0
        ? { status: 'True', reason: 'PodCompleted' }
        : { status: 'True' }
      : {
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${incomplete.join(' ')}]`,
        };
  // Sidecars' readiness counts for the pod's, before the regular containers'.
  const sidecars = new Set(sidecarNames(podSpec(pod)));
  const unready = [...view.init.filter((c) => sidecars.has(c.name)), ...view.containers]
    .filter((c) => !c.ready)
    .map((c) => c.name);
  let containersReady: Cond;
  if (completed) containersReady = { status: 'False', reason: 'PodCompleted' };
  else if (incomplete.length > 0)
    containersReady = {
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: `containers with incomplete status: [${incomplete.join(' ')}]`,
    };
  else if (unready.length > 0)
    containersReady = {
      status: 'False',
      reason: 'ContainersNotReady',
      message: `containers with unready status: [${unready.join(' ')}]`,
    };
  else containersReady = { status: 'True' };
  let ready = containersReady;
  if (ready.status === 'True') {
    const conds = ((pod['status'] as PodStatus | undefined)?.conditions ?? []) as PodCondition[];
    const gates = podSpec(pod).readinessGates ?? [];
    const missing: string[] = [];
    for (const g of gates) {
      const c = conds.find((x) => x.type === g.conditionType);
      if (!c)
        missing.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
      else if (c.status !== 'True')
        missing.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
    }
    if (missing.length > 0)
      ready = { status: 'False', reason: 'ReadinessGatesNotReady', message: missing.join(', ') };
  }
  return [
    ['PodReadyToStartContainers', { status: sandboxOk ? 'True' : 'False' }],
    ['Initialized', initialized],
    ['Ready', ready],
    ['ContainersReady', containersReady],
  ];
}

/** Conditions with lastTransitionTime kept from `old` while the status is unchanged; others' kept. */
export function mergeConditions(old: PodCondition[], own: [string, Cond][], now: string): PodCondition[] {
  const ownTypes = new Set(own.map(([t]) => t));
  const out: PodCondition[] = [];
  for (const [type, c] of own) {
    const prev = old.find((o) => o.type === type);
    out.push({
      type,
      status: c.status,
      lastProbeTime: null as unknown as string,
      lastTransitionTime:
        prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
    });
  }
  for (const o of old) if (!ownTypes.has(o.type)) out.push(o);
  return out;
}

function apiContainerStatus(c: ContainerView): ContainerStatus {
  return {
    name: c.name,
    image: c.image,
    imageID: c.imageID,
    ...(c.containerID ? { containerID: c.containerID } : {}),
    state: c.state,
    lastState: c.lastState,
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
  };
}

/** The kubelet-owned status fields; everything else in `pod.status` is kept. */
export function computePodStatus(pod: KObject, view: PodView, now = new Date()): PodStatus {
  const old = (pod['status'] ?? {}) as PodStatus;
  const phase = view.terminalPhase ?? (view.failure ? 'Failed' : podPhase(pod, view));
  const conditions = mergeConditions(old.conditions ?? [], ownConditions(pod, view, phase), rfc3339(now));
  const status: PodStatus = {
    ...old,
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    startTime: old.startTime ?? view.startTime,
    qosClass: view.qosClass,
    containerStatuses: view.containers.map(apiContainerStatus),
  };
  if (view.podIPs.length > 0) {
    status.podIP = view.podIPs[0];
    status.podIPs = view.podIPs.map((ip) => ({ ip }));
  }
  if (view.init.length > 0) status.initContainerStatuses = view.init.map(apiContainerStatus);
  else delete status.initContainerStatuses;
  if (view.ephemeral?.length) status.ephemeralContainerStatuses = view.ephemeral.map(apiContainerStatus);
  else delete status.ephemeralContainerStatuses;
  if (view.failure) {
    status.reason = view.failure.reason;
    status.message = view.failure.message;
  }
  return status;
}

/** Whether two statuses differ in anything but key order. */
export function statusChanged(a: unknown, b: unknown): boolean {
  return canonical(a) !== canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([p], [q]) => p.localeCompare(q)),
        )
      : x,
  );
}
