import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch } from './json-patch.ts';
import { mergePatch } from './merge-patch.ts';
import { StatusError } from '../api/status.ts';

const doc = () => ({ metadata: { annotations: { 'a/b': '1', 'c~d': 'x' } }, data: { x: '1' }, list: [1, 2] });

test('JSON patch: every operation, escaping and the - index, on a copy', () => {
  const d = doc();
  const out = jsonPatch(d, [
    { op: 'replace', path: '/metadata/annotations/a~1b', value: '2' },
    { op: 'remove', path: '/metadata/annotations/c~0d' },
    { op: 'add', path: '/list/-', value: 3 },
    { op: 'add', path: '/list/0', value: 0 },
    { op: 'copy', from: '/data/x', path: '/data/y' },
    { op: 'move', from: '/data/x', path: '/data/z' },
    { op: 'test', path: '/data/z', value: '1' },
    { op: 'remove', path: '/list/-1' },
  ]);
  assert.deepEqual(out, {
    metadata: { annotations: { 'a/b': '2' } },
    data: { y: '1', z: '1' },
    list: [0, 1, 2],
  });
  assert.deepEqual(d, doc(), 'input untouched');
});

test('JSON patch: rollout undo replaces /spec/template and /metadata/annotations wholesale', () => {
  const out = jsonPatch({ metadata: { annotations: { a: '1', b: '2' } }, spec: { template: { x: 1 } } }, [
    { op: 'replace', path: '/spec/template', value: { y: 2 } },
    { op: 'replace', path: '/metadata/annotations', value: { c: '3' } },
  ]);
  assert.deepEqual(out, { metadata: { annotations: { c: '3' } }, spec: { template: { y: 2 } } });
});

test('JSON patch failures are the apiserver generic 422; undecodable patches are 400', () => {
  const is422 = (e: unknown) =>
    e instanceof StatusError &&
    e.code === 422 &&
    e.reason === 'Invalid' &&
    e.message === 'the server rejected our request due to an error in our request';
  for (const ops of [
    [{ op: 'test', path: '/data/x', value: '2' }],
    [{ op: 'remove', path: '/nope' }],
    [{ op: 'remove', path: '/nope/deeper' }],
    [{ op: 'replace', path: '/data/missing', value: 1 }],
    [{ op: 'add', path: '/list/5', value: 1 }],
    [{ op: 'add', path: '/list/01', value: 1 }],
    [{ op: 'frobnicate', path: '/a' }],
    [{ op: 'add', value: 1 }],
    [{ op: 'move', from: '/data', path: '/data/inner' }],
    [{ op: 'copy', from: '/missing', path: '/x' }],
    [{ op: 'add', path: 'no-slash', value: 1 }],
  ])
    assert.throws(() => jsonPatch(doc(), ops), is422, JSON.stringify(ops));
  assert.throws(
    () => jsonPatch(doc(), { op: 'add' }),
    (e: unknown) =>
      e instanceof StatusError &&
      e.code === 400 &&
      e.message === 'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
  );
  assert.throws(
    () => jsonPatch(doc(), [1]),
    (e: unknown) =>
      e instanceof StatusError &&
      e.message === 'json: cannot unmarshal number into Go value of type jsonpatch.Operation',
  );
  assert.throws(
    () => jsonPatch(doc(), new Array(10001).fill({ op: 'test', path: '', value: null })),
    (e: unknown) => e instanceof StatusError && e.code === 413,
  );
});

test('JSON patch: test of a missing path against null passes; __proto__ is an ordinary key', () => {
  assert.deepEqual(jsonPatch({}, [{ op: 'test', path: '/a', value: null }]), {});
  const out = jsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<
    string,
    unknown
  >;
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.deepEqual(Object.keys(out), ['__proto__']);
});

test('merge patch: null deletes, objects merge, lists replace, nulls in new values dropped', () => {
  assert.deepEqual(
    mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3], n: { x: null, y: 1 } }),
    { a: { c: 2, d: 3 }, l: [3], n: { y: 1 } },
  );
  assert.deepEqual(mergePatch({ metadata: { labels: { a: '1' } } }, { metadata: { labels: { a: null } } }), {
    metadata: { labels: {} },
  });
  for (const bad of ['x', 1, null, [1]])
    assert.throws(
      () => mergePatch({ a: 1 }, bad),
      (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === 'Invalid JSON Patch',
    );
});
