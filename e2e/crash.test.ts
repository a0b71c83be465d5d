/**
 * Durability: kill -9 the API server 20 times under write load. Every write that got a 2xx answer is
 * present after restart, and the database opens cleanly each time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest, startBerth, type BerthProcess } from './harness/berth.ts';

const ROUNDS = 20;

test(`every acknowledged write survives ${ROUNDS} kill -9 restarts`, { timeout: 600_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-crash-'));
  const acked: string[] = [];
  let b: BerthProcess | undefined;
  try {
    b = await startBerth({ dataDir });
    const ns = await adminRequest(
      b,
      'POST',
      '/api/v1/namespaces',
      JSON.stringify({ metadata: { name: 'crash' } }),
      {
        'Content-Type': 'application/json',
      },
    );
    assert.equal(ns.status, 201, ns.body);
    for (let round = 0; round < ROUNDS; round++) {
      const cur: BerthProcess = b;
      // Verify everything acknowledged so far is present.
      const list = await adminRequest(cur, 'GET', '/api/v1/namespaces/crash/configmaps');
      assert.equal(list.status, 200, list.body);
      const names = new Set(
        (JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map(
          (i) => i.metadata.name,
        ),
      );
      const lost = acked.filter((n) => !names.has(n));
      assert.deepEqual(lost, [], `round ${round}: acknowledged writes lost after kill -9`);

      // Write load: 8 concurrent writers until the kill.
      let stop = false;
      let seq = 0;
      const writer = async (w: number): Promise<void> => {
        while (!stop) {
          const name = `r${round}-w${w}-${seq++}`;
          try {
            const r = await adminRequest(
              cur,
              'POST',
              '/api/v1/namespaces/crash/configmaps',
              JSON.stringify({ metadata: { name }, data: { v: 'x'.repeat(256) } }),
              {
                'Content-Type': 'application/json',
              },
            );
            if (r.status === 201) acked.push(name);
          } catch {
            return; // connection cut by the kill
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 350)));
      cur.child.kill('SIGKILL');
      stop = true;
      await cur.stop('SIGKILL');
      await Promise.all(writers);
      b = await startBerth({ dataDir });
    }
    const final = await adminRequest(b, 'GET', '/api/v1/namespaces/crash/configmaps');
    const names = new Set(
      (JSON.parse(final.body) as { items: { metadata: { name: string } }[] }).items.map(
        (i) => i.metadata.name,
      ),
    );
    assert.deepEqual(
      acked.filter((n) => !names.has(n)),
      [],
    );
    assert.ok(
      acked.length > ROUNDS * 5,
      `too few writes acknowledged (${acked.length}) for the test to mean anything`,
    );
  } finally {
    await b?.stop();
    b?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
