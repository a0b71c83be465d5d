/**
 * Store: sequential durable writes (fsync per commit) of ~1 KiB ConfigMaps to our SQLite store and to a
 * single-node etcd (Debian's etcd-server, 3.4) on the same disk, in the same run; etcd is driven through
 * its JSON gateway on loopback, one write in flight and 16 in flight. Prints writes/s, p50/p99 and ratios.
 *   BENCH_WRITES (default 2000). Needs `apt-get install etcd-server`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { createServer } from 'node:net';
import { openStore } from '../core/store/sqlite-store.ts';
import { ms, summary, table } from './util.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const value = (i: number): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: 'bench' },
    data: { v: 'x'.repeat(900) },
  });

async function main(): Promise<void> {
  const n = Number(process.env['BENCH_WRITES'] ?? 2000);
  const etcdBin = ['/usr/bin/etcd', '/usr/sbin/etcd'].find(existsSync);
  if (!etcdBin) throw new Error('etcd not found: apt-get install etcd-server');
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-store-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const etcd = spawn(
    etcdBin,
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${peerPort}`,
      '--name',
      'default',
    ],
    { stdio: 'ignore' },
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const put = (key: string, val: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({
        key: Buffer.from(key).toString('base64'),
        value: Buffer.from(val).toString('base64'),
      });
      const req = http.request(
        {
          host: '127.0.0.1',
          port: clientPort,
          path: '/v3/kv/put',
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`etcd put ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    for (let i = 0; ; i++) {
      try {
        await put('/probe', 'x');
        break;
      } catch {
        if (i > 100) throw new Error('etcd did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // Our store, same disk, synchronous=FULL.
    const store = openStore({ path: join(dir, 'berth.db') });
    const ours: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      store.create(`/core/configmaps/bench/cm-${i}`, JSON.parse(value(i)) as never);
      ours.push(performance.now() - t);
    }
    const oursWps = n / ((performance.now() - t0) / 1000);
    store.close();

    const seq: number[] = [];
    const t1 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await put(`/registry/configmaps/bench/cm-${i}`, value(i));
      seq.push(performance.now() - t);
    }
    const etcdWps = n / ((performance.now() - t1) / 1000);

    const conc: number[] = [];
    const t2 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) {
          const i = next++;
          const t = performance.now();
          await put(`/registry/configmaps/bench/c-${i}`, value(i));
          conc.push(performance.now() - t);
        }
      }),
    );
    const etcdConcWps = n / ((performance.now() - t2) / 1000);
    const so = summary(ours);
    const se = summary(seq);
    const sc = summary(conc);
    let disk = '';
    try {
      disk = execFileSync('df', ['-h', dir], { encoding: 'utf8' }).split('\n')[1] ?? '';
    } catch {
      /* informational only */
    }
    console.log(
      `Store: ${n} sequential durable writes of ~1 KiB (fsync per commit), same disk (${disk.trim()})`,
    );
    console.log(
      table([
        ['store', 'writes/s', 'p50 commit', 'p99 commit'],
        ['berth SQLite (WAL, synchronous=FULL)', oursWps.toFixed(0), ms(so.p50), ms(so.p99)],
        ['etcd 3.4, 1 in flight (HTTP gateway)', etcdWps.toFixed(0), ms(se.p50), ms(se.p99)],
        ['etcd 3.4, 16 in flight (HTTP gateway)', etcdConcWps.toFixed(0), ms(sc.p50), ms(sc.p99)],
      ]),
    );
    console.log(
      `ratio writes/s berth ÷ etcd (1 in flight): ${(oursWps / etcdWps).toFixed(2)}; ÷ etcd (16 in flight): ${(oursWps / etcdConcWps).toFixed(2)}`,
    );
  } finally {
    agent.destroy();
    etcd.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
