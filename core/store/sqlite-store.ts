/**
 * The object store on SQLite (better-sqlite3, WAL, synchronous=FULL verified at open).
 *
 * Schema (version 1):
 *   objects (key PRIMARY KEY, rv, value)                 the live collection, one row per key
 *   history (rv INTEGER PRIMARY KEY, key, type, value, prev_rv, ts), index (key, rv)
 *                                                         one row per committed revision; type is
 *                                                         0 ADDED, 1 MODIFIED, 2 DELETED
 *   meta    (k PRIMARY KEY, v)                            'schema', 'revision' (max rv ever committed),
 *                                                         'compacted' (oldest readable revision)
 *
 * Every write is one IMMEDIATE transaction: CAS check, rv = revision + 1, resourceVersion stamped into
 * the stored JSON, history row appended, objects row upserted, meta.revision advanced. So the revision
 * survives restarts and never goes backwards even when history is compacted away. Watch events are
 * delivered only after COMMIT returns, from an in-process queue (single writer, single thread).
 * batch() lets a synchronous stretch of writes share one transaction (each write a savepoint in it) and
 * one fsync — group commit — with their events held back until that COMMIT.
 *
 * Compaction (like etcd's) keeps the newest row of every live key at or before the compacted revision,
 * so any revision >= compactedRevision can be listed exactly. Retention: at most `historyLimit`
 * revisions behind the head, but never a row younger than `historyMinAgeSeconds`. It runs on demand
 * (`compact()`) and automatically after every AUTO_COMPACT_EVERY writes; each run only touches the
 * rows between the previous and the new compacted revision, so it stays cheap.
 */
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { KObject } from '../api/object.ts';
import {
  type ListOptions,
  type ListResult,
  type Store,
  StoreCompacted,
  StoreConflict,
  type StoreEvent,
  type StoreOptions,
  type StoreStats,
  type WatchEventType,
  type WatchOptions,
  type Watcher,
} from './types.ts';

/** A garbled, foreign or forged continue token (the registry answers 410 Expired, as Kubernetes does). */
export class StoreBadContinue extends Error {
  constructor(message = 'invalid continue token') {
    super(message);
    this.name = 'StoreBadContinue';
  }
}

/** The on-disk schema this code reads and writes. */
export const SCHEMA_VERSION = 1;
/** Compaction runs automatically after this many writes (one cheap extra transaction). */
export const AUTO_COMPACT_EVERY = 1000;
/** Watch replay reads history in chunks of this many rows (callbacks may write between chunks). */
const REPLAY_CHUNK = 1000;
/** Filtered lists read the collection in chunks of this many rows. */
const LIST_CHUNK = 1000;

const TYPE_CODE: Record<WatchEventType, number> = { ADDED: 0, MODIFIED: 1, DELETED: 2 };
const CODE_TYPE: readonly WatchEventType[] = ['ADDED', 'MODIFIED', 'DELETED'];

type Value = Buffer | string;
/** Raw rows (better-sqlite3 `.raw()`): arrays are cheaper to build than objects on the hot paths. */
type KeyValueRow = [key: string, value: Value];
type KeyTypeValueRow = [key: string, type: number, value: Value, rv: number];
type ReplayRow = [rv: number, key: string, type: number, value: Value, prevValue: Value | null];
type HistoryRow = [rv: number, key: string, type: number, value: Value];

interface WatcherEntry {
  prefix: string;
  filter: ((ev: StoreEvent) => boolean) | undefined;
  cb: (ev: StoreEvent) => void;
  /** The last revision delivered (or skipped) for this watcher: never deliver rv <= lastRv. */
  lastRv: number;
  stopped: boolean;
}

/** The exclusive upper bound of the key range that starts with `prefix`. */
function rangeEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  // Empty prefix, or a last character we cannot simply increment: cap with the largest code point.
  if (Number.isNaN(last) || last >= 0xd7ff) return prefix + '\u{10FFFF}';
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** The smallest key greater than `key` (keys never contain NUL). */
const after = (key: string): string => `${key}\u0000`;

export function openStore(opts: StoreOptions): Store {
  return new SqliteStore(opts);
}

