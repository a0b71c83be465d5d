/**
 * Shared by the node benchmarks: a Docker cluster started with `berth up --driver docker`, the busybox
 * image side-loaded, a watch-based "create pods → Running" timer, per-process RSS inside a node, and
 * removal of everything the benchmark made (by the cluster's label).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type { KObject } from '../core/api/object.ts';
import { HttpsClient, optionsFromKubeconfig } from '../core/client/https-client.ts';
import { DockerNodeDriver } from '../core/nodes/docker/driver.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
export const podsRef = { group: '', version: 'v1', resource: 'pods' };

export const benchClusterName = (what: string): string => `bench-${what}-${process.pid.toString(36)}`;

/** Removes every container, volume and network labelled with the cluster. */
export async function removeCluster(name: string): Promise<void> {
  await new DockerNodeDriver({ cluster: name, docker: new Docker() }).destroy();
}

export function berthCli(dataDir: string, args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin/berth.mjs'), ...args, '--data-dir', dataDir], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`berth ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export const loadBusybox = (dataDir: string): string => berthCli(dataDir, ['image', 'load', BUSYBOX_IMAGE]);

export function kubeClient(kubeconfig: string): HttpsClient {
  return new HttpsClient(optionsFromKubeconfig(kubeconfig));
}

export function sleeperPod(ns: string, name: string, node?: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { bench: 'pod-start' } },
    spec: {
      ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}),
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
    },
  };
}

/**
 * Creates the pods (all at once) and resolves with each one's latency from its create request to the
 * first watch event that shows it Running, in milliseconds.
 */
export async function timePodsRunning(
  client: HttpsClient,
  ns: string,
  pods: KObject[],
  timeoutMs = 120_000,
): Promise<number[]> {
  const sent = new Map<string, number>();
  const running = new Map<string, number>();
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const w = await client.watch(podsRef, ns, { labelSelector: 'bench=pod-start' }, (_t, o) => {
    const name = o.metadata.name ?? '';
    const phase = (o['status'] as { phase?: string } | undefined)?.phase;
    if (phase === 'Running' && sent.has(name) && !running.has(name)) {
      running.set(name, performance.now());
      if (running.size === pods.length) done();
    }
  });
  await Promise.all(
    pods.map(async (p) => {
      sent.set(p.metadata.name!, performance.now());
      await client.create(podsRef, ns, p);
    }),
  );
  const timer = new Promise<never>((_, rej) =>
    setTimeout(
      () => rej(new Error(`only ${running.size}/${pods.length} pods Running after ${timeoutMs} ms`)),
      timeoutMs,
    ),
  );
  try {
    await Promise.race([all, timer]);
  } finally {
    w.stop();
  }
  return pods.map((p) => running.get(p.metadata.name!)! - sent.get(p.metadata.name!)!);
}

/** Deletes the pods with the bench label and waits until they are gone. */
export async function deleteBenchPods(client: HttpsClient, ns: string): Promise<void> {
  const list = await client.list(podsRef, ns, { labelSelector: 'bench=pod-start' });
  await Promise.all(
    list.items.map((p) => client.delete(podsRef, ns, p.metadata.name!, { gracePeriodSeconds: 0 })),
  );
  for (let i = 0; i < 600; i++) {
    if (!(await client.list(podsRef, ns, { labelSelector: 'bench=pod-start' })).items.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('bench pods were not deleted within 60 s');
}

/** RSS (MiB) of the processes in a node container whose command line starts with `prefix`. */
export function nodeProcessRss(container: string, prefix: string): number {
  const script = `for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' <$p/cmdline 2>/dev/null); case "$c" in "${prefix}"*) awk '/VmRSS/ {print $2}' $p/status;; esac; done`;
  const r = spawnSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8' });
  return (
    r.stdout
      .split('\n')
      .filter(Boolean)
      .reduce((a, kb) => a + Number(kb), 0) / 1024
  );
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Bytes written to stdout (kept in `stdout` only when not `discardStdout`). */
  bytes: number;
  ms: number;
}

/**
 * Runs a command to completion with a deadline: stdin gets `input` (or nothing) and is closed at once,
 * so nothing waits on EOF; past `timeoutMs` the child is killed and the promise rejects, naming it.
 */
export function runBounded(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv; discardStdout?: boolean },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let bytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (!opts.discardStdout) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${opts.timeoutMs} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, bytes, ms: performance.now() - t0 });
    });
    child.stdin.on('error', () => undefined); // a child that exits before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** `runBounded` that also requires exit status 0. */
export async function runOk(...a: Parameters<typeof runBounded>): Promise<Finished> {
  const r = await runBounded(...a);
  if (r.code !== 0) throw new Error(`${a[0]} ${a[1].join(' ')} exited ${r.code}\n${r.stderr}`);
  return r;
}

/**
 * Waits until a long-running child prints a line matching `re` on stdout or stderr; rejects if it
 * exits first or after `timeoutMs`, with what it printed.
 */
export function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`exited (${code}) before printing ${re}:\n${out}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${re} after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
