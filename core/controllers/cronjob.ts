/**
 * The CronJob controller (pkg/controller/cronjob, the v2 controller): informers on CronJobs and Jobs → a
 * work queue of cronjob keys → sync(key) from the cache, requeued at the next schedule time (no polling).
 * - Schedule times from cron-parser in spec.timeZone (default UTC; `@every <duration>` as robfig/cron's
 *   constant delay). The most recent missed time since status.lastScheduleTime (or creation) is run;
 *   more than 100 missed times → Warning TooManyMissedTimes; spec.startingDeadlineSeconds bounds how far
 *   back that looks, and a start later than the deadline is skipped (Warning MissSchedule).
 * - Jobs are named `<cronjob>-<scheduledTime in unix minutes>`, carry the jobTemplate's labels and
 *   annotations plus batch.kubernetes.io/cronjob-scheduled-timestamp, and a controller ownerReference.
 * - concurrencyPolicy Allow, Forbid (skip while a job is active: JobAlreadyActive), Replace (delete the
 *   active jobs, propagation Background, then start the new one).
 * - status.active (ObjectReferences), lastScheduleTime, lastSuccessfulTime; events SuccessfulCreate,
 *   SawCompletedJob, SuccessfulDelete, MissingJob, UnexpectedJob, UnknownTimeZone, UnparseableSchedule.
 * - successfulJobsHistoryLimit / failedJobsHistoryLimit: the oldest finished jobs beyond them are deleted
 *   (Background).
 * The clock is injectable (tests move it forward and call queue.add).
 */
import { CronExpressionParser } from 'cron-parser';
import type { KObject } from '../api/object.ts';
import { rfc3339 } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import {
  controllerRef,
  keyOf,
  splitKey,
  type SharedInformer,
  SharedInformerFactory,
} from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { finishedCondition, JOBS, jobStatus } from './job.ts';
import { ownerRefFor, recordEvent } from './replicaset.ts';

export const CRONJOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const COMPONENT = 'cronjob-controller';
/** The v2 controller's cap on missed schedules before it warns. */
const MAX_MISSED = 100;

export interface CronJobControllerOptions {
  /** The clock (ms since the epoch). */
  now?: () => number;
  workers?: number;
}

interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

interface CJSpec {
  schedule?: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: string;
  suspend?: boolean;
  jobTemplate?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
}

