/**
 * The object store on SQLite (better-sqlite3, WAL, synchronous=FULL). One global revision is every
 * object's resourceVersion; every write is one transaction that also appends a history row, so lists
 * can be read at a past revision, watches replay from history then continue live, and the history view
 * can show every retained revision of an object. Compaction keeps, like etcd, the newest row of each key
 * at or before the compacted revision.
 */
import Database from 'better-sqlite3';
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

/** A garbled or foreign continue token (→ 410 Expired, as Kubernetes answers). */
export class StoreBadContinue extends Error {
  constructor(message = 'invalid continue token') {
    super(message);
    this.name = 'StoreBadContinue';
  }
}

const TYPE_CODE: Record<WatchEventType, number> = { ADDED: 0, MODIFIED: 1, DELETED: 2 };
const CODE_TYPE: WatchEventType[] = ['ADDED', 'MODIFIED', 'DELETED'];
const AUTO_COMPACT_EVERY = 1000;

interface Row {
  key: string;
  value: Buffer | string;
}
interface HistoryRow {
  rv: number;
  key: string;
  type: number;
  value: Buffer | string;
  prev_rv: number | null;
}

interface WatcherEntry {
  prefix: string;
  filter?: (ev: StoreEvent) => boolean;
  cb: (ev: StoreEvent) => void;
  stopped: boolean;
}

/** The end of a key range: the prefix with its last character incremented. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Watchers are indexed by the resource part of their prefix: "/<group>/<resource>/". */
function resourceBucket(key: string): string {
  const parts = key.split('/');
  return `/${parts[1] ?? ''}/${parts[2] ?? ''}/`;
}

export function openStore(opts: StoreOptions): Store {
  return new SqliteStore(opts);
}

class SqliteStore implements Store {
  private readonly db: Database.Database;
  private rev: number;
  private compacted: number;
  private writesSinceCompact = 0;
  private readonly watchers = new Map<string, Set<WatcherEntry>>();
  private readonly queue: StoreEvent[] = [];
  private draining = false;
  private readonly historyLimit: number;
  private readonly minAgeMs: number;
  private readonly tf: StoreOptions['transformer'];
  private readonly stmt: ReturnType<SqliteStore['prepare']>;

