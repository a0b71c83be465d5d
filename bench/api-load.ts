/**
 * API load: kine's mix on ConfigMaps (20% create, 50% update, 20% delete, 10% list) at a fixed request
 * rate over HTTPS against `berth up --nodes 0`, open loop. Baseline in the same run: GET /healthz at the
 * same rate (TLS + HTTP + routing floor). Prints p50/p99 per operation and the ratio to the baseline.
 *   BENCH_SECONDS (default 60), BENCH_RATE (default 200 req/s)
 */
import { startBerth } from './berth-process.ts';
import { clientFromKubeconfig, ms, summary, table, type Client } from './util.ts';

type Op = 'create' | 'update' | 'delete' | 'list';

async function openLoop(seconds: number, rate: number, fire: () => Promise<void>): Promise<void> {
  const interval = 1000 / rate;
  const end = Date.now() + seconds * 1000;
  const inflight = new Set<Promise<void>>();
  let next = Date.now();
  while (Date.now() < end) {
    const p = fire().finally(() => inflight.delete(p));
    inflight.add(p);
    next += interval;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inflight.size > 2000) throw new Error('server cannot keep up (2000 requests in flight)');
  }
  await Promise.all(inflight);
}

async function main(): Promise<void> {
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 60);
  const rate = Number(process.env['BENCH_RATE'] ?? 200);
  const berth = await startBerth();
  const c: Client = clientFromKubeconfig(berth.kubeconfig, 64);
  try {
    await c.request('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    const base = '/api/v1/namespaces/bench/configmaps';
    const names: string[] = [];
    let seq = 0;
    for (let i = 0; i < 100; i++) {
      const name = `seed-${i}`;
      await c.request('POST', base, { metadata: { name }, data: { v: 'x'.repeat(512) } });
      names.push(name);
    }
    const lat: Record<Op | 'healthz', number[]> = {
      create: [],
      update: [],
      delete: [],
      list: [],
      healthz: [],
    };
    const errors: Record<string, number> = {};
    const timed = async (op: Op | 'healthz', f: () => Promise<{ status: number }>): Promise<void> => {
      const t = performance.now();
      const r = await f();
      lat[op].push(performance.now() - t);
      if (r.status >= 300) errors[`${op} ${r.status}`] = (errors[`${op} ${r.status}`] ?? 0) + 1;
    };
    // Baseline first, at the same rate.
    await openLoop(Math.min(10, seconds), rate, () => timed('healthz', () => c.request('GET', '/healthz')));
    await openLoop(seconds, rate, () => {
      const x = Math.random();
      if (x < 0.2 || names.length < 10) {
        const name = `cm-${seq++}`;
        names.push(name);
        return timed('create', () =>
          c.request('POST', base, { metadata: { name }, data: { v: 'x'.repeat(512) } }),
        );
      }
      if (x < 0.7) {
        const name = names[Math.floor(Math.random() * names.length)]!;
        return timed('update', () =>
          c.request('PUT', `${base}/${name}`, {
            metadata: { name },
            data: { v: `${Date.now()}`.padEnd(512, 'y') },
          }),
        );
      }
      if (x < 0.9) {
        const name = names.splice(Math.floor(Math.random() * names.length), 1)[0]!;
        return timed('delete', () => c.request('DELETE', `${base}/${name}`));
      }
      return timed('list', () => c.request('GET', `${base}?limit=500`));
    });
    const hz = summary(lat.healthz);
    const rows: (string | number)[][] = [['operation', 'count', 'p50', 'p99', 'p50 ÷ /healthz p50']];
    for (const op of ['create', 'update', 'delete', 'list', 'healthz'] as const) {
      const s = summary(lat[op]);
      rows.push([op, s.n, ms(s.p50), ms(s.p99), (s.p50 / hz.p50).toFixed(2)]);
    }
    console.log(
      `API load: kine mix on ConfigMaps, ${rate} req/s for ${seconds} s over HTTPS (keep-alive), open loop`,
    );
    console.log(table(rows));
    console.log(
      `non-2xx answers: ${JSON.stringify(errors)} (update/delete of a name deleted concurrently may 404)`,
    );
  } finally {
    c.close();
    await berth.stop();
  }
}

await main();
