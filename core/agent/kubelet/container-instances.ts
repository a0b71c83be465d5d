/**
 * Reading a pod's containers back from the runtime: every instance by container name, newest first
 * (the newest two with their full status: state and lastState; older exited ones are removed), and
 * after a sync acted, either a fresh read or — when it only started containers — the read instances
 * with the started ones on top, as StartContainer left them.
 */
import { isCriNotFound } from '../cri/client.ts';
import type { CriContainer } from '../cri/types.ts';
import { type Instance, podDesc, type PodState } from './pod-state.ts';
import { CONTAINER_NAME_LABEL, POD_UID_LABEL } from './sandbox-config.ts';

/** The pod's container instances by container name, newest first. */
export async function readInstances(p: PodState): Promise<Map<string, Instance[]>> {
  const cri = p.cri;
  const list = await cri.listContainers({ labelSelector: { [POD_UID_LABEL]: p.uid } });
  p.runtime.listedContainers(list);
  const byName = new Map<string, CriContainer[]>();
  for (const c of list) {
    const name = c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name ?? '';
    const l = byName.get(name) ?? [];
    l.push(c);
    byName.set(name, l);
  }
  const out = new Map<string, Instance[]>();
  for (const [name, l] of byName) {
    l.sort((a, b) => b.createdAt - a.createdAt);
    // Only the newest two matter (state and lastState); the rest are garbage.
    const read = await Promise.all(
      l.slice(0, 2).map(async (c): Promise<Instance | undefined> => {
        try {
          const st = (await cri.containerStatus(c.id)).status;
          return st ? { status: st, sandboxId: c.podSandboxId } : undefined;
        } catch (e) {
          if (!isCriNotFound(e)) throw e;
          return undefined;
        }
      }),
    );
    const statuses = read.filter((x): x is Instance => x !== undefined);
    for (const c of l.slice(2))
      if (c.state !== 'CONTAINER_RUNNING') {
        p.runtime.container(c.id, undefined);
        p.ignoreGone(cri.removeContainer(c.id)).catch((e: unknown) =>
          p.log(`pod ${podDesc(p.pod)}: removing container ${c.id}: ${(e as Error).message}`),
        );
      }
    out.set(name, statuses);
  }
  return out;
}

/**
 * The instances to publish after the sync acted: read again when it changed containers in ways it
 * did not record (kills, failed starts), else the read ones with the containers it started on top.
 */
export async function afterActions(
  p: PodState,
  instances: Map<string, Instance[]>,
): Promise<Map<string, Instance[]>> {
  if (p.acted) {
    p.acted = false;
    p.started.clear();
    return readInstances(p);
  }
  if (!p.started.size) return instances;
  const out = new Map(instances);
  for (const [name, inst] of p.started) out.set(name, [inst, ...(out.get(name) ?? [])]);
  p.started.clear();
  return out;
}
