/**
 * The containers part of a sync: init containers one at a time in order (restarted while they fail,
 * unless restartPolicy is Never; sidecars started in order and kept running, see sidecars.ts), then
 * the app containers together — started when missing, restarted per restartPolicy with
 * CrashLoopBackOff (10 s doubling to 5 min), killed and restarted on a failed liveness/startup probe
 * or a changed image.
 */
import type { Container } from 'kubernetes-types/core/v1';
import type { CriContainerStatus } from '../cri/types.ts';
import { probeTerminationGracePeriod } from '../pod/probes.ts';
import { goDuration } from './backoff.ts';
import { SPEC_IMAGE_ANNOTATION } from './container-config.ts';
import { startContainer } from './container-start.ts';
import { killContainer } from './container-stop.ts';
import { type Instance, type Kind, podDesc, type PodState } from './pod-state.ts';
import { type InitObserved, isSidecar, planInit } from './sidecars.ts';

/** Removes a container that was created but never started (a start attempt that did not finish). */
async function removeUnstarted(p: PodState, id: string): Promise<void> {
  await p.ignoreGone(p.cri.removeContainer(id));
  p.runtime.container(id, undefined);
}

/**
 * Whether an exited container must be started again now; records CrashLoopBackOff (waiting) when
 * it must wait.
 */
function mayRestart(p: PodState, kind: Kind, c: Container, last: CriContainerStatus): boolean {
  const finishedMs = Math.floor((last.finishedAt || last.createdAt) / 1e6);
  const key = p.backoffKey(c.name);
  if (p.s.backoff.inBackoffSince(key, finishedMs)) {
    const delayMs = p.s.backoff.delayMs(key);
    p.hooks.wakeAt(finishedMs + delayMs);
    const delay = goDuration(delayMs);
    const message = `back-off ${delay} restarting failed container=${c.name} pod=${podDesc(p.pod)}`;
    p.waiting.set(c.name, { reason: 'CrashLoopBackOff', message });
    p.event('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDesc(p.pod)}`, {
      kind,
      name: c.name,
    });
    return false;
  }
  p.s.backoff.next(key, finishedMs);
  return true;
}

/** What the sync sees of one container in the current sandbox (sidecars.ts decides from it). */
function observe(p: PodState, instances: Map<string, Instance[]>, name: string): InitObserved {
  const st = p.current(instances, name)?.status;
  if (!st) return { state: 'none', exitCode: 0, started: false };
  if (st.state === 'CONTAINER_CREATED') return { state: 'created', exitCode: 0, started: false };
  if (st.state !== 'CONTAINER_RUNNING') return { state: 'exited', exitCode: st.exitCode, started: false };
  const c = p.containerSpecs().get(name)?.c;
  return { state: 'running', exitCode: 0, started: !!c && p.probes.state(st.id, c).started };
}

/**
 * Init containers in order (sidecars.ts plans it): regular ones until they succeed, sidecars started
 * and kept running (restarted with back-off, killed on a failed startup/liveness probe); true once
 * the pod is initialized.
 */
export async function syncInitContainers(p: PodState, instances: Map<string, Instance[]>): Promise<boolean> {
  const init = p.spec.initContainers ?? [];
  const plan = planInit(init, (n) => observe(p, instances, n), p.restartPolicy(), p.initDone);
  const byName = new Map(init.map((c) => [c.name, c]));
  for (const a of plan.actions) {
    const c = byName.get(a.name);
    if (!c) continue;
    p.waiting.delete(c.name);
    const st = p.current(instances, c.name)?.status;
    const next = (st?.metadata?.attempt ?? 0) + 1;
    if (a.do === 'start') await startContainer(p, 'init', c, p.nextAttempt.get(c.name) ?? 0);
    else if (a.do === 'recreate' && st) {
      await removeUnstarted(p, st.id);
      await startContainer(p, 'init', c, next);
    } else if (a.do === 'restart' && st) {
      p.probes.forget(st.id);
      if (mayRestart(p, 'init', c, st)) await startContainer(p, 'init', c, next);
    } else if (a.do === 'keep' && st) {
      const kill = p.probes.killReason(st.id);
      if (!kill) p.probes.ensure(st.id, c, p.podIPs[0] ?? '', 'init');
      else {
        p.event('Normal', 'Killing', `Container ${c.name} ${kill.reason}, will be restarted`, {
          kind: 'init',
          name: c.name,
        });
        p.probes.forget(st.id);
        await killContainer(p, c, st.id, probeTerminationGracePeriod(p.pod, kill.probe));
        p.kickSoon();
      }
    }
  }
  // A sidecar that was (re)started lets the next init container start: sync again soon.
  if (
    !plan.initialized &&
    plan.actions.some((a) => p.started.has(a.name) && isSidecar(byName.get(a.name) ?? {}))
  )
    p.kickSoon();
  if (plan.initialized) p.initDone = true;
  return plan.initialized;
}

/** App containers: started, restarted or killed for a restart, all at once. */
export async function syncAppContainers(p: PodState, instances: Map<string, Instance[]>): Promise<void> {
  const starts: Promise<void>[] = [];
  const killForRestart = (c: Container, id: string, why: string, graceSeconds: number): void => {
    p.event('Normal', 'Killing', `Container ${c.name} ${why}, will be restarted`, {
      kind: 'app',
      name: c.name,
    });
    p.probes.forget(id);
    starts.push(killContainer(p, c, id, graceSeconds).then(() => p.kickSoon()));
  };
  for (const c of p.spec.containers) {
    p.waiting.delete(c.name);
    const latest = p.current(instances, c.name);
    if (!latest) {
      starts.push(startContainer(p, 'app', c, p.nextAttempt.get(c.name) ?? 0));
      continue;
    }
    const st = latest.status;
    const next = (st.metadata?.attempt ?? 0) + 1;
    if (st.state === 'CONTAINER_RUNNING') {
      const kill = p.probes.killReason(st.id);
      const specImage = st.annotations[SPEC_IMAGE_ANNOTATION];
      if (kill) killForRestart(c, st.id, kill.reason, probeTerminationGracePeriod(p.pod, kill.probe));
      else if (specImage !== undefined && specImage !== c.image)
        killForRestart(c, st.id, 'definition changed', p.gracePeriod);
      else p.probes.ensure(st.id, c, p.podIPs[0] ?? '', 'app');
      continue;
    }
    p.probes.forget(st.id);
    if (st.state === 'CONTAINER_CREATED') {
      await removeUnstarted(p, st.id);
      starts.push(startContainer(p, 'app', c, next));
      continue;
    }
    if (!p.shouldRestart(st)) continue;
    if (mayRestart(p, 'app', c, st)) starts.push(startContainer(p, 'app', c, next));
  }
  await Promise.all(starts);
}
