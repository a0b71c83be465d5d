/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished semantics): a Job with
 * spec.ttlSecondsAfterFinished that has finished (Complete or Failed condition True) is deleted, with
 * propagationPolicy Background (the garbage collector removes its pods), ttlSecondsAfterFinished seconds
 * after the finishing condition's lastTransitionTime. Before deleting, the job is read live and checked
 * again (a TTL changed in between is honoured); the delete carries a UID precondition.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { finishedCondition, JOBS, jobSpec } from './job.ts';

export interface TTLAfterFinishedOptions {
  /** The clock (ms since the epoch). */
  now?: () => number;
  workers?: number;
}

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;

/** When a finished job with a TTL expires (ms), or undefined when it never does. */
export function jobExpiresAt(job: KObject): number | undefined {
  const ttl = jobSpec(job).ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata.deletionTimestamp) return undefined;
  const c = finishedCondition(job);
  if (!c) return undefined;
  const finishedAt = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  if (Number.isNaN(finishedAt)) return undefined;
  return finishedAt + ttl * 1000;
}

export class TTLAfterFinishedController {
  readonly queue = new WorkQueue();
  private readonly jobs: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
    private readonly opts: TTLAfterFinishedOptions = {},
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.now = opts.now ?? Date.now;
    this.jobs = f.informer(JOBS);
    const enqueue = (j: KObject): void => {
      if (jobExpiresAt(j) !== undefined) this.queue.add(keyOf(j));
    };
    this.jobs.addHandlers({ add: enqueue, update: (_o, j) => enqueue(j) });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, this.opts.workers ?? 1, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  sync(key: string): { requeueAfterMs?: number } | void {
    const { namespace, name } = splitKey(key);
    const cached = this.jobs.get(namespace, name);
    if (!cached) return;
    let at = jobExpiresAt(cached);
    if (at === undefined) return;
    let left = at - this.now();
    if (left > 0) return { requeueAfterMs: left };
    // Expired by the cache: check the live object before deleting.
    let live: KObject;
    try {
      live = this.client.get(JOBS, namespace, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    at = jobExpiresAt(live);
    if (at === undefined) return;
    left = at - this.now();
    if (left > 0) return { requeueAfterMs: left };
    try {
      this.client.delete(JOBS, namespace, name, {
        propagationPolicy: 'Background',
        preconditions: { uid: live.metadata.uid ?? '' },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
