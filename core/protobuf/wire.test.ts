import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from 'protobufjs/minimal.js';
import {
  decodeKubernetesProtobuf,
  decodeProtobufAs,
  messageFor,
  PACKAGES,
  ProtobufDecodeError,
  schema,
} from './decode.ts';
import { decodeEnvelope } from './envelope.ts';
import { parseFieldSpec } from './facts.ts';
import { formatDuration, Schema } from './wire.ts';

const LEN = 2;
const VARINT = 0;

/** A tiny protobuf builder: fields are [number, value]; value kinds by JS type. */
type Field = [number, string | number | bigint | boolean | Uint8Array | Field[]];
function pb(fields: Field[]): Uint8Array {
  const w = Writer.create();
  for (const [no, v] of fields) {
    if (typeof v === 'string') w.uint32((no << 3) | LEN).string(v);
    else if (typeof v === 'boolean') w.uint32((no << 3) | VARINT).bool(v);
    else if (typeof v === 'number') w.uint32((no << 3) | VARINT).int64(v);
    else if (typeof v === 'bigint') w.uint32((no << 3) | VARINT).int64(Number(v));
    else if (v instanceof Uint8Array) w.uint32((no << 3) | LEN).bytes(v);
    else w.uint32((no << 3) | LEN).bytes(pb(v));
  }
  return w.finish();
}

function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const typeMeta: Field[] = [];
  if (apiVersion) typeMeta.push([1, apiVersion]);
  if (kind) typeMeta.push([2, kind]);
  return Buffer.concat([
    Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    pb([
      [1, typeMeta],
      [2, raw],
      [3, ''],
      [4, ''],
    ]),
  ]);
}

test('every fact parses and every referenced message type resolves', () => {
  for (const p of PACKAGES)
    for (const [name, facts] of Object.entries(p.messages))
      for (const [no, spec] of Object.entries(facts)) parseFieldSpec(Number(no), spec, `${p.pkg}.${name}`);
  assert.deepEqual(schema.unresolved(), []);
});

test('meta.v1.Time: RFC3339 to the second, nanos dropped, empty message → null', () => {
  assert.equal(
    schema.decode(
      pb([
        [1, 1735787045],
        [2, 123456789],
      ]),
      'meta.v1.Time',
    ),
    '2025-01-02T03:04:05Z',
  );
  assert.equal(
    schema.decode(
      pb([
        [1, 0],
        [2, 0],
      ]),
      'meta.v1.Time',
    ),
    '1970-01-01T00:00:00Z',
  );
  assert.equal(schema.decode(new Uint8Array(0), 'meta.v1.Time'), null);
});

test('meta.v1.MicroTime: six fractional digits, truncated', () => {
  assert.equal(
    schema.decode(
      pb([
        [1, 1735787045],
        [2, 123456789],
      ]),
      'meta.v1.MicroTime',
    ),
    '2025-01-02T03:04:05.123456Z',
  );
  assert.equal(schema.decode(pb([[1, 1735787045]]), 'meta.v1.MicroTime'), '2025-01-02T03:04:05.000000Z');
  assert.equal(schema.decode(new Uint8Array(0), 'meta.v1.MicroTime'), null);
});

test('meta.v1.Duration: Go duration strings', () => {
  assert.equal(schema.decode(pb([[1, 3_600_000_000_000]]), 'meta.v1.Duration'), '1h0m0s');
  assert.equal(formatDuration(0n), '0s');
  assert.equal(formatDuration(1_500_000_000n), '1.5s');
  assert.equal(formatDuration(90_000_000_000n), '1m30s');
  assert.equal(formatDuration(1_500_000n), '1.5ms');
  assert.equal(formatDuration(2_000n), '2µs');
  assert.equal(formatDuration(999n), '999ns');
  assert.equal(formatDuration(-5_000_000_000n), '-5s');
  assert.equal(formatDuration(3_723_000_000_001n), '1h2m3.000000001s');
});

test('resource.Quantity and intstr.IntOrString', () => {
  assert.equal(schema.decode(pb([[1, '500m']]), 'resource.Quantity'), '500m');
  assert.equal(schema.decode(new Uint8Array(0), 'resource.Quantity'), '0');
  assert.equal(
    schema.decode(
      pb([
        [1, 0],
        [2, 8080],
        [3, ''],
      ]),
      'intstr.IntOrString',
    ),
    8080,
  );
  assert.equal(
    schema.decode(
      pb([
        [1, 1],
        [2, 0],
        [3, 'http'],
      ]),
      'intstr.IntOrString',
    ),
    'http',
  );
  assert.equal(
    schema.decode(
      pb([
        [1, 0],
        [2, 0],
        [3, ''],
      ]),
      'intstr.IntOrString',
    ),
    0,
  );
});

