/**
 * Container stop: the preStop hook within the grace period, then StopContainer (SIGTERM, SIGKILL
 * after what is left of the grace period); and stopping every container of a pod with "Killing"
 * events. A stop changes containers in ways the sync does not record, so it reads them again.
 */
import type { Container } from 'kubernetes-types/core/v1';
import { runHook } from './hooks.ts';
import type { PodState } from './pod-state.ts';
import { CONTAINER_NAME_LABEL, POD_UID_LABEL } from './sandbox-config.ts';
import { stopOrder } from './sidecars.ts';

/** preStop hook (within the grace period), then StopContainer with what is left of it. */
export async function killContainer(
  p: PodState,
  c: Container | undefined,
  id: string,
  graceSeconds: number,
): Promise<void> {
  p.acted = true;
  const cri = p.cri;
  const t0 = Date.now();
  const preStop = c?.lifecycle?.preStop;
  if (c && preStop && graceSeconds > 0) {
    const err = await Promise.race([
      runHook(cri, preStop, id, c, p.podIPs[0] ?? '', graceSeconds),
      new Promise<string>((r) =>
        setTimeout(() => r(`PreStopHook timed out after ${graceSeconds}s`), graceSeconds * 1000).unref?.(),
      ),
    ]);
    if (err) p.event('Warning', 'FailedPreStopHook', err, { kind: 'app', name: c.name });
  }
  const left = Math.max(0, graceSeconds - Math.floor((Date.now() - t0) / 1000));
  await p.ignoreGone(cri.stopContainer(id, left));
}

/**
 * Stops every running container of the pod within `graceSeconds` (events "Stopping container"):
 * regular containers first, then sidecars one by one, last declared first, with what is left.
 */
export async function killAll(p: PodState, graceSeconds: number): Promise<void> {
  p.probes.stopAll();
  const list = await p.cri.listContainers({ labelSelector: { [POD_UID_LABEL]: p.uid } });
  const byName = p.containerSpecs();
  const live = list.filter((x) => x.state === 'CONTAINER_RUNNING' || x.state === 'CONTAINER_CREATED');
  const nameOf = (x: (typeof live)[number]): string => x.labels[CONTAINER_NAME_LABEL] ?? '';
  const deadline = Date.now() + graceSeconds * 1000;
  for (const group of stopOrder([...new Set(live.map(nameOf))], p.spec)) {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    await Promise.all(
      live
        .filter((x) => group.includes(nameOf(x)))
        .map((x) => {
          const name = nameOf(x);
          const spec = byName.get(name);
          if (spec) p.event('Normal', 'Killing', `Stopping container ${name}`, { kind: spec.kind, name });
          return killContainer(p, spec?.c, x.id, left);
        }),
    );
  }
}
