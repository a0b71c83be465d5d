/**
 * The cluster manager of a GUI host (the Electron main process, or `berth serve`): creates, starts,
 * stops and deletes built-in clusters by running them in this process with `startCluster` — the same
 * composition root `berth up` uses — and drives their nodes through RunningCluster.driver. Every phase
 * change and progress line (image builds, node boots, "nodes Ready: n/N") goes to `onChange`.
 *
 * A cluster is a data dir `<clustersDir>/<name>`; its id is `berth:<data dir>`, as ClusterRegistry
 * names it. A cluster run by another process (`berth up`) cannot be started here (its lock is held).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CreateClusterParams, HostedClusterState, HostedNode } from './contract.ts';
import type { RunningCluster, StartClusterOptions } from '../cluster/cluster.ts';
import type { NodeRecord } from '../nodes/driver.ts';
import { clusterFiles } from '../cluster/paths.ts';
import { isAlive, runningPid } from '../cluster/lock.ts';

export type StartFn = (opts: StartClusterOptions) => Promise<RunningCluster>;

export interface ClusterManagerOptions {
  clustersDir: string;
  /** Called on every phase change and progress line. */
  onChange: (id: string, state: HostedClusterState, line?: string) => void;
  /** The composition root (tests may wrap it); core/cluster's startCluster by default. */
  start?: StartFn;
  /** Removes a Docker cluster's containers, volumes and network (DockerNodeDriver.destroy by default). */
  destroyDockerResources?: (cluster: string) => Promise<void>;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const PROGRESS_KEPT = 50;

interface Hosted {
  dataDir: string;
  state: HostedClusterState;
  running?: RunningCluster;
  /** The control channel (`berth node …`, `berth image load` reach a hosted cluster as a `berth up` one). */
  control?: { close(): Promise<void> };
  /** The start in flight, so stop/delete can wait for it. */
  starting?: Promise<void>;
}

export const clusterIdOf = (dataDir: string): string => `berth:${dataDir}`;

export function readConfig(dataDir: string): { name?: string; driver?: 'docker' | 'simulated' } {
  try {
    return JSON.parse(readFileSync(clusterFiles(dataDir).config, 'utf8')) as {
      name?: string;
      driver?: 'docker' | 'simulated';
    };
  } catch {
    return {};
  }
}

function toHostedNode(n: NodeRecord): HostedNode {
  return {
    name: n.name,
    driver: n.driver,
    state: n.state,
    ...(n.internalIP ? { internalIP: n.internalIP } : {}),
  };
}

export class ClusterManager {
  private hosted = new Map<string, Hosted>();
  private readonly startFn: StartFn;

  constructor(private readonly opts: ClusterManagerOptions) {
    this.startFn = opts.start ?? (async (o) => (await import('../cluster/cluster.ts')).startCluster(o));
  }

  get clustersDir(): string {
    return this.opts.clustersDir;
  }

  /** The hosted state of a data dir (undefined when this host never touched it). */
  stateOf(dataDir: string): HostedClusterState | undefined {
    return this.hosted.get(clusterIdOf(dataDir))?.state;
  }

  /** Ids of clusters this host knows about (including ones still without a kubeconfig). */
  dataDirs(): string[] {
    return [...this.hosted.values()].filter((h) => h.state.phase !== 'deleting').map((h) => h.dataDir);
  }

  /** The running cluster of an id, if this host runs it. */
  running(id: string): RunningCluster | undefined {
    return this.hosted.get(id)?.running;
  }

  private entry(id: string): Hosted {
    let h = this.hosted.get(id);
    if (h) return h;
    if (!id.startsWith('berth:')) throw new Error(`"${id}" is not a built-in cluster`);
    const dataDir = id.slice('berth:'.length);
    if (!existsSync(clusterFiles(dataDir).config)) throw new Error(`no cluster in ${dataDir}`);
    const cfg = readConfig(dataDir);
    h = { dataDir, state: { phase: 'stopped', progress: [], ...(cfg.driver ? { driver: cfg.driver } : {}) } };
    this.hosted.set(id, h);
    return h;
  }

  private update(id: string, h: Hosted, patch: Partial<HostedClusterState>, line?: string): void {
    const state: HostedClusterState = { ...h.state, ...patch };
    if (line !== undefined) {
      state.progress = [...state.progress, line].slice(-PROGRESS_KEPT);
      const m = /^nodes Ready: (\d+)\/(\d+)$/.exec(line);
      if (m) state.nodesReady = { ready: Number(m[1]), total: Number(m[2]) };
    }
    if (patch.phase && patch.phase !== 'failed' && !('error' in patch)) delete state.error;
    h.state = state;
    this.opts.onChange(id, state, line);
  }

  /** Creates `<clustersDir>/<name>` and starts it in the background. */
  create(
    p: Omit<CreateClusterParams, 'driver'> & { driver: CreateClusterParams['driver'] | 'none' },
  ): string {
    if (!NAME.test(p.name))
      throw new Error(`cluster name "${p.name}" must be a DNS label (a-z, 0-9, -; ≤ 40)`);
    if (!Number.isInteger(p.nodes) || p.nodes < 0 || p.nodes > 20)
      throw new Error('nodes must be a whole number from 0 to 20');
    if (!['docker', 'simulated', 'none'].includes(p.driver))
      throw new Error('driver must be docker or simulated');
    const dataDir = join(this.opts.clustersDir, p.name);
    const id = clusterIdOf(dataDir);
    if (existsSync(clusterFiles(dataDir).config) || this.hosted.has(id))
      throw new Error(`a cluster named "${p.name}" already exists`);
    const h: Hosted = {
      dataDir,
      state: { phase: 'stopped', progress: [], ...(p.driver !== 'none' ? { driver: p.driver } : {}) },
    };
    this.hosted.set(id, h);
    this.launch(id, h, { dataDir, name: p.name, apiPort: 0, driver: p.driver, nodes: p.nodes });
    return id;
  }

