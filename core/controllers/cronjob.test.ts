import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import {
  CRONJOB_SCHEDULED_TIMESTAMP,
  CronJobController,
  jobNameFor,
  mostRecentScheduleTime,
  parseSchedule,
  rfc3339In,
} from './cronjob.ts';
import { waitFor } from '../testing/wait.ts';

const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
const CJS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';
const MIN = 60_000;

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let ctrl: CronJobController;
/** The controller's clock: real time + offset. */
let offset = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-cj-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 1,
    simulated: { maxGraceSeconds: 0 },
    disableControllers: ['cronjob'],
  });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
  ctrl = new CronJobController(client, undefined, { now: () => Date.now() + offset });
  ctrl.start();
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
});

after(async () => {
  await ctrl.stop();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cronJob(name: string, spec: Record<string, unknown>, exit?: string): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: NS },
    spec: {
      schedule: '*/1 * * * *',
      ...spec,
      jobTemplate: {
        metadata: { labels: { app: name }, annotations: { 'note.example/x': 'y' } },
        spec: {
          template: {
            metadata: exit === undefined ? {} : { annotations: { 'sim.berth.dev/exit': exit } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox.test/busybox' }] },
          },
        },
      },
    },
  };
}

/** Creates the cronjob and returns the start of the first minute after its creation. */
function create(obj: KObject): { cj: KObject; m0: number } {
  const cj = client.create(CJS, NS, obj);
  const created = Date.parse(cj.metadata.creationTimestamp ?? '');
  return { cj, m0: Math.floor(created / MIN) * MIN + MIN };
}

/** Moves the controller's clock to `at` and makes it look at the cronjob. */
function tick(name: string, at: number): void {
  offset = at - Date.now();
  ctrl.queue.add(`${NS}/${name}`);
}

const jobsOf = (name: string): KObject[] =>
  client
    .list(JOBS, NS)
    .items.filter((j) => j.metadata.ownerReferences?.[0]?.name === name && !j.metadata.deletionTimestamp)
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
const statusOf = (name: string): Record<string, unknown> =>
  (client.get(CJS, NS, name)['status'] ?? {}) as Record<string, unknown>;
const activeNames = (name: string): string[] =>
  ((statusOf(name)['active'] ?? []) as { name: string }[]).map((r) => r.name);
const eventsOf = (name: string): { reason: string; message: string; type: string }[] =>
  client
    .list(EVENTS, NS)
    .items.filter(
      (e) =>
        (e['involvedObject'] as { name?: string; kind?: string }).name === name &&
        (e['involvedObject'] as { kind?: string }).kind === 'CronJob',
    )
    .map((e) => ({ reason: String(e['reason']), message: String(e['message']), type: String(e['type']) }));