test('runtime.RawExtension and meta.v1.FieldsV1 carry JSON', () => {
  const json = Buffer.from('{"f:metadata":{"f:labels":{".":{}}}}');
  assert.deepEqual(schema.decode(pb([[1, json]]), 'meta.v1.FieldsV1'), {
    'f:metadata': { 'f:labels': { '.': {} } },
  });
  assert.deepEqual(schema.decode(pb([[1, Buffer.from('{"a":1}')]]), 'runtime.RawExtension'), { a: 1 });
  assert.equal(schema.decode(new Uint8Array(0), 'runtime.RawExtension'), null);
  assert.throws(
    () => schema.decode(pb([[1, Buffer.from('not json')]]), 'runtime.RawExtension'),
    ProtobufDecodeError,
  );
  // a nested protobuf object inside a RawExtension
  const nested = envelope('v1', 'ConfigMap', pb([[1, [[1, 'inner']]]]));
  assert.deepEqual(schema.decode(pb([[1, nested]]), 'runtime.RawExtension'), {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'inner' },
  });
});

test('ObjectMeta: zero scalars omitted, maps, managedFields, ownerReferences, int64', () => {
  const meta = pb([
    [1, 'web'],
    [2, ''],
    [3, 'default'],
    [5, 'uid-1'],
    [6, ''],
    [7, 3],
    [8, [[1, 1735787045]]],
    [
      11,
      [
        [1, 'app'],
        [2, 'web'],
      ],
    ],
    [
      11,
      [
        [1, 'tier'],
        [2, ''],
      ],
    ],
    [
      13,
      [
        [5, 'apps/v1'],
        [1, 'ReplicaSet'],
        [3, 'rs'],
        [4, 'u'],
        [6, true],
        [7, false],
      ],
    ],
    [14, 'berth.test/f'],
    [14, 'berth.test/g'],
    [
      17,
      [
        [1, 'kubectl'],
        [2, 'Update'],
        [3, 'v1'],
        [4, [[1, 1735787045]]],
        [6, 'FieldsV1'],
        [7, [[1, Buffer.from('{"f:data":{}}')]]],
        [8, ''],
      ],
    ],
  ]);
  assert.deepEqual(schema.decode(meta, 'meta.v1.ObjectMeta'), {
    name: 'web',
    namespace: 'default',
    uid: 'uid-1',
    generation: 3,
    creationTimestamp: '2025-01-02T03:04:05Z',
    labels: { app: 'web', tier: '' },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'rs',
        uid: 'u',
        controller: true,
        blockOwnerDeletion: false,
      },
    ],
    finalizers: ['berth.test/f', 'berth.test/g'],
    managedFields: [
      {
        manager: 'kubectl',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2025-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': {} },
      },
    ],
  });
});

test('bytes map values are base64 (Secret.data), bool and int32 fields', () => {
  const secret = pb([
    [
      1,
      [
        [1, 's'],
        [8, []],
      ],
    ],
    [
      2,
      [
        [1, 'k'],
        [2, Buffer.from([0, 1, 2, 255])],
      ],
    ],
    [3, 'Opaque'],
    [5, true],
  ]);
  assert.deepEqual(schema.decode(secret, 'core.v1.Secret'), {
    metadata: { name: 's', creationTimestamp: null },
    data: { k: 'AAEC/w==' },
    type: 'Opaque',
    immutable: true,
  });
});

test('repeated scalars: packed and unpacked', () => {
  // core.v1.PodSecurityContext field 4 supplementalGroups: repeated int64
  const unpacked = pb([
    [4, 1],
    [4, 2],
  ]);
  const packedBody = Writer.create().int64(1).int64(300).finish();
  const packed = Writer.create()
    .uint32((4 << 3) | LEN)
    .bytes(packedBody)
    .finish();
  assert.deepEqual(schema.decode(unpacked, 'core.v1.PodSecurityContext'), { supplementalGroups: [1, 2] });
  assert.deepEqual(schema.decode(packed, 'core.v1.PodSecurityContext'), { supplementalGroups: [1, 300] });
});

test('inline embedded structs (Volume.volumeSource) and unwrap wrappers (ExtraValue)', () => {
  const vol = pb([
    [1, 'data'],
    [2, [[2, [[1, 'Memory']]]]],
  ]);
  assert.deepEqual(schema.decode(vol, 'core.v1.Volume'), { name: 'data', emptyDir: { medium: 'Memory' } });
  const spec = pb([
    [
      5,
      [
        [1, 'scopes'],
        [
          2,
          [
            [1, 'a'],
            [1, 'b'],
          ],
        ],
      ],
    ],
    [
      5,
      [
        [1, 'none'],
        [2, []],
      ],
    ],
  ]);
  assert.deepEqual(
    (schema.decode(spec, 'authorization.v1.SubjectAccessReviewSpec') as Record<string, unknown>).extra,
    { scopes: ['a', 'b'], none: [] },
  );
});

