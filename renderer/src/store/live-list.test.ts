import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextTick, shallowRef } from 'vue';
import type { EventMessage, KubeObject, ResourceRef } from '../../../electron/contract.ts';
import type { Connection, ConnectionState } from '../bridge.ts';
import { createLiveList, type LiveListSpec } from './live-list.ts';
import { openGateWhen } from './first-list-gate.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };

/** A connection that records requests and lets the test deliver events. */
function fakeConnection() {
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  const listeners = new Set<(m: EventMessage) => void>();
  const conn: Connection = {
    state: shallowRef<ConnectionState>('open'),
    request(method, params) {
      calls.push({ method, params: params as unknown as Record<string, unknown> });
      return Promise.resolve({} as never);
    },
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onOpen() {
      return () => {};
    },
  };
  const deliver = (m: EventMessage): void => listeners.forEach((l) => l(m));
  return { conn, calls, deliver };
}

const subscribes = (calls: { method: string }[]): number =>
  calls.filter((c) => c.method === 'resources.subscribe').length;

function pod(name: string): KubeObject {
  return { metadata: { name, namespace: 'default', resourceVersion: '5' } };
}

test('a spec that re-evaluates to the same content keeps its subscription; a new one resubscribes', async () => {
  const { conn, calls, deliver } = fakeConnection();
  const cluster = shallowRef('c1');
  const unrelated = shallowRef(0);
  // The fake never reports an open, so only spec changes subscribe.
  const live = createLiveList(conn, (): LiveListSpec => {
    void unrelated.value; // a dependency that does not change the spec
    return { cluster: cluster.value, ref: PODS };
  });
  unrelated.value++;
  await nextTick();
  assert.equal(subscribes(calls), 0, 'no resubscribe when the spec text is unchanged');

  cluster.value = 'c2';
  await nextTick();
  assert.equal(subscribes(calls), 1);
  const id = calls.at(-1)?.params['subscriptionId'] as string;
  assert.equal(calls.at(-1)?.params['cluster'], 'c2');

  deliver({
    kind: 'event',
    channel: 'resources.watch',
    subscriptionId: id,
    events: [{ type: 'SYNC', items: [pod('a')], resourceVersion: '5' }],
  });
  assert.equal(live.state.value.synced, true);
  assert.equal(live.state.value.items.size, 1);
  unrelated.value++;
  await nextTick();
  assert.equal(subscribes(calls), 1, 'still one subscription');
  assert.equal(live.state.value.items.size, 1, 'and its items are kept');
  live.stop();
  assert.equal(calls.at(-1)?.method, 'resources.unsubscribe');
});

test('openGateWhen opens on done() and stays open; a timeout opens it too', async () => {
  const gate = shallowRef(false);
  const done = shallowRef(false);
  openGateWhen(gate, () => done.value, 10_000);
  await nextTick();
  assert.equal(gate.value, false);
  done.value = true;
  await nextTick();
  assert.equal(gate.value, true);
  done.value = false;
  await nextTick();
  assert.equal(gate.value, true, 'stays open');

  const late = shallowRef(false);
  openGateWhen(late, () => false, 20);
  assert.equal(late.value, false);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(late.value, true, 'opened by the timeout');

  const already = shallowRef(false);
  openGateWhen(already, () => true, 10_000);
  assert.equal(already.value, true, 'opens at once when done() already holds');
});
