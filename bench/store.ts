/**
 * Benchmark (not a test): durable write throughput and commit latency of Berth's SQLite store versus a
 * single-node etcd on the same disk, both with an fsync per commit.
 *
 *   node --import tsx bench/store.ts
 *   BENCH_WRITES=2000   writes per phase (default 2000)
 *   BENCH_DIR=/path     where the data dirs go (default: the OS temp dir); both stores share it
 *   ETCD_BIN=/path      the etcd binary (default: /usr/bin/etcd, /usr/sbin/etcd, then PATH)
 *
 * Phases: our store (sequential: N/2 creates then N/2 CAS updates of ~1 KiB ConfigMaps), etcd with one
 * put in flight (same keys and sizes: N/2 new keys then N/2 overwrites), etcd with 16 puts in flight
 * (etcd batches concurrent commits into one fsync), plus two floors for context: a raw write+fsync of
 * 1 KiB on the same disk and an etcd read (range) over the same HTTP path (the RPC cost without a
 * commit). etcd listens on 127.0.0.1 only, with a throwaway data dir, and fsyncs (no
 * --unsafe-no-fsync). Everything is bounded: at most N writes per phase and 60 s in total; etcd is
 * stopped by its pid and its data dir removed at the end.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../core/store/sqlite-store.ts';
import type { KObject } from '../core/api/object.ts';
import { summary, table } from './util.ts';

const N = Math.max(2, Math.floor(Number(process.env['BENCH_WRITES'] ?? 2000)));
const TOTAL_BUDGET_MS = 60_000;
const CONCURRENCY = 16;
const started = performance.now();
const deadline = started + TOTAL_BUDGET_MS;
const timeLeft = () => deadline - performance.now();

/** A ~1 KiB ConfigMap, as the API server would store it. */
function configMap(i: number, gen: number): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `bench-${i}`,
      namespace: 'bench',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { app: 'bench', gen: String(gen) },
    },
    data: { 'config.yaml': 'k: ' + 'v'.repeat(800) },
  };
}
const VALUE_BYTES = Buffer.byteLength(JSON.stringify(configMap(0, 0)));

interface Phase {
  name: string;
  samples: number[];
  wallMs: number;
  /** Operations completed (less than N only if the time budget ran out). */
  done: number;
}

function phaseResult(name: string, samples: number[], wallMs: number): Phase {
  return { name, samples, wallMs, done: samples.length };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function findEtcd(): string {
  const env = process.env['ETCD_BIN'];
  if (env) return env;
  for (const p of ['/usr/bin/etcd', '/usr/sbin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('etcd not found: apt-get install -y etcd-server etcd-client (or set ETCD_BIN)');
  }
}

// ---- phases ----

function benchOurs(dir: string): Phase {
  const store = openStore({ path: join(dir, 'berth.db') });
  const samples: number[] = [];
  const half = Math.floor(N / 2);
  const rvs: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < N && timeLeft() > 0; i++) {
      const k = i < half ? i : i - half;
      const key = `/core/configmaps/bench/bench-${k}`;
      const t = performance.now();
      const out = i < half ? store.create(key, configMap(k, 0)) : store.update(key, configMap(k, 1), rvs[k]);
      samples.push(performance.now() - t);
      rvs[k] = Number(out.metadata.resourceVersion);
    }
    return phaseResult(
      'berth store (SQLite WAL, synchronous=FULL), 1 in flight',
      samples,
      performance.now() - t0,
    );
  } finally {
    store.close();
  }
}

function benchFsyncFloor(dir: string): Phase {
  const fd = openSync(join(dir, 'fsync-floor.bin'), 'w');
  const buf = Buffer.alloc(VALUE_BYTES, 'x');
  const samples: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < Math.min(N, 1000) && timeLeft() > 0; i++) {
      const t = performance.now();
      writeSync(fd, buf);
      fsyncSync(fd);
      samples.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  return phaseResult('floor: write(2) 1 KiB + fsync, same disk', samples, performance.now() - t0);
}

class EtcdClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  constructor(private readonly port: number) {}

  call(path: string, body: unknown): Promise<string> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(text)
              : reject(new Error(`etcd ${path}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`)),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`etcd ${path}: timeout`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  put(key: string, value: string): Promise<string> {
    return this.call('/v3/kv/put', {
      key: Buffer.from(key).toString('base64'),
      value: Buffer.from(value).toString('base64'),
    });
  }

  range(key: string): Promise<string> {
    return this.call('/v3/kv/range', { key: Buffer.from(key).toString('base64') });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function startEtcd(bin: string, dataDir: string): Promise<{ proc: ChildProcess; client: EtcdClient }> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFd = openSync(join(dataDir, '..', 'etcd.log'), 'w');
  const proc = spawn(
    bin,
    [
      '--name=bench',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=bench=${peer}`,
      '--initial-cluster-state=new',
      // Deliberately NOT --unsafe-no-fsync: every commit is fsynced, as in production.
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const etcd = new EtcdClient(clientPort);
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code, sig) => reject(new Error(`etcd exited early (${String(code ?? sig)})`))),
  );
  exited.catch(() => undefined);
  const readyBy = performance.now() + 15_000;
  for (;;) {
    try {
      await Promise.race([etcd.put('/bench/probe', 'x'), exited]);
      return { proc, client: etcd };
    } catch (e) {
      if (proc.exitCode !== null || proc.signalCode !== null || performance.now() > readyBy) {
        etcd.close();
        stopEtcd(proc);
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function stopEtcd(proc: ChildProcess): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  const pid = proc.pid;
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5_000);
    proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      clearTimeout(force);
      resolve();
    }
  });
}

async function benchEtcdSequential(etcd: EtcdClient): Promise<Phase> {
  const samples: number[] = [];
  const half = Math.floor(N / 2);
  const t0 = performance.now();
  for (let i = 0; i < N && timeLeft() > 0; i++) {
    const k = i < half ? i : i - half;
    const value = JSON.stringify(configMap(k, i < half ? 0 : 1));
    const t = performance.now();
    await etcd.put(`/registry/configmaps/bench/bench-${k}`, value);
    samples.push(performance.now() - t);
  }
  return phaseResult('etcd, 1 in flight (HTTP/JSON gateway)', samples, performance.now() - t0);
}

async function benchEtcdConcurrent(etcd: EtcdClient): Promise<Phase> {
  const samples: number[] = [];
  const half = Math.floor(N / 2);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N && timeLeft() > 0) {
        const i = next++;
        const k = i < half ? i : i - half;
        const value = JSON.stringify(configMap(k, i < half ? 2 : 3));
        const t = performance.now();
        await etcd.put(`/registry/configmaps/bench-c/bench-${k}`, value);
        samples.push(performance.now() - t);
      }
    }),
  );
  return phaseResult(`etcd, ${CONCURRENCY} in flight (HTTP/JSON gateway)`, samples, performance.now() - t0);
}

async function benchEtcdRead(etcd: EtcdClient): Promise<Phase> {
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < Math.min(N, 1000) && timeLeft() > 0; i++) {
    const t = performance.now();
    await etcd.range(`/registry/configmaps/bench/bench-${i % Math.max(1, Math.floor(N / 2))}`);
    samples.push(performance.now() - t);
  }
  return phaseResult('floor: etcd range (read, no commit), 1 in flight', samples, performance.now() - t0);
}

// ---- report ----

const fmtMs = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const perSec = (p: Phase) => (p.done / (p.wallMs / 1000)).toFixed(0);

function report(
  phases: Phase[],
  ours: Phase,
  seq: Phase | undefined,
  conc: Phase | undefined,
  ctx: string[],
) {
  console.log(`Store write benchmark: ${N} writes per phase, value ${VALUE_BYTES} bytes (ConfigMap JSON)`);
  for (const line of ctx) console.log(`  ${line}`);
  console.log('');
  const rows: (string | number)[][] = [['phase', 'ops', 'ops/s', 'p50 ms', 'p99 ms', 'mean ms', 'max ms']];
  for (const p of phases) {
    const s = summary(p.samples);
    rows.push([
      p.name,
      p.done,
      perSec(p),
      fmtMs(s.p50),
      fmtMs(s.p99),
      fmtMs(s.mean),
      fmtMs(Math.max(...p.samples)),
    ]);
  }
  console.log(table(rows));
  console.log('');
  const oursWps = ours.done / (ours.wallMs / 1000);
  if (seq) {
    const r = oursWps / (seq.done / (seq.wallMs / 1000));
    console.log(`ratio writes/s ours/etcd (1 in flight):  ${r.toFixed(2)}x`);
  }
  if (conc) {
    const r = oursWps / (conc.done / (conc.wallMs / 1000));
    console.log(`ratio writes/s ours/etcd (${CONCURRENCY} in flight): ${r.toFixed(2)}x`);
  }
  const cut = phases.filter((p) => p.done < N && !p.name.startsWith('floor'));
  if (cut.length) console.log(`note: time budget cut short: ${cut.map((p) => p.name).join('; ')}`);
  console.log(
    'note: our store is in-process (a commit is a function call); etcd is reached over loopback HTTP/JSON,\n' +
      '      whose cost without a commit is the "etcd range" floor above.',
  );
}

async function main(): Promise<void> {
  const base = process.env['BENCH_DIR'] ?? tmpdir();
  const dir = mkdtempSync(join(base, 'berth-bench-store-'));
  let proc: ChildProcess | undefined;
  let client: EtcdClient | undefined;
  const cleanup = async () => {
    client?.close();
    if (proc) await stopEtcd(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ctx: string[] = [];
    try {
      const df = execFileSync('df', ['-hT', dir], { encoding: 'utf8' }).trim().split('\n')[1] ?? '';
      ctx.push(`disk: ${df.replace(/\s+/g, ' ')}`);
    } catch {
      /* informational */
    }
    const bin = findEtcd();
    try {
      const v = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
      ctx.push(`${v.trim()} (${bin}), node ${process.version}`);
    } catch {
      /* informational */
    }

    const floor = benchFsyncFloor(dir);
    const ours = benchOurs(dir);
    ({ proc, client } = await startEtcd(bin, join(dir, 'etcd')));
    const seq = await benchEtcdSequential(client);
    const conc = await benchEtcdConcurrent(client);
    const read = await benchEtcdRead(client);
    report([ours, seq, conc, floor, read], ours, seq, conc, ctx);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

await main();
