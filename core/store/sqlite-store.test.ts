import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AUTO_COMPACT_EVERY, openStore, StoreBadContinue } from './sqlite-store.ts';
import { type Store, StoreCompacted, StoreConflict, type StoreEvent } from './types.ts';
import type { KObject } from '../api/object.ts';

const cm = (name: string, v = '1'): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data: { v },
});
const key = (name: string, ns = 'ns') => `/core/configmaps/${ns}/${name}`;
const dataV = (o: KObject | undefined): string | undefined => (o?.['data'] as { v: string } | undefined)?.v;
const names = (objs: KObject[]) => objs.map((o) => o.metadata.name);
const conflict = (kind: string) => (e: unknown) => e instanceof StoreConflict && e.kind === kind;

function tmp(): { dir: string; path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  return { dir, path: join(dir, 'db.sqlite'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The store's own connection (synchronous is a per-connection setting, so it must be read there). */
const connectionOf = (s: Store): Database.Database => (s as unknown as { db: Database.Database }).db;

/** A tiny deterministic PRNG so randomized tests are reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

test('synchronous=FULL is verified on the store connection, and the file is in WAL mode', () => {
  const t = tmp();
  try {
    const s = openStore({ path: t.path });
    assert.equal(connectionOf(s).pragma('synchronous', { simple: true }), 2);
    assert.equal(connectionOf(s).pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(connectionOf(s).pragma('foreign_keys', { simple: true }), 0);
    assert.ok(Number(connectionOf(s).pragma('busy_timeout', { simple: true })) > 0);
    s.create(key('a'), cm('a'));
    s.close();
    const db = new Database(t.path);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  } finally {
    t.done();
  }
});

test('CAS writes, revisions and conflicts', () => {
  const s = openStore({ path: ':memory:' });
  const a = s.create(key('a'), cm('a'));
  assert.equal(a.metadata.resourceVersion, '1');
  assert.equal(s.get(key('a'))!.metadata.resourceVersion, '1');
  assert.throws(() => s.create(key('a'), cm('a')), conflict('exists'));
  const a2 = s.update(key('a'), cm('a', '2'), 1);
  assert.equal(a2.metadata.resourceVersion, '2');
  assert.throws(() => s.update(key('a'), cm('a', '3'), 1), conflict('modified'));
  assert.throws(() => s.update(key('zz'), cm('zz')), conflict('missing'));
  assert.throws(() => s.delete(key('a'), 1), conflict('modified'));
  assert.throws(() => s.delete(key('zz')), conflict('missing'));
  // Failed writes consume no revision and leave no history.
  assert.equal(s.revision(), 2);
  assert.equal(s.history(key('a')).length, 2);
  // An unconditional update succeeds regardless of the stored revision.
  assert.equal(s.update(key('a'), cm('a', '3')).metadata.resourceVersion, '3');
  const gone = s.delete(key('a'), 3);
  assert.equal(gone.metadata.resourceVersion, '4');
  assert.equal(dataV(gone), '3');
  assert.equal(s.get(key('a')), undefined);
  assert.equal(s.revision(), 4);
  // A deleted key can be created again.
  assert.equal(s.create(key('a'), cm('a', 'again')).metadata.resourceVersion, '5');
  s.close();
});

test('the revision survives reopening and never goes backwards, even with history compacted away', () => {
  const t = tmp();
  try {
    let s = openStore({ path: t.path, historyLimit: 0, historyMinAgeSeconds: 0 });
    s.create(key('a'), cm('a'));
    s.create(key('b'), cm('b'));
    s.delete(key('b'));
    s.delete(key('a'));
    assert.equal(s.compact(), 4);
    assert.equal(s.stats().historyRows, 0);
    assert.equal(s.stats().objects, 0);
    s.close();
    s = openStore({ path: t.path });
    assert.equal(s.revision(), 4);
    assert.equal(s.compactedRevision(), 4);
    assert.equal(s.create(key('c'), cm('c')).metadata.resourceVersion, '5');
    assert.deepEqual(names(s.list('/core/configmaps/').items), ['c']);
    s.close();
  } finally {
    t.done();
  }
});

test('reopening after close preserves objects, history, compaction and past revisions', () => {
  const t = tmp();
  try {
    let s = openStore({ path: t.path, historyLimit: 3, historyMinAgeSeconds: 0 });
    for (let i = 0; i < 5; i++) s.create(key(`o${i}`), cm(`o${i}`)); // 1..5
    s.update(key('o1'), cm('o1', '2')); // 6
    s.delete(key('o2')); // 7
    s.update(key('o1'), cm('o1', '3')); // 8
    const compacted = s.compact();
    assert.equal(compacted, 5);
    const before = {
      live: s.list('/core/configmaps/'),
      at6: s.list('/core/configmaps/', { atRevision: 6 }),
      hist: s.history(key('o1')),
      stats: s.stats(),
    };
    s.close();
    s.close(); // idempotent
    s = openStore({ path: t.path, historyLimit: 3, historyMinAgeSeconds: 0 });
    assert.deepEqual(s.list('/core/configmaps/'), before.live);
    assert.deepEqual(s.list('/core/configmaps/', { atRevision: 6 }), before.at6);
    assert.deepEqual(s.history(key('o1')), before.hist);
    assert.deepEqual(s.stats(), before.stats);
    assert.equal(dataV(s.getAt(key('o1'), 7)), '2');
    assert.equal(dataV(s.getAt(key('o2'), 6)), '1');
    assert.equal(s.getAt(key('o2'), 7), undefined);
    assert.throws(() => s.getAt(key('o1'), 4), StoreCompacted);
    s.close();
  } finally {
    t.done();
  }
});

test('pagination reads every page at the first page revision while writes continue', () => {
  const s = openStore({ path: ':memory:' });
  for (let i = 0; i < 10; i++) s.create(key(`o${i}`), cm(`o${i}`));
  const p1 = s.list('/core/configmaps/', { limit: 4 });
  assert.deepEqual(names(p1.items), ['o0', 'o1', 'o2', 'o3']);
  assert.equal(p1.remainingItemCount, 6);
  assert.equal(p1.revision, 10);
  s.delete(key('o5'));
  s.create(key('o45'), cm('o45'));
  s.update(key('o6'), cm('o6', 'changed'));
  s.delete(key('o0'));
  const p2 = s.list('/core/configmaps/', { limit: 4, continue: p1.continue });
  assert.equal(p2.revision, p1.revision);
  assert.deepEqual(names(p2.items), ['o4', 'o5', 'o6', 'o7']);
  assert.equal(dataV(p2.items[2]), '1');
  const p3 = s.list('/core/configmaps/', { limit: 4, continue: p2.continue });
  assert.equal(p3.revision, p1.revision);
  assert.deepEqual(names(p3.items), ['o8', 'o9']);
  assert.equal(p3.continue, undefined);
  // A fresh list sees the writes.
  assert.deepEqual(names(s.list('/core/configmaps/').items), [
    'o1',
    'o2',
    'o3',
    'o4',
    'o45',
    'o6',
    'o7',
    'o8',
    'o9',
  ]);
  // Exactly-full last page: no continue token.
  const full = s.list('/core/configmaps/', { limit: 9 });
  assert.equal(full.items.length, 9);
  assert.equal(full.continue, undefined);
  s.close();
});

test('garbled, foreign and forged continue tokens are StoreBadContinue; compacted ones StoreCompacted', () => {
  const s = openStore({ path: ':memory:', historyLimit: 0, historyMinAgeSeconds: 0 });
  for (let i = 0; i < 6; i++) s.create(key(`o${i}`), cm(`o${i}`));
  const p1 = s.list('/core/configmaps/', { limit: 2 });
  assert.ok(p1.continue);
  const forge = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  for (const bad of [
    'garbage!',
    '%%%',
    forge('just a string'),
    forge(null),
    forge({ v: 1, rv: 'x', start: key('o1'), prefix: '/core/configmaps/' }),
    forge({ v: 1, rv: 3, start: '/a', prefix: '/core/configmaps/' }), // start outside the prefix
    forge({ v: 1, rv: 999, start: key('o1'), prefix: '/core/configmaps/' }), // from the future
    forge({ v: 2, rv: 3, start: key('o1'), prefix: '/core/configmaps/' }),
  ])
    assert.throws(() => s.list('/core/configmaps/', { continue: bad }), StoreBadContinue, bad);
  assert.throws(() => s.list('/core/secrets/', { continue: p1.continue }), StoreBadContinue);
  assert.ok(new StoreBadContinue() instanceof Error);
  s.update(key('o3'), cm('o3', '2'));
  s.compact();
  assert.throws(() => s.list('/core/configmaps/', { continue: p1.continue }), StoreCompacted);
  s.close();
});

test('filters apply before the limit; namespaces are prefixes; count', () => {
  const s = openStore({ path: ':memory:' });
  for (let i = 0; i < 10; i++) s.create(key(`o${i}`, i % 2 ? 'odd' : 'even'), cm(`o${i}`, String(i)));
  s.create('/core/secrets/even/s', cm('s'));
  assert.deepEqual(names(s.list('/core/configmaps/even/').items), ['o0', 'o2', 'o4', 'o6', 'o8']);
  const filter = (o: KObject) => Number(dataV(o)) >= 4;
  const f1 = s.list('/core/configmaps/', { limit: 2, filter });
  assert.deepEqual(names(f1.items), ['o4', 'o6']);
  assert.ok(f1.continue);
  const f2 = s.list('/core/configmaps/', { limit: 2, filter, continue: f1.continue });
  assert.deepEqual(names(f2.items), ['o8', 'o5']);
  const f3 = s.list('/core/configmaps/', { limit: 2, filter, continue: f2.continue });
  assert.deepEqual(names(f3.items), ['o7', 'o9']);
  // No further match after o9: no continue token even though the page is full.
  assert.equal(f3.continue, undefined);
  assert.equal(s.count('/core/configmaps/odd/'), 5);
  assert.equal(s.count('/core/configmaps/'), 10);
  assert.equal(s.count('/core/'), 11);
  assert.equal(s.count(''), 11);
  assert.equal(s.list('').items.length, 11);
  s.close();
});

test('large filtered lists cross read chunks correctly', () => {
  const s = openStore({ path: ':memory:' });
  const tx = connectionOf(s).transaction(() => {
    for (let i = 0; i < 2500; i++) s.create(key(`o${String(i).padStart(4, '0')}`), cm('x', String(i)));
  });
  tx();
  const filter = (o: KObject) => Number(dataV(o)) % 7 === 0;
  const all = s.list('/core/configmaps/', { filter });
  assert.equal(all.items.length, Math.ceil(2500 / 7));
  const seen: KObject[] = [];
  let cont: string | undefined;
  do {
    const page = s.list('/core/configmaps/', { limit: 50, filter, continue: cont });
    seen.push(...page.items);
    cont = page.continue;
  } while (cont);
  assert.deepEqual(seen, all.items);
  s.close();
});

test('list and get at a past revision', () => {
  const s = openStore({ path: ':memory:' });
  s.create(key('a'), cm('a', '1')); // 1
  s.create(key('b'), cm('b', '1')); // 2
  s.update(key('a'), cm('a', '2')); // 3
  s.delete(key('b')); // 4
  s.create(key('c'), cm('c', '1')); // 5
  s.create(key('b'), cm('b', 'reborn')); // 6
  const at = (rv: number) =>
    s.list('/core/configmaps/', { atRevision: rv }).items.map((o) => [o.metadata.name, dataV(o)]);
  assert.deepEqual(at(0), []);
  assert.deepEqual(at(2), [
    ['a', '1'],
    ['b', '1'],
  ]);
  assert.deepEqual(at(4), [['a', '2']]);
  assert.deepEqual(at(5), [
    ['a', '2'],
    ['c', '1'],
  ]);
  assert.deepEqual(at(6), [
    ['a', '2'],
    ['b', 'reborn'],
    ['c', '1'],
  ]);
  assert.equal(s.list('/core/configmaps/', { atRevision: 2 }).revision, 2);
  assert.equal(s.list('/core/configmaps/', { atRevision: 2 }).items[1]!.metadata.resourceVersion, '2');
  // Paging at a past revision.
  const p1 = s.list('/core/configmaps/', { atRevision: 5, limit: 1 });
  assert.deepEqual(names(p1.items), ['a']);
  const p2 = s.list('/core/configmaps/', { limit: 1, continue: p1.continue });
  assert.equal(p2.revision, 5);
  assert.deepEqual(names(p2.items), ['c']);
  assert.equal(p2.continue, undefined);

  assert.equal(dataV(s.getAt(key('a'), 2)), '1');
  assert.equal(dataV(s.getAt(key('a'), 3)), '2');
  assert.equal(s.getAt(key('b'), 4), undefined);
  assert.equal(s.getAt(key('c'), 4), undefined);
  assert.equal(dataV(s.getAt(key('b'), 6)), 'reborn');
  assert.deepEqual(
    s.history(key('b')).map((e) => [e.type, e.rv, e.object.metadata.resourceVersion]),
    [
      ['ADDED', 2, '2'],
      ['DELETED', 4, '4'],
      ['ADDED', 6, '6'],
    ],
  );
  assert.equal(dataV(s.history(key('b'))[1]!.object), '1');
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
  assert.equal(dataV(seen[0]!.prevObject), '1');
  assert.equal(seen[0]!.prevObject!.metadata.resourceVersion, '1');
  assert.equal(seen[1]!.prevObject, undefined);
  assert.equal(seen[3]!.object.metadata.resourceVersion, '6');
  assert.equal(seen[3]!.prevObject!.metadata.resourceVersion, '2');
  w.stop();
  s.create(key('d'), cm('d'));
  assert.equal(seen.length, 4);

  // A replayed DELETED carries its previous object too.
  const replayed: StoreEvent[] = [];
  s.watch('/core/configmaps/ns/', { fromRevision: 5 }, (ev) => replayed.push(ev)).stop();
  assert.deepEqual(
    replayed.map((e) => [e.type, e.rv]),
    [
      ['DELETED', 6],
      ['ADDED', 7],
    ],
  );
  assert.deepEqual(replayed[0]!.object, seen[3]!.object);
  assert.deepEqual(replayed[0]!.prevObject, seen[3]!.prevObject);
  s.close();
});

test('watch: writes during replay and watches opened inside callbacks keep order, no gaps or duplicates', () => {
  const s = openStore({ path: ':memory:' });
  for (let i = 0; i < 2500; i++) s.create(key(`p${i}`), cm(`p${i}`)); // more than one replay chunk
  const revs: number[] = [];
  let writes = 0;
  const inner: number[] = [];
  s.watch('/core/configmaps/', { fromRevision: 0 }, (ev) => {
    revs.push(ev.rv);
    // Write while the replay is still running (and later, while live events are being fanned out).
    if (ev.rv % 500 === 0 && writes < 20) {
      writes++;
      s.update(key('p0'), cm('p0', String(ev.rv)));
    }
    // Open another watch from inside a callback, from an older revision.
    if (ev.rv === 2600 - 1) s.watch('/core/configmaps/', { fromRevision: 2400 }, (e2) => inner.push(e2.rv));
  });
  // Another watcher live-only that must see every write after 2500 exactly once.
  const live: number[] = [];
  s.watch('/core/configmaps/', { fromRevision: 2500 }, (ev) => live.push(ev.rv));
  for (let i = 0; i < 100; i++) s.update(key(`p${i}`), cm(`p${i}`, 'x'));
  const head = s.revision();
  const expectAll = Array.from({ length: head }, (_, i) => i + 1);
  assert.deepEqual(revs, expectAll);
  assert.ok(writes >= 5);
  const fromTo = (a: number) => expectAll.filter((r) => r > a);
  assert.deepEqual(live, fromTo(2500));
  assert.deepEqual(inner, fromTo(2400));
  s.close();
});

test('watch: randomized writes, deletes and watchers from random revisions see exactly history', () => {
  const s = openStore({ path: ':memory:' });
  const r = rng(42);
  const prefixes = [
    '/core/configmaps/',
    '/core/configmaps/a/',
    '/core/configmaps/b/',
    '/core/',
    '',
    '/core/c',
  ];
  const watchers: { prefix: string; from: number; got: StoreEvent[] }[] = [];
  for (let step = 0; step < 3000; step++) {
    const ns = r() < 0.5 ? 'a' : 'b';
    const k = key(`k${Math.floor(r() * 50)}`, ns);
    const existing = s.get(k);
    if (!existing) s.create(k, cm('k', String(step)));
    else if (r() < 0.2) s.delete(k);
    else s.update(k, cm('k', String(step)));
    if (r() < 0.01) {
      const w = { prefix: prefixes[Math.floor(r() * prefixes.length)]!, from: 0, got: [] as StoreEvent[] };
      w.from = Math.floor(r() * s.revision());
      s.watch(w.prefix, { fromRevision: w.from }, (ev) => {
        w.got.push(ev);
        if (r() < 0.05) s.create(`/core/configmaps/cb/${ev.rv}-${w.got.length}`, cm('cb'));
      });
      watchers.push(w);
    }
  }
  assert.ok(watchers.length > 10);
  // Reference: everything in history, filtered by prefix (nothing was compacted).
  const all: StoreEvent[] = [];
  s.watch('', { fromRevision: 0 }, (ev) => all.push(ev)).stop();
  assert.equal(all.length, s.revision());
  for (const w of watchers) {
    const want = all.filter((e) => e.rv > w.from && e.key.startsWith(w.prefix));
    assert.deepEqual(
      w.got.map((e) => e.rv),
      want.map((e) => e.rv),
      `${w.prefix} from ${w.from}`,
    );
    assert.deepEqual(w.got, want);
  }
  s.close();
});

test('watch filters, failing callbacks and prefix fan-out', () => {
  const s = openStore({ path: ':memory:' });
  const got: Record<string, number[]> = { a: [], b: [], all: [], odd: [], filtered: [] };
  s.watch('/core/configmaps/a/', { fromRevision: 0 }, (e) => got['a']!.push(e.rv));
  s.watch('/core/configmaps/b/', { fromRevision: 0 }, (e) => got['b']!.push(e.rv));
  s.watch('/core/configmaps/', { fromRevision: 0 }, (e) => got['all']!.push(e.rv));
  s.watch('/core/configmaps/a/x', { fromRevision: 0 }, (e) => got['odd']!.push(e.rv)); // x, x2, ...
  s.watch('/core/', { fromRevision: 0, filter: (e) => e.type === 'DELETED' }, (e) =>
    got['filtered']!.push(e.rv),
  );
  s.watch('/core/configmaps/', { fromRevision: 0 }, () => {
    throw new Error('broken watcher');
  });
  s.watch('/core/configmaps/', { fromRevision: 0, filter: () => JSON.parse('{') as boolean }, () => {});
  s.create(key('x', 'a'), cm('x')); // 1
  s.create(key('x2', 'a'), cm('x2')); // 2
  s.create(key('y', 'b'), cm('y')); // 3
  s.create('/core/secrets/a/x', cm('s')); // 4
  s.delete(key('x', 'a')); // 5
  assert.deepEqual(got, { a: [1, 2, 5], b: [3], all: [1, 2, 3, 5], odd: [1, 2, 5], filtered: [5] });
  assert.equal(s.revision(), 5);
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
  assert.equal(s.compactedRevision(), 5);
  assert.throws(
    () => s.watch('/core/configmaps/', { fromRevision: 1 }, () => undefined),
    (e: unknown) => e instanceof StoreCompacted && e.requested === 1 && e.compacted === 5,
  );
  assert.throws(() => s.watch('/core/configmaps/', { fromRevision: 4 }, () => undefined), StoreCompacted);
  assert.throws(() => s.list('/core/configmaps/', { atRevision: 2 }), StoreCompacted);
  assert.throws(() => s.getAt(key('n0'), 4), StoreCompacted);
  const at5 = s.list('/core/configmaps/', { atRevision: 5 });
  assert.deepEqual(names(at5.items).sort(), ['n0', 'n1', 'n2', 'n3', 'old']);
  // fromRevision == compactedRevision is fine.
  const events: number[] = [];
  s.watch('/core/configmaps/', { fromRevision: 5 }, (e) => events.push(e.rv)).stop();
  assert.deepEqual(events, [6, 7]);
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
  // Deleted keys vanish from history once their delete is compacted.
  s.delete(key('old')); // 11
  s.update(key('n2'), cm('n2', '2')); // 12
  s.update(key('n2'), cm('n2', '3')); // 13
  assert.equal(s.compact(), 11);
  assert.deepEqual(s.history(key('old')), []);
  assert.deepEqual(
    names(s.list('/core/configmaps/', { atRevision: 11 }).items),
    names(s.list('/core/configmaps/', { atRevision: 11 }).items).sort(),
  );
  assert.deepEqual(names(s.list('/core/configmaps/', { atRevision: 11 }).items), [
    'n0',
    'n1',
    'n2',
    'n3',
    'n4',
  ]);
  assert.equal(s.compact(), 11); // idempotent
  s.close();
});

test('compaction honours the minimum age and runs automatically every AUTO_COMPACT_EVERY writes', () => {
  const s = openStore({ path: ':memory:', historyLimit: 1, historyMinAgeSeconds: 3600 });
  s.create(key('a'), cm('a'));
  for (let i = 0; i < 20; i++) s.update(key('a'), cm('a', String(i)));
  assert.equal(s.compact(), 0);
  assert.equal(s.stats().historyRows, 21);
  s.close();

  const auto = openStore({ path: ':memory:', historyLimit: 10, historyMinAgeSeconds: 0 });
  auto.create(key('a'), cm('a'));
  for (let i = 1; i < AUTO_COMPACT_EVERY; i++) auto.update(key('a'), cm('a', String(i)));
  assert.equal(auto.revision(), AUTO_COMPACT_EVERY);
  assert.equal(auto.compactedRevision(), AUTO_COMPACT_EVERY - 10);
  assert.equal(auto.stats().historyRows, 11);
  assert.equal(auto.stats().objects, 1);
  auto.close();
});

test('compaction does not overtake a watcher that is still replaying', () => {
  const t = tmp();
  try {
    let s = openStore({ path: t.path });
    s.create(key('a'), cm('a'));
    for (let i = 0; i < 2499; i++) s.update(key('a'), cm('a', String(i)));
    s.close();
    s = openStore({ path: t.path, historyLimit: 5, historyMinAgeSeconds: 0 });
    const revs: number[] = [];
    s.watch('/core/configmaps/', { fromRevision: 0 }, (ev) => {
      revs.push(ev.rv);
      // Would drop rows of the next replay chunks, which have not been read yet.
      if (ev.rv === 2) s.compact();
    });
    assert.deepEqual(
      revs,
      Array.from({ length: 2500 }, (_, i) => i + 1),
    );
    assert.equal(s.compactedRevision(), 2);
    assert.equal(s.compact(), 2495);
    s.close();
  } finally {
    t.done();
  }
});

test('values pass through the transformer (Buffer output) on every read path', () => {
  const t = tmp();
  try {
    const mask = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
    let encodes = 0;
    const tf = {
      encode: (k: string, json: string) => {
        encodes++;
        return k.startsWith('/core/secrets/') ? mask(Buffer.from(json)) : json;
      },
      decode: (k: string, stored: Buffer | string) =>
        k.startsWith('/core/secrets/') ? mask(stored as Buffer).toString() : String(stored),
    };
    const sk = '/core/secrets/ns/s';
    const s = openStore({ path: t.path, transformer: tf });
    s.create(sk, cm('s', 'hunter2'));
    s.update(sk, cm('s', 'hunter3'));
    s.create(key('plain'), cm('plain', 'visible'));
    assert.equal(encodes, 3);
    s.close();
    const db = new Database(t.path);
    for (const table of ['objects', 'history']) {
      const rows = db.prepare(`SELECT key, value FROM ${table}`).all() as {
        key: string;
        value: Buffer | string;
      }[];
      for (const r of rows)
        if (r.key === sk) {
          assert.ok(Buffer.isBuffer(r.value));
          assert.doesNotMatch(r.value.toString('latin1'), /hunter/);
        } else assert.match(String(r.value), /visible/);
    }
    db.close();
    const s2 = openStore({ path: t.path, transformer: tf });
    assert.equal(dataV(s2.get(sk)), 'hunter3');
    assert.equal(dataV(s2.getAt(sk, 1)), 'hunter2');
    assert.equal(dataV(s2.list('/core/secrets/').items[0]), 'hunter3');
    assert.equal(dataV(s2.list('/core/secrets/', { atRevision: 1 }).items[0]), 'hunter2');
    assert.deepEqual(
      s2.history(sk).map((e) => dataV(e.object)),
      ['hunter2', 'hunter3'],
    );
    const evs: StoreEvent[] = [];
    s2.watch('/core/secrets/', { fromRevision: 0 }, (e) => evs.push(e));
    s2.delete(sk);
    assert.deepEqual(
      evs.map((e) => [e.type, dataV(e.object), dataV(e.prevObject)]),
      [
        ['ADDED', 'hunter2', undefined],
        ['MODIFIED', 'hunter3', 'hunter2'],
        ['DELETED', 'hunter3', 'hunter3'],
      ],
    );
    s2.close();
  } finally {
    t.done();
  }
});

test('objects returned to callers and to watchers are independent copies', () => {
  const s = openStore({ path: ':memory:' });
  const input = cm('a');
  let seen: KObject | undefined;
  s.watch('/core/', { fromRevision: 0 }, (e) => (seen = e.object));
  const out = s.create(key('a'), input);
  (out['data'] as { v: string }).v = 'mutated by caller';
  assert.equal(dataV(seen), '1');
  assert.equal(dataV(s.get(key('a'))), '1');
  assert.equal(input.metadata.resourceVersion, undefined);
  s.close();
});

test('batch: writes share one commit, watchers hear of them only after it, a failed write leaves the rest', () => {
  const t = tmp();
  try {
    const s = openStore({ path: t.path });
    s.create(key('old'), cm('old'));
    const seen: string[] = [];
    const w = s.watch('/core/configmaps/', { fromRevision: s.revision() }, (ev) =>
      seen.push(`${ev.type} ${ev.object.metadata.name ?? ''} ${ev.rv}`),
    );
    const out = s.batch(() => {
      const a = s.create(key('a'), cm('a'));
      assert.throws(() => s.create(key('old'), cm('old')), conflict('exists'));
      const b = s.update(key('a'), cm('a', '2'), Number(a.metadata.resourceVersion));
      // Nested batches join the outer one; reads inside see the batch's own writes.
      s.batch(() => s.delete(key('old')));
      assert.equal(dataV(s.get(key('a'))), '2');
      assert.deepEqual(seen, [], 'no event before the commit');
      return Number(b.metadata.resourceVersion);
    });
    assert.equal(s.revision(), out + 1);
    assert.deepEqual(seen, [`ADDED a ${out - 1}`, `MODIFIED a ${out}`, `DELETED old ${out + 1}`]);
    // fn throwing: what it wrote is committed, the error reaches the caller.
    assert.throws(
      () =>
        s.batch(() => {
          s.create(key('c'), cm('c'));
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(seen.at(-1), `ADDED c ${s.revision()}`);
    w.stop();
    s.close();
    // Durable: a fresh open sees every committed write of the batches.
    const again = openStore({ path: t.path });
    assert.deepEqual(names(again.list('/core/configmaps/').items), ['a', 'c']);
    assert.equal(dataV(again.get(key('a'))), '2');
    again.close();
  } finally {
    t.done();
  }
});