test('nil pointers/slices without omitempty become null, as in Go JSON', () => {
  // TokenRequestSpec: audiences []string (no omitempty), expirationSeconds *int64, boundObjectRef *BoundObjectReference
  assert.deepEqual(schema.decode(new Uint8Array(0), 'authentication.v1.TokenRequestSpec'), {
    audiences: null,
    expirationSeconds: null,
    boundObjectRef: null,
  });
});

test('unknown field numbers and wrong wire types are loud', () => {
  assert.throws(
    () => schema.decode(pb([[99, 'x']]), 'core.v1.ConfigMap'),
    /core\.v1\.ConfigMap: unknown field number 99/,
  );
  assert.throws(
    () => schema.decode(pb([[1, 5]]), 'core.v1.ConfigMap'),
    /core\.v1\.ConfigMap\.metadata \(field 1\): wire type 0, expected 2/,
  );
  assert.throws(
    () => schema.decode(pb([[3, 'x']]), 'meta.v1.Time'),
    /meta\.v1\.Time: unknown field number 3/,
  );
  assert.throws(
    () => schema.decode(Uint8Array.of(0x0a, 0x05, 0x01), 'core.v1.ConfigMap'),
    ProtobufDecodeError,
  );
  assert.throws(() => schema.decode(Uint8Array.of(0x0a), 'core.v1.ConfigMap'), ProtobufDecodeError);
});

test('the fact parser rejects malformed specs; a schema reports unresolved types', () => {
  assert.throws(() => parseFieldSpec(1, 'name', 'x.Y'), /bad spec/);
  assert.throws(() => parseFieldSpec(1, 'name string bogus', 'x.Y'), /unknown flag/);
  const s = new Schema([
    { pkg: 't.v1', group: 't', version: 'v1', messages: { A: { 1: 'b t.v1.Missing' } } },
  ]);
  assert.deepEqual(s.unresolved(), ['t.v1.A.b → t.v1.Missing']);
});

test('envelope: magic, typeMeta, raw; decodeKubernetesProtobuf / decodeProtobufAs', () => {
  // ObjectMeta {name: x, creationTimestamp: <empty Time, as gogo writes a zero Time>}
  const raw = pb([
    [
      1,
      [
        [1, 'x'],
        [8, []],
      ],
    ],
    [
      2,
      [
        [1, 'a'],
        [2, 'b'],
      ],
    ],
  ]);
  const body = envelope('v1', 'ConfigMap', raw);
  const env = decodeEnvelope(body);
  assert.equal(env.apiVersion, 'v1');
  assert.equal(env.kind, 'ConfigMap');
  assert.deepEqual(Buffer.from(env.raw), Buffer.from(raw));
  assert.deepEqual(decodeKubernetesProtobuf(body), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    object: {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'x', creationTimestamp: null },
      data: { a: 'b' },
    },
  });
  assert.throws(() => decodeEnvelope(Buffer.from('{"kind":"ConfigMap"}')), /magic/);
  assert.throws(() => decodeKubernetesProtobuf(envelope('', '', raw)), /no apiVersion\/kind/);
  assert.throws(() => decodeKubernetesProtobuf(envelope('berth.test/v1', 'Widget', raw)), /not supported/);
  // kubectl 1.33 DELETE body, captured: typeMeta {v1, DeleteOptions}, raw {gracePeriodSeconds: 3}
  const del = Buffer.from('6b3873000a130a027631120d44656c6574654f7074696f6e73120208031a002200', 'hex');
  assert.deepEqual(decodeProtobufAs(del, 'meta.k8s.io/v1', 'DeleteOptions').object, {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    gracePeriodSeconds: 3,
  });
  assert.deepEqual(
    decodeProtobufAs(envelope('', '', pb([[4, 'Background']])), 'meta.k8s.io/v1', 'DeleteOptions').object,
    {
      kind: 'DeleteOptions',
      apiVersion: 'meta.k8s.io/v1',
      propagationPolicy: 'Background',
    },
  );
  assert.throws(
    () => decodeProtobufAs(body, 'meta.k8s.io/v1', 'DeleteOptions'),
    /expected a protobuf DeleteOptions, got ConfigMap/,
  );
});

test('kind lookup by group/version', () => {
  assert.equal(messageFor('v1', 'Pod'), 'core.v1.Pod');
  assert.equal(messageFor('apps/v1', 'Deployment'), 'apps.v1.Deployment');
  assert.equal(messageFor('rbac.authorization.k8s.io/v1', 'ClusterRole'), 'rbac.v1.ClusterRole');
  assert.equal(messageFor('autoscaling/v1', 'Scale'), 'autoscaling.v1.Scale');
  assert.equal(messageFor('policy/v1', 'DeleteOptions'), 'meta.v1.DeleteOptions');
  assert.equal(
    messageFor('authentication.k8s.io/v1beta1', 'SelfSubjectReview'),
    'authentication.v1beta1.SelfSubjectReview',
  );
  assert.equal(messageFor('apps/v1', 'Nope'), undefined);
});
