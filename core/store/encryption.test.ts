import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from './sqlite-store.ts';
import {
  aesGcmTransformer,
  encryptionKeysPath,
  loadOrCreateEncryptionKeys,
  pruneEncryptionKeys,
  rotateEncryptionKey,
  storedKeyName,
} from './encryption.ts';
import type { KObject } from '../api/object.ts';

const VALUE = 'hunter2-very-secret-value';
const b64 = Buffer.from(VALUE).toString('base64');
const secret = (name: string): KObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'ns' },
  data: { password: b64 },
});
const skey = (name: string) => `/core/secrets/ns/${name}`;

function tmp(): { dir: string; db: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-enc-'));
  return { dir, db: join(dir, 'berth.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every byte SQLite has on disk for this database (main file, WAL, shared memory). */
function rawFiles(db: string): Buffer {
  return Buffer.concat(
    [db, `${db}-wal`, `${db}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  );
}

const rawValue = (db: string, key: string): Buffer => {
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.prepare('SELECT value FROM objects WHERE key = ?').get(key) as { value: Buffer }).value;
  } finally {
    conn.close();
  }
};

test('key file is created 0600 with one 32-byte key and reloaded unchanged', () => {
  const t = tmp();
  try {
    const a = loadOrCreateEncryptionKeys(t.dir);
    assert.equal(a.length, 1);
    assert.equal(a[0]!.secret.length, 32);
    if (process.platform !== 'win32') assert.equal(statSync(encryptionKeysPath(t.dir)).mode & 0o777, 0o600);
    const b = loadOrCreateEncryptionKeys(t.dir);
    assert.deepEqual(b, a);
  } finally {
    t.done();
  }
});

test('secret values never reach the SQLite files (main, WAL, history); other kinds stay plain', () => {
  const t = tmp();
  try {
    const s = openStore({ path: t.db, transformer: aesGcmTransformer(loadOrCreateEncryptionKeys(t.dir)) });
    s.create(skey('a'), secret('a'));
    s.update(skey('a'), { ...secret('a'), data: { password: b64, other: b64 } });
    s.create('/core/configmaps/ns/c', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'ns' },
      data: { plain: 'visible-configmap-value' },
    });
    const raw = rawFiles(t.db);
    assert.ok(!raw.includes(VALUE), 'decoded value on disk');
    assert.ok(!raw.includes(b64), 'base64 value on disk');
    assert.ok(raw.includes('visible-configmap-value'), 'sanity: plain kinds are readable in the file');
    // Every read path decrypts.
    assert.equal((s.get(skey('a'))?.['data'] as Record<string, string>)['password'], b64);
    assert.equal(s.list('/core/secrets/').items.length, 1);
    assert.equal(s.history(skey('a')).length, 2);
    assert.equal(s.getAt(skey('a'), 1)?.metadata.name, 'a');
    const events: string[] = [];
    const w = s.watch('/core/secrets/', { fromRevision: 0 }, (ev) =>
      events.push(`${ev.type}:${(ev.object['data'] as Record<string, string>)['password']}`),
    );
    w.stop();
    assert.deepEqual(events, [`ADDED:${b64}`, `MODIFIED:${b64}`]);
    s.close();
    assert.equal(storedKeyName(rawValue(t.db, skey('a'))), 'key1');
  } finally {
    t.done();
  }
});

test('plaintext secrets written before encryption are read, and encrypted on their next write', () => {
  const t = tmp();
  try {
    const plain = openStore({ path: t.db });
    plain.create(skey('old'), secret('old'));
    plain.close();
    const s = openStore({ path: t.db, transformer: aesGcmTransformer(loadOrCreateEncryptionKeys(t.dir)) });
    const got = s.get(skey('old'));
    assert.equal((got?.['data'] as Record<string, string>)['password'], b64);
    assert.equal(storedKeyName(rawValue(t.db, skey('old'))), undefined);
    s.update(skey('old'), got!);
    s.close();
    assert.equal(storedKeyName(rawValue(t.db, skey('old'))), 'key1');
  } finally {
    t.done();
  }
});

test('rotation: new writes use the new key, values under the old key still decrypt; pruning keeps the first', () => {
  const t = tmp();
  try {
    const s1 = openStore({ path: t.db, transformer: aesGcmTransformer(loadOrCreateEncryptionKeys(t.dir)) });
    s1.create(skey('a'), secret('a'));
    s1.close();
    assert.equal(rotateEncryptionKey(t.dir), 'key2');
    const keys = loadOrCreateEncryptionKeys(t.dir);
    assert.deepEqual(
      keys.map((k) => k.name),
      ['key2', 'key1'],
    );
    const s2 = openStore({ path: t.db, transformer: aesGcmTransformer(keys) });
    assert.equal(s2.get(skey('a'))?.metadata.name, 'a');
    s2.create(skey('b'), secret('b'));
    s2.update(skey('a'), s2.get(skey('a'))!);
    s2.close();
    assert.equal(storedKeyName(rawValue(t.db, skey('b'))), 'key2');
    assert.equal(storedKeyName(rawValue(t.db, skey('a'))), 'key2');
    pruneEncryptionKeys(t.dir, []);
    assert.deepEqual(
      loadOrCreateEncryptionKeys(t.dir).map((k) => k.name),
      ['key2'],
    );
    // Without the key a value was written with, reading fails loudly instead of returning garbage.
    const only1 = aesGcmTransformer(keys.slice(1));
    assert.throws(() => only1.decode(skey('b'), rawValue(t.db, skey('b'))), /unknown key key2/);
  } finally {
    t.done();
  }
});

test('a value moved to another key does not decrypt (the key is authenticated data)', () => {
  const tf = aesGcmTransformer([{ name: 'k', secret: Buffer.alloc(32, 7) }]);
  const enc = tf.encode(skey('a'), '{"x":1}');
  assert.equal(tf.decode(skey('a'), enc), '{"x":1}');
  assert.throws(() => tf.decode(skey('b'), enc));
  assert.equal(tf.encode('/core/configmaps/ns/a', '{"x":1}'), '{"x":1}');
});
