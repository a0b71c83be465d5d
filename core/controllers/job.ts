/**
 * The Job controller (pkg/controller/job semantics, 1.33): informers on Jobs and Pods → a work queue of
 * job keys → sync(key) from the cache.
 * - Pods from the template (generateName `<job>-`, or `<job>-<index>-` when Indexed), with the template's
 *   labels (the registry adds batch.kubernetes.io/job-name, job-name, controller-uid and
 *   batch.kubernetes.io/controller-uid), a controller ownerReference and the
 *   batch.kubernetes.io/job-tracking finalizer.
 * - Finished pods are tracked with finalizers: their UIDs go to status.uncountedTerminatedPods first, then
 *   the finalizer is removed, then they move to status.succeeded / status.failed (and
 *   status.completedIndexes for Indexed jobs). A pod being deleted that has not succeeded counts as failed
 *   (isPodFailed), as do active pods of a job that is finishing.
 * - Never more than spec.parallelism active pods, never more than the remaining completions; Indexed jobs
 *   create the lowest pending indexes (annotation + label batch.kubernetes.io/job-completion-index, the
 *   JOB_COMPLETION_INDEX env var, hostname `<job>-<index>`).
 * - Failure: more failed pods than spec.backoffLimit (or, with restartPolicy OnFailure, container restarts
 *   reaching it) → FailureTarget then Failed, reason BackoffLimitExceeded; being active longer than
 *   activeDeadlineSeconds → DeadlineExceeded. Active pods are deleted; the terminal condition is added once
 *   no pod is terminating (the interim FailureTarget / SuccessCriteriaMet come first, as in 1.31+).
 * - New pods after a failure wait an exponential backoff (10 s doubling, capped at 6 min).
 * - spec.suspend: active pods are deleted, Suspended condition (JobSuspended / JobResumed), startTime
 *   cleared while suspended and reset on resume.
 * - status.startTime, completionTime, active, ready, terminating, succeeded, failed; events
 *   SuccessfulCreate, SuccessfulDelete, Completed, Suspended, Resumed and the failure reason.
 */
import { deepCopy, type KObject, rfc3339 } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { fromLabelSelectorObject } from '../apiserver/label-selector.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import {
  controllerRef,
  keyOf,
  splitKey,
  type SharedInformer,
  SharedInformerFactory,
} from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import {
  claimObjects,
  isPodReady,
  ownerRefFor,
  type PodTemplate,
  PODS,
  rankPodsForDeletion,
  recordEvent,
  slowStartBatch,
} from './replicaset.ts';

export const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
const COMPONENT = 'job-controller';
const JOB_KIND = { apiVersion: 'batch/v1', kind: 'Job', ref: JOBS };

/** DefaultJobPodFailureBackOff and the documented cap. */
export const DEFAULT_BACKOFF_BASE_MS = 10_000;
export const DEFAULT_BACKOFF_MAX_MS = 6 * 60_000;

export interface JobControllerOptions {
  /** Base of the exponential pod-failure backoff (default 10 s). */
  backoffBaseMs?: number;
  /** Cap of the backoff (default 6 min). */
  backoffMaxMs?: number;
  /** The clock (ms since the epoch). */
  now?: () => number;
  workers?: number;
}

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  completionMode?: string;
  suspend?: boolean;
  selector?: unknown;
  template?: PodTemplate;
  ttlSecondsAfterFinished?: number;
}

export interface JobStatus {
  conditions?: JobCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  ready?: number;
}

interface PodLike {
  phase?: string;
  containerStatuses?: { restartCount?: number; state?: { terminated?: { finishedAt?: string } } }[];
  initContainerStatuses?: { restartCount?: number }[];
}

const podStatus = (p: KObject): PodLike => (p['status'] ?? {}) as PodLike;
const phaseOf = (p: KObject): string | undefined => podStatus(p).phase;
const hasFinalizer = (p: KObject): boolean => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

export const jobSpec = (j: KObject): JobSpec => (j['spec'] ?? {}) as JobSpec;
export const jobStatus = (j: KObject): JobStatus => (j['status'] ?? {}) as JobStatus;