  /** Starts (resumes) a stopped cluster in the background; `nodes` may give a driver-less one nodes. */
  start(id: string, nodes?: { driver: 'docker' | 'simulated'; nodes: number }): void {
    const h = this.entry(id);
    if (h.running || h.starting) throw new Error('the cluster is already running here');
    const pid = runningPid(clusterFiles(h.dataDir).pidFile);
    if (pid !== undefined && pid !== process.pid && isAlive(pid))
      throw new Error(`the cluster is running in another process (pid ${pid}); stop it with \`berth down\``);
    this.launch(id, h, { dataDir: h.dataDir, ...(nodes ?? {}) });
  }

  private launch(id: string, h: Hosted, opts: StartClusterOptions): void {
    this.update(id, h, { phase: 'starting' }, 'starting the control plane');
    h.starting = this.startFn({ ...opts, progress: (line) => this.update(id, h, {}, line) }).then(
      async (running) => {
        h.running = running;
        const { serveControl } = await import('../cluster/control.ts');
        h.control = await serveControl(h.dataDir, running, (line) => this.update(id, h, {}, line));
        h.starting = undefined;
        const nodes = (await running.driver?.list()) ?? [];
        const driver = running.driver?.name;
        this.update(
          id,
          h,
          { phase: 'running', ...(driver === 'docker' || driver === 'simulated' ? { driver } : {}) },
          `ready: API server ${running.url}, ${nodes.length} node(s)`,
        );
      },
      (e: unknown) => {
        h.starting = undefined;
        const error = e instanceof Error ? e.message : String(e);
        this.update(id, h, { phase: 'failed', error }, `failed: ${error}`);
      },
    );
  }

  /** Resolves once a pending start has settled (tests, shutdown). */
  async settled(id: string): Promise<void> {
    await this.hosted.get(id)?.starting;
  }

  async stop(id: string): Promise<void> {
    const h = this.entry(id);
    await h.starting;
    const running = h.running;
    if (!running) return;
    this.update(id, h, { phase: 'stopping' }, 'stopping');
    h.running = undefined;
    try {
      await h.control?.close();
      h.control = undefined;
      await running.stop();
      this.update(id, h, { phase: 'stopped' }, 'stopped');
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.update(id, h, { phase: 'failed', error }, `stop failed: ${error}`);
      throw e;
    }
  }

  /** Stops the cluster, removes its Docker resources (by label) and its data dir. */
  async delete(id: string): Promise<void> {
    const h = this.entry(id);
    const pid = runningPid(clusterFiles(h.dataDir).pidFile);
    if (!h.running && !h.starting && pid !== undefined && pid !== process.pid && isAlive(pid))
      throw new Error(`the cluster is running in another process (pid ${pid}); stop it with \`berth down\``);
    await this.stop(id);
    this.update(id, h, { phase: 'deleting' }, 'deleting');
    const cfg = readConfig(h.dataDir);
    if (cfg.driver === 'docker' && cfg.name) {
      const destroy =
        this.opts.destroyDockerResources ??
        (async (cluster: string) => {
          const { DockerNodeDriver } = await import('../nodes/docker/driver.ts');
          await new DockerNodeDriver({ cluster }).destroy();
        });
      await destroy(cfg.name);
    }
    rmSync(h.dataDir, { recursive: true, force: true });
    this.hosted.delete(id);
  }

  private driverOf(id: string): NonNullable<RunningCluster['driver']> {
    const r = this.hosted.get(id)?.running;
    if (!r) throw new Error('the cluster is not running in this window’s host; start it first');
    if (!r.driver) throw new Error('the cluster has no node driver (control plane only)');
    return r.driver;
  }

  async nodes(id: string): Promise<HostedNode[]> {
    const r = this.hosted.get(id)?.running;
    return ((await r?.driver?.list()) ?? []).map(toHostedNode);
  }

  async addNode(id: string, name?: string): Promise<HostedNode> {
    const driver = this.driverOf(id);
    const h = this.entry(id);
    const cluster = readConfig(h.dataDir).name ?? 'berth';
    let node = name;
    if (!node) {
      const taken = new Set((await driver.list()).map((n) => n.name));
      for (let i = 1; !node; i++) if (!taken.has(`${cluster}-worker-${i}`)) node = `${cluster}-worker-${i}`;
    }
    if (!NAME.test(node)) throw new Error(`node name "${node}" must be a DNS label`);
    this.update(id, h, {}, `adding node ${node}`);
    const rec = toHostedNode(await driver.create({ name: node }));
    this.update(id, h, {}, `node ${node} added`);
    return rec;
  }

  async removeNode(id: string, name: string): Promise<boolean> {
    const driver = this.driverOf(id);
    if (!(await driver.list()).some((n) => n.name === name)) return false;
    await driver.remove(name);
    this.update(id, this.entry(id), {}, `node ${name} removed`);
    return true;
  }

  async setNodeRunning(id: string, name: string, run: boolean): Promise<HostedNode> {
    const driver = this.driverOf(id);
    if (run) await driver.start(name);
    else await driver.stop(name);
    this.update(id, this.entry(id), {}, `node ${name} ${run ? 'started' : 'stopped'}`);
    const rec = (await driver.list()).find((n) => n.name === name);
    if (!rec) throw new Error(`no node "${name}"`);
    return toHostedNode(rec);
  }

  /** Stops every cluster this host runs (process exit). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.hosted.keys()].map((id) => this.stop(id)));
  }
}
