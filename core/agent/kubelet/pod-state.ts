/**
 * What one pod worker keeps about its pod between syncs (sandbox, pod IPs, volumes, waiting reasons,
 * probes, the terminal phase…) and the small helpers every part of a sync uses. The parts live beside
 * it: pod-sandbox.ts (volumes and the sandbox), container-instances.ts (reading the containers back),
 * container-start.ts, container-stop.ts, container-sync.ts (init order, restarts, back-off),
 * pod-termination.ts and pod-status-publish.ts; pod-worker.ts runs the syncs.
 */
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { isCriNotFound } from '../cri/client.ts';
import type { CriClient } from '../cri/client.ts';
import type { CriContainerStatus, CriPodSandboxConfig } from '../cri/types.ts';
import { podNamespace, podSpec } from '../pod/types.ts';
import { podDir, type PreparedVolume } from '../pod/volumes.ts';
import { ContainerProbes } from './container-probes.ts';
import type { KubeletServices } from './context.ts';
import { RuntimeView } from './runtime-view.ts';
import { sidecarNames } from './sidecars.ts';
import type { Phase } from './status.ts';

/** One container instance as the runtime reports it, and the sandbox it belongs to. */
export interface Instance {
  status: CriContainerStatus;
  sandboxId: string;
}

export type Kind = 'init' | 'app' | 'ephemeral';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

const FIELD: Record<Kind, string> = {
  init: 'initContainers',
  app: 'containers',
  ephemeral: 'ephemeralContainers',
};
const fieldPath = (kind: Kind, name: string): string => `spec.${FIELD[kind]}{${name}}`;

/** format.Pod: name_namespace(uid). */
export const podDesc = (pod: KObject): string =>
  `${pod.metadata.name ?? ''}_${podNamespace(pod)}(${pod.metadata.uid ?? ''})`;

/** What the state asks of the worker that owns it. */
export interface WorkerHooks {
  /** Asks for a sync (coalesced while one runs). */
  kick(): Promise<void>;
  /** Asks for a sync at `ms` (epoch ms) unless one is due earlier. */
  wakeAt(ms: number): void;
  /** The pod is gone and everything of it removed: the worker is done. */
  finish(): void;
}

/** The order pods were first seen in: older pods go first through the start gate. */
let nextPriority = 0;

export class PodState {
  sandboxId?: string;
  sandbox?: CriPodSandboxConfig;
  podIPs: string[] = [];
  volumes?: Map<string, PreparedVolume>;
  volumesRefreshed = 0;
  initDone = false;
  /** Why a container waits (a failed start, CrashLoopBackOff), by container name. */
  readonly waiting = new Map<string, { reason: string; message?: string }>();
  readonly probes: ContainerProbes;
  failure?: { reason: string; message: string };
  terminalPhase?: Phase;
  terminalCleaned = false;
  startTime?: string;
  /** The first attempt number per container in a re-created sandbox. */
  readonly nextAttempt = new Map<string, number>();
  /** A sync changed containers in ways it did not record: what it read before is stale. */
  acted = false;
  /** Containers this sync started, by name, as StartContainer left them (no re-read needed). */
  readonly started = new Map<string, Instance>();
  /** What this worker knows of the pod in the runtime (the relist skips pods with no news). */
  readonly runtime = new RuntimeView();
  readonly priority = nextPriority++;

  constructor(
    public pod: KObject,
    readonly s: KubeletServices,
    readonly hooks: WorkerHooks,
  ) {
    this.probes = new ContainerProbes(
      s.ctx.cri,
      () => hooks.kick(),
      (type, reason, message, c) => this.event(type, reason, message, c),
    );
    const phase = (pod['status'] as Pod['status'])?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') this.terminalPhase = phase;
  }

  get uid(): string {
    return this.pod.metadata.uid ?? '';
  }

  get spec(): NonNullable<Pod['spec']> {
    return podSpec(this.pod);
  }

  get cri(): CriClient {
    return this.s.ctx.cri;
  }

  log(m: string): void {
    this.s.ctx.log(m);
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string, c?: { kind: Kind; name: string }): void {
    this.s.events.event(this.pod, type, reason, message, c ? fieldPath(c.kind, c.name) : undefined);
  }

  podDir(): string {
    return podDir(this.s.ctx.rootDir, this.uid);
  }

  hostsFile(): string {
    return join(this.podDir(), 'etc-hosts');
  }

  /** The pod's grace period for stopping containers outside a deletion. */
  get gracePeriod(): number {
    return this.spec.terminationGracePeriodSeconds ?? 30;
  }

  restartPolicy(): RestartPolicy {
    return (this.spec.restartPolicy as RestartPolicy | undefined) ?? 'Always';
  }

  /** Whether an exited app container is to be started again (restartPolicy). */
  shouldRestart(last: CriContainerStatus): boolean {
    const p = this.restartPolicy();
    return p === 'Always' || (p === 'OnFailure' && last.exitCode !== 0);
  }

  /**
   * Whether an exited container will be started again (init containers: until they succeed;
   * sidecars: always; ephemeral containers: never).
   */
  willRestart(kind: Kind, st: CriContainerStatus): boolean {
    if (kind === 'ephemeral') return false;
    if (kind === 'init' && sidecarNames(this.spec).includes(st.metadata?.name ?? '')) return true;
    if (kind === 'init') return st.exitCode !== 0 && this.restartPolicy() !== 'Never';
    return this.shouldRestart(st);
  }

  backoffKey(name: string): string {
    return `${this.uid}/${name}`;
  }

  /** The newest instance in the current sandbox. */
  current(instances: Map<string, Instance[]>, name: string): Instance | undefined {
    const l = instances.get(name) ?? [];
    return l.find((i) => i.sandboxId === this.sandboxId);
  }

  /** The container's spec by name, and whether it is an init container. */
  containerSpecs(): Map<string, { c: Container; kind: Kind }> {
    return new Map([
      ...(this.spec.initContainers ?? []).map((c) => [c.name, { c, kind: 'init' as Kind }] as const),
      ...this.spec.containers.map((c) => [c.name, { c, kind: 'app' as Kind }] as const),
      ...(this.spec.ephemeralContainers ?? []).map(
        (c) => [c.name, { c: c as Container, kind: 'ephemeral' as Kind }] as const,
      ),
    ]);
  }

  kickSoon(): void {
    setTimeout(() => void this.hooks.kick(), 50).unref?.();
  }

  /** Awaits a runtime call whose object may already be gone. */
  async ignoreGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!isCriNotFound(e)) throw e;
    }
  }
}