interface CJStatus {
  active?: ObjectReference[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isAlreadyExists = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

/** A parsed schedule: next(t) is the first activation strictly after t (ms); walk(t) iterates from t. */
export interface Schedule {
  next(afterMs: number): number;
  walk(afterMs: number): () => number;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a schedule (5 fields, macros, `@every`) in a time zone; throws on error. */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const s = schedule.trim();
  if (s.startsWith('@every ')) {
    let ms = 0;
    for (const m of s
      .slice(7)
      .trim()
      .matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
      ms += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0);
    // robfig/cron: at least one second, whole seconds.
    const delay = Math.max(1000, Math.floor(ms / 1000) * 1000);
    const next = (t: number): number => t - (t % 1000) + delay;
    return {
      next,
      walk: (t) => {
        let cur = t;
        return () => (cur = next(cur));
      },
    };
  }
  const tz = timeZone || 'UTC';
  CronExpressionParser.parse(s, { tz, currentDate: new Date(0) });
  const walk = (t: number): (() => number) => {
    const e = CronExpressionParser.parse(s, { tz, currentDate: new Date(t) });
    return () => e.next().getTime();
  };
  return { next: (t) => walk(t)(), walk };
}

/** Whether Intl knows the zone (time.LoadLocation). */
export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * mostRecentScheduleTime: the latest activation in (earliest, now], and how many were missed in that
 * window (0 when none). Like the v2 controller, the count is estimated from the interval between the
 * first two activations; the time itself is exact.
 */
export function mostRecentScheduleTime(
  sched: Schedule,
  earliestMs: number,
  nowMs: number,
): { time?: number; missed: number } {
  const it = sched.walk(earliestMs);
  const t1 = it();
  if (t1 > nowMs) return { missed: 0 };
  const t2 = it();
  if (t2 > nowMs) return { time: t1, missed: 1 };
  const interval = Math.max(1000, t2 - t1);
  const missed = Math.floor((nowMs - t1) / interval) + 1;
  // Jump close to now for long gaps, then walk to the exact latest activation.
  if (missed > MAX_MISSED) {
    const from = t1 + (missed - 2) * interval - 1;
    const near = sched.walk(from);
    let last: number | undefined;
    for (let n = near(); n <= nowMs; n = near()) last = n;
    if (last !== undefined && last > from) return { time: last, missed };
  }
  let last = t2;
  for (let n = it(); n <= nowMs; n = it()) last = n;
  return { time: last, missed };
}

/** RFC 3339 in a time zone (Go's t.In(loc).Format(time.RFC3339)). */
export function rfc3339In(ms: number, timeZone?: string): string {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return rfc3339(new Date(ms));
  const off =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(ms))
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(off);
  const offMin = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  if (offMin === 0) return rfc3339(new Date(ms));
  const local = new Date(ms + offMin * 60_000).toISOString().replace(/\.\d+Z$/, '');
  return `${local}${m![1]}${m![2]}:${m![3]}`;
}

/** The job name for a scheduled time: `<cronjob>-<unix minutes>`. */
export const jobNameFor = (cronJob: string, scheduledMs: number): string =>
  `${cronJob}-${Math.floor(scheduledMs / 60_000)}`;

const cjSpec = (o: KObject): CJSpec => (o['spec'] ?? {}) as CJSpec;

export class CronJobController {
  readonly queue = new WorkQueue();
  private readonly cronJobs: SharedInformer;
  private readonly jobs: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly opts: CronJobControllerOptions = {},
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.now = opts.now ?? Date.now;
    this.cronJobs = f.informer(CRONJOBS);
    this.jobs = f.informer(JOBS);
    this.cronJobs.addHandlers({
      add: (o) => this.queue.add(keyOf(o)),
      update: (_o, o) => this.queue.add(keyOf(o)),
    });
    const jobChanged = (j: KObject): void => {
      const ref = controllerRef(j);
      if (ref?.kind !== 'CronJob') return;
      const cj = this.cronJobs.get(j.metadata.namespace ?? '', ref.name);
      if (cj && cj.metadata.uid === ref.uid) this.queue.add(keyOf(cj));
    };
    this.jobs.addHandlers({ add: jobChanged, update: (_o, j) => jobChanged(j), delete: jobChanged });
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

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const cj = this.cronJobs.get(namespace, name);
    if (!cj) return;
    const uid = cj.metadata.uid ?? '';
    const jobs = this.jobs.list(namespace).filter((j) => controllerRef(j)?.uid === uid);
    const old = (cj['status'] ?? {}) as CJStatus;
    const status: CJStatus = {
      ...old,
      ...(old.active ? { active: old.active.map((r) => ({ ...r })) } : {}),
    };
    const nowMs = this.now();
    let requeueAfterMs: number | undefined;
    let error: unknown;
    try {
      requeueAfterMs = this.syncCronJob(cj, jobs, status, nowMs);
    } catch (e) {
      error = e;
    }
    this.cleanupFinishedJobs(cj, status);
    if (!status.active?.length) delete status.active;
    this.writeStatus(cj, status);
    if (error !== undefined) throw error;
    if (requeueAfterMs !== undefined) return { requeueAfterMs };
  }

  private writeStatus(cj: KObject, status: CJStatus): void {
    if (JSON.stringify(cj['status'] ?? {}) === JSON.stringify(status)) return;
    const ns = cj.metadata.namespace ?? '';
    try {
      this.client.update(CRONJOBS, ns, { ...cj, status }, 'status');
    } catch (e) {
      if (isNotFound(e)) return;
      if (!(e instanceof StatusError && e.code === 409)) throw e;
      const live = this.client.get(CRONJOBS, ns, cj.metadata.name ?? '');
      if (live.metadata.uid !== cj.metadata.uid) return;
      this.client.update(CRONJOBS, ns, { ...live, status }, 'status');
    }
  }

