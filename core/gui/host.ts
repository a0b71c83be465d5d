/**
 * The GUI host's composition: a ClusterManager over `<app data>/clusters` (or a given folder), a
 * ClusterRegistry that lists those clusters (re-read on every listing) plus any extra data dirs and
 * the user's kubeconfig contexts, and the GuiService that broadcasts the manager's progress to every
 * window. Used by `berth serve`, `npm start` and the Electron main process.
 */
import { ClusterRegistry, builtinDataDirs } from './clusters.ts';
import { ClusterManager, type StartFn } from './manager.ts';
import { GuiService } from './service.ts';

export interface GuiHostOptions {
  clustersDir: string;
  /** Data dirs outside clustersDir to show as well (e.g. `berth serve --data-dir`). */
  extraDataDirs?: string[];
  userKubeconfig?: boolean;
  env?: NodeJS.ProcessEnv;
  start?: StartFn;
}

export function createGuiHost(opts: GuiHostOptions): { service: GuiService; manager: ClusterManager } {
  const sink: { service?: GuiService } = {};
  const manager = new ClusterManager({
    clustersDir: opts.clustersDir,
    ...(opts.start ? { start: opts.start } : {}),
    onChange: (cluster, state, line) =>
      sink.service?.broadcast({
        kind: 'event',
        channel: 'clusters.progress',
        cluster,
        state,
        ...(line !== undefined ? { line } : {}),
      }),
  });
  const dataDirs = (): string[] => [
    ...new Set([...builtinDataDirs(opts.clustersDir), ...(opts.extraDataDirs ?? []), ...manager.dataDirs()]),
  ];
  const registry = new ClusterRegistry({
    dataDirs,
    ...(opts.userKubeconfig !== undefined ? { userKubeconfig: opts.userKubeconfig } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const service = new GuiService({ registry, manager });
  sink.service = service;
  return { service, manager };
}
