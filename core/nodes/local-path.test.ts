import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { createLocalPathProvisioner, localPathNode, standardStorageClass } from './local-path.ts';
import type { ProvisionRequest } from './provisioner.ts';

function request(extra: Partial<ProvisionRequest> = {}): ProvisionRequest {
  return {
    pvName: 'pvc-0a1b2c',
    claim: { metadata: { name: 'data', namespace: 'ns', uid: '0a1b2c' } },
    storageClass: standardStorageClass(),
    parameters: {},
    capacity: '1Gi',
    accessModes: ['ReadWriteOnce'],
    volumeMode: 'Filesystem',
    selectedNode: 'node-b',
    ...extra,
  };
}

function recordingExec(result = { exitCode: 0, stderr: '' }) {
  const calls: { node: string; argv: string[] }[] = [];
  return {
    calls,
    exec: (node: string, argv: string[]) => {
      calls.push({ node, argv });
      return Promise.resolve(result);
    },
  };
}

test('the standard StorageClass: default class, local-path provisioner, Delete, WaitForFirstConsumer', () => {
  assert.deepEqual(standardStorageClass(), {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'berth.dev/local-path',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
});

test('provision: a DirectoryOrCreate hostPath under /var/lib/berth/local-path pinned to the selected node', async () => {
  const { exec, calls } = recordingExec();
  const p = createLocalPathProvisioner(exec);
  assert.equal(p.name, 'berth.dev/local-path');
  const v = await p.provision(request());
  assert.deepEqual(v, {
    source: { hostPath: { path: '/var/lib/berth/local-path/pvc-0a1b2c', type: 'DirectoryOrCreate' } },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b'] }] },
        ],
      },
    },
  });
  assert.deepEqual(calls, [
    {
      node: 'node-b',
      argv: [
        'sh',
        '-c',
        'mkdir -p -- "$1" && chmod 0777 -- "$1"',
        'mkdir',
        '/var/lib/berth/local-path/pvc-0a1b2c',
      ],
    },
  ]);
  const broken = createLocalPathProvisioner(
    recordingExec({ exitCode: 1, stderr: 'read-only file system' }).exec,
  );
  await assert.rejects(
    broken.provision(request()),
    /^Error: creating \/var\/lib\/berth\/local-path\/pvc-0a1b2c on node node-b failed \(exit code 1\): read-only file system$/,
  );
});

test('provision fails clearly without a selected node, for Block volumes and for odd names', async () => {
  const { exec, calls } = recordingExec();
  const p = createLocalPathProvisioner(exec);
  await assert.rejects(
    p.provision(request({ selectedNode: undefined })),
    /use volumeBindingMode WaitForFirstConsumer \(claim ns\/data/,
  );
  await assert.rejects(p.provision(request({ volumeMode: 'Block' })), /does not provision volumeMode Block/);
  await assert.rejects(p.provision(request({ pvName: '../etc' })), /invalid PersistentVolume name/);
  assert.deepEqual(calls, []);
});

function pvFor(name: string, node: string | undefined, path = `/var/lib/berth/local-path/${name}`): KObject {
  return {
    metadata: { name },
    spec: {
      hostPath: { path, type: 'DirectoryOrCreate' },
      ...(node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
                ],
              },
            },
          }
        : {}),
    },
  };
}

test('delete removes the directory on the volume node through exec', async () => {
  const { exec, calls } = recordingExec();
  const p = createLocalPathProvisioner(exec);
  const pv = pvFor('pvc-0a1b2c', 'node-b');
  assert.equal(localPathNode(pv), 'node-b');
  await p.delete(pv);
  assert.deepEqual(calls, [
    {
      node: 'node-b',
      argv: ['rm', '-rf', '--one-file-system', '--', '/var/lib/berth/local-path/pvc-0a1b2c'],
    },
  ]);
});

test('delete refuses foreign volumes and reports exec failures', async () => {
  const { exec, calls } = recordingExec();
  const p = createLocalPathProvisioner(exec);
  await assert.rejects(p.delete(pvFor('pvc-1', 'node-a', '/etc')), /is not a berth.dev\/local-path volume/);
  await assert.rejects(p.delete(pvFor('pvc-1', undefined)), /no kubernetes.io\/hostname node affinity/);
  assert.deepEqual(calls, []);
  const failing = createLocalPathProvisioner(
    recordingExec({ exitCode: 1, stderr: 'rm: Device or resource busy\n' }).exec,
  );
  await assert.rejects(
    failing.delete(pvFor('pvc-2', 'node-a')),
    /deleting \/var\/lib\/berth\/local-path\/pvc-2 on node node-a failed \(exit code 1\): rm: Device or resource busy$/,
  );
});
