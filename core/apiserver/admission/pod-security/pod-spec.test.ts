import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/object.ts';
import { hasPodTemplate, isSignificantPodUpdate, podTemplateOf, podViewOf } from './pod-spec.ts';

const obj = (rest: Record<string, unknown>): KObject => ({
  apiVersion: 'v1',
  kind: 'X',
  metadata: { name: 'x' },
  ...rest,
});

test('pod templates of the workload kinds', () => {
  const spec = { containers: [{ name: 'c', image: 'i' }] };
  const template = { metadata: { labels: { a: 'b' } }, spec };
  for (const [group, resource] of [
    ['apps', 'deployments'],
    ['apps', 'replicasets'],
    ['apps', 'statefulsets'],
    ['apps', 'daemonsets'],
    ['batch', 'jobs'],
    ['', 'replicationcontrollers'],
  ] as const)
    assert.deepEqual(podTemplateOf(group, resource, obj({ spec: { template } }))?.spec, spec, resource);
  assert.deepEqual(
    podTemplateOf('batch', 'cronjobs', obj({ spec: { jobTemplate: { spec: { template } } } }))?.meta,
    {
      labels: { a: 'b' },
    },
  );
  assert.deepEqual(podTemplateOf('', 'podtemplates', obj({ template }))?.spec, spec);
  assert.equal(podTemplateOf('', 'replicationcontrollers', obj({ spec: {} })), undefined);
  assert.equal(hasPodTemplate('', 'pods'), false);
  assert.equal(hasPodTemplate('', 'configmaps'), false);
});

test('significant pod updates: image, seccomp annotations, container count, new ephemeral containers', () => {
  const pod = (image: string, extra: Record<string, unknown> = {}, annotations?: Record<string, string>) =>
    podViewOf({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', ...(annotations ? { annotations } : {}) },
      spec: { containers: [{ name: 'c', image }], ...extra },
    });
  const base = pod('a');
  assert.equal(isSignificantPodUpdate(pod('a', { activeDeadlineSeconds: 5 }), base), false);
  assert.equal(isSignificantPodUpdate(pod('b'), base), true);
  assert.equal(
    isSignificantPodUpdate(pod('a', {}, { 'seccomp.security.alpha.kubernetes.io/pod': 'x' }), base),
    true,
  );
  assert.equal(isSignificantPodUpdate(pod('a', {}, { other: 'x' }), base), false);
  const eph = { ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] };
  assert.equal(isSignificantPodUpdate(pod('a', eph), base), true);
  assert.equal(isSignificantPodUpdate(pod('a', eph), pod('a', eph)), false);
  assert.equal(isSignificantPodUpdate(pod('a', { initContainers: [{ name: 'i', image: 'x' }] }), base), true);
});
