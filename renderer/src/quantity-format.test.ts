import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResource } from './quantity-format.ts';

test('formatResource: cpu in cores or millicores, memory in binary units', () => {
  assert.equal(formatResource('cpu', 500_000), '500');
  assert.equal(formatResource('cpu', 250), '250m');
  assert.equal(formatResource('memory', 64 * 1024 * 1024), '64Mi');
  assert.equal(formatResource('memory', 1536 * 1024 * 1024), '1536Mi');
  assert.equal(formatResource('memory', 1000), '1000');
  assert.equal(formatResource('ephemeral-storage', 2 * 1024 ** 3), '2Gi');
  assert.equal(formatResource('pods', 110), '110');
});