class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly st: ReturnType<typeof prepare>;
  private readonly writeTx: (w: PendingWrite) => CommittedWrite;
  private readonly tf: StoreOptions['transformer'];
  private readonly historyLimit: number;
  private readonly minAgeMs: number;

  private rev: number;
  private compacted: number;
  private lastTs: number;
  private writesSinceCompact = 0;

  /** Watchers whose prefix ends in "/" (or is empty), by exact prefix; the rest are matched by scan. */
  private readonly byPrefix = new Map<string, Set<WatcherEntry>>();
  private readonly otherWatchers = new Set<WatcherEntry>();
  /** Watchers in the middle of their history replay: compaction must not overtake them. */
  private readonly replaying = new Set<WatcherEntry>();
  /** Committed events not yet fanned out (writes made from inside a callback queue up here). */
  private queue: StoreEvent[] = [];
  private queueHead = 0;
  private draining = false;
  private closed = false;
  /** Inside batch(): the events of its (not yet committed) writes. */
  private held: StoreEvent[] | undefined;

  constructor(opts: StoreOptions) {
    const memory = opts.path === ':memory:' || opts.path === '';
    this.db = new Database(opts.path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = OFF');
      this.db.pragma('journal_size_limit = 67108864');
      // Reads through a memory map halve the cost of a large list; writes still go through write(2)
      // and fsync, so durability is unchanged.
      this.db.pragma('mmap_size = 268435456');
      this.db.pragma('cache_size = -32768');
      const sync = this.db.pragma('synchronous', { simple: true });
      if (sync !== 2)
        throw new Error(
          `SQLite synchronous is ${String(sync)}, expected FULL (2): acknowledged writes could be lost`,
        );
      if (!memory) {
        const mode = this.db.pragma('journal_mode', { simple: true });
        if (mode !== 'wal') throw new Error(`SQLite journal_mode is ${String(mode)}, expected wal`);
      }
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS objects (
          key TEXT PRIMARY KEY, rv INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS history (
          rv INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL, value BLOB NOT NULL,
          prev_rv INTEGER, ts INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS history_key ON history (key, rv);
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', ${SCHEMA_VERSION}), ('revision', 0), ('compacted', 0);
      `);
      this.st = prepare(this.db);
      const schema = this.meta('schema');
      if (schema > SCHEMA_VERSION)
        throw new Error(`store schema ${schema} is newer than this build understands (${SCHEMA_VERSION})`);
      // The revision is the max of what meta says and what the tables hold (defence against a meta
      // row lost to a bug): it must never go backwards.
      const maxHist = (this.st.maxHistoryRv.get() as { rv: number | null }).rv ?? 0;
      const maxObj = (this.st.maxObjectRv.get() as { rv: number | null }).rv ?? 0;
      this.rev = Math.max(this.meta('revision'), maxHist, maxObj);
      this.compacted = this.meta('compacted');
      this.lastTs = (this.st.lastTs.get() as { ts: number } | undefined)?.ts ?? 0;
    } catch (e) {
      this.db.close();
      throw e;
    }
    if (!memory) syncDir(opts.path);
    this.tf = opts.transformer;
    this.historyLimit = Math.max(0, opts.historyLimit ?? 100_000);
    this.minAgeMs = Math.max(0, opts.historyMinAgeSeconds ?? 300) * 1000;
    this.writeTx = this.db.transaction((w: PendingWrite) => this.applyWrite(w)).immediate;
  }

  private meta(k: string): number {
    return (this.st.getMeta.get(k) as { v: number } | undefined)?.v ?? 0;
  }

  // ---- encoding ----

  private encode(key: string, json: string): Value {
    return this.tf ? this.tf.encode(key, json) : json;
  }

  private decode(key: string, value: Value): KObject {
    const json = this.tf
      ? this.tf.decode(key, value)
      : typeof value === 'string'
        ? value
        : value.toString('utf8');
    return JSON.parse(json) as KObject;
  }

  // ---- reads ----

  revision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  get(key: string): KObject | undefined {
    const row = this.st.get.get(key) as { rv: number; value: Value } | undefined;
    return row ? this.decode(key, row.value) : undefined;
  }

  getAt(key: string, revision: number): KObject | undefined {
    if (revision < this.compacted) throw new StoreCompacted(revision, this.compacted);
    const row = this.st.keyAt.get(key, revision) as HistoryRow | undefined;
    if (!row || row[2] === TYPE_CODE.DELETED) return undefined;
    return this.decode(key, row[3]);
  }

  count(prefix: string): number {
    return (this.st.count.get(prefix, rangeEnd(prefix)) as { n: number }).n;
  }

  list(prefix: string, opts: ListOptions = {}): ListResult {
    let revision = opts.atRevision ?? this.rev;
    let from = prefix;
    if (opts.continue !== undefined && opts.continue !== '') {
      const tok = this.parseContinue(opts.continue, prefix);
      revision = tok.rv;
      from = after(tok.start);
    }
    if (revision < this.compacted) throw new StoreCompacted(revision, this.compacted);
    if (revision > this.rev) revision = this.rev;
    const end = rangeEnd(prefix);
    const current = revision === this.rev;
    const limit = opts.limit !== undefined && opts.limit > 0 ? Math.floor(opts.limit) : Infinity;
    const filter = opts.filter;

    const items: KObject[] = [];
    let lastKey: string | undefined;
    let more = false;
    // Read in chunks (never holding an open cursor while user code runs). Without a filter one chunk of
    // limit+1 rows answers the page, the extra row telling whether more remain.
    const chunk = filter ? LIST_CHUNK : limit === Infinity ? -1 : limit + 1;
    for (;;) {
      const rows = current
        ? (this.st.range.all(from, end, chunk) as KeyValueRow[])
        : (this.st.rangeAt.all(from, end, revision, chunk) as KeyTypeValueRow[]);
      for (const row of rows) {
        const key = row[0];
        let value: Value;
        if (row.length === 2) value = row[1];
        else {
          if (row[1] === TYPE_CODE.DELETED) continue;
          value = row[2];
        }
        if (items.length >= limit) {
          if (!filter) {
            more = true;
            break;
          }
          // With a filter, "more" means another matching item exists.
          if (filter(this.decode(key, value))) {
            more = true;
            break;
          }
          continue;
        }
        const obj = this.decode(key, value);
        if (filter && !filter(obj)) continue;
        items.push(obj);
        lastKey = key;
      }
      const last = rows[rows.length - 1];
      if (more || chunk < 0 || rows.length < chunk || last === undefined) break;
      from = after(last[0]);
    }

    const result: ListResult = { items, revision };
    if (more && lastKey !== undefined) {
      result.continue = Buffer.from(JSON.stringify({ v: 1, rv: revision, start: lastKey, prefix })).toString(
        'base64url',
      );
      if (!filter && current)
        result.remainingItemCount = (this.st.count.get(after(lastKey), end) as { n: number }).n;
    }
    return result;
  }

  private parseContinue(token: string, prefix: string): { rv: number; start: string } {
    let t: { v?: unknown; rv?: unknown; start?: unknown; prefix?: unknown };
    try {
      if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
      t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof t;
    } catch {
      throw new StoreBadContinue();
    }
    if (
      typeof t !== 'object' ||
      t === null ||
      t.v !== 1 ||
      typeof t.rv !== 'number' ||
      !Number.isSafeInteger(t.rv) ||
      t.rv < 0 ||
      t.rv > this.rev ||
      typeof t.start !== 'string' ||
      t.prefix !== prefix ||
      !t.start.startsWith(prefix)
    )
      throw new StoreBadContinue();
    // A consistent token whose revision has been compacted away is the 410 "too old" case.
    if (t.rv < this.compacted) throw new StoreCompacted(t.rv, this.compacted);
    return { rv: t.rv, start: t.start };
  }

  history(key: string): StoreEvent[] {
    const rows = this.st.keyHistory.all(key) as HistoryRow[];
    return rows.map((r) => ({
      type: CODE_TYPE[r[2]]!,
      key: r[1],
      rv: r[0],
      object: this.decode(r[1], r[3]),
    }));
  }

  // ---- writes ----

  create(key: string, obj: KObject): KObject {
    return this.write({ op: 'create', key, obj, expected: undefined });
  }

  update(key: string, obj: KObject, expectedRevision?: number): KObject {
    return this.write({ op: 'update', key, obj, expected: expectedRevision });
  }

  delete(key: string, expectedRevision?: number): KObject {
    return this.write({ op: 'delete', key, obj: undefined, expected: expectedRevision });
  }

  private write(w: PendingWrite): KObject {
    if (this.closed) throw new Error('store: closed');
    const c = this.writeTx(w);
    // Committed (fsynced): only now does anything outside the transaction learn about it.
    this.rev = c.rv;
    this.lastTs = c.ts;
    const ev: StoreEvent = { type: c.type, key: w.key, rv: c.rv, object: JSON.parse(c.json) as KObject };
    if (c.prev) ev.prevObject = c.prev;
    ++this.writesSinceCompact;
    if (this.held) this.held.push(ev);
    else {
      this.publish(ev);
      this.maybeCompact();
    }
    return c.stored;
  }

  batch<T>(fn: () => T): T {
    if (this.closed) throw new Error('store: closed');
    if (this.held) return fn();
    const before = { rev: this.rev, lastTs: this.lastTs };
    this.db.exec('BEGIN IMMEDIATE');
    const held: StoreEvent[] = (this.held = []);
    let result: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      result = fn();
    } catch (error) {
      failure = { error };
    } finally {
      this.held = undefined;
    }
    try {
      this.db.exec('COMMIT');
    } catch (e) {
      // Nothing of the batch is durable: forget it (no watcher has seen any of it).
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.rev = before.rev;
      this.lastTs = before.lastTs;
      throw e;
    }
    for (const ev of held) this.queue.push(ev);
    if (held.length && !this.draining) this.drain();
    this.maybeCompact();
    if (failure) throw failure.error;
    return result as T;
  }

  private maybeCompact(): void {
    if (this.writesSinceCompact >= AUTO_COMPACT_EVERY) {
      this.writesSinceCompact = 0;
      try {
        this.compact();
      } catch {
        /* best effort: the write itself has committed; the next run retries */
      }
    }
  }

  /** Runs inside the IMMEDIATE transaction; a throw rolls it back. */
  private applyWrite(w: PendingWrite): CommittedWrite {
    const row = this.st.get.get(w.key) as { rv: number; value: Value } | undefined;
    if (w.op === 'create') {
      if (row) throw new StoreConflict('exists', w.key);
    } else {
      if (!row) throw new StoreConflict('missing', w.key);
      if (w.expected !== undefined && row.rv !== w.expected) throw new StoreConflict('modified', w.key);
    }
    const rv = Math.max(this.rev, this.meta('revision')) + 1;
    const prev = row ? this.decode(w.key, row.value) : undefined;
    const base = w.op === 'delete' ? prev! : w.obj!;
    const stored: KObject = { ...base, metadata: { ...base.metadata, resourceVersion: String(rv) } };
    const json = JSON.stringify(stored);
    const value = this.encode(w.key, json);
    const type: WatchEventType = w.op === 'create' ? 'ADDED' : w.op === 'update' ? 'MODIFIED' : 'DELETED';
    const ts = Math.max(Date.now(), this.lastTs);
    if (w.op === 'delete') this.st.remove.run(w.key);
    else this.st.upsert.run(w.key, rv, value);
    this.st.addHistory.run(rv, w.key, TYPE_CODE[type], value, row ? row.rv : null, ts);
    this.st.setMeta.run(rv, 'revision');
    return { rv, ts, type, stored, json, prev };
  }

  // ---- watch ----

  watch(prefix: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): Watcher {
    if (this.closed) throw new Error('store: closed');
    const from = opts.fromRevision;
    if (from < this.compacted) throw new StoreCompacted(from, this.compacted);
    const w: WatcherEntry = { prefix, filter: opts.filter, cb: onEvent, lastRv: from, stopped: false };
    this.register(w);
    // Replay history with everything else's delivery held back: writes made by callbacks commit (so
    // the next chunk reads them) and queue their events, which this watcher then skips (rv <= lastRv)
    // while the others receive them in order once the replay is over. No gaps, no duplicates.
    const wasDraining = this.draining;
    this.draining = true;
    this.replaying.add(w);
    try {
      const end = rangeEnd(prefix);
      for (;;) {
        const rows = this.st.replay.all(w.lastRv, prefix, end, REPLAY_CHUNK) as ReplayRow[];
        for (const [rv, key, type, value, prevValue] of rows) {
          if (w.stopped) break;
          const ev: StoreEvent = { type: CODE_TYPE[type]!, key, rv, object: this.decode(key, value) };
          if (prevValue !== null) ev.prevObject = this.decode(key, prevValue);
          this.deliver(w, ev);
        }
        // A short chunk means caught up; anything a callback wrote meanwhile is in the held-back queue
        // (rv above every replayed row) and reaches this watcher through the normal fan-out.
        if (w.stopped || rows.length < REPLAY_CHUNK) break;
      }
    } catch (e) {
      this.unregister(w);
      throw e;
    } finally {
      this.replaying.delete(w);
      this.draining = wasDraining;
    }
    if (!wasDraining) this.drain();
    return { stop: () => this.unregister(w) };
  }

  private register(w: WatcherEntry): void {
    if (w.prefix === '' || w.prefix.endsWith('/')) {
      let set = this.byPrefix.get(w.prefix);
      if (!set) this.byPrefix.set(w.prefix, (set = new Set()));
      set.add(w);
    } else this.otherWatchers.add(w);
  }

  private unregister(w: WatcherEntry): void {
    w.stopped = true;
    const set = this.byPrefix.get(w.prefix);
    if (set?.delete(w) && set.size === 0) this.byPrefix.delete(w.prefix);
    this.otherWatchers.delete(w);
  }

  private publish(ev: StoreEvent): void {
    this.queue.push(ev);
    if (!this.draining) this.drain();
  }

  private deliver(w: WatcherEntry, ev: StoreEvent): void {
    if (w.stopped || ev.rv <= w.lastRv) return;
    w.lastRv = ev.rv;
    try {
      if (w.filter && !w.filter(ev)) return;
      w.cb(ev);
    } catch {
      /* a broken watcher must not break the writer or the other watchers */
    }
  }

  /** Fan out queued events in revision order; writes made by callbacks queue behind the current one. */
  private drain(): void {
    this.draining = true;
    try {
      while (this.queueHead < this.queue.length) {
        const ev = this.queue[this.queueHead++]!;
        this.fanOut(ev);
      }
    } finally {
      this.queue = [];
      this.queueHead = 0;
      this.draining = false;
    }
  }

  /** Exact-prefix lookups for every "/"-terminated prefix of the key: O(depth), not O(watchers). */
  private fanOut(ev: StoreEvent): void {
    const key = ev.key;
    if (this.byPrefix.size) {
      const root = this.byPrefix.get('');
      if (root) for (const w of root) this.deliver(w, ev);
      for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) {
        const set = this.byPrefix.get(key.slice(0, i + 1));
        if (set) for (const w of set) this.deliver(w, ev);
      }
    }
    if (this.otherWatchers.size)
      for (const w of this.otherWatchers) if (key.startsWith(w.prefix)) this.deliver(w, ev);
  }

  // ---- maintenance ----

  compact(): number {
    if (this.closed) return this.compacted;
    let target = this.rev - this.historyLimit;
    // Never overtake a watcher that is still replaying history.
    for (const w of this.replaying) target = Math.min(target, w.lastRv);
    if (target <= this.compacted) return this.compacted;
    if (this.minAgeMs > 0) target = this.youngestOldEnough(target, Date.now() - this.minAgeMs);
    if (target <= this.compacted) return this.compacted;
    const old = this.compacted;
    this.db
      .transaction(() => {
        // Rows at or before target superseded by a later row at or before target (every successor of a
        // live row names it in prev_rv), then the DELETED rows themselves: what remains at or before
        // target is exactly the newest row of every key still live at target.
        this.st.compactSuperseded.run(old, target);
        this.st.compactDeleted.run(old, target);
        this.st.setMeta.run(target, 'compacted');
      })
      .immediate();
    this.compacted = target;
    return target;
  }

  /**
   * The largest rv <= target whose history row is older than cutoff (ts is monotonic in rv, so a binary
   * search over (compacted, target] with primary-key lookups).
   */
  private youngestOldEnough(target: number, cutoff: number): number {
    const tsAt = (rv: number): number =>
      (this.st.tsAtOrBefore.get(rv) as { ts: number } | undefined)?.ts ?? -Infinity;
    if (tsAt(target) < cutoff) return target;
    let lo = this.compacted; // known acceptable (or the current floor)
    let hi = target; // known too young
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (tsAt(mid) < cutoff) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  stats(): StoreStats {
    return {
      revision: this.rev,
      compactedRevision: this.compacted,
      objects: (this.st.objectCount.get() as { n: number }).n,
      historyRows: (this.st.historyCount.get() as { n: number }).n,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const set of this.byPrefix.values()) for (const w of set) w.stopped = true;
    for (const w of this.otherWatchers) w.stopped = true;
    this.byPrefix.clear();
    this.otherWatchers.clear();
    this.queue = [];
    this.queueHead = 0;
    if (this.db.open) this.db.close();
  }
}

interface PendingWrite {
  op: 'create' | 'update' | 'delete';
  key: string;
  obj: KObject | undefined;
  expected: number | undefined;
}

interface CommittedWrite {
  rv: number;
  ts: number;
  type: WatchEventType;
  /** What the caller gets back. */
  stored: KObject;
  /** The stored JSON (before the transformer): watchers get their own parse of it. */
  json: string;
  prev: KObject | undefined;
}

/** Every statement, prepared once per store. */
function prepare(db: Database.Database) {
  const raw = (sql: string) => db.prepare(sql).raw(true);
  return {
    getMeta: db.prepare('SELECT v FROM meta WHERE k = ?'),
    setMeta: db.prepare('UPDATE meta SET v = ? WHERE k = ?'),
    maxHistoryRv: db.prepare('SELECT max(rv) AS rv FROM history'),
    maxObjectRv: db.prepare('SELECT max(rv) AS rv FROM objects'),
    lastTs: db.prepare('SELECT ts FROM history ORDER BY rv DESC LIMIT 1'),
    get: db.prepare('SELECT rv, value FROM objects WHERE key = ?'),
    upsert: db.prepare(
      'INSERT INTO objects (key, rv, value) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET rv = excluded.rv, value = excluded.value',
    ),
    remove: db.prepare('DELETE FROM objects WHERE key = ?'),
    addHistory: db.prepare(
      'INSERT INTO history (rv, key, type, value, prev_rv, ts) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    keyHistory: raw('SELECT rv, key, type, value FROM history WHERE key = ? ORDER BY rv'),
    keyAt: raw('SELECT rv, key, type, value FROM history WHERE key = ? AND rv <= ? ORDER BY rv DESC LIMIT 1'),
    range: raw('SELECT key, value FROM objects WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
    // SQLite returns the bare columns of the row holding max(rv) (documented behaviour).
    rangeAt: raw(
      'SELECT key, type, value, max(rv) FROM history WHERE key >= ? AND key < ? AND rv <= ? GROUP BY key ORDER BY key LIMIT ?',
    ),
    count: db.prepare('SELECT count(*) AS n FROM objects WHERE key >= ? AND key < ?'),
    // Walk history by rv from the watch revision ("+key" keeps the planner off the key index, which
    // would read every row of the prefix and sort them: watches mostly start near the head).
    replay: raw(
      `SELECT h.rv, h.key, h.type, h.value, p.value FROM history h LEFT JOIN history p ON p.rv = h.prev_rv
       WHERE h.rv > ? AND +h.key >= ? AND +h.key < ? ORDER BY h.rv LIMIT ?`,
    ),
    historyCount: db.prepare('SELECT count(*) AS n FROM history'),
    objectCount: db.prepare('SELECT count(*) AS n FROM objects'),
    tsAtOrBefore: db.prepare('SELECT ts FROM history WHERE rv <= ? ORDER BY rv DESC LIMIT 1'),
    compactSuperseded: db.prepare(
      'DELETE FROM history WHERE rv IN (SELECT prev_rv FROM history WHERE rv > ? AND rv <= ? AND prev_rv IS NOT NULL)',
    ),
    compactDeleted: db.prepare('DELETE FROM history WHERE rv > ? AND rv <= ? AND type = 2'),
  };
}

/** fsync the directory so a newly created database (and WAL) file's directory entry is durable. */
function syncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(resolve(path)), 'r');
    fsyncSync(fd);
  } catch {
    /* not supported on every platform (Windows); SQLite syncs the directory for the WAL itself */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
