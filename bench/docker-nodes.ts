/**
 * Shared by the node benchmarks: a Docker cluster started with `berth up --driver docker`, the busybox
 * image side-loaded, a watch-based "create pods → Running" timer, per-process RSS inside a node, and
 * removal of everything the benchmark made (by the cluster's label).
 */
import { spawnSync } from 'node:child_process';
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