/** The Complete or Failed condition with status True, if any (IsJobFinished). */
export function finishedCondition(j: KObject): JobCondition | undefined {
  return (jobStatus(j).conditions ?? []).find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

const isIndexed = (j: KObject): boolean => jobSpec(j).completionMode === 'Indexed';

/** The completion index of a pod (annotation), or -1. */
export function completionIndex(p: KObject): number {
  const v = p.metadata.annotations?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  return Number(v);
}

/** Parses "1,3-5" into a set of indexes below `completions`. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats a set of indexes as "1,3-5" (intervals of consecutive indexes). */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Failed per isPodFailed: phase Failed, or being deleted without having succeeded. */
function isPodFailed(p: KObject): boolean {
  const ph = phaseOf(p);
  if (ph === 'Failed') return true;
  return !!p.metadata.deletionTimestamp && ph !== 'Succeeded';
}

const isTerminal = (p: KObject): boolean => phaseOf(p) === 'Succeeded' || phaseOf(p) === 'Failed';
const isActive = (p: KObject): boolean => !isTerminal(p) && !p.metadata.deletionTimestamp;

/** restartPolicy OnFailure: total container restarts of active pods reach backoffLimit. */
function pastBackoffLimitOnFailure(job: KObject, active: KObject[]): boolean {
  const spec = jobSpec(job);
  if (((spec.template?.spec ?? {}) as { restartPolicy?: string }).restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of active) {
    const st = podStatus(p);
    for (const c of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])])
      restarts += c.restartCount ?? 0;
  }
  const limit = spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

function newCondition(type: string, status: string, reason: string, message: string, now: string) {
  return { type, status, lastProbeTime: now, lastTransitionTime: now, reason, message };
}

/** ensureJobConditionStatus: updates or appends (never appends a False condition). */
function ensureCondition(
  list: JobCondition[],
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): boolean {
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i]!;
    if (c.status === status && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === 'False') return false;
  list.push(newCondition(type, status, reason, message, now));
  return true;
}

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime: number;
}

