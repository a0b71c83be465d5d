import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch } from './json-patch.ts';
import { mergePatch } from './merge-patch.ts';
import { StatusError } from '../api/status.ts';

test('JSON patch operations, escaping and failures', () => {
  const doc = { metadata: { annotations: { 'a/b': '1' } }, data: { x: '1' }, list: [1, 2] };
  const out = jsonPatch(doc, [
    { op: 'replace', path: '/metadata/annotations/a~1b', value: '2' },
    { op: 'add', path: '/list/-', value: 3 },
    { op: 'copy', from: '/data/x', path: '/data/y' },
    { op: 'move', from: '/data/x', path: '/data/z' },
    { op: 'test', path: '/data/z', value: '1' },
  ]);
  assert.deepEqual(out, {
    metadata: { annotations: { 'a/b': '2' } },
    data: { y: '1', z: '1' },
    list: [1, 2, 3],
  });
  assert.deepEqual(doc.data, { x: '1' }, 'input untouched');
  const is422 = (e: unknown) => e instanceof StatusError && e.code === 422;
  assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/data/x', value: '2' }]), is422);
  assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope/deeper' }]), is422);
  assert.throws(() => jsonPatch(doc, [{ op: 'frobnicate', path: '/a' }]), is422);
  assert.throws(
    () => jsonPatch(doc, { op: 'add' }),
    (e: unknown) => e instanceof StatusError && e.code === 400,
  );
});

test('merge patch: null deletes, objects merge, lists replace', () => {
  assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] }), {
    a: { c: 2, d: 3 },
    l: [3],
  });
  assert.deepEqual(mergePatch({ a: 1 }, 'x'), 'x');
});
