/**
 * Streams on a real Docker node (issue 5), each against its closest raw path in the same run:
 *
 * 1. Exec throughput: `kubectl exec web -- cat <100 MiB file>` read to the end on the host, vs
 *    `docker exec <node> cat <100 MiB file>` (the baseline) and vs `docker exec <node> ctr task
 *    exec` of the pod's `cat` (the raw CRI-side path). The files are written once beforehand with dd
 *    (64 KiB blocks), one in the pod and one in the node container, so both sides run a `cat` of a
 *    cached file. (The producer matters: busybox's `head -c`, used before, copies byte by byte through
 *    stdio and took a fifth of the machine's CPU, while the node's coreutils `head` on the docker side
 *    did not.) kubectl 1.27 (SPDY/3.1) and 1.33 (WebSocket v5), BENCH_RUNS rounds (default 5), each
 *    round running every path once; the ratio to a baseline is the median of the per-round ratios
 *    (paired, so the machine's drift cancels). Target: ratio ≥ 0.5. The CPU each kubectl transfer costs
 *    the API server, the agent, containerd and the shim is read from /proc.
 * 2. Port-forward: HTTP GETs, a new connection each, through `kubectl port-forward pod/web :80` vs the
 *    same load sent to the pod IP from inside the node (same Node.js script, run by the node's Node.js),
 *    sequential and 10 at a time, BENCH_REQUESTS (default 2000) each, capped at 20 s; requests/s, p50/p99.
 *
 * Every wait is bounded (a command past its deadline is killed and the run fails, naming it), and a
 * watchdog ends the run at BENCH_DEADLINE_S (default 240) with the step it was on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { KObject } from '../core/api/object.ts';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../core/nodes/docker/images.ts';
import { kubectlPath, type KubectlVersion } from '../e2e/harness/kubectl.ts';
import { startBerth, type BenchBerth } from './berth-process.ts';
import {
  benchClusterName,
  kubeClient,
  loadBusybox,
  podsRef,
  removeCluster,
  runOk,
  timePodsRunning,
  waitForOutput,
} from './docker-nodes.ts';
import { table } from './util.ts';

const MIB = Number(process.env['BENCH_MIB'] ?? 100);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 2000);
const LOAD_BUDGET_MS = 20_000;
const DEADLINE_MS = Number(process.env['BENCH_DEADLINE_S'] ?? 240) * 1000;
const VERSIONS: KubectlVersion[] = ['1.27', '1.33'];
const BYTES = MIB * 1024 * 1024;
/** The file each side `cat`s: in the pod's container, and in the node container. */
const POD_FILE = `/tmp/bench-${MIB}m`;
const NODE_FILE = `/var/tmp/bench-${MIB}m`;
const writeFile = (path: string): string[] => [
  'sh',
  '-c',
  `dd if=/dev/zero of=${path} bs=65536 count=${MIB * 16} 2>/dev/null && wc -c < ${path}`,
];
/** Generous per-transfer deadline: 100 MiB at 2 MiB/s. */
const transferTimeout = (): number => 10_000 + (BYTES / (2 * 1024 * 1024)) * 1000;

let step = 'starting';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mibps = (ms: number): number => MIB / (ms / 1000);
const mark = (ok: boolean): string => (ok ? '✔' : '✘');

const webPod: KObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', labels: { bench: 'pod-start' } }, // timePodsRunning watches that label
  spec: {
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'httpd',
        image: BUSYBOX_IMAGE,
        imagePullPolicy: 'Never',
        command: [
          'sh',
          '-c',
          'mkdir -p /www && echo bench-web > /www/index.html && exec httpd -f -p 80 -h /www',
        ],
      },
    ],
  },
};

/**
 * The HTTP load generator, the same ES module on the host and in the node: waits up to 15 s for the
 * first answer, then sends `total` GETs (a new connection each, `Connection: close`), `conc` at a time,
 * stopping early at the time budget; prints JSON with requests/s, p50/p99 (ms) and errors.
 */
