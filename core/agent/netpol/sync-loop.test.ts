import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reflector } from '../../client/reflector.ts';
import type { KubeClient, ListResult } from '../../client/types.ts';
import { driveFromReflectors, SyncLoop } from './sync-loop.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('schedules debounce into one run; a schedule during a run queues exactly one more', async () => {
  const runs: boolean[] = [];
  let release: () => void = () => undefined;
  const loop = new SyncLoop(
    async (full) => {
      runs.push(full);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
    },
    () => assert.fail('no error expected'),
    10,
  );
  for (let i = 0; i < 5; i++) loop.schedule();
  await sleep(40);
  assert.deepEqual(runs, [true], 'the first run is full, five schedules made one run');
  for (let i = 0; i < 3; i++) {
    loop.schedule();
    await sleep(20);
  }
  release();
  await sleep(50);
  assert.deepEqual(runs, [true, false], 'schedules during the run made one more (not full) run');
  loop.forceFull();
  await sleep(40);
  assert.deepEqual(runs, [true, false, true]);
  loop.stop();
  loop.schedule();
  await sleep(30);
  assert.equal(runs.length, 3, 'nothing runs after stop');
});

test('a failed run is reported and retried as a full run', async () => {
  const runs: boolean[] = [];
  const errors: string[] = [];
  const loop = new SyncLoop(
    async (full) => {
      runs.push(full);
      if (runs.length === 2) throw new Error('iptables-restore: exit 1');
    },
    (e) => errors.push(e.message),
    5,
    20,
  );
  loop.schedule();
  await sleep(30);
  loop.schedule();
  await sleep(80);
  loop.stop();
  assert.deepEqual(errors, ['iptables-restore: exit 1']);
  assert.deepEqual(runs, [true, false, true]);
});

test('driveFromReflectors retries the first list until it works, then every event schedules a run', async () => {
  let lists = 0;
  let emit: (type: 'ADDED', obj: { metadata: { name: string; resourceVersion: string } }) => void = () =>
    undefined;
  const client = {
    list: async (): Promise<ListResult> => {
      if (++lists === 1) throw new Error('forbidden');
      return { items: [], resourceVersion: '1' } as unknown as ListResult;
    },
    watch: async (_r: unknown, _ns: string, _o: unknown, cb: typeof emit) => {
      emit = cb;
      return { stop: () => undefined, done: new Promise<undefined>(() => undefined) };
    },
  } as unknown as KubeClient;
  const reflector = new Reflector(client, { group: '', version: 'v1', resource: 'pods' });
  const runs: boolean[] = [];
  const errors: string[] = [];
  const loop = new SyncLoop(
    async (full) => void runs.push(full),
    () => undefined,
    5,
  );
  const stop = driveFromReflectors(loop, [reflector], {
    resyncMs: 60_000,
    retryMs: 20,
    onListError: (e) => errors.push(e.message),
  });
  await sleep(80);
  assert.deepEqual(errors, ['forbidden']);
  assert.equal(lists, 2);
  assert.deepEqual(runs, [true], 'one run once the lists are in');
  emit('ADDED', { metadata: { name: 'p', resourceVersion: '2' } });
  await sleep(30);
  assert.deepEqual(runs, [true, false]);
  stop();
  emit('ADDED', { metadata: { name: 'q', resourceVersion: '3' } });
  await sleep(30);
  assert.equal(runs.length, 2, 'nothing after stop');
});