const isComplete = (j: KObject): boolean =>
  ((j['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Complete' && c.status === 'True',
  );
const remove = (name: string): void => {
  client.delete(CJS, NS, name, { propagationPolicy: 'Background' });
};

test('schedule math (unit)', () => {
  const s = parseSchedule('*/1 * * * *');
  const t = Date.parse('2026-01-01T00:00:30Z');
  assert.equal(new Date(s.next(t)).toISOString(), '2026-01-01T00:01:00.000Z');
  const r = mostRecentScheduleTime(s, t, Date.parse('2026-01-01T00:05:10Z'));
  assert.equal(new Date(r.time!).toISOString(), '2026-01-01T00:05:00.000Z');
  assert.equal(r.missed, 5);
  const far = mostRecentScheduleTime(s, t, Date.parse('2026-01-02T00:00:10Z'));
  assert.equal(new Date(far.time!).toISOString(), '2026-01-02T00:00:00.000Z');
  assert.ok(far.missed > 100);
  assert.deepEqual(mostRecentScheduleTime(s, t, Date.parse('2026-01-01T00:00:50Z')), { missed: 0 });
  // Weekdays at 09:00 in a zone: an irregular schedule.
  const wd = parseSchedule('0 9 * * 1-5', 'Europe/Paris');
  const fri = Date.parse('2026-01-02T12:00:00Z'); // a Friday
  assert.equal(new Date(wd.next(fri)).toISOString(), '2026-01-05T08:00:00.000Z');
  const longGap = mostRecentScheduleTime(wd, fri, Date.parse('2026-06-03T06:59:00Z'));
  assert.equal(new Date(longGap.time!).toISOString(), '2026-06-02T07:00:00.000Z');
  const every = parseSchedule('@every 90s');
  assert.equal(every.next(1_000_500), 1_090_000);
  assert.equal(
    jobNameFor('cj', Date.parse('2026-01-01T00:01:00Z')),
    `cj-${Date.parse('2026-01-01T00:01:00Z') / MIN}`,
  );
  assert.equal(rfc3339In(Date.parse('2026-01-01T00:01:00Z'), 'Europe/Paris'), '2026-01-01T01:01:00+01:00');
  assert.equal(rfc3339In(Date.parse('2026-01-01T00:01:00Z')), '2026-01-01T00:01:00Z');
});

test('Allow: a job per minute, named by the scheduled minute, then lastSuccessfulTime', async () => {
  const { cj, m0 } = create(cronJob('every', {}, '0'));
  // Before the first minute: nothing.
  tick('every', m0 - 5000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(jobsOf('every').length, 0);
  tick('every', m0 + 1000);
  const [j] = await waitFor('job 1', () => {
    const js = jobsOf('every');
    return js.length === 1 && js;
  });
  assert.equal(j!.metadata.name, `every-${m0 / MIN}`);
  assert.equal(
    j!.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP],
    new Date(m0).toISOString().replace('.000', ''),
  );
  assert.equal(j!.metadata.annotations?.['note.example/x'], 'y');
  assert.equal(j!.metadata.labels?.['app'], 'every');
  const ref = j!.metadata.ownerReferences?.[0];
  assert.equal(ref?.kind, 'CronJob');
  assert.equal(ref?.uid, cj.metadata.uid);
  assert.equal(ref?.controller, true);
  await waitFor('job done, status', () => {
    const s = statusOf('every');
    return (
      !s['active'] &&
      s['lastSuccessfulTime'] &&
      s['lastScheduleTime'] === new Date(m0).toISOString().replace('.000', '')
    );
  });
  tick('every', m0 + MIN + 1000);
  await waitFor('job 2', () => jobsOf('every').length === 2);
  assert.equal(jobsOf('every')[1]!.metadata.name, `every-${m0 / MIN + 1}`);
  // The same minute again creates nothing new.
  tick('every', m0 + MIN + 5000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(jobsOf('every').length, 2);
  const ev = eventsOf('every').map((e) => e.reason);
  assert.ok(ev.includes('SuccessfulCreate'));
  assert.ok(ev.includes('SawCompletedJob'));
  remove('every');
});

test('Forbid skips while a job is active', async () => {
  const { m0 } = create(cronJob('forbid', { concurrencyPolicy: 'Forbid' }));
  tick('forbid', m0 + 1000);
  await waitFor('job 1 active', () => activeNames('forbid').length === 1);
  tick('forbid', m0 + MIN + 1000);
  await waitFor('JobAlreadyActive', () =>
    eventsOf('forbid').some(
      (e) =>
        e.reason === 'JobAlreadyActive' &&
        e.message === 'Not starting job because prior execution is running and concurrency policy is Forbid',
    ),
  );
  assert.equal(jobsOf('forbid').length, 1);
  assert.deepEqual(activeNames('forbid'), [`forbid-${m0 / MIN}`]);
  remove('forbid');
});

test('Replace deletes the active job and starts the new one', async () => {
  const { m0 } = create(cronJob('replace', { concurrencyPolicy: 'Replace' }));
  tick('replace', m0 + 1000);
  await waitFor('job 1 active', () => activeNames('replace').length === 1);
  tick('replace', m0 + MIN + 1000);
  await waitFor('job 2 replaces job 1', () => {
    const a = activeNames('replace');
    return a.length === 1 && a[0] === `replace-${m0 / MIN + 1}`;
  });
  await waitFor('job 1 gone', () => {
    const names = jobsOf('replace').map((j) => j.metadata.name);
    return names.length === 1 && names[0] === `replace-${m0 / MIN + 1}`;
  });
  assert.ok(
    eventsOf('replace').some(
      (e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job replace-${m0 / MIN}`,
    ),
  );
  remove('replace');
});

test('history limits keep the newest finished jobs', async () => {
  const { m0 } = create(cronJob('hist', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 0 }, '0'));
  for (let i = 0; i < 4; i++) {
    tick('hist', m0 + i * MIN + 1000);
    await waitFor(`job ${i} complete`, () =>
      jobsOf('hist').some((j) => j.metadata.name === `hist-${m0 / MIN + i}` && isComplete(j)),
    );
  }
  ctrl.queue.add(`${NS}/hist`);
  await waitFor('2 kept', () => {
    const names = jobsOf('hist').map((j) => j.metadata.name);
    return names.length === 2 && names.join() === [`hist-${m0 / MIN + 2}`, `hist-${m0 / MIN + 3}`].join();
  });
  remove('hist');
});

test('failedJobsHistoryLimit removes failed jobs beyond it', async () => {
  const { m0 } = create(cronJob('fails', { failedJobsHistoryLimit: 1 }, '1'));
  const failedJob = (name: string): boolean =>
    jobsOf('fails').some(
      (j) =>
        j.metadata.name === name &&
        ((j['status'] as { conditions?: { type: string }[] } | undefined)?.conditions ?? []).some(
          (c) => c.type === 'Failed',
        ),
    );
  // backoffLimit 6 with the real 10 s backoff would be slow: patch the template to fail at once.
  const live = client.get(CJS, NS, 'fails');
  const spec = live['spec'] as { jobTemplate: { spec: Record<string, unknown> } };
  spec.jobTemplate.spec['backoffLimit'] = 0;
  client.update(CJS, NS, live);
  for (let i = 0; i < 2; i++) {
    tick('fails', m0 + i * MIN + 1000);
    await waitFor(`job ${i} failed`, () => failedJob(`fails-${m0 / MIN + i}`));
  }
  ctrl.queue.add(`${NS}/fails`);
  await waitFor(
    '1 kept',
    () =>
      jobsOf('fails')
        .map((j) => j.metadata.name)
        .join() === `fails-${m0 / MIN + 1}`,
  );
  remove('fails');
});

test('missed start times: too many → warning; startingDeadlineSeconds bounds the look-back', async () => {
  const { m0 } = create(cronJob('late', {}, '0'));
  tick('late', m0 + 200 * MIN + 1000);
  await waitFor(
    'one job for the latest time',
    () =>
      jobsOf('late')
        .map((j) => j.metadata.name)
        .join() === `late-${m0 / MIN + 200}`,
  );
  assert.ok(
    eventsOf('late').some(
      (e) =>
        e.type === 'Warning' &&
        e.reason === 'TooManyMissedTimes' &&
        /^too many missed start times: \d+\. Set or decrease \.spec\.startingDeadlineSeconds or check clock skew$/.test(
          e.message,
        ),
    ),
  );
  remove('late');

  const { m0: n0 } = create(cronJob('deadline', { startingDeadlineSeconds: 10 }, '0'));
  // 30 s past a minute with a 10 s deadline: that start was missed, nothing runs, no warning.
  tick('deadline', n0 + 200 * MIN + 30_000);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(jobsOf('deadline').length, 0);
  assert.ok(!eventsOf('deadline').some((e) => e.reason === 'TooManyMissedTimes'));
  // 5 s past the next minute: within the deadline.
  tick('deadline', n0 + 201 * MIN + 5000);
  await waitFor('job within deadline', () => jobsOf('deadline').length === 1);
  remove('deadline');
});

test('suspend: no new jobs', async () => {
  const { m0 } = create(cronJob('paused', { suspend: true }, '0'));
  tick('paused', m0 + 1000);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(jobsOf('paused').length, 0);
  const live = client.get(CJS, NS, 'paused');
  client.update(CJS, NS, { ...live, spec: { ...(live['spec'] as object), suspend: false } });
  tick('paused', m0 + 2000);
  await waitFor('job after resume', () => jobsOf('paused').length === 1);
  remove('paused');
});