const loadScript = (host: string, port: number, total: number, conc: number): string => `
import { request } from 'node:http';
const get = () => new Promise((resolve, reject) => {
  const t = performance.now();
  const req = request({ host: ${JSON.stringify(host)}, port: ${port}, path: '/', agent: false, headers: { Connection: 'close' }, timeout: 5000 }, (res) => {
    let body = ''; res.on('data', (d) => (body += d));
    res.on('end', () => res.statusCode === 200 && body === 'bench-web\\n' ? resolve(performance.now() - t) : reject(new Error('HTTP ' + res.statusCode + ' ' + body)));
  });
  req.on('timeout', () => req.destroy(new Error('request timed out')));
  req.on('error', reject); req.end();
});
const ready = performance.now() + 15000;
for (;;) { try { await get(); break; } catch (e) { if (performance.now() > ready) { console.error('never answered: ' + e.message); process.exit(3); } await new Promise((r) => setTimeout(r, 100)); } }
const lat = []; let errors = 0, issued = 0, lastError = '';
const t0 = performance.now(), stopAt = t0 + ${LOAD_BUDGET_MS};
const worker = async () => { while (issued < ${total} && performance.now() < stopAt) { issued++; try { lat.push(await get()); } catch (e) { errors++; lastError = e.message; } } };
await Promise.all(Array.from({ length: ${conc} }, worker));
const secs = (performance.now() - t0) / 1000; lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(p / 100 * lat.length) - 1))];
console.log(JSON.stringify({ n: lat.length, errors, lastError, rps: lat.length / secs, p50: pct(50), p99: pct(99) }));
`;

interface Load {
  n: number;
  errors: number;
  lastError: string;
  rps: number;
  p50: number;
  p99: number;
}

async function runLoad(cmd: string, args: string[], script: string): Promise<Load> {
  const r = await runOk(cmd, args, { input: script, timeoutMs: LOAD_BUDGET_MS + 30_000 });
  const load = JSON.parse(r.stdout) as Load;
  if (load.errors > load.n / 100) throw new Error(`${load.errors} failed requests (${load.lastError})`);
  return load;
}

interface Paths {
  kubectl(v: KubectlVersion, args: string[], discardStdout?: boolean): ReturnType<typeof runOk>;
  container: string;
  containerId: string;
  /** `berth up` (the API server runs in it) and the node container's init, for CPU accounting. */
  berthPid: number;
  nodePid: number;
}

