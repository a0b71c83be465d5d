/**
 * One pod's worker (the kubelet's podWorkers + SyncPod): every sync is serialized; a sync that is
 * asked for while one runs is coalesced into one more. A sync compares the pod spec with what CRI
 * reports and acts: sandbox, init containers in order, app containers with restartPolicy and
 * CrashLoopBackOff, liveness/startup kills, activeDeadlineSeconds, graceful termination with preStop
 * hooks, then writes the pod status when it changed. The parts of a sync are in pod-sandbox.ts,
 * container-sync.ts, container-start.ts, container-stop.ts, pod-termination.ts and
 * pod-status-publish.ts, over the state in pod-state.ts.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { sysctlAdmission } from '../pod/security.ts';
import { podSpec } from '../pod/types.ts';
import { afterActions, readInstances } from './container-instances.ts';
import { killAll } from './container-stop.ts';
import { syncEphemeralContainers } from './ephemeral-containers.ts';
import { syncAppContainers, syncInitContainers } from './container-sync.ts';
import type { KubeletServices } from './context.ts';
import { ensureSandbox, ensureVolumes } from './pod-sandbox.ts';
import { podDesc, PodState } from './pod-state.ts';
import { publishStatus } from './pod-status-publish.ts';
import { killForRemoval, syncTerminal, terminate } from './pod-termination.ts';

/** After a sync that ended in one of these the pod is synced again a little later (the worker's back-off). */
const ERROR_REASONS = new Set([
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);
const ERROR_RETRY_MS = 3_000;
/** Every pod is synced at least this often (configMap/secret volume refresh, status). */
const RESYNC_MS = 10_000;

/** What a sync depends on: everything but the status and bookkeeping metadata. */
function syncRelevant(pod: KObject): string {
  const m = pod.metadata;
  const gates = new Set((podSpec(pod).readinessGates ?? []).map((g) => g.conditionType));
  return JSON.stringify([
    pod['spec'],
    m.deletionTimestamp,
    m.deletionGracePeriodSeconds,
    m.labels,
    m.annotations,
    // Readiness gate conditions feed the Ready condition (none yet and none of them: the same).
    ((pod['status'] as Pod['status'])?.conditions ?? [])
      .filter((c) => gates.has(c.type))
      .map((c) => `${c.type}=${c.status}`),
  ]);
}

export class PodWorker {
  private busy = false;
  private again = false;
  private idle: Promise<void> = Promise.resolve();
  private settle: () => void = () => {};
  /** Removed from the API without graceful termination (or after it). */
  private removed = false;
  /** The worker's job is over: the manager forgets it. */
  finished = false;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAtMs = Infinity;
  private readonly p: PodState;

  constructor(
    pod: KObject,
    private readonly s: KubeletServices,
    private readonly onFinished: (uid: string) => void,
  ) {
    this.p = new PodState(pod, s, {
      kick: () => this.kick(),
      wakeAt: (ms) => this.wakeAt(ms),
      finish: () => this.finish(),
    });
  }

  get uid(): string {
    return this.p.uid;
  }

  /** The pod's runtime state as the relist would see it, if this worker knows it exactly. */
  runtimeFingerprint(): string | undefined {
    return this.p.runtime.fingerprint();
  }

  /** A newer version of the pod from the API. */
  update(pod: KObject): void {
    const before = this.p.pod;
    this.p.pod = pod;
    // Our own status writes come back as updates: they need no sync.
    if (before !== pod && syncRelevant(before) === syncRelevant(pod)) return;
    void this.kick();
  }

  /** Asks for a sync at `ms` (epoch ms) unless one is due earlier: back-off expiry, deadlines, resync. */
  private wakeAt(ms: number): void {
    if (this.finished || ms >= this.wakeAtMs) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAtMs = ms;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAtMs = Infinity;
        this.wakeTimer = undefined;
        void this.kick();
      },
      Math.max(0, ms - Date.now()),
    );
    this.wakeTimer.unref?.();
  }

  private clearWake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAtMs = Infinity;
  }

  /** The pod is gone from the API. */
  remove(): void {
    this.removed = true;
    this.kick();
  }

  /** Asks for a sync; coalesced while one runs. Resolves when no sync is pending. */
  kick(): Promise<void> {
    if (this.finished) return Promise.resolve();
    if (this.busy) {
      this.again = true;
      return this.idle;
    }
    this.busy = true;
    this.idle = new Promise((r) => (this.settle = r));
    void this.loop();
    return this.idle;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.sync();
      } catch (e) {
        this.s.ctx.log(`pod ${podDesc(this.p.pod)}: sync failed: ${(e as Error).stack ?? String(e)}`);
      }
    } while (this.again && !this.finished);
    this.busy = false;
    this.settle();
  }

  /** Stops the worker's timers and probes without touching containers (agent shutdown). */
  stop(): void {
    this.finished = true;
    this.clearWake();
    this.p.probes.stopAll();
  }

  private finish(): void {
    this.finished = true;
    this.s.backoff.forgetPrefix(`${this.uid}/`);
    this.s.images.forgetPod(this.uid);
    this.s.status.forget(this.uid);
    this.onFinished(this.uid);
  }

  private async sync(): Promise<void> {
    const p = this.p;
    this.clearWake();
    if (this.removed) return killForRemoval(p);
    if (p.pod.metadata.deletionTimestamp) return terminate(p);
    if (p.terminalPhase) return syncTerminal(p);
    const rejected = sysctlAdmission(p.pod);
    if (rejected) {
      // The kubelet's admission (rejectPod): the pod fails before anything of it runs.
      p.failure = { reason: rejected.reason, message: `Pod was rejected: ${rejected.message}` };
      p.event('Warning', rejected.reason, rejected.message);
      p.terminalPhase = 'Failed';
      return syncTerminal(p);
    }
    p.startTime ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (this.deadlineExceeded()) {
      p.failure = {
        reason: 'DeadlineExceeded',
        message: 'Pod was active on the node longer than the specified deadline',
      };
      p.event('Warning', 'DeadlineExceeded', p.failure.message);
      await killAll(p, p.gracePeriod);
      p.terminalPhase = 'Failed';
      return syncTerminal(p);
    }
    // The sandbox needs none of the volumes: both are made at once (the containers wait for both).
    const [volumesReady, sandboxReady] = await Promise.all([ensureVolumes(p), ensureSandbox(p)]);
    if (!volumesReady || !sandboxReady) {
      await publishStatus(p, []);
      this.wakeAt(Date.now() + ERROR_RETRY_MS);
      return;
    }
    p.acted = false;
    p.started.clear();
    let instances = await readInstances(p);
    if (await syncInitContainers(p, instances)) {
      instances = await afterActions(p, instances);
      await syncAppContainers(p, instances);
    }
    await syncEphemeralContainers(p, instances);
    instances = await afterActions(p, instances);
    const phase = await publishStatus(p, instances);
    if (phase === 'Succeeded' || phase === 'Failed') {
      p.terminalPhase = phase;
      await syncTerminal(p);
      return;
    }
    if ([...p.waiting.values()].some((w) => ERROR_REASONS.has(w.reason)))
      this.wakeAt(Date.now() + ERROR_RETRY_MS);
    const deadline = this.deadlineAt();
    if (deadline !== undefined) this.wakeAt(deadline);
    this.wakeAt(Date.now() + RESYNC_MS);
  }

  /** When activeDeadlineSeconds runs out (epoch ms), if set. */
  private deadlineAt(): number | undefined {
    const d = this.p.spec.activeDeadlineSeconds;
    if (d === undefined) return undefined;
    const start = Date.parse(
      ((this.p.pod['status'] as Pod['status'])?.startTime ?? this.p.startTime) as string,
    );
    return Number.isFinite(start) ? start + d * 1000 : undefined;
  }

  private deadlineExceeded(): boolean {
    const at = this.deadlineAt();
    return at !== undefined && Date.now() >= at;
  }
}
