/**
 * Container start: the image (pull policy, back-off), env (with service links) and runAsNonRoot checks,
 * the termination-message file, CreateContainer and StartContainer, then the postStart hook. A start
 * that succeeds is recorded as Running from StartContainer's result, so the pod's status is written
 * without reading the container back; a failure becomes the container's waiting reason.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container } from 'kubernetes-types/core/v1';
import type { CriContainerConfig, CriImage } from '../cri/types.ts';
import { ContainerConfigError, enableServiceLinks, resolveEnv, serviceEnv } from '../pod/env.ts';
import { verifyRunAsNonRoot } from '../pod/security.ts';
import { podNamespace } from '../pod/types.ts';
import { containerConfig } from './container-config.ts';
import { killContainer } from './container-stop.ts';
import { runHook } from './hooks.ts';
import type { Kind, PodState } from './pod-state.ts';
import { isSidecar } from './sidecars.ts';

/** Nanoseconds since the epoch, as CRI timestamps are. */
const nowNs = (): number => Date.now() * 1e6;

/** The imageRef containerd reports for a container of `image`: its first repo digest, else its id. */
const runtimeImageRef = (image: CriImage | undefined, fallback: string): string =>
  image?.repoDigests[0] ?? image?.id ?? fallback;

async function podServiceEnv(p: PodState): Promise<Record<string, string>> {
  const ns = podNamespace(p.pod);
  const services = await p.s.services(ns);
  return serviceEnv(services, 'default', {
    podNamespace: ns,
    enableServiceLinks: enableServiceLinks(p.pod),
  });
}

/**
 * Pulls, creates and starts one container instance; failures become its waiting reason. `targetId`:
 * an ephemeral container's target (it joins that container's PID namespace).
 */
export async function startContainer(
  p: PodState,
  kind: Kind,
  c: Container,
  attempt: number,
  targetId?: string,
): Promise<void> {
  const ref = { kind, name: c.name };
  const cri = p.cri;
  const fail = (reason: string, e: unknown): void => {
    const message = e instanceof Error ? e.message : String(e);
    p.event('Warning', 'Failed', `Error: ${message}`, ref);
    p.waiting.set(c.name, { reason, message });
  };
  const sandboxId = p.sandboxId;
  const sandbox = p.sandbox;
  if (!sandboxId || !sandbox) return;
  const img = await p.s.images.ensure(p.pod, c, sandbox, (t, r, m) => p.event(t, r, m, ref));
  if (!img.ok) {
    p.waiting.set(c.name, { reason: img.reason, message: img.message });
    return;
  }
  let env: { key: string; value: string }[];
  try {
    env = await resolveEnv(p.pod, c, p.s.volumeHost, {
      nodeName: p.s.ctx.nodeName,
      hostIP: p.s.ctx.hostIP,
      hostIPs: [p.s.ctx.hostIP],
      podIP: p.podIPs[0] ?? '',
      podIPs: p.podIPs,
      serviceEnv: await podServiceEnv(p),
      onWarning: (reason, message) => p.event('Warning', reason, message, ref),
    });
    const nonRoot = verifyRunAsNonRoot(p.pod, c, img.image?.uid?.value, img.image?.username || undefined);
    if (nonRoot) throw new ContainerConfigError(nonRoot);
  } catch (e) {
    return fail('CreateContainerConfigError', e);
  }
  const termDir = join(p.podDir(), 'containers', c.name);
  mkdirSync(termDir, { recursive: true });
  const terminationFile = join(termDir, String(attempt));
  writeFileSync(terminationFile, '', { mode: 0o666 });
  let id: string;
  let config: CriContainerConfig;
  try {
    config = containerConfig({
      pod: p.pod,
      container: c,
      attempt,
      env,
      volumes: p.volumes ?? new Map(),
      hostsFile: p.hostsFile(),
      terminationFile,
      image: img.image,
      ...(targetId ? { targetId } : {}),
    });
    id = await cri.createContainer(sandboxId, config, sandbox);
  } catch (e) {
    // A create that timed out may have left a container behind: the next sync reads it.
    p.acted = true;
    return fail(e instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError', e);
  }
  const createdAt = nowNs();
  p.runtime.container(id, 'CONTAINER_CREATED');
  p.event('Normal', 'Created', `Created container ${c.name}`, ref);
  try {
    await cri.startContainer(id);
  } catch (e) {
    p.acted = true;
    return fail('RunContainerError', e);
  }
  // Running as StartContainer left it: the status is written from this, without reading it back.
  p.runtime.container(id, 'CONTAINER_RUNNING');
  p.started.set(c.name, {
    sandboxId,
    status: {
      id,
      metadata: config.metadata,
      state: 'CONTAINER_RUNNING',
      createdAt,
      startedAt: nowNs(),
      finishedAt: 0,
      exitCode: 0,
      image: config.image,
      imageRef: runtimeImageRef(img.image, img.imageRef),
      reason: '',
      message: '',
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
      mounts: config.mounts ?? [],
      logPath: join(sandbox.logDirectory ?? '', config.logPath ?? ''),
      imageId: img.image?.id ?? img.imageRef,
    },
  });
  // Probes start with the container (no later sync is needed to start them): app containers and
  // sidecars (restartable init containers).
  if (kind === 'app') p.probes.ensure(id, c, p.podIPs[0] ?? '', 'app');
  else if (kind === 'init' && isSidecar(c)) p.probes.ensure(id, c, p.podIPs[0] ?? '', 'init');
  p.event('Normal', 'Started', `Started container ${c.name}`, ref);
  const postStart = c.lifecycle?.postStart;
  if (postStart) {
    const err = await runHook(cri, postStart, id, c, p.podIPs[0] ?? '', p.gracePeriod);
    if (err) {
      p.event('Warning', 'FailedPostStartHook', err, ref);
      p.probes.forget(id);
      await killContainer(p, c, id, p.gracePeriod);
    }
  }
}