/** user+system CPU ticks of a process (/proc/PID/stat fields 14 and 15); 0 once it is gone. */
function cpuTicks(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

const TICKS_PER_S = 100;

/**
 * Where the CPU of a kubectl transfer goes, by process: the API server (`berth up`), and inside the
 * node container (its processes are visible from the host) the agent, containerd and the pod's shim.
 * Short-lived processes (the command, kubectl) are not counted.
 */
function cpuGroups(p: Paths): Map<string, number[]> {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      comm.set(Number(d), st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')));
      parent.set(Number(d), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const inNode = (pid: number): boolean => {
    for (let q = pid, i = 0; q > 1 && i < 64; q = parent.get(q) ?? 0, i++) if (q === p.nodePid) return true;
    return false;
  };
  const groups = new Map<string, number[]>([['API server', [p.berthPid]]]);
  for (const [pid, c] of comm) {
    if (!inNode(pid)) continue;
    const g =
      c === 'node'
        ? 'agent'
        : c === 'containerd'
          ? 'containerd'
          : c.startsWith('containerd-shim')
            ? 'shim'
            : '';
    if (g) groups.set(g, [...(groups.get(g) ?? []), pid]);
  }
  return groups;
}

/** Runs `fn` and returns the CPU seconds each group used meanwhile. */
async function cpuDuring(p: Paths, fn: () => Promise<unknown>): Promise<Map<string, number>> {
  const groups = cpuGroups(p);
  const before = new Map([...groups].map(([g, pids]) => [g, pids.map(cpuTicks)]));
  await fn();
  return new Map(
    [...groups].map(([g, pids]) => [
      g,
      pids.reduce((sum, pid, i) => sum + Math.max(0, cpuTicks(pid) - (before.get(g)?.[i] ?? 0)), 0) /
        TICKS_PER_S,
    ]),
  );
}

/** CPU seconds per group, per kubectl version, one sample per round. */
const cpuSamples = new Map<string, Map<string, number[]>>();

/** One 100 MiB transfer per path, interleaved; returns ms per path label. */
async function execRound(p: Paths, round: number): Promise<Map<string, number>> {
  const ms = new Map<string, number>();
  const timed = async (label: string, run: () => ReturnType<typeof runOk>): Promise<void> => {
    step = `exec throughput round ${round}: ${label}`;
    const r = await run();
    if (r.bytes !== BYTES) throw new Error(`${label}: got ${r.bytes} bytes, expected ${BYTES}`);
    ms.set(label, r.ms);
  };
  const opts = { timeoutMs: transferTimeout(), discardStdout: true };
  await timed('docker exec cat', () => runOk('docker', ['exec', p.container, 'cat', NODE_FILE], opts));
  await timed('docker exec ctr task exec', () =>
    runOk(
      'docker',
      [
        'exec',
        p.container,
        'ctr',
        '-n',
        'k8s.io',
        'task',
        'exec',
        '--exec-id',
        `bench-${round}`,
        p.containerId,
        'cat',
        POD_FILE,
      ],
      opts,
    ),
  );
  for (const v of VERSIONS) {
    const label = `kubectl ${v}`;
    const cpu = await cpuDuring(p, () =>
      timed(label, () => p.kubectl(v, ['exec', 'web', '--', 'cat', POD_FILE], true)),
    );
    const per = cpuSamples.get(label) ?? new Map<string, number[]>();
    for (const [g, secs] of cpu) per.set(g, [...(per.get(g) ?? []), secs]);
    cpuSamples.set(label, per);
  }
  return ms;
}

async function execThroughput(p: Paths): Promise<string[][]> {
  step = 'writing the files to cat';
  const written = async (label: string, r: ReturnType<typeof runOk>): Promise<void> => {
    const size = Number((await r).stdout.trim());
    if (size !== BYTES) throw new Error(`the ${label}'s file has ${size} bytes, expected ${BYTES}`);
  };
  await written('pod', p.kubectl('1.33', ['exec', 'web', '--', ...writeFile(POD_FILE)]));
  await written(
    'node',
    runOk('docker', ['exec', p.container, ...writeFile(NODE_FILE)], { timeoutMs: transferTimeout() }),
  );
  const samples = new Map<string, number[]>();
  for (let i = 1; i <= RUNS; i++)
    for (const [label, ms] of await execRound(p, i)) samples.set(label, [...(samples.get(label) ?? []), ms]);
  const rate = (label: string): number => mibps(median(samples.get(label) ?? []));
  /** Median over rounds of (baseline's time / this path's time) = this path's rate ÷ the baseline's. */
  const paired = (label: string, base: string): number => {
    const xs = samples.get(label) ?? [];
    const bs = samples.get(base) ?? [];
    return median(xs.map((ms, i) => (bs[i] ?? NaN) / ms));
  };
  const rows = [
    [
      'path',
      `MiB/s (median of ${RUNS})`,
      'runs (MiB/s)',
      '÷ docker exec cat (paired)',
      '÷ ctr task exec (paired)',
    ],
  ];
  for (const [label, runs] of samples) {
    const vs = (base: string): string => {
      if (!label.startsWith('kubectl')) return '';
      const r = paired(label, base);
      return `${r.toFixed(2)} ${mark(r >= 0.5)}`;
    };
    rows.push([
      label,
      rate(label).toFixed(1),
      runs.map((x) => mibps(x).toFixed(0)).join(' / '),
      vs('docker exec cat'),
      vs('docker exec ctr task exec'),
    ]);
  }
  return rows;
}

/** Median CPU seconds per 100 MiB by process group, for each kubectl version. */
function execCpuRows(): string[][] {
  const groups = ['API server', 'agent', 'containerd', 'shim'];
  const rows = [['path', ...groups.map((g) => `${g} CPU-s`), 'sum']];
  for (const [label, per] of cpuSamples) {
    const vals = groups.map((g) => (median(per.get(g) ?? [0]) * 100) / MIB);
    rows.push([label, ...vals.map((x) => x.toFixed(2)), vals.reduce((a, b) => a + b, 0).toFixed(2)]);
  }
  return rows;
}

/** Starts `kubectl port-forward pod/web :80`, runs both loads through it, stops it. */
async function forwarded(p: Paths, v: KubectlVersion, env: NodeJS.ProcessEnv): Promise<Load[]> {
  step = `kubectl ${v} port-forward: waiting for "Forwarding from"`;
  const child = spawn(kubectlPath(v)!, ['port-forward', 'pod/web', ':80'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const m = await waitForOutput(child, /Forwarding from 127\.0\.0\.1:(\d+) -> 80/, 30_000);
    child.stdout.resume(); // one "Handling connection" line per request: keep draining or kubectl blocks
    child.stderr.resume();
    const port = Number(m[1]);
    const out: Load[] = [];
    for (const conc of [1, 10]) {
      step = `kubectl ${v} port-forward: load, concurrency ${conc}`;
      out.push(
        await runLoad(
          process.execPath,
          ['--input-type=module', '-'],
          loadScript('127.0.0.1', port, REQUESTS, conc),
        ),
      );
    }
    return out;
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

async function portForward(p: Paths, podIP: string, env: NodeJS.ProcessEnv): Promise<string[][]> {
  const direct: Load[] = [];
  for (const conc of [1, 10]) {
    step = `direct load from the node, concurrency ${conc}`;
    direct.push(
      await runLoad(
        'docker',
        ['exec', '-i', p.container, 'node', '--input-type=module', '-'],
        loadScript(podIP, 80, REQUESTS, conc),
      ),
    );
  }
  const rows = [['path', 'concurrency', 'requests', 'req/s', 'p50', 'p99', 'req/s ratio', 'p99 ratio']];
  const row = (label: string, conc: number, l: Load, base?: Load): string[] => [
    label,
    String(conc),
    String(l.n),
    l.rps.toFixed(0),
    `${l.p50.toFixed(2)} ms`,
    `${l.p99.toFixed(2)} ms`,
    base ? (l.rps / base.rps).toFixed(2) : '',
    base ? (l.p99 / base.p99).toFixed(1) : '',
  ];
  direct.forEach((l, i) => rows.push(row('node → pod IP', i ? 10 : 1, l)));
  for (const v of VERSIONS)
    (await forwarded(p, v, env)).forEach((l, i) =>
      rows.push(row(`kubectl ${v} port-forward`, i ? 10 : 1, l, direct[i])),
    );
  return rows;
}

async function main(): Promise<void> {
  for (const v of VERSIONS) if (!kubectlPath(v)) throw new Error(`kubectl.${v} not found beside kubectl`);
  step = 'node images';
  await ensureNodeImages(new Docker());
  const name = benchClusterName('streams');
  const home = mkdtempSync(join(tmpdir(), 'berth-bench-home-'));
  let berth: BenchBerth | undefined;
  const watchdog = setTimeout(() => {
    console.error(`streams bench: over ${DEADLINE_MS / 1000} s, stuck at: ${step}`);
    void (async () => {
      await berth?.stop();
      await removeCluster(name);
      process.exit(1);
    })();
  }, DEADLINE_MS);
  try {
    step = 'berth up (1 Docker node)';
    berth = await startBerth(['--driver', 'docker', '--nodes', '1', '--name', name], 180_000);
    const env = { ...process.env, KUBECONFIG: berth.kubeconfig, HOME: home };
    step = 'image load';
    loadBusybox(berth.dataDir);
    const client = kubeClient(berth.kubeconfig);
    step = 'pod web Running';
    await timePodsRunning(client, 'default', [webPod], 90_000);
    const pod = await client.get(podsRef, 'default', 'web');
    client.close();
    const status = pod['status'] as { podIP?: string; containerStatuses?: { containerID?: string }[] };
    const containerId = status.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
    if (!status.podIP || !containerId)
      throw new Error(`pod web has no IP or container id: ${JSON.stringify(status)}`);
    const nodeContainer = `berth-${name}.${name}-worker-1`;
    const nodeInfo = (await new Docker().getContainer(nodeContainer).inspect()) as { State: { Pid: number } };
    const p: Paths = {
      container: nodeContainer,
      containerId,
      berthPid: berth.child.pid ?? 0,
      nodePid: nodeInfo.State.Pid,
      kubectl: (v, args, discardStdout = false) =>
        runOk(kubectlPath(v)!, args, { env, timeoutMs: transferTimeout(), discardStdout }),
    };
    const execRows = await execThroughput(p);
    const pfRows = await portForward(p, status.podIP, env);
    const when = new Date().toISOString();
    console.log(`Exec throughput, ${MIB} MiB of stdout, 1 Docker node (${when}); target ratio ≥ 0.5`);
    console.log(table(execRows));
    console.log(
      `\nCPU seconds per 100 MiB of kubectl exec, by process (median of ${RUNS}; kubectl and the command not counted)`,
    );
    console.log(table(execCpuRows()));
    console.log(
      `\nPort-forward vs node → pod IP, HTTP GET with a new connection each, ≤ ${REQUESTS} requests or ${LOAD_BUDGET_MS / 1000} s`,
    );
    console.log(table(pfRows));
  } finally {
    clearTimeout(watchdog);
    await berth?.stop();
    await removeCluster(name);
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
