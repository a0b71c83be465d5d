/**
 * Ephemeral containers (`kubectl debug`): each one in spec.ephemeralContainers is started once in the
 * pod's sandbox, whether or not the pod is initialized, and never restarted. With
 * targetContainerName it joins that container's PID namespace, so it waits until the target runs.
 */
import type { Container, EphemeralContainer } from 'kubernetes-types/core/v1';
import { startContainer } from './container-start.ts';
import type { Instance, PodState } from './pod-state.ts';

/** What to do with one ephemeral container: nothing (it ran or runs), wait for its target, or start. */
export type EphemeralStep =
  { do: 'none' } | { do: 'wait'; reason: string } | { do: 'start'; targetId?: string };

/**
 * The step for one ephemeral container: `ran` when any instance of it exists (it is never started
 * again), `targetRunningId` the id of its target's running instance in the current sandbox.
 */
export function ephemeralStep(
  c: Pick<EphemeralContainer, 'targetContainerName'>,
  ran: boolean,
  targetRunningId: string | undefined,
): EphemeralStep {
  if (ran) return { do: 'none' };
  if (!c.targetContainerName) return { do: 'start' };
  if (!targetRunningId)
    return { do: 'wait', reason: `target container ${c.targetContainerName} is not running` };
  return { do: 'start', targetId: targetRunningId };
}

/** Starts the ephemeral containers that never ran (all at once). */
export async function syncEphemeralContainers(
  p: PodState,
  instances: Map<string, Instance[]>,
): Promise<void> {
  const starts: Promise<void>[] = [];
  for (const c of p.spec.ephemeralContainers ?? []) {
    const target = c.targetContainerName
      ? (p.started.get(c.targetContainerName) ?? p.current(instances, c.targetContainerName))
      : undefined;
    const targetId = target?.status.state === 'CONTAINER_RUNNING' ? target.status.id : undefined;
    const ran = (instances.get(c.name) ?? []).length > 0 || p.started.has(c.name);
    const step = ephemeralStep(c, ran, targetId);
    if (step.do === 'none') continue;
    if (step.do === 'wait') {
      p.waiting.set(c.name, { reason: 'ContainerCreating', message: step.reason });
      continue;
    }
    p.waiting.delete(c.name);
    // The API admits only the fields an ephemeral container may have (no ports, probes, resources).
    starts.push(startContainer(p, 'ephemeral', c as Container, 0, step.targetId));
  }
  await Promise.all(starts);
}