  constructor(opts: StoreOptions) {
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = OFF');
    const sync = this.db.pragma('synchronous', { simple: true });
    if (sync !== 2)
      throw new Error(
        `SQLite synchronous is ${String(sync)}, expected FULL (2): acknowledged writes could be lost`,
      );
    if (opts.path !== ':memory:') {
      const mode = this.db.pragma('journal_mode', { simple: true });
      if (mode !== 'wal') throw new Error(`SQLite journal_mode is ${String(mode)}, expected wal`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, rv INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS history (rv INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL, value BLOB NOT NULL, prev_rv INTEGER, ts INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS history_key ON history (key, rv);
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
      INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', 1), ('revision', 0), ('compacted', 0);
    `);
    this.historyLimit = opts.historyLimit ?? 100_000;
    this.minAgeMs = (opts.historyMinAgeSeconds ?? 300) * 1000;
    this.tf = opts.transformer;
    this.stmt = this.prepare();
    this.rev = (this.stmt.getMeta.get('revision') as { v: number }).v;
    this.compacted = (this.stmt.getMeta.get('compacted') as { v: number }).v;
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare('SELECT v FROM meta WHERE k = ?'),
      setMeta: db.prepare('UPDATE meta SET v = ? WHERE k = ?'),
      get: db.prepare('SELECT rv, value FROM objects WHERE key = ?'),
      insert: db.prepare('INSERT INTO objects (key, rv, value) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE objects SET rv = ?, value = ? WHERE key = ?'),
      remove: db.prepare('DELETE FROM objects WHERE key = ?'),
      addHistory: db.prepare(
        'INSERT INTO history (rv, key, type, value, prev_rv, ts) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      historyAt: db.prepare('SELECT rv, key, type, value, prev_rv FROM history WHERE rv = ?'),
      keyHistory: db.prepare('SELECT rv, key, type, value, prev_rv FROM history WHERE key = ? ORDER BY rv'),
      keyAt: db.prepare(
        'SELECT rv, key, type, value, prev_rv FROM history WHERE key = ? AND rv <= ? ORDER BY rv DESC LIMIT 1',
      ),
      range: db.prepare('SELECT key, value FROM objects WHERE key >= ? AND key < ? ORDER BY key'),
      rangeAt: db.prepare(
        'SELECT key, type, value, max(rv) AS rv FROM history WHERE key >= ? AND key < ? AND rv <= ? GROUP BY key ORDER BY key',
      ),
      count: db.prepare('SELECT count(*) AS n FROM objects WHERE key >= ? AND key < ?'),
      replay: db.prepare(
        'SELECT rv, key, type, value, prev_rv FROM history WHERE rv > ? AND key >= ? AND key < ? ORDER BY rv',
      ),
      historyCount: db.prepare('SELECT count(*) AS n FROM history'),
      objectCount: db.prepare('SELECT count(*) AS n FROM objects'),
      oldestYoung: db.prepare('SELECT min(rv) AS rv FROM history WHERE ts >= ?'),
      compactDelete: db.prepare(
        'DELETE FROM history WHERE rv <= ? AND rv NOT IN (SELECT max(rv) FROM history WHERE rv <= ? GROUP BY key)',
      ),
      compactDeleted: db.prepare('DELETE FROM history WHERE rv <= ? AND type = 2'),
    };
  }

  // ---- encoding ----

  private encode(key: string, obj: KObject): Buffer | string {
    const json = JSON.stringify(obj);
    return this.tf ? this.tf.encode(key, json) : json;
  }

  private decode(key: string, value: Buffer | string): KObject {
    const json = this.tf
      ? this.tf.decode(key, value)
      : typeof value === 'string'
        ? value
        : value.toString('utf8');
    return JSON.parse(json) as KObject;
  }

  private stamp(obj: KObject, rv: number): KObject {
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
  }

  // ---- reads ----

  revision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  get(key: string): KObject | undefined {
    const row = this.stmt.get.get(key) as { rv: number; value: Buffer | string } | undefined;
    return row ? this.decode(key, row.value) : undefined;
  }

  getAt(key: string, revision: number): KObject | undefined {
    if (revision < this.compacted) throw new StoreCompacted(revision, this.compacted);
    const row = this.stmt.keyAt.get(key, revision) as HistoryRow | undefined;
    if (!row || row.type === TYPE_CODE.DELETED) return undefined;
    return this.decode(key, row.value);
  }

  count(prefix: string): number {
    return (this.stmt.count.get(prefix, prefixEnd(prefix)) as { n: number }).n;
  }

  list(prefix: string, opts: ListOptions = {}): ListResult {
    let revision = opts.atRevision ?? this.rev;
    let startAfter: string | undefined;
    if (opts.continue) {
      const tok = this.parseContinue(opts.continue, prefix);
      revision = tok.rv;
      startAfter = tok.start;
    }
    if (revision < this.compacted) throw new StoreCompacted(revision, this.compacted);
    if (revision > this.rev) revision = this.rev;
    const end = prefixEnd(prefix);
    const from = startAfter !== undefined ? `${startAfter}\u0000` : prefix;
    const current = revision === this.rev;
    const rows: Iterable<{ key: string; value: Buffer | string; type?: number }> = current
      ? (this.stmt.range.iterate(from, end) as Iterable<Row>)
      : (this.stmt.rangeAt.iterate(from, end, revision) as Iterable<{
          key: string;
          value: Buffer | string;
          type: number;
        }>);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const items: KObject[] = [];
    let more = false;
    let lastKey: string | undefined;
    for (const row of rows) {
      if (row.type === TYPE_CODE.DELETED) continue;
      const obj = this.decode(row.key, row.value);
      if (opts.filter && !opts.filter(obj)) continue;
      if (items.length >= limit) {
        more = true;
        break;
      }
      items.push(obj);
      lastKey = row.key;
    }
    const result: ListResult = { items, revision };
    if (more && lastKey !== undefined) {
      result.continue = Buffer.from(JSON.stringify({ v: 1, rv: revision, start: lastKey, prefix })).toString(
        'base64url',
      );
      if (!opts.filter && current) result.remainingItemCount = this.countAfter(lastKey, end);
    }
    return result;
  }

  private countAfter(lastKey: string, end: string): number {
    return (this.stmt.count.get(`${lastKey}\u0000`, end) as { n: number }).n;
  }

  private parseContinue(token: string, prefix: string): { rv: number; start: string } {
    try {
      const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
        v?: number;
        rv?: unknown;
        start?: unknown;
        prefix?: unknown;
      };
      if (
        t.v !== 1 ||
        typeof t.rv !== 'number' ||
        typeof t.start !== 'string' ||
        t.prefix !== prefix ||
        !Number.isInteger(t.rv)
      )
        throw new Error('bad token');
      return { rv: t.rv, start: t.start };
    } catch {
      throw new StoreBadContinue();
    }
  }

  history(key: string): StoreEvent[] {
    const rows = this.stmt.keyHistory.all(key) as HistoryRow[];
    return rows.map((r) => this.toEvent(r));
  }

  private toEvent(r: HistoryRow, withPrev = false): StoreEvent {
    const ev: StoreEvent = {
      type: CODE_TYPE[r.type]!,
      key: r.key,
      rv: r.rv,
      object: this.decode(r.key, r.value),
    };
    if (withPrev && r.prev_rv !== null) {
      const prev = this.stmt.historyAt.get(r.prev_rv) as HistoryRow | undefined;
      if (prev) ev.prevObject = this.decode(prev.key, prev.value);
    }
    return ev;
  }

  // ---- writes ----

  private commit(
    key: string,
    type: WatchEventType,
    obj: KObject,
    prevRv: number | null,
    prevObject?: KObject,
  ): KObject {
    const rv = this.rev + 1;
    const stored = this.stamp(obj, rv);
    const value = this.encode(key, stored);
    const tx = this.db.transaction(() => {
      if (type === 'ADDED') this.stmt.insert.run(key, rv, value);
      else if (type === 'MODIFIED') this.stmt.update.run(rv, value, key);
      else this.stmt.remove.run(key);
      this.stmt.addHistory.run(rv, key, TYPE_CODE[type], value, prevRv, Date.now());
      this.stmt.setMeta.run(rv, 'revision');
    });
    tx.immediate();
    this.rev = rv;
    this.publish({ type, key, rv, object: stored, ...(prevObject ? { prevObject } : {}) });
    if (++this.writesSinceCompact >= AUTO_COMPACT_EVERY) {
      this.writesSinceCompact = 0;
      this.compact();
    }
    return stored;
  }

  create(key: string, obj: KObject): KObject {
    if (this.stmt.get.get(key)) throw new StoreConflict('exists', key);
    return this.commit(key, 'ADDED', obj, null);
  }

  update(key: string, obj: KObject, expectedRevision?: number): KObject {
    const row = this.stmt.get.get(key) as { rv: number; value: Buffer | string } | undefined;
    if (!row) throw new StoreConflict('missing', key);
    if (expectedRevision !== undefined && row.rv !== expectedRevision)
      throw new StoreConflict('modified', key);
    return this.commit(key, 'MODIFIED', obj, row.rv, this.decode(key, row.value));
  }

  delete(key: string, expectedRevision?: number): KObject {
    const row = this.stmt.get.get(key) as { rv: number; value: Buffer | string } | undefined;
    if (!row) throw new StoreConflict('missing', key);
    if (expectedRevision !== undefined && row.rv !== expectedRevision)
      throw new StoreConflict('modified', key);
    const prev = this.decode(key, row.value);
    return this.commit(key, 'DELETED', prev, row.rv, prev);
  }

  // ---- watch ----

  watch(prefix: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): Watcher {
    if (opts.fromRevision < this.compacted) throw new StoreCompacted(opts.fromRevision, this.compacted);
    const entry: WatcherEntry = { prefix, filter: opts.filter, cb: onEvent, stopped: false };
    // Replay from history, then register: no write can interleave (single thread, no await).
    const rows = this.stmt.replay.all(opts.fromRevision, prefix, prefixEnd(prefix)) as HistoryRow[];
    const bucket = prefix.split('/').length > 3 ? resourceBucket(prefix) : '*';
    let set = this.watchers.get(bucket);
    if (!set) this.watchers.set(bucket, (set = new Set()));
    set.add(entry);
    const backlog = rows.map((r) => this.toEvent(r, true));
    // Deliver the backlog through the queue so it stays ordered before any live event.
    for (const ev of backlog)
      this.queue.push({ ...ev, target: entry } as StoreEvent & { target: WatcherEntry });
    this.drain();
    return {
      stop: () => {
        entry.stopped = true;
        set.delete(entry);
      },
    };
  }

  private publish(ev: StoreEvent): void {
    this.queue.push(ev);
    this.drain();
  }

  private deliver(entry: WatcherEntry, ev: StoreEvent): void {
    if (entry.stopped || !ev.key.startsWith(entry.prefix)) return;
    if (entry.filter && !entry.filter(ev)) return;
    try {
      entry.cb(ev);
    } catch {
      /* a broken watcher must not break the writer */
    }
  }

  /** Deliver queued events in revision order; re-entrant writes are queued behind the current one. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const ev = this.queue.shift()! as StoreEvent & { target?: WatcherEntry };
        if (ev.target) {
          const { target, ...plain } = ev;
          this.deliver(target, plain);
          continue;
        }
        for (const bucket of [resourceBucket(ev.key), '*']) {
          const set = this.watchers.get(bucket);
          if (set) for (const w of [...set]) this.deliver(w, ev);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  // ---- maintenance ----

  compact(): number {
    let target = this.rev - this.historyLimit;
    if (this.minAgeMs > 0) {
      const young = this.stmt.oldestYoung.get(Date.now() - this.minAgeMs) as { rv: number | null };
      if (young.rv !== null) target = Math.min(target, young.rv - 1);
    }
    if (target <= this.compacted) return this.compacted;
    this.db.transaction(() => {
      this.stmt.compactDelete.run(target, target);
      this.stmt.compactDeleted.run(target);
      this.stmt.setMeta.run(target, 'compacted');
    })();
    this.compacted = target;
    return target;
  }

  stats(): StoreStats {
    return {
      revision: this.rev,
      compactedRevision: this.compacted,
      objects: (this.stmt.objectCount.get() as { n: number }).n,
      historyRows: (this.stmt.historyCount.get() as { n: number }).n,
    };
  }

  close(): void {
    for (const set of this.watchers.values()) for (const w of set) w.stopped = true;
    this.watchers.clear();
    if (this.db.open) this.db.close();
  }
}
