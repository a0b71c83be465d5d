/**
 * The two clients behind one interface (KubeClient): the same scenarios run against the HTTPS client
 * (admin kubeconfig) and the in-process client, on a real cluster; and the Reflector over both, including
 * its relist after 410 Gone.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { HttpsClient, optionsFromKubeconfig } from './https-client.ts';
import { Reflector } from './reflector.ts';
import type { KubeClient, ResourceRef, WatchEventType } from './types.ts';

const CM: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
let dir: string;
let cluster: RunningCluster;
let https: HttpsClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-clients-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, disableScheduler: true });
  https = new HttpsClient(optionsFromKubeconfig(cluster.kubeconfigPath));
});
after(async () => {
  https?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cm = (name: string, data: Record<string, string>): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data,
});

for (const kind of ['https', 'in-process'] as const) {
  describe(`${kind} client`, () => {
    let c: KubeClient;
    before(() => {
      c = kind === 'https' ? https : cluster.controllerClient.asKubeClient();
    });

    test('create, get, list, update, patch, delete', async () => {
      const name = `c-${kind}`;
      const created = await c.create(CM, 'default', cm(name, { a: '1' }));
      assert.ok(created.metadata.uid);
      assert.deepEqual((await c.get(CM, 'default', name))['data'], { a: '1' });
      const l = await c.list(CM, 'default', { labelSelector: '' });
      assert.ok(l.items.some((o) => o.metadata.name === name));
      assert.match(l.resourceVersion, /^\d+$/);
      const upd = await c.update(CM, 'default', { ...created, data: { a: '2' } });
      assert.notEqual(upd.metadata.resourceVersion, created.metadata.resourceVersion);
      const patched = await c.patch(CM, 'default', name, 'application/merge-patch+json', {
        data: { b: '3' },
      });
      assert.deepEqual(patched['data'], { a: '2', b: '3' });
      const sm = await c.patch(CM, 'default', name, 'application/strategic-merge-patch+json', {
        metadata: { labels: { x: 'y' } },
      });
      assert.equal(sm.metadata.labels?.['x'], 'y');
      const d = await c.delete(CM, 'default', name);
      assert.equal(d.gone, true);
    });

    test('errors are the server Status: NotFound, Conflict, Invalid', async () => {
      await assert.rejects(c.get(CM, 'default', 'missing'), (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 404);
        assert.equal(e.reason, 'NotFound');
        assert.equal(e.message, 'configmaps "missing" not found');
        return true;
      });
      const o = await c.create(CM, 'default', cm(`conf-${kind}`, {}));
      await c.update(CM, 'default', { ...o, data: { v: '1' } });
      await assert.rejects(c.update(CM, 'default', { ...o, data: { v: '2' } }), (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 409);
        return true;
      });
      await assert.rejects(c.create(CM, 'default', cm('Bad_Name', {})), (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 422);
        assert.equal(e.reason, 'Invalid');
        return true;
      });
    });

    test('watch delivers ordered events and stops cleanly', async () => {
      const seen: string[] = [];
      const start = await c.list(CM, 'default');
      const w = await c.watch(CM, 'default', { resourceVersion: start.resourceVersion }, (t, o) =>
        seen.push(`${t} ${o.metadata.name ?? ''}`),
      );
      const name = `w-${kind}`;
      const o = await c.create(CM, 'default', cm(name, {}));
      await c.update(CM, 'default', { ...o, data: { z: '1' } });
      await c.delete(CM, 'default', name);
      await until('3 events', () => seen.length >= 3);
      assert.deepEqual(seen, [`ADDED ${name}`, `MODIFIED ${name}`, `DELETED ${name}`]);
      w.stop();
      assert.equal(await w.done, undefined);
    });

    test('a reflector mirrors the collection', async () => {
      const r = new Reflector(c, CM, { namespace: 'default', labelSelector: `refl=${kind}` });
      const events: string[] = [];
      r.addHandlers({
        add: (o) => events.push(`add ${o.metadata.name ?? ''}`),
        update: (_o, n) => events.push(`update ${n.metadata.name ?? ''}`),
        delete: (o) => events.push(`delete ${o.metadata.name ?? ''}`),
      });
      const pre = await c.create(CM, 'default', {
        ...cm(`pre-${kind}`, {}),
        metadata: { name: `pre-${kind}`, namespace: 'default', labels: { refl: kind } },
      });
      await r.start();
      assert.ok(r.hasSynced);
      assert.deepEqual(events, [`add pre-${kind}`]);
      await c.update(CM, 'default', { ...pre, data: { k: 'v' } });
      await c.delete(CM, 'default', `pre-${kind}`);
      await until('update + delete', () => events.length >= 3);
      assert.deepEqual(events.slice(1), [`update pre-${kind}`, `delete pre-${kind}`]);
      assert.equal(r.list().length, 0);
      r.stop();
    });
  });
}

test('the reflector relists after 410 Gone and reports the deletes it missed', async () => {
  const real = cluster.controllerClient.asKubeClient();
  const mk = (name: string): KObject => ({
    ...cm(name, {}),
    metadata: { name, namespace: 'default', labels: { gone: 'test' } },
  });
  await real.create(CM, 'default', mk('g1'));
  await real.create(CM, 'default', mk('g2'));
  let watches = 0;
  // The first watch fails with 410 after g2 was deleted behind the reflector's back.
  const flaky: KubeClient = {
    ...real,
    async watch(r, ns, opts, onEvent: (t: WatchEventType, o: KObject) => void) {
      if (watches++ === 0) {
        await real.delete(CM, 'default', 'g2');
        throw new StatusError(410, 'Expired', 'too old resource version: 1 (2)');
      }
      return real.watch(r, ns, opts, onEvent);
    },
  };
  const r = new Reflector(flaky, CM, { namespace: 'default', labelSelector: 'gone=test', retryMs: 10 });
  const deleted: string[] = [];
  r.addHandlers({ delete: (o) => deleted.push(o.metadata.name ?? '') });
  await r.start();
  await until('relist', () => r.lists === 2 && watches === 2);
  assert.deepEqual(deleted, ['g2']);
  assert.deepEqual(
    r.list().map((o) => o.metadata.name),
    ['g1'],
  );
  await real.create(CM, 'default', mk('g3'));
  await until('g3 seen', () => r.get('default', 'g3') !== undefined);
  r.stop();
});
