/**
 * Store-level durability: a child process writes in a loop and prints every acknowledged write after
 * the store call returns; it is SIGKILLed at a random moment; the database must then pass
 * integrity_check and hold every acknowledged write. Repeated on the same database, so each round also
 * recovers from the previous crash. (SIGKILL tests process death; surviving power loss additionally
 * relies on synchronous=FULL, which the unit tests verify.)
 *
 * The child is this same file, run with BERTH_STORE_CRASH_CHILD=<db path>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from './sqlite-store.ts';
import type { KObject } from '../api/object.ts';

const CHILD_ENV = 'BERTH_STORE_CRASH_CHILD';
const ROUNDS = 20;
const PAYLOAD = 'x'.repeat(900); // ~1 KiB ConfigMaps

const configMap = (name: string, n: number): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'crash' },
  data: { n: String(n), payload: PAYLOAD },
});

/**
 * Child: create a fresh key, then update a shared counter, forever. Each line is printed with a
 * synchronous write(2) only after the store call has returned (committed).
 *   "C <key> <rv>"  the key was created at rv
 *   "U <n> <rv>"    the counter holds n (or more) as of rv
 *   "D <key> <rv>"  the key was deleted at rv
 */
function child(path: string, round: string): void {
  const store = openStore({ path, historyLimit: 500, historyMinAgeSeconds: 0 });
  const counterKey = '/core/configmaps/crash/counter';
  if (!store.get(counterKey)) store.create(counterKey, configMap('counter', 0));
  writeSync(1, 'READY\n');
  for (let i = 0; ; i++) {
    const k = `/core/configmaps/crash/r${round}-${i}`;
    const created = store.create(k, configMap(`r${round}-${i}`, i));
    writeSync(1, `C ${k} ${created.metadata.resourceVersion}\n`);
    const cur = store.get(counterKey)!;
    const n = Number((cur['data'] as { n: string }).n) + 1;
    const updated = store.update(counterKey, configMap('counter', n), Number(cur.metadata.resourceVersion));
    writeSync(1, `U ${n} ${updated.metadata.resourceVersion}\n`);
    if (i % 10 === 9) {
      const gone = `/core/configmaps/crash/r${round}-${i - 5}`;
      const d = store.delete(gone);
      writeSync(1, `D ${gone} ${d.metadata.resourceVersion}\n`);
    }
  }
}

const childPath = process.env[CHILD_ENV];
if (childPath) {
  child(childPath, process.env['BERTH_STORE_CRASH_ROUND'] ?? '0');
} else {
  const here = fileURLToPath(import.meta.url);
  const repoRoot = resolve(dirname(here), '..', '..');

  /** Runs one child until it has been acknowledged-writing for a random 100–400 ms, then SIGKILLs it. */
  function crashRound(path: string, round: number): Promise<string[]> {
    return new Promise((resolvePromise, reject) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        [CHILD_ENV]: path,
        BERTH_STORE_CRASH_ROUND: String(round),
      };
      delete env['NODE_TEST_CONTEXT']; // the child is a plain script, not a test file
      const proc = spawn(process.execPath, ['--import', 'tsx', here], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let timer: NodeJS.Timeout | undefined;
      const guard = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (d: string) => {
        out += d;
        if (!timer && out.includes('READY\n'))
          timer = setTimeout(() => proc.kill('SIGKILL'), 100 + Math.floor(Math.random() * 300));
      });
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      proc.on('error', reject);
      proc.on('exit', (code, signal) => {
        clearTimeout(guard);
        if (timer) clearTimeout(timer);
        if (signal !== 'SIGKILL' || !timer)
          reject(new Error(`child ended with ${String(code)}/${String(signal)} before the kill:\n${err}`));
        // Only complete lines count: a line cut by the kill was not acknowledged.
        else resolvePromise(out.split('\n').slice(0, -1));
      });
    });
  }

  test('no acknowledged write is lost when the writer is SIGKILLed (20 rounds)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-store-crash-'));
    const path = join(dir, 'store.db');
    try {
      const created = new Map<string, number>();
      const deleted = new Map<string, number>();
      let counter = 0;
      let maxRv = 0;
      let acked = 0;
      /** A delete the child may have committed without acknowledging it (killed before printing). */
      const maybeDeleted = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const lines = await crashRound(path, round);
        const lastC = [...lines].reverse().find((l) => l.startsWith('C '));
        if (lastC && lines[lines.length - 1]?.startsWith('U ')) {
          const i = Number(lastC.split(' ')[1]!.split('-').pop());
          if (i % 10 === 9) maybeDeleted.add(`/core/configmaps/crash/r${round}-${i - 5}`);
        }
        for (const line of lines) {
          const [op, a, rv] = line.split(' ');
          if (op === 'READY') continue;
          acked++;
          maxRv = Math.max(maxRv, Number(rv));
          if (op === 'C') created.set(a!, Number(rv));
          else if (op === 'D') deleted.set(a!, Number(rv));
          else if (op === 'U') counter = Math.max(counter, Number(a));
        }

        const db = new Database(path);
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `round ${round}`);
        db.close();

        const store = openStore({ path, historyLimit: 500, historyMinAgeSeconds: 0 });
        try {
          assert.ok(
            store.revision() >= maxRv,
            `round ${round}: revision ${store.revision()} < acked ${maxRv}`,
          );
          for (const [k, rv] of created) {
            const obj = store.get(k);
            if (deleted.has(k)) assert.equal(obj, undefined, `round ${round}: ${k} resurrected`);
            else if (!obj && maybeDeleted.has(k)) continue;
            else {
              assert.ok(obj, `round ${round}: acknowledged create of ${k} (rv ${rv}) lost`);
              assert.equal(obj.metadata.resourceVersion, String(rv));
            }
          }
          const c = store.get('/core/configmaps/crash/counter')!;
          assert.ok(Number((c['data'] as { n: string }).n) >= counter, `round ${round}: counter went back`);
        } finally {
          store.close();
        }
      }
      assert.ok(acked > ROUNDS, `only ${acked} acknowledged writes in ${ROUNDS} rounds`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
