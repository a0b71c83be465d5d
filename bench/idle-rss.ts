/**
 * Idle memory with Docker nodes (issue "Real worker nodes": agent ≤ 40 MB, control plane ≤ 150 MB):
 * `berth up --driver docker --nodes N`, idle for a while, then per node the agent and containerd, and
 * the control plane: RSS, its anonymous and file-backed parts, Pss (file pages shared between nodes
 * counted once in total) and USS (pages only this process has). Baselines in the same run: an idle
 * `node` inside a node container (the node image's Node.js 18 with nothing loaded) and an idle `node`
 * on the host. The agent's V8 heap comes from its own report (SIGUSR2, core/agent/memory-report.ts).
 *   BENCH_NODES (default 3), BENCH_IDLE_SECONDS (default 60)
 */
import { spawnSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { procFields, type MemoryReport } from '../core/agent/memory-report.ts';
import { ensureNodeImages } from '../core/nodes/docker/images.ts';
import { startBerth } from './berth-process.ts';
import { benchClusterName, removeCluster } from './docker-nodes.ts';
import { table } from './util.ts';

const nodes = Number(process.env['BENCH_NODES'] ?? 3);
const idleSeconds = Number(process.env['BENCH_IDLE_SECONDS'] ?? 60);
const FIELDS = ['VmRSS', 'RssAnon', 'RssFile', 'Pss', 'Private_Clean', 'Private_Dirty'] as const;
/** Marks an idle Node.js started as the in-node baseline. */
const BASELINE_TAG = 'berth-bench-idle-baseline';

/** Memory of one process, KiB. */
interface Mem {
  rss: number;
  anon: number;
  file: number;
  pss: number;
  uss: number;
}

function toMem(f: Record<string, number>): Mem {
  const v = (k: string): number => f[k] ?? NaN;
  return {
    rss: v('VmRSS'),
    anon: v('RssAnon'),
    file: v('RssFile'),
    pss: v('Pss'),
    uss: v('Private_Clean') + v('Private_Dirty'),
  };
}

const hostMem = (pid: number): Mem =>
  toMem(
    procFields(
      readFileSync(`/proc/${pid}/status`, 'utf8') + readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'),
      FIELDS,
    ),
  );

/**
 * The node's processes of interest, by role: the agent (node … agent.mjs), containerd, and the
 * baseline (an idle node started by this benchmark).
 */
function nodeMem(container: string): Map<string, Mem> {
  const script = `for p in /proc/[0-9]*; do
    c=$(tr '\\0' ' ' <$p/cmdline 2>/dev/null); comm=$(cat $p/comm 2>/dev/null); role=
    case "$comm:$c" in
      node:*${BASELINE_TAG}*) role=baseline;; node:*agent.mjs*) role=agent;; containerd:*) role=containerd;;
    esac
    [ -n "$role" ] && { echo "=== $role"; cat $p/status $p/smaps_rollup; }
  done; true`;
  const r = spawnSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8' });
  const out = new Map<string, Mem>();
  for (const part of r.stdout.split('=== ').slice(1)) {
    const nl = part.indexOf('\n');
    out.set(part.slice(0, nl).trim(), toMem(procFields(part.slice(nl + 1), FIELDS)));
  }
  return out;
}

/** The agent's last memory report after asking for one (SIGUSR2). */
async function agentReport(docker: Docker, container: string): Promise<MemoryReport | undefined> {
  const signal = `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = node ] && grep -q agent.mjs $p/cmdline && kill -USR2 \${p#/proc/}; done; true`;
  spawnSync('docker', ['exec', container, 'sh', '-c', signal]);
  await new Promise((r) => setTimeout(r, 500));
  const logs = (
    await docker.getContainer(container).logs({ stdout: true, stderr: true, tail: 200 })
  ).toString('latin1');
  const line = logs
    .split('\n')
    .filter((l) => l.includes('berth-agent: memory {'))
    .pop();
  return line ? (JSON.parse(line.slice(line.indexOf('{'))) as MemoryReport) : undefined;
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);
const row = (what: string, m: Mem | undefined): string[] =>
  m ? [what, mib(m.rss), mib(m.anon), mib(m.file), mib(m.pss), mib(m.uss)] : [what, '-', '-', '-', '-', '-'];
const avg = (ms: Mem[], k: keyof Mem): number => ms.reduce((a, m) => a + m[k], 0) / (ms.length || 1);

async function main(): Promise<void> {
  const docker = new Docker();
  await ensureNodeImages(docker);
  const name = benchClusterName('idle');
  const hostBare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const berth = await startBerth(['--driver', 'docker', '--nodes', String(nodes), '--name', name], 300_000);
  try {
    const containers = Array.from({ length: nodes }, (_, i) => `berth-${name}.${name}-worker-${i + 1}`);
    // The node image's Node.js with nothing loaded, in the first node, ending by itself.
    const life = (idleSeconds + 120) * 1000;
    spawnSync('docker', [
      'exec',
      '-d',
      containers[0]!,
      'node',
      '-e',
      `setTimeout(() => {}, ${life}) // ${BASELINE_TAG}`,
    ]);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));

    const rows: string[][] = [['process', 'RSS', 'anon', 'file', 'Pss', 'USS']];
    rows.push(row(`control plane (berth up, ${nodes} nodes)`, hostMem(berth.child.pid!)));
    const agents: Mem[] = [];
    let baseline: Mem | undefined;
    for (const [i, c] of containers.entries()) {
      const m = nodeMem(c);
      const agent = m.get('agent');
      if (agent) agents.push(agent);
      baseline ??= m.get('baseline');
      rows.push(row(`node ${i + 1} agent`, agent), row(`node ${i + 1} containerd`, m.get('containerd')));
    }
    rows.push(row('baseline: idle node in a node (Node.js 18)', baseline));
    rows.push(row('baseline: idle node on the host', hostMem(hostBare.pid!)));
    console.log(
      `Idle memory after ${idleSeconds} s, ${nodes} Docker nodes (MiB; ${new Date().toISOString()})`,
    );
    console.log(table(rows));

    const report = await agentReport(docker, containers[0]!);
    if (report) {
      const u = report.usage;
      const k = (x: number | undefined): string => mib(x ?? NaN);
      console.log(
        `node 1 agent, V8: heap ${k(u['heapTotal'])} MiB committed / ${k(u['heapUsed'])} used, ` +
          `code space ${k(report.spaces['code_space']?.[0])}, bytecode ${k(report.code['bytecode'])}, ` +
          `external ${k(u['external'])}`,
      );
    }
    const rss = avg(agents, 'rss');
    const verdict = rss / 1024 <= 40 / 1.048576 ? 'met' : 'NOT met';
    console.log(`Target agent ≤ 40 MB (38.1 MiB) RSS: ${verdict} (mean ${mib(rss)} MiB).`);
    if (baseline) {
      console.log(
        `Node.js 18 alone is ${mib(baseline.rss)} MiB RSS (${mib(baseline.file)} MiB of it file-backed, shared ` +
          `between nodes); the agent's own share (agent USS − idle node USS) is ` +
          `${mib(avg(agents, 'uss') - baseline.uss)} MiB, its Pss ${mib(avg(agents, 'pss'))} MiB.`,
      );
    }
  } finally {
    hostBare.kill();
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
