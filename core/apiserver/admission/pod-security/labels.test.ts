import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorString } from '../../../api/field-errors.ts';
import { compareLevels, DEFAULT_POLICY, levelVersionString, policyFromLabels } from './labels.ts';

test('no labels: privileged:latest for every mode', () => {
  assert.deepEqual(policyFromLabels(undefined), { policy: DEFAULT_POLICY, errors: [] });
  assert.deepEqual(policyFromLabels({ app: 'x' }).policy, DEFAULT_POLICY);
});

test('levels and versions per mode; warn and audit do not follow enforce', () => {
  const { policy, errors } = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/enforce-version': 'v1.27',
    'pod-security.kubernetes.io/warn': 'restricted',
  });
  assert.deepEqual(errors, []);
  assert.equal(levelVersionString(policy.enforce), 'baseline:v1.27');
  assert.equal(levelVersionString(policy.warn), 'restricted:latest');
  assert.equal(levelVersionString(policy.audit), 'privileged:latest');
});

test('invalid labels: enforce fails closed, warn and audit fail open, with upstream messages', () => {
  const { policy, errors } = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'x',
    'pod-security.kubernetes.io/enforce-version': '1.27',
    'pod-security.kubernetes.io/warn': 'Restricted',
  });
  assert.equal(levelVersionString(policy.enforce), 'restricted:latest');
  assert.equal(levelVersionString(policy.warn), 'privileged:latest');
  assert.deepEqual(errors.map(fieldErrorString), [
    'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "x": must be one of privileged, baseline, restricted',
    'metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.27": must be "latest" or "v1.x"',
    'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "Restricted": must be one of privileged, baseline, restricted',
  ]);
  assert.equal(policyFromLabels({ 'pod-security.kubernetes.io/audit-version': 'v1.01' }).errors.length, 1);
  assert.equal(policyFromLabels({ 'pod-security.kubernetes.io/audit-version': 'v1.0' }).errors.length, 0);
});

test('level strictness', () => {
  assert.equal(compareLevels('restricted', 'baseline'), 1);
  assert.equal(compareLevels('privileged', 'baseline'), -1);
  assert.equal(compareLevels('baseline', 'baseline'), 0);
});
