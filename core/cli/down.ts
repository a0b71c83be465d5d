/** `berth down` (stop the running cluster of a data dir) and `berth delete` (stop and remove all state). */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { clusterFiles } from '../cluster/paths.ts';
import { isAlive, runningPid } from '../cluster/lock.ts';

async function stop(dir: string): Promise<boolean> {
  const files = clusterFiles(dir);
  const pid = runningPid(files.pidFile);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`berth (pid ${pid}) did not stop within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Removes a Docker cluster's node containers, volumes and network (everything labelled with its name). */
async function removeNodes(configPath: string): Promise<void> {
  if (!existsSync(configPath)) return;
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { name?: string; driver?: string };
  if (config.driver !== 'docker' || !config.name) return;
  const { DockerNodeDriver } = await import('../nodes/docker/driver.ts');
  await new DockerNodeDriver({ cluster: config.name }).destroy();
  console.log(`removed the node containers, volumes and network of cluster "${config.name}"`);
}

export async function runDown(args: string[]): Promise<void> {
  const { values } = parse(args, commonOptions);
  const dir = dataDirFrom(values);
  console.log((await stop(dir)) ? `stopped the cluster in ${dir}` : `no cluster is running in ${dir}`);
}

export async function runDelete(args: string[]): Promise<void> {
  const { values } = parse(args, commonOptions);
  const dir = dataDirFrom(values);
  await stop(dir);
  if (!existsSync(clusterFiles(dir).config) && !existsSync(clusterFiles(dir).db)) {
    console.log(`no cluster state in ${dir}`);
    return;
  }
  await removeNodes(clusterFiles(dir).config);
  rmSync(dir, { recursive: true, force: true });
  console.log(`deleted the cluster in ${dir}`);
}
