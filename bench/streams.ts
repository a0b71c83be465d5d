/**
 * Streams on a real Docker node (issue "Streams"): `kubectl exec … cat` of 100 MiB against `docker exec`
 * of the same into the node container (ratio, target ≥ 0.5), and HTTP through `kubectl port-forward`
 * against the same requests sent to the pod directly from the node (requests/s, p99), same run.
 *   BENCH_MIB (default 100), BENCH_REQUESTS (default 300)
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { realpathSync } from 'node:fs';
import Docker from 'dockerode';
import { ensureNodeImages, BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';
import { startBerth } from './berth-process.ts';
import { benchClusterName, loadBusybox, removeCluster } from './docker-nodes.ts';
import { table } from './util.ts';

const mib = Number(process.env['BENCH_MIB'] ?? 100);
const requests = Number(process.env['BENCH_REQUESTS'] ?? 300);
const kubectlDir = dirname(
  realpathSync(spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim()),
);
const kubectl = join(kubectlDir, 'kubectl.1.33');

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return performance.now() - t0;
}

/** An HTTP GET loop with one keep-alive connection, run by Node.js (in the node container or here). */
const httpLoop = (url: string, n: number): string => `
const http = require('node:http'); const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((res, rej) => http.get(${JSON.stringify(url)}, { agent }, (r) => { r.resume(); r.on('end', res); }).on('error', rej));
(async () => { const lat = []; const t0 = performance.now();
  for (let i = 0; i < ${n}; i++) { const s = performance.now(); await get(); lat.push(performance.now() - s); }
  const total = performance.now() - t0; lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ rps: ${n} / (total / 1000), p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.ceil(lat.length * 0.99) - 1] }));
  agent.destroy(); })();`;

async function main(): Promise<void> {
  await ensureNodeImages(new Docker());
  const name = benchClusterName('streams');
  const berth = await startBerth(['--driver', 'docker', '--nodes', '1', '--name', name], 300_000);
  const env = { ...process.env, KUBECONFIG: berth.kubeconfig };
  const container = `berth-${name}.${name}-worker-1`;
  try {
    loadBusybox(berth.dataDir);
    const k = (args: string[]): string => {
      const r = spawnSync(kubectl, args, { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    k([
      'run',
      'big',
      `--image=${BUSYBOX_IMAGE}`,
      '--image-pull-policy=IfNotPresent',
      '--',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/www',
    ]);
    k(['wait', '--for=condition=Ready', 'pod/big', '--timeout=90s']);
    k([
      'exec',
      'big',
      '--',
      'sh',
      '-c',
      `head -c ${mib * 1048576} /dev/zero > /tmp/big && head -c 2048 /dev/zero > /www/f`,
    ]);
    spawnSync('docker', ['exec', container, 'sh', '-c', `head -c ${mib * 1048576} /dev/zero > /tmp/big`]);
    const podIP = k(['get', 'pod', 'big', '-o', 'jsonpath={.status.podIP}']).trim();

    const viaKubectl = timed(kubectl, ['exec', 'big', '--', 'cat', '/tmp/big'], env);
    const viaDocker = timed('docker', ['exec', container, 'cat', '/tmp/big'], process.env);
    spawnSync('docker', ['exec', container, 'rm', '-f', '/tmp/big']);

    const direct = JSON.parse(
      spawnSync('docker', ['exec', container, 'node', '-e', httpLoop(`http://${podIP}/f`, requests)], {
        encoding: 'utf8',
      }).stdout,
    ) as { rps: number; p50: number; p99: number };
    const pf = spawn(kubectl, ['port-forward', 'pod/big', '18093:80'], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise<void>((resolve) =>
      pf.stdout.on('data', (d: Buffer) => /Forwarding/.test(d.toString()) && resolve()),
    );
    const forwarded = JSON.parse(
      spawnSync(process.execPath, ['-e', httpLoop('http://127.0.0.1:18093/f', requests)], {
        encoding: 'utf8',
      }).stdout,
    ) as { rps: number; p50: number; p99: number };
    pf.kill('SIGTERM');

    const rate = (msv: number): string => `${(mib / (msv / 1000)).toFixed(1)} MiB/s`;
    console.log(`Streams, 1 Docker node, kubectl 1.33 (${new Date().toISOString()})`);
    console.log(
      table([
        ['measure', 'through Berth', 'baseline', 'ratio'],
        [
          `exec cat ${mib} MiB (kubectl exec vs docker exec)`,
          rate(viaKubectl),
          rate(viaDocker),
          (viaDocker / viaKubectl).toFixed(2),
        ],
        [
          `HTTP requests/s (port-forward vs node → pod IP), ${requests} keep-alive GETs`,
          forwarded.rps.toFixed(0),
          direct.rps.toFixed(0),
          (forwarded.rps / direct.rps).toFixed(2),
        ],
        ['HTTP p50', `${forwarded.p50.toFixed(2)} ms`, `${direct.p50.toFixed(2)} ms`, ''],
        ['HTTP p99', `${forwarded.p99.toFixed(2)} ms`, `${direct.p99.toFixed(2)} ms`, ''],
      ]),
    );
  } finally {
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
