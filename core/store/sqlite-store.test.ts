import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, StoreBadContinue } from './sqlite-store.ts';
import { StoreCompacted, StoreConflict, type StoreEvent } from './types.ts';
import type { KObject } from '../api/object.ts';

const cm = (name: string, v = '1'): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data: { v },
});
const key = (name: string, ns = 'ns') => `/core/configmaps/${ns}/${name}`;

function tmp(): { dir: string; path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  return { dir, path: join(dir, 'db.sqlite'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('synchronous=FULL and WAL are in force', () => {
  const t = tmp();
  const s = openStore({ path: t.path });
  s.create(key('a'), cm('a'));
  s.close();
  const db = new Database(t.path);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  t.done();
});

test('CAS writes, revisions and conflicts', () => {
  const s = openStore({ path: ':memory:' });
  const a = s.create(key('a'), cm('a'));
  assert.equal(a.metadata.resourceVersion, '1');
  assert.throws(
    () => s.create(key('a'), cm('a')),
    (e: unknown) => e instanceof StoreConflict && e.kind === 'exists',
  );
  const a2 = s.update(key('a'), cm('a', '2'), 1);
  assert.equal(a2.metadata.resourceVersion, '2');
  assert.throws(
    () => s.update(key('a'), cm('a', '3'), 1),
    (e: unknown) => e instanceof StoreConflict && e.kind === 'modified',
  );
  assert.throws(
    () => s.update(key('zz'), cm('zz')),
    (e: unknown) => e instanceof StoreConflict && e.kind === 'missing',
  );
  const gone = s.delete(key('a'));
  assert.equal(gone.metadata.resourceVersion, '3');
  assert.equal(s.get(key('a')), undefined);
  assert.equal(s.revision(), 3);
  s.close();
});

test('the revision survives reopening and never goes backwards', () => {
  const t = tmp();
  let s = openStore({ path: t.path });
  s.create(key('a'), cm('a'));
  s.create(key('b'), cm('b'));
  s.delete(key('b'));
  s.close();
  s = openStore({ path: t.path });
  assert.equal(s.revision(), 3);
  assert.equal(s.create(key('c'), cm('c')).metadata.resourceVersion, '4');
  assert.deepEqual(
    s.list('/core/configmaps/').items.map((o) => o.metadata.name),
    ['a', 'c'],
  );
  s.close();
  t.done();
});

test('pagination reads every page at the first page revision while writes continue', () => {
  const s = openStore({ path: ':memory:' });
  for (let i = 0; i < 10; i++) s.create(key(`o${i}`), cm(`o${i}`));
  const p1 = s.list('/core/configmaps/', { limit: 4 });
  assert.equal(p1.items.length, 4);
  assert.equal(p1.remainingItemCount, 6);
  s.delete(key('o5'));
  s.create(key('o45'), cm('o45'));
  const p2 = s.list('/core/configmaps/', { limit: 4, continue: p1.continue });
  assert.equal(p2.revision, p1.revision);
  assert.deepEqual(
    p2.items.map((o) => o.metadata.name),
    ['o4', 'o5', 'o6', 'o7'],
  );
  const p3 = s.list('/core/configmaps/', { limit: 4, continue: p2.continue });
  assert.deepEqual(
    p3.items.map((o) => o.metadata.name),
    ['o8', 'o9'],
  );
  assert.equal(p3.continue, undefined);
  assert.throws(() => s.list('/core/configmaps/', { continue: 'garbage!' }), StoreBadContinue);
  assert.throws(() => s.list('/core/secrets/', { continue: p1.continue }), StoreBadContinue);
  s.close();
});

test('filters apply before the limit; namespaces are prefixes', () => {
  const s = openStore({ path: ':memory:' });
  for (let i = 0; i < 6; i++) s.create(key(`o${i}`, i % 2 ? 'odd' : 'even'), cm(`o${i}`, String(i)));
  const even = s.list('/core/configmaps/even/');
  assert.deepEqual(
    even.items.map((o) => o.metadata.name),
    ['o0', 'o2', 'o4'],
  );
  const f = s.list('/core/configmaps/', {
    limit: 2,
    filter: (o) => Number((o['data'] as { v: string }).v) >= 2,
  });
  assert.equal(f.items.length, 2);
  assert.ok(f.continue);
  assert.equal(s.count('/core/configmaps/odd/'), 3);
  s.close();
});

test('list and get at a past revision', () => {
  const s = openStore({ path: ':memory:' });
  s.create(key('a'), cm('a', '1')); // 1
  s.create(key('b'), cm('b', '1')); // 2
  s.update(key('a'), cm('a', '2')); // 3
  s.delete(key('b')); // 4
  const at2 = s.list('/core/configmaps/', { atRevision: 2 });
  assert.deepEqual(
    at2.items.map((o) => [o.metadata.name, (o['data'] as { v: string }).v]),
    [
      ['a', '1'],
      ['b', '1'],
    ],
  );
  assert.equal((s.getAt(key('a'), 3)!['data'] as { v: string }).v, '2');
  assert.equal(s.getAt(key('b'), 4), undefined);
  assert.deepEqual(
    s.history(key('a')).map((e) => [e.type, e.rv]),
    [
      ['ADDED', 1],
      ['MODIFIED', 3],
    ],
  );
  s.close();
});

test('watch replays history then delivers live events in order, with previous objects', () => {
  const s = openStore({ path: ':memory:' });
  s.create(key('a'), cm('a')); // 1
  s.update(key('a'), cm('a', '2')); // 2
  const seen: StoreEvent[] = [];
  const w = s.watch('/core/configmaps/ns/', { fromRevision: 1 }, (ev) => {
    seen.push(ev);
    // A write from inside a callback is delivered after this one, never before.
    if (ev.rv === 3) s.create(key('c'), cm('c'));
  });
  s.create(key('b'), cm('b')); // 3 → triggers 4
  s.create(key('x', 'other'), cm('x')); // 5: another namespace
  s.delete(key('a')); // 6
  assert.deepEqual(
    seen.map((e) => [e.type, e.rv, e.object.metadata.name]),
    [
      ['MODIFIED', 2, 'a'],
      ['ADDED', 3, 'b'],
      ['ADDED', 4, 'c'],
      ['DELETED', 6, 'a'],
    ],
  );
  assert.equal((seen[0]!.prevObject!['data'] as { v: string }).v, '1');
  assert.equal(seen[3]!.object.metadata.resourceVersion, '6');
  w.stop();
  s.create(key('d'), cm('d'));
  assert.equal(seen.length, 4);
  s.close();
});

test('compaction keeps the newest row of every live key and makes older revisions 410', () => {
  const s = openStore({ path: ':memory:', historyLimit: 2, historyMinAgeSeconds: 0 });
  s.create(key('old'), cm('old')); // 1
  for (let i = 0; i < 5; i++) s.create(key(`n${i}`), cm(`n${i}`)); // 2..6
  s.update(key('n0'), cm('n0', '2')); // 7
  const before = s.stats().historyRows;
  const c = s.compact();
  assert.equal(c, 5);
  assert.throws(() => s.watch('/core/configmaps/', { fromRevision: 1 }, () => undefined), StoreCompacted);
  assert.throws(() => s.list('/core/configmaps/', { atRevision: 2 }), StoreCompacted);
  const at5 = s.list('/core/configmaps/', { atRevision: 5 });
  assert.deepEqual(at5.items.map((o) => o.metadata.name).sort(), ['n0', 'n1', 'n2', 'n3', 'old']);
  const events: number[] = [];
  s.watch('/core/configmaps/', { fromRevision: 5 }, (e) => events.push(e.rv)).stop();
  // Nothing superseded at or before revision 5, so every row stays; superseded rows go next time.
  assert.equal(s.stats().historyRows, before);
  s.update(key('n1'), cm('n1', '2')); // 8
  s.update(key('n1'), cm('n1', '3')); // 9
  s.update(key('n1'), cm('n1', '4')); // 10
  assert.equal(s.compact(), 8);
  assert.equal(s.stats().historyRows, before + 3 - 2); // n0@2 and n1@3 were superseded
  assert.deepEqual(
    s.history(key('n1')).map((e) => e.rv),
    [8, 9, 10],
  );
  s.close();
});

test('values pass through the transformer', () => {
  const t = tmp();
  const tf = {
    encode: (_k: string, json: string) => Buffer.from(json).toString('base64'),
    decode: (_k: string, stored: Buffer | string) => Buffer.from(String(stored), 'base64').toString(),
  };
  const s = openStore({ path: t.path, transformer: tf });
  s.create(key('secret'), cm('secret', 'hunter2'));
  s.close();
  const db = new Database(t.path);
  const raw = db.prepare('SELECT value FROM objects').get() as { value: string };
  assert.doesNotMatch(String(raw.value), /hunter2/);
  db.close();
  const s2 = openStore({ path: t.path, transformer: tf });
  assert.equal((s2.get(key('secret'))!['data'] as { v: string }).v, 'hunter2');
  s2.close();
  t.done();
});
