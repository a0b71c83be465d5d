import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from 'kubernetes-types/core/v1';
import { evaluatePod, forbiddenDetail, forbiddenReason } from './evaluate.ts';
import type { LevelVersion } from './labels.ts';

const lv = (level: LevelVersion['level'], version: LevelVersion['version'] = 'latest'): LevelVersion => ({
  level,
  version,
});
const evaluate = (l: LevelVersion, spec: Record<string, unknown>) =>
  evaluatePod(l, {}, { containers: [], ...spec } as unknown as PodSpec);

const plain = { containers: [{ name: 'c', image: 'nginx' }] };
const privileged = {
  hostNetwork: true,
  containers: [
    {
      name: 'c',
      image: 'nginx',
      securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } },
    },
  ],
  volumes: [{ name: 'root', hostPath: { path: '/' } }],
};

test('privileged allows everything', () => {
  assert.deepEqual(evaluate(lv('privileged'), privileged), { allowed: true, reasons: [], details: [] });
});

test('baseline: the upstream message for a privileged pod, checks in ID order', () => {
  const r = evaluate(lv('baseline'), privileged);
  assert.equal(r.allowed, false);
  assert.equal(forbiddenReason(r), 'non-default capabilities, host namespaces, hostPath volumes, privileged');
  assert.equal(
    forbiddenDetail(r),
    'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), ' +
      'host namespaces (hostNetwork), hostPath volumes (volume "root"), ' +
      'privileged (container "c" must not set securityContext.privileged=true)',
  );
  assert.equal(evaluate(lv('baseline'), plain).allowed, true);
});

test('restricted: a plain pod, as kubectl shows it', () => {
  assert.equal(
    forbiddenDetail(evaluate(lv('restricted'), plain)),
    'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
      'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
      'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
      'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  );
});

test('restricted checks supersede their baseline counterparts', () => {
  const r = evaluate(lv('restricted'), privileged);
  // No "non-default capabilities" and no "hostPath volumes": the restricted checks report them.
  assert.equal(
    forbiddenReason(r),
    'host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, restricted volume types, runAsNonRoot != true, seccompProfile',
  );
  // Before capabilities_restricted existed (policy 1.21), the baseline capabilities check still runs.
  assert.equal(
    forbiddenReason(evaluate(lv('restricted', 21), privileged)),
    'non-default capabilities, host namespaces, privileged, allowPrivilegeEscalation != false, restricted volume types, runAsNonRoot != true, seccompProfile',
  );
});

test('a check does not apply before its first version; unknown reasons get a placeholder', () => {
  const root = { securityContext: { runAsUser: 0 }, ...plain };
  assert.ok(forbiddenReason(evaluate(lv('restricted'), root)).includes('runAsUser=0'));
  assert.ok(!forbiddenReason(evaluate(lv('restricted', 22), root)).includes('runAsUser=0'));
  assert.equal(forbiddenDetail({ allowed: false, reasons: ['a', 'b'], details: ['', 'x'] }), 'a, b (x)');
});
