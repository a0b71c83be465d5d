import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesLabels, parseLabelSelector } from './label-selector.ts';
import { StatusError } from '../api/status.ts';

const labels = { app: 'web', tier: 'frontend', env: 'prod' };

test('equality, inequality and set-based requirements', () => {
  const cases: [string, boolean][] = [
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['app=', false],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db)', true],
    ['app notin (web, db)', false],
    ['missing notin (a)', true],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['app in (web),!missing,env', true],
    ['', true],
  ];
  for (const [sel, want] of cases) assert.equal(matchesLabels(parseLabelSelector(sel), labels), want, sel);
});

test('objects without labels match only negative requirements', () => {
  assert.equal(matchesLabels(parseLabelSelector('!a'), undefined), true);
  assert.equal(matchesLabels(parseLabelSelector('a!=b'), undefined), true);
  assert.equal(matchesLabels(parseLabelSelector('a'), undefined), false);
});

test('parse errors are 400 BadRequest', () => {
  for (const bad of ['app in web', 'app in (a', '=x', 'app=we b', 'a,,b', 'app in (a b)']) {
    assert.throws(
      () => parseLabelSelector(bad),
      (e: unknown) => e instanceof StatusError && e.code === 400,
      bad,
    );
  }
});
