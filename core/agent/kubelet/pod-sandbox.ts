/**
 * Pod start: the pod's volumes (set up once, refreshed every 10 s) and its sandbox — adopted when a
 * ready one exists (after an agent restart), else made, replacing dead ones (restart counts go on in
 * the new sandbox); then the pod IPs and the pod's /etc/hosts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { refreshVolumes, setupVolumes } from '../pod/volumes.ts';
import { podDesc, type PodState } from './pod-state.ts';
import {
  CONTAINER_NAME_LABEL,
  hostNetworkHostsFile,
  managedHostsFile,
  POD_UID_LABEL,
  sandboxConfig,
} from './sandbox-config.ts';

const VOLUME_REFRESH_MS = 10_000;

/** The pod's volumes, set up (or refreshed when due); false when they could not be (FailedMount). */
export async function ensureVolumes(p: PodState): Promise<boolean> {
  if (p.volumes) {
    if (Date.now() - p.volumesRefreshed > VOLUME_REFRESH_MS) {
      p.volumesRefreshed = Date.now();
      try {
        await refreshVolumes(p.pod, p.s.volumeHost, p.volumes);
      } catch (e) {
        p.log(`pod ${podDesc(p.pod)}: refreshing volumes: ${(e as Error).message}`);
      }
    }
    return true;
  }
  try {
    p.volumes = await setupVolumes(p.pod, p.s.volumeHost);
    p.volumesRefreshed = Date.now();
    return true;
  } catch (e) {
    p.event('Warning', 'FailedMount', (e as Error).message);
    return false;
  }
}

/** A ready sandbox (adopted or made); false when none could be made. */
export async function ensureSandbox(p: PodState): Promise<boolean> {
  const cri = p.cri;
  const all = await cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: p.uid } });
  all.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || b.createdAt - a.createdAt);
  p.runtime.listedSandboxes(all);
  // No sandbox ever: no containers either (they live and go with their sandbox).
  if (all.length === 0) p.runtime.listedContainers([]);
  const ready = all.find((x) => x.state === 'SANDBOX_READY');
  if (ready && p.sandboxId === ready.id && p.sandbox) return true;
  const attempt = (all[0]?.metadata?.attempt ?? -1) + 1;
  if (ready) {
    // Adopt (after an agent restart).
    p.sandboxId = ready.id;
    p.sandbox = sandboxConfig(p.pod, ready.metadata?.attempt ?? 0, p.s.dns);
    await readSandboxNetwork(p);
    const apps = await cri.listContainers({
      podSandboxId: ready.id,
      labelSelector: { [POD_UID_LABEL]: p.uid },
    });
    const appNames = new Set(p.spec.containers.map((c) => c.name));
    p.initDone = apps.some((c) => appNames.has(c.labels[CONTAINER_NAME_LABEL] ?? ''));
    return true;
  }
  if (all.length > 0) {
    p.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    // Restart counts go on in the new sandbox.
    for (const c of await cri.listContainers({ labelSelector: { [POD_UID_LABEL]: p.uid } })) {
      const name = c.labels[CONTAINER_NAME_LABEL] ?? '';
      const next = (c.metadata?.attempt ?? 0) + 1;
      if (next > (p.nextAttempt.get(name) ?? 0)) p.nextAttempt.set(name, next);
    }
    await removeSandboxes(
      p,
      all.map((x) => x.id),
      0,
    );
  }
  const config = sandboxConfig(p.pod, attempt, p.s.dns);
  try {
    p.sandboxId = await p.s.startGate.run(p.priority, () => cri.runPodSandbox(config));
    p.runtime.sandbox(p.sandboxId, 'SANDBOX_READY');
  } catch (e) {
    p.runtime.invalidate();
    p.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
    return false;
  }
  p.sandbox = config;
  p.initDone = false;
  await readSandboxNetwork(p);
  return true;
}

/** The pod IPs of the current sandbox, and the pod's /etc/hosts with them. */
async function readSandboxNetwork(p: PodState): Promise<void> {
  if (!p.sandboxId) return;
  if (p.spec.hostNetwork) p.podIPs = [p.s.ctx.hostIP];
  else {
    const st = await p.cri.podSandboxStatus(p.sandboxId);
    const net = st.status?.network;
    p.podIPs = net?.ip ? [net.ip, ...(net.additionalIps ?? []).map((x) => x.ip).filter(Boolean)] : [];
  }
  mkdirSync(p.podDir(), { recursive: true });
  const hosts = p.spec.hostNetwork
    ? hostNetworkHostsFile(p.s.nodeHosts, p.pod)
    : managedHostsFile(p.pod, p.podIPs, p.s.ctx.clusterDomain);
  writeFileSync(p.hostsFile(), hosts, { mode: 0o644 });
}

/** Stops and removes the sandboxes and every container in them. */
export async function removeSandboxes(p: PodState, ids: string[], graceSeconds: number): Promise<void> {
  const cri = p.cri;
  for (const id of ids) {
    const cs = await cri.listContainers({ podSandboxId: id });
    await Promise.all(
      cs
        .filter((c) => c.state === 'CONTAINER_RUNNING')
        .map((c) => p.ignoreGone(cri.stopContainer(c.id, graceSeconds))),
    );
    for (const c of cs) {
      await p.ignoreGone(cri.removeContainer(c.id));
      p.runtime.container(c.id, undefined);
    }
    await p.ignoreGone(cri.stopPodSandbox(id));
    await p.ignoreGone(cri.removePodSandbox(id));
    p.runtime.sandbox(id, undefined);
  }
}
