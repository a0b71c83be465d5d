/**
 * CRD lifecycle in a real (node-less) cluster: the controller accepts names and establishes the CRD, the
 * API server then serves its instances; the garbage collector and the namespace controller handle them;
 * deleting the CRD removes its instances first; a restart on the same data dir serves the CRD again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { CustomResourceDefinition } from '../apiextensions/types.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { waitFor } from '../testing/wait.ts';

const CRDS: ResourceRef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
};
const WIDGETS: ResourceRef = { group: 'example.berth.dev', version: 'v1', resource: 'widgets' };
const WIDGETS_BETA: ResourceRef = { ...WIDGETS, version: 'v1beta1' };
const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

async function start(): Promise<void> {
  cluster = await startCluster({ dataDir: dir, apiPort: 0 });
  client = cluster.controllerClient;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-crd-'));
  await start();
});
after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const schema = {
  openAPIV3Schema: {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: { size: { type: 'integer', default: 1 }, color: { type: 'string' } },
      },
    },
  },
};

function widgetCRD(name = 'widgets.example.berth.dev', plural = 'widgets'): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: 'example.berth.dev',
      scope: 'Namespaced',
      names: { plural, kind: plural === 'widgets' ? 'Widget' : 'Gadget', shortNames: ['wd'] },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema },
        { name: 'v1', served: true, storage: true, schema, selectableFields: [{ jsonPath: '.spec.color' }] },
      ],
    },
  };
}

const exists = (r: ResourceRef, ns: string, name: string): boolean => {
  try {
    client.get(r, ns, name);
    return true;
  } catch (e) {
    if (e instanceof StatusError && e.code === 404) return false;
    throw e;
  }
};

const widget = (name: string, ns = 'default', meta: Partial<KObject['metadata']> = {}): KObject => ({
  apiVersion: 'example.berth.dev/v1',
  kind: 'Widget',
  metadata: { name, namespace: ns, ...meta },
  spec: {},
});

test('a CRD is established and its versions served (preferred v1), with defaults applied', async () => {
  assert.equal(cluster.server.table.lookup('example.berth.dev', 'v1', 'widgets'), undefined);
  client.create(CRDS, '', widgetCRD());
  const crd = await waitFor('Established', () => {
    const c = client.get(CRDS, '', 'widgets.example.berth.dev') as CustomResourceDefinition;
    return c.status?.conditions?.find((x) => x.type === 'Established')?.status === 'True' && c;
  });
  assert.deepEqual(
    crd.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
    [
      ['NamesAccepted', 'True', 'NoConflicts'],
      ['Established', 'True', 'InitialNamesAccepted'],
    ],
  );
  assert.equal(crd.status?.acceptedNames?.listKind, 'WidgetList');
  assert.deepEqual(crd.status?.storedVersions, ['v1']);
  assert.deepEqual(cluster.server.table.groups.get('example.berth.dev'), ['v1', 'v1beta1']);
  const w = client.create(WIDGETS, 'default', widget('w1'));
  assert.deepEqual(w['spec'], { size: 1 });
  assert.equal(w.metadata.generation, 1);
  client.create(WIDGETS, 'default', { ...widget('blue'), spec: { color: 'blue' } });
  const blue = client.list(WIDGETS, 'default', { fieldSelector: 'spec.color=blue' }).items;
  assert.deepEqual(
    blue.map((x) => x.metadata.name),
    ['blue'],
  );
  assert.throws(
    () => client.list(WIDGETS_BETA, 'default', { fieldSelector: 'spec.color=blue' }),
    /field label not supported: spec\.color/,
  );
  client.delete(WIDGETS, 'default', 'blue');
  // The other served version reads the same storage, with its apiVersion.
  assert.equal(client.get(WIDGETS_BETA, 'default', 'w1').apiVersion, 'example.berth.dev/v1beta1');
});

test('a second CRD with a taken name is not accepted', async () => {
  const other = widgetCRD('gadgets.example.berth.dev', 'gadgets');
  client.create(CRDS, '', other);
  const c = await waitFor('NamesAccepted=False', () => {
    const x = client.get(CRDS, '', 'gadgets.example.berth.dev') as CustomResourceDefinition;
    return x.status?.conditions?.find((y) => y.type === 'NamesAccepted')?.status === 'False' && x;
  });
  assert.equal(
    c.status?.conditions?.find((y) => y.type === 'NamesAccepted')?.message,
    '"wd" is already in use',
  );
  assert.equal(cluster.server.table.lookup('example.berth.dev', 'v1', 'gadgets'), undefined);
  client.delete(CRDS, '', 'gadgets.example.berth.dev');
  await waitFor('gadgets CRD gone', () => !exists(CRDS, '', 'gadgets.example.berth.dev'));
});

test('the garbage collector follows ownerReferences to and from custom resources', async () => {
  const owner = client.get(WIDGETS, 'default', 'w1');
  const cm = client.create(CONFIGMAPS, 'default', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'owned-by-widget',
      ownerReferences: [
        { apiVersion: 'example.berth.dev/v1', kind: 'Widget', name: 'w1', uid: owner.metadata.uid! },
      ],
    },
  });
  client.create(
    WIDGETS,
    'default',
    widget('owned-by-cm', 'default', {
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: cm.metadata.name!, uid: cm.metadata.uid! },
      ],
    }),
  );
  client.delete(WIDGETS, 'default', 'w1');
  await waitFor('configmap collected', () => !exists(CONFIGMAPS, 'default', 'owned-by-widget'));
  await waitFor('widget collected', () => !exists(WIDGETS, 'default', 'owned-by-cm'));
});

test('deleting a namespace deletes its custom resources', async () => {
  client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crd-ns' } });
  client.create(WIDGETS, 'crd-ns', widget('in-ns', 'crd-ns'));
  client.delete(NAMESPACES, '', 'crd-ns');
  await waitFor('namespace gone', () => !exists(NAMESPACES, '', 'crd-ns'), 15_000);
  assert.equal(client.list(WIDGETS, '').items.filter((w) => w.metadata.namespace === 'crd-ns').length, 0);
});

test('a restart serves the CRD again; deleting the CRD removes its instances, then the CRD', async () => {
  client.create(WIDGETS, 'default', widget('survivor'));
  await cluster.stop();
  await start();
  assert.ok(cluster.server.table.lookup('example.berth.dev', 'v1', 'widgets'), 'served after restart');
  assert.ok(exists(WIDGETS, 'default', 'survivor'));
  const r = client.delete(CRDS, '', 'widgets.example.berth.dev');
  assert.equal(r.gone, false, 'held by the cleanup finalizer');
  await waitFor('CRD gone', () => !exists(CRDS, '', 'widgets.example.berth.dev'));
  assert.equal(cluster.server.table.lookup('example.berth.dev', 'v1', 'widgets'), undefined);
  assert.equal(cluster.server.table.groups.has('example.berth.dev'), false);
  // Recreated: no instance survived the deletion.
  client.create(CRDS, '', widgetCRD());
  await waitFor('served again', () => cluster.server.table.lookup('example.berth.dev', 'v1', 'widgets'));
  assert.deepEqual(client.list(WIDGETS, '').items, []);
});
