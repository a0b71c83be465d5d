/**
 * One pod's worker (the kubelet's podWorkers + SyncPod): every sync is serialized; a sync that is
 * asked for while one runs is coalesced into one more. A sync compares the pod spec with what CRI
 * reports and acts: sandbox, init containers in order, app containers with restartPolicy and
 * CrashLoopBackOff, liveness/startup kills, activeDeadlineSeconds, graceful termination with preStop
 * hooks, then writes the pod status when it changed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, ContainerState, Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import { isCriNotFound } from '../cri/client.ts';
import type { CriContainer, CriContainerStatus, CriPodSandboxConfig } from '../cri/types.ts';
import { ContainerConfigError, enableServiceLinks, resolveEnv, serviceEnv } from '../pod/env.ts';
import { probeTerminationGracePeriod } from '../pod/probes.ts';
import { qosClass } from '../pod/resources.ts';
import { sysctlAdmission, verifyRunAsNonRoot } from '../pod/security.ts';
import { podNamespace, podSpec } from '../pod/types.ts';
import {
  podDir,
  type PreparedVolume,
  refreshVolumes,
  setupVolumes,
  teardownVolumes,
} from '../pod/volumes.ts';
import { goDuration } from './backoff.ts';
import { ContainerProbes } from './container-probes.ts';
import {
  containerConfig,
  SPEC_IMAGE_ANNOTATION,
  tailCriLog,
  TERMINATION_FILE_ANNOTATION,
  TERMINATION_POLICY_ANNOTATION,
} from './container-config.ts';
import { type KubeletServices, PODS } from './context.ts';
import { runHook } from './hooks.ts';
import {
  CONTAINER_NAME_LABEL,
  hostNetworkHostsFile,
  managedHostsFile,
  POD_UID_LABEL,
  sandboxConfig,
} from './sandbox-config.ts';
import {
  computePodStatus,
  containerIDOf,
  type ContainerView,
  criContainerState,
  type Phase,
  podPhase,
} from './status.ts';

/** Longest grace period for pods removed from the API without us (force deletion): kill promptly. */
const REMOVAL_GRACE_SECONDS = 2;
const VOLUME_REFRESH_MS = 10_000;
const TERMINATION_MESSAGE_MAX = 4096;
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
    // Readiness gate conditions feed the Ready condition.
    (pod['status'] as Pod['status'])?.conditions
      ?.filter((c) => gates.has(c.type))
      .map((c) => `${c.type}=${c.status}`),
  ]);
}

interface Instance {
  status: CriContainerStatus;
  sandboxId: string;
}

type Kind = 'init' | 'app';

const fieldPath = (kind: Kind, name: string): string =>
  kind === 'init' ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;

/** format.Pod: name_namespace(uid). */
export const podDesc = (pod: KObject): string =>
  `${pod.metadata.name ?? ''}_${podNamespace(pod)}(${pod.metadata.uid ?? ''})`;

export class PodWorker {
  private busy = false;
  private again = false;
  private idle: Promise<void> = Promise.resolve();
  private settle: () => void = () => {};
  /** Removed from the API without graceful termination (or after it). */
  private removed = false;
  /** The worker's job is over: the manager forgets it. */
  finished = false;
  private sandboxId?: string;
  private sandbox?: CriPodSandboxConfig;
  private podIPs: string[] = [];
  private volumes?: Map<string, PreparedVolume>;
  private volumesRefreshed = 0;
  private initDone = false;
  private readonly waiting = new Map<string, { reason: string; message?: string }>();
  private readonly probes: ContainerProbes;
  private failure?: { reason: string; message: string };
  private terminalPhase?: Phase;
  private terminalCleaned = false;
  private startTime?: string;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAtMs = Infinity;
  /** The first attempt number per container in a re-created sandbox. */
  private readonly nextAttempt = new Map<string, number>();
  /** A sync changed containers: what it read before is stale. */
  private acted = false;

  constructor(
    private pod: KObject,
    private readonly s: KubeletServices,
    private readonly onFinished: (uid: string) => void,
  ) {
    this.probes = new ContainerProbes(
      s.ctx.cri,
      () => this.kick(),
      (type, reason, message, c) => this.event(type, reason, message, c),
    );
    const phase = (pod['status'] as Pod['status'])?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') this.terminalPhase = phase;
  }

