import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/object.ts';
import { authFromSecrets, defaultPullPolicy, registryOf } from './images.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret = (data: Record<string, string>): KObject => ({ metadata: { name: 's' }, data });

describe('image pulls', () => {
  test('default pull policy', () => {
    assert.equal(defaultPullPolicy('busybox'), 'Always');
    assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
    assert.equal(defaultPullPolicy('localhost:5000/x'), 'Always');
    assert.equal(defaultPullPolicy('localhost:5000/x:1.0'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('x@sha256:abc'), 'IfNotPresent');
  });

  test('registry of a reference', () => {
    assert.equal(registryOf('busybox'), 'docker.io');
    assert.equal(registryOf('library/busybox:1'), 'docker.io');
    assert.equal(registryOf('127.0.0.1:1/berth/none:1'), '127.0.0.1:1');
    assert.equal(registryOf('localhost/berth/busybox:1.35'), 'localhost');
  });

  test('credentials from dockerconfigjson and dockercfg secrets', () => {
    const cfg = secret({
      '.dockerconfigjson': b64(
        JSON.stringify({ auths: { 'https://reg.example:5000/v2/': { auth: b64('u:p:w') } } }),
      ),
    });
    assert.deepEqual(authFromSecrets('reg.example:5000/app:1', [cfg]), {
      serverAddress: 'https://reg.example:5000',
      username: 'u',
      password: 'p:w',
    });
    assert.equal(authFromSecrets('other.example/app:1', [cfg]), undefined);
    const legacy = secret({
      '.dockercfg': b64(JSON.stringify({ 'https://index.docker.io/v1/': { username: 'a', password: 'b' } })),
    });
    assert.deepEqual(authFromSecrets('busybox', [legacy]), {
      username: 'a',
      password: 'b',
    });
  });
});
