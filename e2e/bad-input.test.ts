/**
 * Bad input never crashes the server or corrupts the store: malformed bodies, wrong types, invalid
 * names, oversized bodies and fuzzed patch documents all get a Status with the right code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRequest, startBerth, type BerthProcess } from './harness/berth.ts';

let b: BerthProcess;
before(async () => {
  b = await startBerth();
  const r = await adminRequest(
    b,
    'POST',
    '/api/v1/namespaces',
    JSON.stringify({ metadata: { name: 'bad' } }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(r.status, 201);
  const cm = await adminRequest(
    b,
    'POST',
    '/api/v1/namespaces/bad/configmaps',
    JSON.stringify({ metadata: { name: 'keep' }, data: { a: '1' } }),
    {
      'Content-Type': 'application/json',
    },
  );
  assert.equal(cm.status, 201);
});
after(async () => {
  await b?.stop();
  b?.cleanup();
});

interface StatusBody {
  kind: string;
  code: number;
  reason: string;
  message: string;
}

async function expectStatus(
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
  code: number | number[],
  reason?: string,
): Promise<StatusBody> {
  const r = await adminRequest(b, method, path, body, headers);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(r.status), `${method} ${path}: got ${r.status} ${r.body.slice(0, 300)}`);
  const s = JSON.parse(r.body) as StatusBody;
  assert.equal(s.kind, 'Status');
  assert.equal(s.code, r.status);
  if (reason) assert.equal(s.reason, reason);
  return s;
}

const json = { 'Content-Type': 'application/json' };
const CM = '/api/v1/namespaces/bad/configmaps';

test('malformed JSON, YAML and protobuf are 400 BadRequest', async () => {
  await expectStatus('POST', CM, '{"metadata": {', json, 400, 'BadRequest');
  await expectStatus(
    'POST',
    CM,
    'metadata: [a, b',
    { 'Content-Type': 'application/yaml' },
    400,
    'BadRequest',
  );
  await expectStatus(
    'POST',
    CM,
    Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff, 0x01]),
    { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
    400,
    'BadRequest',
  );
  await expectStatus(
    'POST',
    CM,
    Buffer.from([1, 2, 3]),
    { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
    400,
    'BadRequest',
  );
  await expectStatus('POST', CM, '[1,2,3]', json, 400, 'BadRequest');
  await expectStatus('POST', CM, 'null', json, 400, 'BadRequest');
  await expectStatus('POST', CM, '{}', { 'Content-Type': 'text/html' }, 415, 'UnsupportedMediaType');
});

test('wrong apiVersion or kind is refused', async () => {
  const s1 = await expectStatus(
    'POST',
    CM,
    JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } }),
    json,
    400,
    'BadRequest',
  );
  assert.match(s1.message, /apps\/v1/);
  await expectStatus(
    'POST',
    CM,
    JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }),
    json,
    400,
    'BadRequest',
  );
  await expectStatus('POST', '/api/v1/namespaces/bad/nonsense', '{}', json, 404, 'NotFound');
  await expectStatus('GET', '/apis/nope.example/v1/things', undefined, {}, 404, 'NotFound');
});

test('invalid names and field values are 422 Invalid with causes', async () => {
  const r = await adminRequest(b, 'POST', CM, JSON.stringify({ metadata: { name: 'Not_Valid' } }), json);
  assert.equal(r.status, 422);
  const s = JSON.parse(r.body) as {
    reason: string;
    details: { causes: { field: string; reason: string }[] };
  };
  assert.equal(s.reason, 'Invalid');
  assert.deepEqual(
    s.details.causes.map((c) => [c.field, c.reason]),
    [['metadata.name', 'FieldValueInvalid']],
  );
  await expectStatus('POST', CM, JSON.stringify({ metadata: {} }), json, 422, 'Invalid');
  await expectStatus(
    'POST',
    CM,
    JSON.stringify({ metadata: { name: 'x'.repeat(300) } }),
    json,
    422,
    'Invalid',
  );
});

test('bodies over 3 MiB are 413', async () => {
  const big = JSON.stringify({ metadata: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } });
  await expectStatus('POST', CM, big, json, 413, 'RequestEntityTooLarge');
});

function rnd(n: number): number {
  return Math.floor(Math.random() * n);
}
function randomJson(depth = 0): unknown {
  const k = rnd(depth > 3 ? 5 : 8);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rnd(2) === 0;
    case 2:
      return rnd(1000) - 500;
    case 3:
      return ['', 'data', 'metadata', '$patch', 'delete', '/data/a', 'replace', '~1'][rnd(8)];
    case 4:
      return 'x'.repeat(rnd(20));
    case 5:
    case 6: {
      const o: Record<string, unknown> = {};
      const keys = [
        'data',
        'metadata',
        'name',
        'labels',
        '$patch',
        '$setElementOrder/data',
        '$retainKeys',
        'op',
        'path',
        'value',
        'from',
        'kind',
        'apiVersion',
        'a',
      ];
      for (let i = 0; i < rnd(5); i++) o[keys[rnd(keys.length)]!] = randomJson(depth + 1);
      return o;
    }
    default:
      return Array.from({ length: rnd(4) }, () => randomJson(depth + 1));
  }
}

test('fuzzed patch documents always get a Status, never a 5xx, and the store stays intact', async () => {
  const types = [
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    'application/apply-patch+yaml',
  ];
  for (let i = 0; i < 400; i++) {
    const type = types[i % types.length]!;
    const doc = i % 7 === 0 ? '{not json' : JSON.stringify(randomJson());
    const q = type === 'application/apply-patch+yaml' ? '?fieldManager=fuzz' : '';
    const r = await adminRequest(b, 'PATCH', `${CM}/keep${q}`, doc, { 'Content-Type': type });
    assert.ok(r.status < 500, `${type} ${doc} → ${r.status} ${r.body.slice(0, 300)}`);
    if (r.status >= 400) {
      const s = JSON.parse(r.body) as StatusBody;
      assert.equal(s.kind, 'Status', r.body);
      assert.equal(s.code, r.status);
    } else {
      // A successful patch must still be a valid ConfigMap (restore it for the next round).
      const obj = JSON.parse(r.body) as { kind: string; metadata: { name: string } };
      assert.equal(obj.kind, 'ConfigMap');
      assert.equal(obj.metadata.name, 'keep');
    }
  }
  const health = await adminRequest(b, 'GET', '/readyz');
  assert.equal(health.body, 'ok');
  const list = await adminRequest(b, 'GET', CM);
  assert.equal(list.status, 200);
  const items = (JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map(
    (i) => i.metadata.name,
  );
  assert.ok(items.includes('keep'));
});
