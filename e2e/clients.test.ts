/**
 * Client libraries against `berth up --nodes 0`: @kubernetes/client-node and Debian's python3-kubernetes
 * list, watch, create, patch and delete.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { startBerth, type BerthProcess } from './harness/berth.ts';

let berth: BerthProcess;
before(async () => {
  berth = await startBerth();
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

describe('@kubernetes/client-node', () => {
  it('lists, watches, creates, patches and deletes', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(berth.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'node-client' } } });

    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    let sawPatched: () => void = () => undefined;
    const patchedSeen = new Promise<void>((r) => (sawPatched = r));
    const req = await watch.watch(
      '/api/v1/namespaces/node-client/configmaps',
      {},
      (type: string, obj: k8s.V1ConfigMap) => {
        events.push(`${type}:${obj.metadata?.name}:${obj.data?.['k'] ?? ''}`);
        if (type === 'MODIFIED' && obj.data?.['k'] === 'v2') sawPatched();
      },
      () => undefined,
    );

    const created = await core.createNamespacedConfigMap({
      namespace: 'node-client',
      body: { metadata: { name: 'cm1', labels: { app: 'x' } }, data: { k: 'v1' } },
    });
    assert.equal(created.metadata?.name, 'cm1');
    assert.ok(created.metadata?.uid);

    const list = await core.listNamespacedConfigMap({ namespace: 'node-client', labelSelector: 'app=x' });
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ['cm1'],
    );
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);

    const patched = await core.patchNamespacedConfigMap(
      { name: 'cm1', namespace: 'node-client', body: { data: { k: 'v2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.equal(patched.data?.['k'], 'v2');
    const sp = await core.patchNamespacedConfigMap(
      { name: 'cm1', namespace: 'node-client', body: { data: { s: 'strategic' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(sp.data, { k: 'v2', s: 'strategic' });
    const jp = await core.patchNamespacedConfigMap(
      { name: 'cm1', namespace: 'node-client', body: [{ op: 'remove', path: '/data/s' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    assert.deepEqual(jp.data, { k: 'v2' });
    // Server-side apply through the generic object API creates a missing object.
    const objApi = k8s.KubernetesObjectApi.makeApiClient(kc);
    const applied = await objApi.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cm2', namespace: 'node-client' },
        data: { a: 'b' },
      },
      undefined,
      undefined,
      'node-test',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
    assert.equal(applied.metadata?.name, 'cm2');

    await patchedSeen;
    await core.deleteNamespacedConfigMap({ name: 'cm1', namespace: 'node-client' });
    await assert.rejects(
      core.readNamespacedConfigMap({ name: 'cm1', namespace: 'node-client' }),
      (e: unknown) => {
        return (e as { code?: number }).code === 404;
      },
    );
    await waitFor(() => events.some((e) => e.startsWith('DELETED:cm1')), 5000);
    (req as { abort(): void }).abort();
    const mine = events.filter((e) => e.includes(':cm1:'));
    assert.ok(mine[0]?.startsWith('ADDED:cm1:v1'), events.join(' '));
  });

  it('reads health endpoints', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(berth.kubeconfig);
    const health = new k8s.Health(kc);
    assert.equal(await health.readyz({}), true);
    assert.equal(await health.livez({}), true);
  });
});

const PY = '/usr/bin/python3';
function pythonKubernetes(): string | undefined {
  if (!existsSync(PY)) return 'no /usr/bin/python3';
  const r = spawnSync(PY, ['-c', 'import kubernetes'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = 'python3-kubernetes is not installed (apt-get install python3-kubernetes)';
  if (process.env['CI']) throw new Error(`${why} — CI must provide it`);
  return why;
}

describe('python3-kubernetes (Debian)', { skip: pythonKubernetes() }, () => {
  it('lists, watches, creates, patches and deletes', () => {
    const script = String.raw`
import sys, threading
from kubernetes import client, config, watch
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py-client")))
seen = []
def watcher():
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, "py-client", timeout_seconds=20):
        if ev["object"].metadata.name != "kube-root-ca.crt":
            seen.append(ev["type"] + ":" + ev["object"].metadata.name)
        if ev["type"] == "DELETED":
            w.stop()
t = threading.Thread(target=watcher); t.start()
import time; time.sleep(0.5)
cm = v1.create_namespaced_config_map("py-client", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="pycm", labels={"a": "b"}), data={"k": "v"}))
assert cm.metadata.uid
items = v1.list_namespaced_config_map("py-client", label_selector="a=b").items
assert [i.metadata.name for i in items] == ["pycm"], items
p = v1.patch_namespaced_config_map("pycm", "py-client", {"data": {"k": "v2"}})
assert p.data["k"] == "v2", p.data
v1.delete_namespaced_config_map("pycm", "py-client")
t.join(25)
assert seen[0] == "ADDED:pycm" and "DELETED:pycm" in seen, seen
print("ok", seen)
`;
    const r = spawnSync(PY, ['-c', script, berth.kubeconfig], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^ok /m);
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