  /** Returns the requeue delay (ms) or undefined for none. */
  private syncCronJob(cj: KObject, jobs: KObject[], status: CJStatus, nowMs: number): number | undefined {
    const ns = cj.metadata.namespace ?? '';
    const spec = cjSpec(cj);
    const children = new Set<string>();
    const inActive = (u: string | undefined): boolean => (status.active ?? []).some((r) => r.uid === u);
    const removeActive = (u: string | undefined): void => {
      status.active = (status.active ?? []).filter((r) => r.uid !== u);
    };
    for (const j of jobs) {
      children.add(j.metadata.uid ?? '');
      const found = inActive(j.metadata.uid);
      const fin = finishedCondition(j);
      if (!found && !fin) {
        recordEvent(
          this.client,
          COMPONENT,
          cj,
          'Warning',
          'UnexpectedJob',
          `Saw a job that the controller did not create or forgot: ${j.metadata.name ?? ''}`,
        );
      } else if (found && fin) {
        removeActive(j.metadata.uid);
        recordEvent(
          this.client,
          COMPONENT,
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${j.metadata.name ?? ''}, condition: ${fin.type}`,
        );
      }
      if (fin?.type === 'Complete') {
        const done = jobStatus(j).completionTime;
        if (done && (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime)))
          status.lastSuccessfulTime = done;
      }
    }
    for (const r of [...(status.active ?? [])]) {
      if (children.has(r.uid ?? '')) continue;
      try {
        const live = this.client.get(JOBS, r.namespace ?? ns, r.name ?? '');
        if (live.metadata.uid === r.uid) continue;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      recordEvent(
        this.client,
        COMPONENT,
        cj,
        'Normal',
        'MissingJob',
        `Active job went missing: ${r.name ?? ''}`,
      );
      removeActive(r.uid);
    }

    if (cj.metadata.deletionTimestamp) return undefined;
    const tz = spec.timeZone;
    if (tz && !validTimeZone(tz)) {
      recordEvent(this.client, COMPONENT, cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${tz}"`);
      return undefined;
    }
    if (spec.suspend) return undefined;
    let sched: Schedule;
    try {
      sched = parseSchedule(spec.schedule ?? '', tz);
    } catch (e) {
      recordEvent(
        this.client,
        COMPONENT,
        cj,
        'Warning',
        'UnparseableSchedule',
        `unparseable schedule: "${spec.schedule ?? ''}" : ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }

    // nextScheduleTime.
    let earliest = Date.parse(status.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '');
    if (Number.isNaN(earliest)) earliest = nowMs;
    if (spec.startingDeadlineSeconds !== undefined) {
      const deadline = nowMs - spec.startingDeadlineSeconds * 1000;
      if (deadline > earliest) earliest = deadline;
    }
    const nextAfter = (t: number): number => Math.max(1, sched.next(t) - nowMs + 100);
    if (earliest > nowMs) return nextAfter(nowMs);
    const { time: scheduled, missed } = mostRecentScheduleTime(sched, earliest, nowMs);
    if (missed > MAX_MISSED)
      recordEvent(
        this.client,
        COMPONENT,
        cj,
        'Warning',
        'TooManyMissedTimes',
        `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );
    if (scheduled === undefined) return nextAfter(nowMs);

    if (
      spec.startingDeadlineSeconds !== undefined &&
      scheduled + spec.startingDeadlineSeconds * 1000 < nowMs
    ) {
      recordEvent(
        this.client,
        COMPONENT,
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${new Date(scheduled).toUTCString().replace('GMT', '+0000')}`,
      );
      return nextAfter(nowMs);
    }
    const jobName = jobNameFor(cj.metadata.name ?? '', scheduled);
    if (
      (status.active ?? []).some((r) => r.name === jobName) ||
      (status.lastScheduleTime !== undefined && Date.parse(status.lastScheduleTime) === scheduled)
    )
      return nextAfter(nowMs);

    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active ?? []).length > 0) {
      recordEvent(
        this.client,
        COMPONENT,
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
      );
      return nextAfter(nowMs);
    }
    if (policy === 'Replace') {
      for (const r of [...(status.active ?? [])]) {
        try {
          const live = this.client.get(JOBS, r.namespace ?? ns, r.name ?? '');
          if (live.metadata.uid === r.uid) {
            this.client.delete(JOBS, r.namespace ?? ns, r.name ?? '', {
              propagationPolicy: 'Background',
              preconditions: { uid: r.uid ?? '' },
            });
            recordEvent(
              this.client,
              COMPONENT,
              cj,
              'Normal',
              'SuccessfulDelete',
              `Deleted job ${r.name ?? ''}`,
            );
          }
        } catch (e) {
          if (!isNotFound(e)) {
            recordEvent(
              this.client,
              COMPONENT,
              cj,
              'Warning',
              'FailedDelete',
              `Deleted job: ${e instanceof Error ? e.message : String(e)}`,
            );
            throw e;
          }
        }
        removeActive(r.uid);
      }
    }

    const tpl = spec.jobTemplate ?? {};
    const annotations: Record<string, string> = {
      ...(tpl.metadata?.annotations ?? {}),
      [CRONJOB_SCHEDULED_TIMESTAMP]: rfc3339In(scheduled, tz),
    };
    const job: KObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName,
        namespace: ns,
        ...(tpl.metadata?.labels ? { labels: { ...tpl.metadata.labels } } : {}),
        annotations,
        ownerReferences: [ownerRefFor(cj, 'batch/v1', 'CronJob')],
      },
      spec: JSON.parse(JSON.stringify(tpl.spec ?? {})) as unknown,
    };
    let created: KObject;
    try {
      created = this.client.create(JOBS, ns, job);
      recordEvent(this.client, COMPONENT, cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        recordEvent(
          this.client,
          COMPONENT,
          cj,
          'Warning',
          'FailedCreate',
          `Error creating job: ${e instanceof Error ? e.message : String(e)}`,
        );
        throw e;
      }
      // Already created (by us, before a restart or a lost status write)?
      const existing = this.client.get(JOBS, ns, jobName);
      if (controllerRef(existing)?.uid !== cj.metadata.uid) throw e;
      if (finishedCondition(existing)) {
        status.lastScheduleTime = rfc3339(new Date(scheduled));
        return nextAfter(nowMs);
      }
      created = existing;
    }
    if (!inActive(created.metadata.uid))
      status.active = [
        ...(status.active ?? []),
        {
          kind: 'Job',
          namespace: ns,
          name: created.metadata.name,
          uid: created.metadata.uid,
          apiVersion: 'batch/v1',
          resourceVersion: created.metadata.resourceVersion,
        },
      ];
    status.lastScheduleTime = rfc3339(new Date(scheduled));
    return nextAfter(Math.max(nowMs, scheduled));
  }

  /** Deletes the oldest finished jobs beyond the history limits. */
  private cleanupFinishedJobs(cj: KObject, status: CJStatus): void {
    const spec = cjSpec(cj);
    if (spec.successfulJobsHistoryLimit === undefined && spec.failedJobsHistoryLimit === undefined) return;
    const uid = cj.metadata.uid ?? '';
    const ns = cj.metadata.namespace ?? '';
    const jobs = this.jobs
      .list(ns)
      .filter((j) => controllerRef(j)?.uid === uid && !j.metadata.deletionTimestamp);
    const startOf = (j: KObject): number => {
      const s = jobStatus(j).startTime;
      return s ? Date.parse(s) : Infinity;
    };
    const byStart = (a: KObject, b: KObject): number => {
      const d = startOf(a) - startOf(b);
      if (d !== 0 && !Number.isNaN(d)) return d;
      return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
    };
    const prune = (kind: 'Complete' | 'Failed', limit: number | undefined): void => {
      if (limit === undefined) return;
      const finished = jobs.filter((j) => finishedCondition(j)?.type === kind).sort(byStart);
      for (const j of finished.slice(0, Math.max(0, finished.length - limit))) {
        try {
          this.client.delete(JOBS, ns, j.metadata.name ?? '', {
            propagationPolicy: 'Background',
            preconditions: { uid: j.metadata.uid ?? '' },
          });
          recordEvent(
            this.client,
            COMPONENT,
            cj,
            'Normal',
            'SuccessfulDelete',
            `Deleted job ${j.metadata.name ?? ''}`,
          );
        } catch (e) {
          if (!isNotFound(e)) continue;
        }
        status.active = (status.active ?? []).filter((r) => r.uid !== j.metadata.uid);
      }
    };
    prune('Complete', spec.successfulJobsHistoryLimit);
    prune('Failed', spec.failedJobsHistoryLimit);
  }
}