export class JobController {
  readonly queue = new WorkQueue();
  private readonly jobs: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly now: () => number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly opts: JobControllerOptions = {},
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.now = opts.now ?? Date.now;
    this.backoffBaseMs = opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.backoffMaxMs = opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.jobs = f.informer(JOBS);
    this.pods = f.informer(PODS);
    this.jobs.addHandlers({
      add: (j) => this.queue.add(keyOf(j)),
      update: (_o, j) => this.queue.add(keyOf(j)),
      delete: (j) => {
        this.backoff.delete(keyOf(j));
        // Pods left with our finalizer (their job is gone).
        for (const p of this.pods.byOwner(j.metadata.uid ?? '')) if (hasFinalizer(p)) this.enqueuePod(p);
      },
    });
    this.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (old, p) => {
        const oldRef = controllerRef(old);
        if (oldRef && oldRef.uid !== controllerRef(p)?.uid) this.podChanged(old);
        this.podChanged(p);
      },
      delete: (p) => this.podChanged(p),
    });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, this.opts.workers ?? 2, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  private jobOf(p: KObject): KObject | undefined {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'Job' || !ref.apiVersion.startsWith('batch/')) return undefined;
    const j = this.jobs.get(p.metadata.namespace ?? '', ref.name);
    return j && j.metadata.uid === ref.uid ? j : undefined;
  }

  private enqueuePod(p: KObject): void {
    this.queue.add(`pod:${keyOf(p)}`);
  }

  private podChanged(p: KObject): void {
    const j = this.jobOf(p);
    if (j) this.queue.add(keyOf(j));
    else if (hasFinalizer(p) && controllerRef(p)?.kind === 'Job') this.enqueuePod(p);
  }

  /** Removes the tracking finalizer from a pod (live read, retried on conflict). */
  private removeFinalizer(ns: string, name: string, uid: string): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: KObject;
      try {
        live = this.client.get(PODS, ns, name);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      if (live.metadata.uid !== uid || !hasFinalizer(live)) return;
      const fins = (live.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
      const metadata = { ...live.metadata };
      if (fins.length) metadata.finalizers = fins;
      else delete metadata.finalizers;
      try {
        this.client.update(PODS, ns, { ...live, metadata });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
    throw new Error(`could not remove the job-tracking finalizer from ${ns}/${name}`);
  }

  /** A pod whose job is gone (or another one's): drop our finalizer. */
  private syncOrphanPod(key: string): void {
    const { namespace, name } = splitKey(key);
    const p = this.pods.get(namespace, name);
    if (!p || !hasFinalizer(p) || this.jobOf(p)) return;
    this.removeFinalizer(namespace, name, p.metadata.uid ?? '');
  }

  private remainingBackoffMs(key: string, now: number): number {
    const r = this.backoff.get(key);
    if (!r || r.failuresAfterLastSuccess === 0) return 0;
    let d = this.backoffBaseMs;
    for (let i = 1; i < r.failuresAfterLastSuccess; i++) {
      d *= 2;
      if (d >= this.backoffMaxMs) {
        d = this.backoffMaxMs;
        break;
      }
    }
    const elapsed = now - r.lastFailureTime;
    return elapsed >= d ? 0 : d - elapsed;
  }

  private writeStatus(job: KObject, status: JobStatus): KObject {
    if (JSON.stringify(job['status'] ?? {}) === JSON.stringify(status)) return job;
    const ns = job.metadata.namespace ?? '';
    try {
      return this.client.update(JOBS, ns, { ...job, status }, 'status');
    } catch (e) {
      if (!isConflict(e)) throw e;
      // Retry on the live object (our status wins: only this controller writes it).
      const live = this.client.get(JOBS, ns, job.metadata.name ?? '');
      if (live.metadata.uid !== job.metadata.uid) return live;
      return this.client.update(JOBS, ns, { ...live, status }, 'status');
    }
  }

  private deletePod(job: KObject, p: KObject): void {
    try {
      this.client.delete(PODS, p.metadata.namespace ?? '', p.metadata.name ?? '', {
        preconditions: { uid: p.metadata.uid ?? '' },
      });
      recordEvent(
        this.client,
        COMPONENT,
        job,
        'Normal',
        'SuccessfulDelete',
        `Deleted pod: ${p.metadata.name ?? ''}`,
      );
    } catch (e) {
      if (!isNotFound(e)) {
        recordEvent(this.client, COMPONENT, job, 'Warning', 'FailedDelete', `Error deleting: ${String(e)}`);
        throw e;
      }
    }
  }

  /** Reconcile one job from the cache. */
  sync(key: string): { requeueAfterMs?: number } | void {
    if (key.startsWith('pod:')) return this.syncOrphanPod(key.slice(4));
    const { namespace, name } = splitKey(key);
    let job = this.jobs.get(namespace, name);
    if (!job) {
      this.backoff.delete(key);
      return;
    }
    const uid = job.metadata.uid ?? '';
    const spec = jobSpec(job);
    const nowMs = this.now();
    const now = rfc3339(new Date(nowMs));

    // Claim pods (adopt matching orphans, release non-matching ones).
    const selector = fromLabelSelectorObject(spec.selector);
    const nsPods = this.pods.list(namespace);
    const pods =
      selector && selector.length
        ? claimObjects(
            this.client,
            PODS,
            job,
            JOB_KIND,
            selector,
            nsPods.filter((p) => isActive(p) || controllerRef(p)?.uid === uid),
          )
        : nsPods.filter((p) => controllerRef(p)?.uid === uid);

    // A finished job only lets go of its pods.
    if (finishedCondition(job) || job.metadata.deletionTimestamp) {
      for (const p of pods)
        if (hasFinalizer(p)) this.removeFinalizer(namespace, p.metadata.name ?? '', p.metadata.uid ?? '');
      return;
    }

    const old = jobStatus(job);
    const status: JobStatus = deepCopy(old);
    const conditions: JobCondition[] = status.conditions ?? [];
    const completions = spec.completions;
    const indexed = isIndexed(job) && completions !== undefined;
    const suspended = spec.suspend === true;
    const unc = {
      succeeded: [...(old.uncountedTerminatedPods?.succeeded ?? [])],
      failed: [...(old.uncountedTerminatedPods?.failed ?? [])],
    };
    const uncounted = new Set([...unc.succeeded, ...unc.failed]);

    if (status.startTime === undefined && !suspended) status.startTime = now;

    const hasCond = (t: string): JobCondition | undefined =>
      conditions.find((c) => c.type === t && c.status === 'True');

    // 1. Newly finished pods still carrying our finalizer → uncounted.
    const interimFailure = hasCond('FailureTarget');
    const interimSuccess = hasCond('SuccessCriteriaMet');
    const finishing = !!interimFailure || !!interimSuccess;
    const newlySucceeded: KObject[] = [];
    const newlyFailed: KObject[] = [];
    for (const p of pods) {
      const puid = p.metadata.uid ?? '';
      if (!hasFinalizer(p) || uncounted.has(puid)) continue;
      if (phaseOf(p) === 'Succeeded') newlySucceeded.push(p);
      else if (isPodFailed(p)) newlyFailed.push(p);
      else if (finishing && p.metadata.deletionTimestamp) newlyFailed.push(p);
    }
    const validIndex = (p: KObject): boolean => {
      if (!indexed) return true;
      const ix = completionIndex(p);
      return ix >= 0 && ix < (completions ?? 0);
    };
    // Backoff record from pods that newly failed (phase Failed) / succeeded.
    if (newlyFailed.length || newlySucceeded.length) {
      const rec = this.backoff.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureTime: 0 };
      const failedPhase = newlyFailed.filter((p) => phaseOf(p) === 'Failed');
      if (newlySucceeded.length && !failedPhase.length) rec.failuresAfterLastSuccess = 0;
      if (failedPhase.length) {
        rec.failuresAfterLastSuccess += failedPhase.length;
        rec.lastFailureTime = nowMs;
      }
      this.backoff.set(key, rec);
    }
    const podsToUncount: KObject[] = [];
    for (const p of newlySucceeded) {
      podsToUncount.push(p);
      if (validIndex(p)) unc.succeeded.push(p.metadata.uid ?? '');
    }
    for (const p of newlyFailed) {
      podsToUncount.push(p);
      if (validIndex(p)) unc.failed.push(p.metadata.uid ?? '');
    }

    // Counts as if everything uncounted were counted (jobCtx.succeeded / failed).
    const byUid = new Map(pods.map((p) => [p.metadata.uid ?? '', p]));
    const completed = parseIndexes(old.completedIndexes, completions ?? 0);
    const completedWithUncounted = new Set(completed);
    if (indexed)
      for (const u of unc.succeeded) {
        const p = byUid.get(u);
        if (p) completedWithUncounted.add(completionIndex(p));
      }
    const succeeded = indexed ? completedWithUncounted.size : (old.succeeded ?? 0) + unc.succeeded.length;
    const failed = (old.failed ?? 0) + unc.failed.length;

    const active = pods.filter(isActive);

    // 2. Decide whether the job is finishing.
    let finishing2: JobCondition | undefined = interimFailure ?? interimSuccess;
    if (!finishing2) {
      const backoffLimit = spec.backoffLimit ?? 6;
      const deadline =
        spec.activeDeadlineSeconds !== undefined && status.startTime !== undefined && !suspended
          ? Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000
          : undefined;
      if (failed > backoffLimit || pastBackoffLimitOnFailure(job, active))
        finishing2 = newCondition(
          'FailureTarget',
          'True',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
          now,
        );
      else if (deadline !== undefined && nowMs >= deadline)
        finishing2 = newCondition(
          'FailureTarget',
          'True',
          'DeadlineExceeded',
          'Job was active longer than specified deadline',
          now,
        );
      else {
        const complete =
          completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions;
        if (complete)
          finishing2 = newCondition(
            'SuccessCriteriaMet',
            'True',
            'CompletionsReached',
            'Reached expected number of succeeded pods',
            now,
          );
      }
      if (finishing2) conditions.push(finishing2);
    }

    let requeueAfterMs: number | undefined;
    let manageError: unknown;
    if (finishing2) {
      // Delete every active pod; they count as failed once they carry a deletionTimestamp.
      for (const p of active) this.deletePod(job, p);
    } else if (suspended) {
      for (const p of rankPodsForDeletion(active)) this.deletePod(job, p);
      if (ensureCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now))
        recordEvent(this.client, COMPONENT, job, 'Normal', 'Suspended', 'Job suspended');
      delete status.startTime;
    } else {
      if (ensureCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
        recordEvent(this.client, COMPONENT, job, 'Normal', 'Resumed', 'Job resumed');
        status.startTime = now;
      }
      try {
        requeueAfterMs = this.manage(job, key, active, succeeded, completedWithUncounted, nowMs);
      } catch (e) {
        manageError = e;
      }
      if (spec.activeDeadlineSeconds !== undefined && status.startTime !== undefined) {
        const left = Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 - nowMs;
        requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(10, left + 10));
      }
    }

    // 3. Checkpoint the uncounted UIDs before removing finalizers.
    status.uncountedTerminatedPods = {};
    if (unc.succeeded.length) status.uncountedTerminatedPods.succeeded = unc.succeeded;
    if (unc.failed.length) status.uncountedTerminatedPods.failed = unc.failed;
    status.conditions = conditions;
    if (!conditions.length) delete status.conditions;
    if (podsToUncount.length) {
      job = this.writeStatus(job, status);
      for (const p of podsToUncount)
        this.removeFinalizer(namespace, p.metadata.name ?? '', p.metadata.uid ?? '');
    }

    // 4. Move uncounted pods whose finalizer is gone into the counters.
    const stillTracked = (u: string): boolean => {
      const p = byUid.get(u);
      if (!p) return false;
      const live = this.pods.get(namespace, p.metadata.name ?? '');
      return !!live && live.metadata.uid === u && hasFinalizer(live);
    };

    const keepS: string[] = [];
    for (const u of unc.succeeded) {
      if (stillTracked(u)) {
        keepS.push(u);
        continue;
      }

      if (indexed) {
        const p = byUid.get(u);
        const ix = p ? completionIndex(p) : -1;
        if (ix >= 0) completed.add(ix);
      } else status.succeeded = (status.succeeded ?? 0) + 1;
    }
    const keepF: string[] = [];
    for (const u of unc.failed) {
      if (stillTracked(u)) {
        keepF.push(u);
        continue;
      }

      status.failed = (status.failed ?? 0) + 1;
    }
    if (indexed) {
      status.completedIndexes = formatIndexes(completed);
      status.succeeded = completed.size;
    }
    status.uncountedTerminatedPods = {};
    if (keepS.length) status.uncountedTerminatedPods.succeeded = keepS;
    if (keepF.length) status.uncountedTerminatedPods.failed = keepF;

    // 5. Gauges.
    const live = this.pods.byOwner(uid).filter((p) => controllerRef(p)?.uid === uid);
    const activeNow = live.filter(isActive);
    const terminating = live.filter((p) => !!p.metadata.deletionTimestamp && !isTerminal(p)).length;
    status.active = activeNow.length;
    status.ready = activeNow.filter(isPodReady).length;
    status.terminating = terminating;
    if (!status.active) delete status.active;
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;

    // 6. Terminal condition once nothing is left running or tracked.
    let finishedNow: JobCondition | undefined;
    if (
      finishing2 &&
      activeNow.length === 0 &&
      terminating === 0 &&
      !keepS.length &&
      !keepF.length &&
      !live.some(hasFinalizer)
    ) {
      if (finishing2.type === 'FailureTarget')
        finishedNow = newCondition('Failed', 'True', finishing2.reason ?? '', finishing2.message ?? '', now);
      else {
        finishedNow = newCondition(
          'Complete',
          'True',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
          now,
        );
        status.completionTime = now;
      }
      conditions.push(finishedNow);
      status.conditions = conditions;
      // A finished job is no longer suspended.
    }
    job = this.writeStatus(job, status);
    if (finishedNow) {
      this.backoff.delete(key);
      if (finishedNow.type === 'Complete')
        recordEvent(this.client, COMPONENT, job, 'Normal', 'Completed', 'Job completed');
      else
        recordEvent(
          this.client,
          COMPONENT,
          job,
          'Warning',
          finishedNow.reason ?? '',
          finishedNow.message ?? '',
        );
      return;
    }
    if (manageError !== undefined) throw manageError;
    if (requeueAfterMs !== undefined && Number.isFinite(requeueAfterMs)) return { requeueAfterMs };
  }

  /** manageJob: create or delete pods towards the wanted number of active ones. */
  private manage(
    job: KObject,
    key: string,
    active: KObject[],
    succeeded: number,
    completedIndexes: Set<number>,
    nowMs: number,
  ): number | undefined {
    const spec = jobSpec(job);
    const ns = job.metadata.namespace ?? '';
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions;
    const indexed = isIndexed(job) && completions !== undefined;
    let wantActive: number;
    if (completions === undefined) wantActive = succeeded > 0 ? active.length : parallelism;
    else wantActive = Math.max(0, Math.min(completions - succeeded, parallelism));

    // Indexed: duplicates, out-of-range and already-completed indexes go first.
    let remaining = active;
    if (indexed) {
      const seen = new Set<number>();
      const extra: KObject[] = [];
      const keep: KObject[] = [];
      for (const p of [...active].sort((a, b) =>
        (a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1,
      )) {
        const ix = completionIndex(p);
        if (ix < 0 || ix >= completions || completedIndexes.has(ix) || seen.has(ix)) extra.push(p);
        else {
          seen.add(ix);
          keep.push(p);
        }
      }
      for (const p of extra) this.deletePod(job, p);
      remaining = keep;
    }
    const surplus = remaining.length - wantActive;
    if (surplus > 0) {
      const victims = indexed
        ? [...remaining].sort((a, b) => completionIndex(b) - completionIndex(a)).slice(0, surplus)
        : rankPodsForDeletion(remaining).slice(0, surplus);
      for (const p of victims) this.deletePod(job, p);
      return undefined;
    }
    let diff = wantActive - remaining.length;
    if (diff <= 0) return undefined;
    const wait = this.remainingBackoffMs(key, nowMs);
    if (wait > 0) return wait;
    const indexes: number[] = [];
    if (indexed) {
      const busy = new Set([...remaining.map(completionIndex), ...completedIndexes]);
      for (let i = 0; i < completions && indexes.length < diff; i++) if (!busy.has(i)) indexes.push(i);
      diff = indexes.length;
    }
    const created: KObject[] = [];
    let n = 0;
    const res = slowStartBatch(diff, 1, () => {
      const ix = indexed ? indexes[n++] : undefined;
      const pod = this.podFromTemplate(job, ix);
      const c = this.client.create(PODS, ns, pod);
      created.push(c);
      recordEvent(
        this.client,
        COMPONENT,
        job,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${c.metadata.name ?? ''}`,
      );
    });
    if (res.error !== undefined) {
      const msg = res.error instanceof Error ? res.error.message : String(res.error);
      recordEvent(this.client, COMPONENT, job, 'Warning', 'FailedCreate', `Error creating: ${msg}`);
      throw res.error instanceof Error ? res.error : new Error(msg);
    }
    return undefined;
  }

  private podFromTemplate(job: KObject, index: number | undefined): KObject {
    const t = deepCopy(jobSpec(job).template ?? {});
    const jobName = job.metadata.name ?? '';
    const metadata: KObject['metadata'] = {
      generateName: index === undefined ? `${jobName}-` : `${jobName}-${index}-`,
      namespace: job.metadata.namespace,
      ownerReferences: [ownerRefFor(job, 'batch/v1', 'Job')],
      finalizers: [...(t.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER],
    };
    const labels = { ...(t.metadata?.labels ?? {}) };
    const annotations = { ...(t.metadata?.annotations ?? {}) };
    const spec = (t.spec ?? {}) as Record<string, unknown>;
    if (index !== undefined) {
      annotations[JOB_COMPLETION_INDEX] = String(index);
      labels[JOB_COMPLETION_INDEX] = String(index);
      if (spec['hostname'] === undefined) spec['hostname'] = `${jobName}-${index}`;
      const env = {
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } },
      };
      for (const list of ['initContainers', 'containers'] as const)
        for (const c of (spec[list] ?? []) as { env?: { name: string }[] }[]) {
          if ((c.env ?? []).some((e) => e.name === env.name)) continue;
          c.env = [...(c.env ?? []), env];
        }
    }
    if (Object.keys(labels).length) metadata.labels = labels;
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }
}