  get uid(): string {
    return this.pod.metadata.uid ?? '';
  }

  private get spec(): NonNullable<Pod['spec']> {
    return podSpec(this.pod);
  }

  private get log(): (m: string) => void {
    return this.s.ctx.log;
  }

  /** A newer version of the pod from the API. */
  update(pod: KObject): void {
    const before = this.pod;
    this.pod = pod;
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
        this.log(`pod ${podDesc(this.pod)}: sync failed: ${(e as Error).stack ?? String(e)}`);
      }
    } while (this.again && !this.finished);
    this.busy = false;
    this.settle();
  }

  /** Stops the worker's timers and probes without touching containers (agent shutdown). */
  stop(): void {
    this.finished = true;
    this.clearWake();
    this.probes.stopAll();
  }

  private event(
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    c?: { kind: Kind; name: string },
  ): void {
    this.s.events.event(this.pod, type, reason, message, c ? fieldPath(c.kind, c.name) : undefined);
  }

  // ------------------------------------------------------------------------------------------------
  // The sync
  // ------------------------------------------------------------------------------------------------

  private async sync(): Promise<void> {
    this.clearWake();
    if (this.removed) return this.killForRemoval();
    if (this.pod.metadata.deletionTimestamp) return this.terminate();
    if (this.terminalPhase) return this.syncTerminal();
    const rejected = sysctlAdmission(this.pod);
    if (rejected) {
      // The kubelet's admission (rejectPod): the pod fails before anything of it runs.
      this.failure = { reason: rejected.reason, message: `Pod was rejected: ${rejected.message}` };
      this.event('Warning', rejected.reason, rejected.message);
      this.terminalPhase = 'Failed';
      return this.syncTerminal();
    }
    this.startTime ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (this.deadlineExceeded()) {
      this.failure = {
        reason: 'DeadlineExceeded',
        message: 'Pod was active on the node longer than the specified deadline',
      };
      this.event('Warning', 'DeadlineExceeded', this.failure.message);
      await this.killAll(this.spec.terminationGracePeriodSeconds ?? 30);
      this.terminalPhase = 'Failed';
      return this.syncTerminal();
    }
    if (!(await this.ensureVolumes()) || !(await this.ensureSandbox())) {
      await this.publish([]);
      this.wakeAt(Date.now() + ERROR_RETRY_MS);
      return;
    }
    this.acted = false;
    let instances = await this.instances();
    if (await this.syncInitContainers(instances)) {
      if (this.acted) instances = await this.instances();
      this.acted = false;
      await this.syncAppContainers(instances);
    }
    if (this.acted) instances = await this.instances();
    const phase = await this.publish(instances);
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.terminalPhase = phase;
      await this.syncTerminal();
      return;
    }
    if ([...this.waiting.values()].some((w) => ERROR_REASONS.has(w.reason)))
      this.wakeAt(Date.now() + ERROR_RETRY_MS);
    const deadline = this.deadlineAt();
    if (deadline !== undefined) this.wakeAt(deadline);
    this.wakeAt(Date.now() + RESYNC_MS);
  }

  /** When activeDeadlineSeconds runs out (epoch ms), if set. */
  private deadlineAt(): number | undefined {
    const d = this.spec.activeDeadlineSeconds;
    if (d === undefined) return undefined;
    const start = Date.parse(((this.pod['status'] as Pod['status'])?.startTime ?? this.startTime) as string);
    return Number.isFinite(start) ? start + d * 1000 : undefined;
  }

  private deadlineExceeded(): boolean {
    const at = this.deadlineAt();
    return at !== undefined && Date.now() >= at;
  }

  // ---- volumes ----

  private async ensureVolumes(): Promise<boolean> {
    if (this.volumes) {
      if (Date.now() - this.volumesRefreshed > VOLUME_REFRESH_MS) {
        this.volumesRefreshed = Date.now();
        try {
          await refreshVolumes(this.pod, this.s.volumeHost, this.volumes);
        } catch (e) {
          this.log(`pod ${podDesc(this.pod)}: refreshing volumes: ${(e as Error).message}`);
        }
      }
      return true;
    }
    try {
      this.volumes = await setupVolumes(this.pod, this.s.volumeHost);
      this.volumesRefreshed = Date.now();
      return true;
    } catch (e) {
      this.event('Warning', 'FailedMount', (e as Error).message);
      return false;
    }
  }

  // ---- sandbox ----

  private podDir(): string {
    return podDir(this.s.ctx.rootDir, this.uid);
  }

  private hostsFile(): string {
    return join(this.podDir(), 'etc-hosts');
  }

  /** A ready sandbox (adopted or made); false when none could be made. */
  private async ensureSandbox(): Promise<boolean> {
    const cri = this.s.ctx.cri;
    const all = await cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: this.uid } });
    all.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || b.createdAt - a.createdAt);
    const ready = all.find((x) => x.state === 'SANDBOX_READY');
    if (ready && this.sandboxId === ready.id && this.sandbox) return true;
    const attempt = (all[0]?.metadata?.attempt ?? -1) + 1;
    if (ready) {
      // Adopt (after an agent restart).
      this.sandboxId = ready.id;
      this.sandbox = sandboxConfig(this.pod, ready.metadata?.attempt ?? 0, this.s.dns);
      await this.readSandboxNetwork();
      const apps = await cri.listContainers({
        podSandboxId: ready.id,
        labelSelector: { [POD_UID_LABEL]: this.uid },
      });
      const appNames = new Set(this.spec.containers.map((c) => c.name));
      this.initDone = apps.some((c) => appNames.has(c.labels[CONTAINER_NAME_LABEL] ?? ''));
      return true;
    }
    if (all.length > 0) {
      this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      // Restart counts go on in the new sandbox.
      for (const c of await cri.listContainers({ labelSelector: { [POD_UID_LABEL]: this.uid } })) {
        const name = c.labels[CONTAINER_NAME_LABEL] ?? '';
        const next = (c.metadata?.attempt ?? 0) + 1;
        if (next > (this.nextAttempt.get(name) ?? 0)) this.nextAttempt.set(name, next);
      }
      await this.removeSandboxes(
        all.map((x) => x.id),
        0,
      );
    }
    const config = sandboxConfig(this.pod, attempt, this.s.dns);
    try {
      this.sandboxId = await cri.runPodSandbox(config);
    } catch (e) {
      this.event(
        'Warning',
        'FailedCreatePodSandBox',
        `Failed to create pod sandbox: ${(e as Error).message}`,
      );
      return false;
    }
    this.sandbox = config;
    this.initDone = false;
    await this.readSandboxNetwork();
    return true;
  }

  private async readSandboxNetwork(): Promise<void> {
    if (!this.sandboxId) return;
    if (this.spec.hostNetwork) this.podIPs = [this.s.ctx.hostIP];
    else {
      const st = await this.s.ctx.cri.podSandboxStatus(this.sandboxId);
      const net = st.status?.network;
      this.podIPs = net?.ip ? [net.ip, ...(net.additionalIps ?? []).map((x) => x.ip).filter(Boolean)] : [];
    }
    mkdirSync(this.podDir(), { recursive: true });
    const hosts = this.spec.hostNetwork
      ? hostNetworkHostsFile(this.s.nodeHosts, this.pod)
      : managedHostsFile(this.pod, this.podIPs, this.s.ctx.clusterDomain);
    writeFileSync(this.hostsFile(), hosts, { mode: 0o644 });
  }

  private async removeSandboxes(ids: string[], graceSeconds: number): Promise<void> {
    const cri = this.s.ctx.cri;
    for (const id of ids) {
      const cs = await cri.listContainers({ podSandboxId: id });
      await Promise.all(
        cs
          .filter((c) => c.state === 'CONTAINER_RUNNING')
          .map((c) => this.ignoreGone(cri.stopContainer(c.id, graceSeconds))),
      );
      for (const c of cs) await this.ignoreGone(cri.removeContainer(c.id));
      await this.ignoreGone(cri.stopPodSandbox(id));
      await this.ignoreGone(cri.removePodSandbox(id));
    }
  }

  private async ignoreGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!isCriNotFound(e)) throw e;
    }
  }

  // ---- containers ----

  /** The pod's container instances by container name, newest first. */
  private async instances(): Promise<Map<string, Instance[]>> {
    const cri = this.s.ctx.cri;
    const list = await cri.listContainers({ labelSelector: { [POD_UID_LABEL]: this.uid } });
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
        if (c.state !== 'CONTAINER_RUNNING')
          this.ignoreGone(cri.removeContainer(c.id)).catch((e: unknown) =>
            this.log(`pod ${podDesc(this.pod)}: removing container ${c.id}: ${(e as Error).message}`),
          );
      out.set(name, statuses);
    }
    return out;
  }

  private restartPolicy(): 'Always' | 'OnFailure' | 'Never' {
    return (this.spec.restartPolicy as 'Always' | 'OnFailure' | 'Never' | undefined) ?? 'Always';
  }

  private backoffKey(name: string): string {
    return `${this.uid}/${name}`;
  }

  /**
   * Whether an exited container must be started again now; records CrashLoopBackOff (waiting) when
   * it must wait.
   */
  private mayRestart(kind: Kind, c: Container, last: CriContainerStatus): boolean {
    const finishedMs = Math.floor((last.finishedAt || last.createdAt) / 1e6);
    const key = this.backoffKey(c.name);
    if (this.s.backoff.inBackoffSince(key, finishedMs)) {
      const delayMs = this.s.backoff.delayMs(key);
      this.wakeAt(finishedMs + delayMs);
      const delay = goDuration(delayMs);
      const message = `back-off ${delay} restarting failed container=${c.name} pod=${podDesc(this.pod)}`;
      this.waiting.set(c.name, { reason: 'CrashLoopBackOff', message });
      this.event(
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.name} in pod ${podDesc(this.pod)}`,
        {
          kind,
          name: c.name,
        },
      );
      return false;
    }
    this.s.backoff.next(key, finishedMs);
    return true;
  }

  private shouldRestart(last: CriContainerStatus): boolean {
    const p = this.restartPolicy();
    return p === 'Always' || (p === 'OnFailure' && last.exitCode !== 0);
  }

  /** Init containers in order; true once all succeeded. */
  private async syncInitContainers(instances: Map<string, Instance[]>): Promise<boolean> {
    if (this.initDone) return true;
    for (const c of this.spec.initContainers ?? []) {
      this.waiting.delete(c.name);
      const latest = this.current(instances, c.name);
      if (!latest) {
        await this.startContainer('init', c, this.nextAttempt.get(c.name) ?? 0);
        return false;
      }
      const st = latest.status;
      if (st.state === 'CONTAINER_RUNNING') return false;
      if (st.state === 'CONTAINER_CREATED') {
        await this.ignoreGone(this.s.ctx.cri.removeContainer(st.id));
        await this.startContainer('init', c, (st.metadata?.attempt ?? 0) + 1);
        return false;
      }
      if (st.exitCode === 0) continue;
      if (this.restartPolicy() === 'Never') return false; // the phase says Failed
      if (this.mayRestart('init', c, st))
        await this.startContainer('init', c, (st.metadata?.attempt ?? 0) + 1);
      return false;
    }
    this.initDone = true;
    return true;
  }

  /** The newest instance in the current sandbox. */
  private current(instances: Map<string, Instance[]>, name: string): Instance | undefined {
    const l = instances.get(name) ?? [];
    return l.find((i) => i.sandboxId === this.sandboxId);
  }

  private async syncAppContainers(instances: Map<string, Instance[]>): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const c of this.spec.containers) {
      this.waiting.delete(c.name);
      const latest = this.current(instances, c.name);
      if (!latest) {
        starts.push(this.startContainer('app', c, this.nextAttempt.get(c.name) ?? 0));
        continue;
      }
      const st = latest.status;
      const next = (st.metadata?.attempt ?? 0) + 1;
      if (st.state === 'CONTAINER_RUNNING') {
        const kill = this.probes.killReason(st.id);
        const specImage = st.annotations[SPEC_IMAGE_ANNOTATION];
        if (kill) {
          this.event('Normal', 'Killing', `Container ${c.name} ${kill.reason}, will be restarted`, {
            kind: 'app',
            name: c.name,
          });
          this.probes.forget(st.id);
          starts.push(
            this.killContainer(c, st.id, probeTerminationGracePeriod(this.pod, kill.probe)).then(() =>
              this.kickSoon(),
            ),
          );
        } else if (specImage !== undefined && specImage !== c.image) {
          this.event('Normal', 'Killing', `Container ${c.name} definition changed, will be restarted`, {
            kind: 'app',
            name: c.name,
          });
          this.probes.forget(st.id);
          starts.push(
            this.killContainer(c, st.id, this.spec.terminationGracePeriodSeconds ?? 30).then(() =>
              this.kickSoon(),
            ),
          );
        } else this.probes.ensure(st.id, c, this.podIPs[0] ?? '', 'app');
        continue;
      }
      this.probes.forget(st.id);
      if (st.state === 'CONTAINER_CREATED') {
        await this.ignoreGone(this.s.ctx.cri.removeContainer(st.id));
        starts.push(this.startContainer('app', c, next));
        continue;
      }
      if (!this.shouldRestart(st)) continue;
      if (this.mayRestart('app', c, st)) starts.push(this.startContainer('app', c, next));
    }
    await Promise.all(starts);
  }

  private kickSoon(): void {
    setTimeout(() => void this.kick(), 50).unref?.();
  }

  private async serviceEnv(): Promise<Record<string, string>> {
    const ns = podNamespace(this.pod);
    const services = await this.s.services(ns);
    return serviceEnv(services, 'default', {
      podNamespace: ns,
      enableServiceLinks: enableServiceLinks(this.pod),
    });
  }

  /** Pulls, creates and starts one container instance; failures become its waiting reason. */
  private async startContainer(kind: Kind, c: Container, attempt: number): Promise<void> {
    this.acted = true;
    const ref = { kind, name: c.name };
    const cri = this.s.ctx.cri;
    const fail = (reason: string, e: unknown): void => {
      const message = e instanceof Error ? e.message : String(e);
      this.event('Warning', 'Failed', `Error: ${message}`, ref);
      this.waiting.set(c.name, { reason, message });
    };
    if (!this.sandboxId || !this.sandbox) return;
    const img = await this.s.images.ensure(this.pod, c, this.sandbox, (t, r, m) => this.event(t, r, m, ref));
    if (!img.ok) {
      this.waiting.set(c.name, { reason: img.reason, message: img.message });
      return;
    }
    let env: { key: string; value: string }[];
    try {
      env = await resolveEnv(this.pod, c, this.s.volumeHost, {
        nodeName: this.s.ctx.nodeName,
        hostIP: this.s.ctx.hostIP,
        hostIPs: [this.s.ctx.hostIP],
        podIP: this.podIPs[0] ?? '',
        podIPs: this.podIPs,
        serviceEnv: await this.serviceEnv(),
        onWarning: (reason, message) => this.event('Warning', reason, message, ref),
      });
      const nonRoot = verifyRunAsNonRoot(
        this.pod,
        c,
        img.image?.uid?.value,
        img.image?.username || undefined,
      );
      if (nonRoot) throw new ContainerConfigError(nonRoot);
    } catch (e) {
      return fail('CreateContainerConfigError', e);
    }
    const termDir = join(this.podDir(), 'containers', c.name);
    mkdirSync(termDir, { recursive: true });
    const terminationFile = join(termDir, String(attempt));
    writeFileSync(terminationFile, '', { mode: 0o666 });
    let id: string;
    try {
      const config = containerConfig({
        pod: this.pod,
        container: c,
        attempt,
        env,
        volumes: this.volumes ?? new Map(),
        hostsFile: this.hostsFile(),
        terminationFile,
        image: img.image,
      });
      id = await cri.createContainer(this.sandboxId, config, this.sandbox);
    } catch (e) {
      return fail(
        e instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError',
        e,
      );
    }
    this.event('Normal', 'Created', `Created container ${c.name}`, ref);
    try {
      await cri.startContainer(id);
    } catch (e) {
      return fail('RunContainerError', e);
    }
    this.event('Normal', 'Started', `Started container ${c.name}`, ref);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const err = await runHook(
        cri,
        postStart,
        id,
        c,
        this.podIPs[0] ?? '',
        this.spec.terminationGracePeriodSeconds ?? 30,
      );
      if (err) {
        this.event('Warning', 'FailedPostStartHook', err, ref);
        await this.killContainer(c, id, this.spec.terminationGracePeriodSeconds ?? 30);
      }
    }
  }

  /** preStop hook (within the grace period), then StopContainer with what is left of it. */
  private async killContainer(c: Container | undefined, id: string, graceSeconds: number): Promise<void> {
    this.acted = true;
    const cri = this.s.ctx.cri;
    const t0 = Date.now();
    const preStop = c?.lifecycle?.preStop;
    if (c && preStop && graceSeconds > 0) {
      const err = await Promise.race([
        runHook(cri, preStop, id, c, this.podIPs[0] ?? '', graceSeconds),
        new Promise<string>((r) =>
          setTimeout(() => r(`PreStopHook timed out after ${graceSeconds}s`), graceSeconds * 1000).unref?.(),
        ),
      ]);
      if (err) this.event('Warning', 'FailedPreStopHook', err, { kind: 'app', name: c.name });
    }
    const left = Math.max(0, graceSeconds - Math.floor((Date.now() - t0) / 1000));
    await this.ignoreGone(cri.stopContainer(id, left));
  }

  /** Stops every running container of the pod with `graceSeconds` (events "Stopping container"). */
  private async killAll(graceSeconds: number): Promise<void> {
    this.probes.stopAll();
    const list = await this.s.ctx.cri.listContainers({ labelSelector: { [POD_UID_LABEL]: this.uid } });
    const byName = new Map([
      ...(this.spec.initContainers ?? []).map((c) => [c.name, { c, kind: 'init' as Kind }] as const),
      ...this.spec.containers.map((c) => [c.name, { c, kind: 'app' as Kind }] as const),
    ]);
    await Promise.all(
      list
        .filter((x) => x.state === 'CONTAINER_RUNNING' || x.state === 'CONTAINER_CREATED')
        .map((x) => {
          const name = x.labels[CONTAINER_NAME_LABEL] ?? '';
          const spec = byName.get(name);
          if (spec) this.event('Normal', 'Killing', `Stopping container ${name}`, { kind: spec.kind, name });
          return this.killContainer(spec?.c, x.id, graceSeconds);
        }),
    );
  }

  // ---- terminal pods, termination, removal ----

  /** A terminal pod: nothing runs any more, the sandbox is stopped, the status keeps its phase. */
  private async syncTerminal(): Promise<void> {
    if (!this.terminalCleaned) {
      this.probes.stopAll();
      await this.killAll(this.spec.terminationGracePeriodSeconds ?? 30);
      const instances = await this.instances();
      await this.publish(instances);
      const cri = this.s.ctx.cri;
      for (const sb of await cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: this.uid } }))
        await this.ignoreGone(cri.stopPodSandbox(sb.id));
      this.sandboxId = undefined;
      this.terminalCleaned = true;
    }
  }

  /** Graceful deletion: preStop + stop with the grace period, remove everything, then delete the pod. */
  private async terminate(): Promise<void> {
    const grace =
      this.pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30;
    await this.killAll(grace);
    const instances = await this.instances();
    if (!this.terminalPhase) {
      const all = [...instances.values()].map((l) => l[0]).filter((i): i is Instance => !!i);
      const ok = all.length > 0 && all.every((i) => i.status.exitCode === 0);
      this.terminalPhase = ok ? 'Succeeded' : 'Failed';
    }
    await this.publish(instances);
    await this.cleanup();
    const ns = podNamespace(this.pod);
    try {
      await this.s.ctx.client.delete(PODS, ns, this.pod.metadata.name ?? '', {
        gracePeriodSeconds: 0,
        preconditions: { uid: this.uid },
      });
    } catch (e) {
      if (!(e instanceof StatusError && (e.code === 404 || e.code === 409))) throw e;
    }
    this.finish();
  }

  /** The pod left the API without us (force deletion): kill everything now. */
  private async killForRemoval(): Promise<void> {
    const grace = Math.min(
      REMOVAL_GRACE_SECONDS,
      this.pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30,
    );
    await this.killAll(Math.max(grace, 0));
    await this.cleanup();
    this.finish();
  }

  private async cleanup(): Promise<void> {
    this.probes.stopAll();
    const cri = this.s.ctx.cri;
    const sandboxes = await cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: this.uid } });
    await this.removeSandboxes(
      sandboxes.map((x) => x.id),
      0,
    );
    try {
      await teardownVolumes(this.uid, this.s.volumeHost);
    } catch (e) {
      this.log(`pod ${podDesc(this.pod)}: tearing down volumes: ${(e as Error).message}`);
    }
  }

  private finish(): void {
    this.finished = true;
    this.s.backoff.forgetPrefix(`${this.uid}/`);
    this.s.images.forgetPod(this.uid);
    this.s.status.forget(this.uid);
    this.onFinished(this.uid);
  }

  // ---- status ----

  private terminationMessage(c: Container, st: CriContainerStatus): string | undefined {
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

  private containerView(kind: Kind, c: Container, instances: Map<string, Instance[]>): ContainerView {
    const l = instances.get(c.name) ?? [];
    const latest = l[0]?.status;
    const previous = l[1]?.status;
    const waitingOverride = this.waiting.get(c.name);
    let state: ContainerState;
    let lastState: ContainerState = {};
    if (latest && (latest.state === 'CONTAINER_RUNNING' || !waitingOverride)) {
      state = criContainerState(latest, this.terminationMessage(c, latest));
      if (previous) lastState = criContainerState(previous, this.terminationMessage(c, previous));
      // An exited container that will be restarted shows as waiting until it is.
      if (latest.state === 'CONTAINER_EXITED' && !this.terminalPhase && this.willRestart(kind, latest)) {
        lastState = state;
        state = { waiting: { reason: 'ContainerCreating' } };
      }
    } else if (waitingOverride) {
      state = { waiting: waitingOverride };
      if (latest) lastState = criContainerState(latest, this.terminationMessage(c, latest));
    } else {
      state = {
        waiting: { reason: kind === 'app' && !this.initDone ? 'PodInitializing' : 'ContainerCreating' },
      };
    }
    const running = latest?.state === 'CONTAINER_RUNNING';
    const probe = latest && running ? this.probes.state(latest.id, c) : { ready: false, started: false };
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: latest?.imageRef ?? '',
      ...(latest ? { containerID: containerIDOf(latest.id) } : {}),
      state,
      lastState,
      ready: kind === 'app' && running && probe.ready,
      started: running && probe.started,
      restartCount: latest?.metadata?.attempt ?? 0,
    };
  }

  private willRestart(kind: Kind, st: CriContainerStatus): boolean {
    if (kind === 'init') return st.exitCode !== 0 && this.restartPolicy() !== 'Never';
    return this.shouldRestart(st);
  }

  /** Computes and writes the status; returns the phase. */
  private async publish(instancesIn: Map<string, Instance[]> | []): Promise<Phase> {
    const instances = Array.isArray(instancesIn) ? new Map<string, Instance[]>() : instancesIn;
    // A pod refused by admission reports no container statuses (the kubelet's rejectPod).
    const rejected = sysctlAdmission(this.pod) !== undefined;
    const view = {
      sandboxReady: !!this.sandboxId && !this.terminalCleaned,
      podIPs: this.podIPs,
      hostIP: this.s.ctx.hostIP,
      init: rejected
        ? []
        : (this.spec.initContainers ?? []).map((c) => this.containerView('init', c, instances)),
      containers: rejected ? [] : this.spec.containers.map((c) => this.containerView('app', c, instances)),
      qosClass: qosClass(this.pod),
      startTime: this.startTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(this.failure ? { failure: this.failure } : {}),
      ...(this.terminalPhase ? { terminalPhase: this.terminalPhase } : {}),
    };
    const status = computePodStatus(this.pod, view);
    await this.s.status.write(this.pod, status);
    return (status.phase as Phase | undefined) ?? podPhase(this.pod, view);
  }
}
