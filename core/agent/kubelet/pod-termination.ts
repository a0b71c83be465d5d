/**
 * The end of a pod: a terminal pod (Succeeded/Failed) has everything stopped and its sandbox stopped
 * while its status keeps the phase; a graceful deletion stops the containers with the grace period
 * (preStop first), writes the final status, removes sandboxes and volumes and deletes the pod; a pod
 * removed from the API without us (force deletion) is killed promptly and cleaned up.
 */
import { StatusError } from '../../api/status.ts';
import { teardownVolumes } from '../pod/volumes.ts';
import { podNamespace } from '../pod/types.ts';
import { readInstances } from './container-instances.ts';
import { killAll } from './container-stop.ts';
import { PODS } from './context.ts';
import { removeSandboxes } from './pod-sandbox.ts';
import { type Instance, podDesc, type PodState } from './pod-state.ts';
import { publishStatus } from './pod-status-publish.ts';
import { POD_UID_LABEL } from './sandbox-config.ts';

/** Longest grace period for pods removed from the API without us (force deletion): kill promptly. */
const REMOVAL_GRACE_SECONDS = 2;

/** A terminal pod: nothing runs any more, the sandbox is stopped, the status keeps its phase. */
export async function syncTerminal(p: PodState): Promise<void> {
  if (p.terminalCleaned) return;
  p.probes.stopAll();
  await killAll(p, p.gracePeriod);
  const instances = await readInstances(p);
  await publishStatus(p, instances);
  const cri = p.cri;
  for (const sb of await cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: p.uid } })) {
    await p.ignoreGone(cri.stopPodSandbox(sb.id));
    p.runtime.sandbox(sb.id, 'SANDBOX_NOTREADY');
  }
  p.sandboxId = undefined;
  p.terminalCleaned = true;
}

/** Graceful deletion: preStop + stop with the grace period, remove everything, then delete the pod. */
export async function terminate(p: PodState): Promise<void> {
  const grace = p.pod.metadata.deletionGracePeriodSeconds ?? p.gracePeriod;
  await killAll(p, grace);
  const instances = await readInstances(p);
  if (!p.terminalPhase) {
    const all = [...instances.values()].map((l) => l[0]).filter((i): i is Instance => !!i);
    const ok = all.length > 0 && all.every((i) => i.status.exitCode === 0);
    p.terminalPhase = ok ? 'Succeeded' : 'Failed';
  }
  await publishStatus(p, instances);
  await cleanup(p);
  try {
    await p.s.ctx.client.delete(PODS, podNamespace(p.pod), p.pod.metadata.name ?? '', {
      gracePeriodSeconds: 0,
      preconditions: { uid: p.uid },
    });
  } catch (e) {
    if (!(e instanceof StatusError && (e.code === 404 || e.code === 409))) throw e;
  }
  p.hooks.finish();
}

/** The pod left the API without us (force deletion): kill everything now. */
export async function killForRemoval(p: PodState): Promise<void> {
  const grace = Math.min(REMOVAL_GRACE_SECONDS, p.pod.metadata.deletionGracePeriodSeconds ?? p.gracePeriod);
  await killAll(p, Math.max(grace, 0));
  await cleanup(p);
  p.hooks.finish();
}

/** Removes the pod's sandboxes (with their containers) and tears its volumes down. */
async function cleanup(p: PodState): Promise<void> {
  p.probes.stopAll();
  const sandboxes = await p.cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: p.uid } });
  await removeSandboxes(
    p,
    sandboxes.map((x) => x.id),
    0,
  );
  try {
    await teardownVolumes(p.uid, p.s.volumeHost);
  } catch (e) {
    p.log(`pod ${podDesc(p.pod)}: tearing down volumes: ${(e as Error).message}`);
  }
}
