/**
 * A cluster with real Docker nodes for e2e suites: `berth up --driver docker --nodes N` as a child
 * process (harness/berth.ts), the busybox test image side-loaded into every node with
 * `berth image load`, and everything labelled with the cluster's name removed afterwards. Without a
 * Docker engine the suite fails under CI=true and reports why elsewhere (never a silent skip in CI).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { DockerNodeDriver } from '../../core/nodes/docker/driver.ts';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../../core/nodes/docker/images.ts';
import { pingDocker } from '../../core/nodes/docker/prereqs.ts';
import { startBerth, type BerthProcess } from './berth.ts';
import { requireKubectl } from './kubectl.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface DockerCluster extends BerthProcess {
  name: string;
  /** The node names, sorted. */
  nodes: string[];
  /** Runs `berth <args>` against this cluster's data dir; returns exit status and output. */
  berth(args: string[]): { status: number; output: string };
  /** Stops berth up and removes every container, volume and network of the cluster, and the dirs. */
  destroy(): Promise<void>;
  /** Stops berth up (its node containers stop too) and starts it again on the same data dir. */
  restart(): Promise<void>;
}

/** Whether Docker is usable here; under CI=true its absence is an error. */
export async function dockerAvailable(): Promise<string | undefined> {
  try {
    await pingDocker(new Docker());
    return undefined;
  } catch (e) {
    const why = (e as Error).message;
    if (process.env['CI'] === 'true') throw new Error(`Docker is required in CI: ${why}`, { cause: e });
    return why;
  }
}

/**
 * Why a Docker-node suite driven by kubectl 1.27 and 1.33 cannot run here (undefined: it can). Without
 * a Docker engine this throws under CI=true (dockerAvailable); a missing kubectl fails in CI too.
 */
export async function dockerSuiteSkip(): Promise<string | undefined> {
  return (await dockerAvailable()) ?? requireKubectl('1.27') ?? requireKubectl('1.33');
}

export async function startDockerCluster(opts: {
  name: string;
  nodes: number;
  timeoutMs?: number;
}): Promise<DockerCluster> {
  const docker = new Docker();
  // Build (or reuse) the node and test images first, so berth up's own timeout covers only the start.
  await ensureNodeImages(docker);
  let b = await startBerth({
    args: ['--driver', 'docker', '--nodes', String(opts.nodes), '--name', opts.name],
    timeoutMs: opts.timeoutMs ?? 180_000,
  });
  const berth = (args: string[]): { status: number; output: string } => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin', 'berth.mjs'), ...args, '--data-dir', b.dataDir],
      {
        encoding: 'utf8',
        env: { ...process.env, HOME: b.home },
        timeout: 120_000,
      },
    );
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  };
  const destroy = async (): Promise<void> => {
    await b.stop();
    await new DockerNodeDriver({ cluster: opts.name, docker }).destroy();
    b.cleanup();
  };
  try {
    const load = berth(['image', 'load', BUSYBOX_IMAGE]);
    if (load.status !== 0) throw new Error(`berth image load failed:\n${load.output}`);
  } catch (e) {
    await destroy();
    throw e;
  }
  const nodes = Array.from({ length: opts.nodes }, (_, i) => `${opts.name}-worker-${i + 1}`);
  const first = b;
  const cluster: DockerCluster = { ...b, name: opts.name, nodes, berth, destroy, restart };
  async function restart(): Promise<void> {
    await b.stop();
    // Same data dir, no flags: the cluster remembers its name, driver and nodes and adopts them.
    const again = await startBerth({ dataDir: first.dataDir, timeoutMs: opts.timeoutMs ?? 180_000 });
    const stopAgain = again.stop.bind(again);
    b = { ...first, child: again.child, url: again.url, output: again.output, stop: stopAgain };
    again.cleanup(); // its own HOME only (the data dir was given)
    Object.assign(cluster, { child: again.child, url: again.url, output: again.output, stop: stopAgain });
  }
  return cluster;
}

/** A cluster name unique to this run (DNS label). */
export const uniqueClusterName = (prefix: string): string =>
  `${prefix}-${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
