/**
 * WatchSubscription with a scripted client: objects go out without managedFields, and a stop ends a
 * list that is still paging (a closed window must not keep the API server busy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchSubscription, withoutManagedFields } from './watch.ts';
import type { KubeObject, WatchEvent } from './contract.ts';
import type { KubeClient } from './kube-client.ts';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const MANAGED = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];

function pod(name: string, rv: string): KubeObject {
  return {
    metadata: { name, namespace: 'd', resourceVersion: rv, labels: { app: 'x' }, managedFields: MANAGED },
    spec: { nodeName: 'n1' },
  } as KubeObject;
}

type Page = { items: KubeObject[]; resourceVersion: string; index: number; last: boolean };

/** A client whose list yields `pages` pages (one pod each, a tick apart) and whose watch sends `events`. */
function scripted(pages: number, events: [string, KubeObject][] = []) {
  const calls = { pagesRead: 0, watches: 0 };
  const client = {
    async kindOf() {
      return 'Pod';
    },
    async list(_r: unknown, _n: unknown, _q: unknown, onPage: (p: Page) => void) {
      const items: KubeObject[] = [];
      for (let i = 0; i < pages; i++) {
        await new Promise((r) => setTimeout(r, 5));
        calls.pagesRead++;
        const page = { items: [pod(`p${i}`, '10')], resourceVersion: '10', index: i, last: i === pages - 1 };
        items.push(...page.items);
        onPage(page);
      }
      return { items, resourceVersion: '10' };
    },
    async watch(
      _r: unknown,
      _n: unknown,
      _q: unknown,
      onEvent: (t: string, o: unknown) => void,
      _onDone: (e: unknown) => void,
    ) {
      calls.watches++;
      setTimeout(() => events.forEach(([t, o]) => onEvent(t, o)), 1);
      return new AbortController();
    },
  };
  return { client: client as unknown as KubeClient, calls };
}

test('withoutManagedFields drops only metadata.managedFields and leaves the input alone', () => {
  const p = pod('a', '1');
  const out = withoutManagedFields(p);
  assert.equal('managedFields' in out.metadata, false);
  assert.deepEqual(out.metadata.labels, { app: 'x' });
  assert.deepEqual(out['spec'], { nodeName: 'n1' });
  assert.deepEqual((p.metadata as { managedFields?: unknown }).managedFields, MANAGED);
  const bare = { metadata: { name: 'b' } };
  assert.equal(withoutManagedFields(bare), bare, 'an object without them is passed through');
});

test('SYNC pages and watch events carry no managedFields', async () => {
  const { client } = scripted(2, [['MODIFIED', pod('p0', '11')]]);
  const got: WatchEvent[] = [];
  const sub = new WatchSubscription(client, { ref: PODS }, (b) => got.push(...b), { batchMs: 1 });
  await sub.start();
  const deadline = Date.now() + 3000;
  while (!got.some((e) => e.type === 'MODIFIED') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  sub.stop();
  const objects = got.flatMap((e) => (e.type === 'SYNC' ? e.items : 'object' in e ? [e.object] : []));
  assert.deepEqual(
    got.map((e) => e.type),
    ['SYNC', 'SYNC', 'MODIFIED'],
  );
  assert.equal(objects.length, 3);
  for (const o of objects) {
    assert.equal('managedFields' in o.metadata, false, `${o.metadata.name} still has managedFields`);
    assert.equal(o.metadata.labels?.['app'], 'x');
  }
});

test('stop() during a paged list ends the paging and starts no watch', async () => {
  const { client, calls } = scripted(50);
  const got: WatchEvent[] = [];
  const sub = new WatchSubscription(client, { ref: PODS }, (b) => got.push(...b), { batchMs: 1 });
  const started = sub.start();
  while (calls.pagesRead < 2) await new Promise((r) => setTimeout(r, 1));
  sub.stop();
  await started;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(calls.pagesRead <= 3, `paging went on after stop: ${calls.pagesRead} pages read`);
  assert.equal(calls.watches, 0);
  assert.ok(got.length >= 1 && got.length <= 3);
});
