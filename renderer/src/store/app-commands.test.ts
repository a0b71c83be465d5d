import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAppCommand, type AppCommandDeps } from './app-commands.ts';

function deps(cluster: string, exportFails = false) {
  const log: string[] = [];
  const d: AppCommandDeps = {
    showClusters: () => log.push('clusters page'),
    cluster: () => cluster,
    request: (method, params) => {
      log.push(`${method} ${JSON.stringify(params)}`);
      return exportFails
        ? Promise.reject(new Error('cluster unreachable'))
        : Promise.resolve({ yaml: 'apiVersion: v1\n', fileName: 'c1.kubeconfig' } as never);
    },
    download: (name, text, type) => log.push(`download ${name} ${type} ${text.length}`),
    fail: (m) => log.push(`error: ${m}`),
  };
  return { d, log };
}

test('new-cluster and show-clusters open the Clusters page', async () => {
  const { d, log } = deps('c1');
  await runAppCommand('new-cluster', d);
  await runAppCommand('show-clusters', d);
  assert.deepEqual(log, ['clusters page', 'clusters page']);
});

test('export-kubeconfig asks for the chosen cluster and saves it like the Save button', async () => {
  const { d, log } = deps('c1');
  await runAppCommand('export-kubeconfig', d);
  assert.deepEqual(log, ['kubeconfig.export {"cluster":"c1"}', 'download c1.kubeconfig application/yaml 15']);
});

test('export-kubeconfig without a cluster, or failing, says so', async () => {
  const none = deps('');
  await runAppCommand('export-kubeconfig', none.d);
  assert.deepEqual(none.log, ['error: no cluster to export: create or choose one first']);
  const failing = deps('c1', true);
  await runAppCommand('export-kubeconfig', failing.d);
  assert.deepEqual(failing.log, ['kubeconfig.export {"cluster":"c1"}', 'error: cluster unreachable']);
});
