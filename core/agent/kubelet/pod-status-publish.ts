/**
 * The pod's status from what the worker knows: each container's state and lastState from its newest
 * two instances (termination messages from the message file or, with FallbackToLogsOnError, the log's
 * tail; an exited container that will be restarted shows as waiting), waiting reasons the sync
 * recorded, probe results; then written through the status manager when it changed.
 */
import { readFileSync } from 'node:fs';
import type { Container, ContainerState } from 'kubernetes-types/core/v1';
import type { CriContainerStatus } from '../cri/types.ts';
import { qosClass } from '../pod/resources.ts';
import { sysctlAdmission } from '../pod/security.ts';
import {
  tailCriLog,
  TERMINATION_FILE_ANNOTATION,
  TERMINATION_POLICY_ANNOTATION,
} from './container-config.ts';
import type { Instance, Kind, PodState } from './pod-state.ts';
import { isSidecar } from './sidecars.ts';
import {
  computePodStatus,
  containerIDOf,
  type ContainerView,
  criContainerState,
  type Phase,
  podPhase,
} from './status.ts';

const TERMINATION_MESSAGE_MAX = 4096;

function terminationMessage(c: Container, st: CriContainerStatus): string | undefined {
  if (st.state !== 'CONTAINER_EXITED') return undefined;
  let msg = '';
  const file = st.annotations[TERMINATION_FILE_ANNOTATION];
  if (file) {
    try {
      msg = readFileSync(file).subarray(0, TERMINATION_MESSAGE_MAX).toString();
    } catch {
      /* gone with the pod dir */
    }
  }
  const policy = st.annotations[TERMINATION_POLICY_ANNOTATION] ?? c.terminationMessagePolicy;
  if (!msg && policy === 'FallbackToLogsOnError' && st.exitCode !== 0 && st.logPath) {
    try {
      msg = tailCriLog(readFileSync(st.logPath, 'utf8'));
    } catch {
      /* no log */
    }
  }
  return msg || undefined;
}

function containerView(
  p: PodState,
  kind: Kind,
  c: Container,
  instances: Map<string, Instance[]>,
): ContainerView {
  const l = instances.get(c.name) ?? [];
  const latest = l[0]?.status;
  const previous = l[1]?.status;
  const waitingOverride = p.waiting.get(c.name);
  let state: ContainerState;
  let lastState: ContainerState = {};
  if (latest && (latest.state === 'CONTAINER_RUNNING' || !waitingOverride)) {
    state = criContainerState(latest, terminationMessage(c, latest));
    if (previous) lastState = criContainerState(previous, terminationMessage(c, previous));
    // An exited container that will be restarted shows as waiting until it is.
    if (latest.state === 'CONTAINER_EXITED' && !p.terminalPhase && p.willRestart(kind, latest)) {
      lastState = state;
      state = { waiting: { reason: 'ContainerCreating' } };
    }
  } else if (waitingOverride) {
    state = { waiting: waitingOverride };
    if (latest) lastState = criContainerState(latest, terminationMessage(c, latest));
  } else {
    state = {
      waiting: { reason: kind === 'app' && !p.initDone ? 'PodInitializing' : 'ContainerCreating' },
    };
  }
  const running = latest?.state === 'CONTAINER_RUNNING';
  const probe = latest && running ? p.probes.state(latest.id, c) : { ready: false, started: false };
  return {
    name: c.name,
    image: c.image ?? '',
    imageID: latest?.imageRef ?? '',
    ...(latest ? { containerID: containerIDOf(latest.id) } : {}),
    state,
    lastState,
    ready: (kind === 'app' || (kind === 'init' && isSidecar(c))) && running && probe.ready,
    started: running && probe.started,
    restartCount: latest?.metadata?.attempt ?? 0,
  };
}

/** Computes and writes the status; returns the phase. */
export async function publishStatus(p: PodState, instancesIn: Map<string, Instance[]> | []): Promise<Phase> {
  const instances = Array.isArray(instancesIn) ? new Map<string, Instance[]>() : instancesIn;
  // A pod refused by admission reports no container statuses (the kubelet's rejectPod).
  const rejected = sysctlAdmission(p.pod) !== undefined;
  const view = {
    sandboxReady: !!p.sandboxId && !p.terminalCleaned,
    podIPs: p.podIPs,
    hostIP: p.s.ctx.hostIP,
    init: rejected ? [] : (p.spec.initContainers ?? []).map((c) => containerView(p, 'init', c, instances)),
    containers: rejected ? [] : p.spec.containers.map((c) => containerView(p, 'app', c, instances)),
    ephemeral: (p.spec.ephemeralContainers ?? []).map((c) =>
      containerView(p, 'ephemeral', c as Container, instances),
    ),
    qosClass: qosClass(p.pod),
    startTime: p.startTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(p.failure ? { failure: p.failure } : {}),
    ...(p.terminalPhase ? { terminalPhase: p.terminalPhase } : {}),
  };
  const status = computePodStatus(p.pod, view);
  await p.s.status.write(p.pod, status);
  return (status.phase as Phase | undefined) ?? podPhase(p.pod, view);
}
