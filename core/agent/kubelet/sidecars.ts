/**
 * Native sidecars (init containers with restartPolicy: Always, the kubelet's "restartable init
 * containers") as pure decisions: which init container the sync acts on next (a sidecar lets the next
 * one start once it runs and its startup probe succeeded; it is kept running, restarted with
 * back-off whatever the pod's restartPolicy), and the order containers stop in (regular containers
 * first, then sidecars in reverse order of declaration).
 */
import type { Container, PodSpec } from 'kubernetes-types/core/v1';

/** Whether an init container is a sidecar (restartPolicy: Always). */
export const isSidecar = (c: Pick<Container, 'restartPolicy'>): boolean => c.restartPolicy === 'Always';

/** The names of the pod's sidecars, in declaration order. */
export const sidecarNames = (spec: Pick<PodSpec, 'initContainers'>): string[] =>
  (spec.initContainers ?? []).filter(isSidecar).map((c) => c.name);

/** One init container as the sync sees it in the current sandbox. */
export interface InitObserved {
  state: 'none' | 'created' | 'running' | 'exited';
  exitCode: number;
  /** Running and its startup probe (if any) succeeded. */
  started: boolean;
}

/**
 * What to do with one init container: start its first instance, remove a created-but-unstarted one
 * and start again, start again after it exited (subject to back-off), or keep a running sidecar
 * (probes, kills on a failed startup/liveness probe).
 */
export type InitAction = { name: string; do: 'start' | 'recreate' | 'restart' | 'keep' };

export interface InitPlan {
  actions: InitAction[];
  /** Every regular init container succeeded and every sidecar has started. */
  initialized: boolean;
  /** A regular init container failed and restartPolicy is Never. */
  failed: boolean;
}

const NONE: InitObserved = { state: 'none', exitCode: 0, started: false };

/** The action that brings a sidecar back to running, or keeps it. */
function sidecarAction(name: string, o: InitObserved): InitAction {
  const act = { none: 'start', created: 'recreate', exited: 'restart', running: 'keep' } as const;
  return { name, do: act[o.state] };
}

/**
 * The init containers' plan for one sync. Before the pod is initialized they run in order: the sync
 * stops at the first regular init container that has not succeeded and at the first sidecar that is
 * not yet started; sidecars before it are kept running. Once initialized, only sidecars matter: each
 * is kept running.
 */
export function planInit(
  init: readonly Pick<Container, 'name' | 'restartPolicy'>[],
  observed: (name: string) => InitObserved | undefined,
  podRestartPolicy: string,
  initialized: boolean,
): InitPlan {
  const actions: InitAction[] = [];
  if (initialized) {
    for (const c of init) if (isSidecar(c)) actions.push(sidecarAction(c.name, observed(c.name) ?? NONE));
    return { actions, initialized: true, failed: false };
  }
  for (const c of init) {
    const o = observed(c.name) ?? NONE;
    if (isSidecar(c)) {
      actions.push(sidecarAction(c.name, o));
      if (o.state === 'running' && o.started) continue;
      return { actions, initialized: false, failed: false };
    }
    if (o.state === 'exited' && o.exitCode === 0) continue;
    if (o.state === 'none') actions.push({ name: c.name, do: 'start' });
    else if (o.state === 'created') actions.push({ name: c.name, do: 'recreate' });
    else if (o.state === 'exited') {
      if (podRestartPolicy === 'Never') return { actions, initialized: false, failed: true };
      actions.push({ name: c.name, do: 'restart' });
    }
    return { actions, initialized: false, failed: false };
  }
  return { actions, initialized: true, failed: false };
}

/**
 * The order a pod's running containers stop in: first every container that is not a sidecar
 * (together), then each sidecar alone, last declared first. `names` are the running containers.
 */
export function stopOrder(names: readonly string[], spec: Pick<PodSpec, 'initContainers'>): string[][] {
  const sidecars = sidecarNames(spec);
  const running = new Set(names);
  const first = names.filter((n) => !sidecars.includes(n));
  const later = sidecars
    .filter((n) => running.has(n))
    .reverse()
    .map((n) => [n]);
  return [...(first.length > 0 ? [first] : []), ...later];
}
