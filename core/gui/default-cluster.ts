/**
 * `npm start`'s cluster: start (or resume) the cluster named "default" in this GUI host. A new one
 * gets Docker nodes (2) when a Docker engine answers; without one it is a control plane only, and the
 * returned `notice` says what is missing and how to get nodes. A cluster already running in another
 * process (`berth up`) is left alone and just shown.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterManager } from './manager.ts';
import { clusterIdOf, readConfig } from './manager.ts';
import { clusterFiles } from '../cluster/paths.ts';
import { isAlive, runningPid } from '../cluster/lock.ts';

export interface DefaultClusterResult {
  id: string;
  action: 'created' | 'resumed' | 'running-elsewhere' | 'already-hosted';
  /** A line for the user when the cluster has no nodes because Docker is missing. */
  notice?: string;
}

export async function dockerAnswers(): Promise<string | undefined> {
  try {
    const { pingDocker } = await import('../nodes/docker/prereqs.ts');
    await pingDocker();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export async function ensureDefaultCluster(
  manager: ClusterManager,
  opts: { name?: string; nodes?: number; dockerCheck?: () => Promise<string | undefined> } = {},
): Promise<DefaultClusterResult> {
  const name = opts.name ?? 'default';
  const dataDir = join(manager.clustersDir, name);
  const id = clusterIdOf(dataDir);
  const state = manager.stateOf(dataDir);
  if (state && state.phase !== 'stopped' && state.phase !== 'failed') return { id, action: 'already-hosted' };
  const files = clusterFiles(dataDir);
  const pid = runningPid(files.pidFile);
  if (pid !== undefined && pid !== process.pid && isAlive(pid)) return { id, action: 'running-elsewhere' };
  const exists = existsSync(files.config);
  const driver = exists ? readConfig(dataDir).driver : undefined;
  // A cluster that has a driver resumes with it; a new or driver-less one gets Docker nodes if it can.
  const why = driver ? undefined : await (opts.dockerCheck ?? dockerAnswers)();
  const nodes = opts.nodes ?? 2;
  if (exists) manager.start(id, !driver && why === undefined ? { driver: 'docker', nodes } : undefined);
  else
    manager.create({
      name,
      nodes: why === undefined ? nodes : 0,
      driver: why === undefined ? 'docker' : 'none',
    });
  const action = exists ? 'resumed' : 'created';
  if (why === undefined) return { id, action };
  return {
    id,
    action,
    notice:
      `no Docker engine answered (${why}), so cluster "${name}" runs its control plane only, with no nodes. ` +
      'To get nodes, start Docker (e.g. `sudo systemctl start docker`) and run `npm start` again: ' +
      `the cluster then gets ${nodes} Docker nodes.`,
  };
}
