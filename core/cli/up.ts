/**
 * `berth up`: start a cluster headless in the foreground (DESIGN.md §3). Prints the API URL and the
 * kubeconfig path, then "ready"; SIGTERM/SIGINT stop it cleanly. Starting again on the same data dir
 * resumes the same cluster.
 */
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { UsageError } from './usage-error.ts';
import { startCluster } from '../cluster/cluster.ts';
import { serveControl } from '../cluster/control.ts';

export async function runUp(args: string[]): Promise<void> {
  const { values } = parse(args, {
    ...commonOptions,
    nodes: { type: 'string' },
    driver: { type: 'string' },
    'api-port': { type: 'string' },
  });
  const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodes !== undefined && (!Number.isInteger(nodes) || nodes < 0))
    throw new UsageError(`--nodes must be a whole number ≥ 0, got "${values.nodes}"`);
  // Without --driver: docker when nodes are asked for; else whatever the data dir's cluster used.
  const driver = values.driver ?? (nodes ? 'docker' : undefined);
  if (driver !== undefined && !['docker', 'qemu', 'simulated'].includes(driver))
    throw new UsageError(`--driver must be docker, qemu or simulated, got "${driver}"`);
  if (driver === 'qemu')
    throw new Error(
      'the qemu node driver is not available yet in this build; use `--driver docker` (needs a Docker engine) or `--driver simulated` (API-only nodes: no containers run)',
    );
  let apiPort: number | undefined;
  if (values['api-port'] !== undefined) {
    apiPort = Number(values['api-port']);
    if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535)
      throw new UsageError(`--api-port must be a port number, got "${values['api-port']}"`);
  }
  const dataDir = dataDirFrom(values);
  const cluster = await startCluster({
    dataDir,
    name: values.name,
    apiPort,
    ...(driver === 'simulated' || driver === 'docker' ? { driver } : {}),
    ...(nodes !== undefined ? { nodes } : {}),
    progress: (line: string) => console.log(`  ${line}`),
  });
  const control = await serveControl(dataDir, cluster); // `berth node …`, `berth image load`
  console.log(`API server: ${cluster.url}`);
  console.log(`kubeconfig: ${cluster.kubeconfigPath}`);
  console.log(`data dir:   ${dataDir}`);
  console.log(
    `cluster "${cluster.config.name}" is ready (nodes: ${(await cluster.driver?.list())?.length ?? 0}${cluster.driver?.name === 'simulated' ? ', SIMULATED: no containers run' : ''}). Try: KUBECONFIG=${cluster.kubeconfigPath} kubectl get ns`,
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      console.log(`received ${sig}, stopping…`);
      void control
        .close()
        .then(() => cluster.stop())
        .then(resolve, (e: unknown) => {
          console.error(`berth: error while stopping: ${e instanceof Error ? e.message : String(e)}`);
          resolve();
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  console.log('stopped');
}
