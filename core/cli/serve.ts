/**
 * `berth serve [--port P] [--data-dir D] [--clusters-dir C]`: the GUI in a browser (DESIGN.md §3, §6).
 * Builds the renderer if its build is missing or stale, serves it on 127.0.0.1 only, and prints
 * exactly one line on stdout: the full URL including the random access token. The GUI shows the
 * clusters under the clusters dir (default: <app data>/clusters), which this process can create,
 * start, stop and delete itself, the cluster of --data-dir, and every context of the user's
 * kubeconfig. Progress and errors go to stderr. SIGTERM/SIGINT stop it and the clusters it runs.
 */
import { join, resolve } from 'node:path';
import { commonOptions, parse } from './args.ts';
import { UsageError } from './usage-error.ts';
import { createGuiHost } from '../gui/host.ts';
import { startGuiServer, type RunningGuiServer } from '../gui/server.ts';
import { ensureRendererBuilt } from '../gui/renderer-build.ts';
import { appDataDir } from '../cluster/paths.ts';
import type { ClusterManager } from '../gui/manager.ts';
import type { GuiService } from '../gui/service.ts';

export function portOption(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, got "${value}"`);
  return port;
}

/** Serves the GUI of `service` until SIGTERM/SIGINT, then stops the clusters `manager` runs. */
export async function serveUntilSignal(
  service: GuiService,
  manager: ClusterManager,
  port: number,
  onListening: (gui: RunningGuiServer) => void,
): Promise<void> {
  const { dir } = await ensureRendererBuilt((line) => console.error(`berth serve: ${line}`));
  const gui = await startGuiServer({ service, staticDir: dir, port });
  onListening(gui);
  await new Promise<void>((done) => {
    const stop = (): void => {
      void gui
        .close()
        .then(() => manager.closeAll())
        .then(done, done);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export async function runServe(args: string[]): Promise<void> {
  const { values } = parse(args, {
    ...commonOptions,
    port: { type: 'string' },
    'clusters-dir': { type: 'string' },
  });
  const port = portOption(values.port);
  const clustersDir = values['clusters-dir']
    ? resolve(values['clusters-dir'])
    : join(appDataDir(), 'clusters');
  const extra = values['data-dir']
    ? [resolve(values['data-dir'])]
    : values.name
      ? [join(clustersDir, values.name)]
      : [];
  const { service, manager } = createGuiHost({ clustersDir, extraDataDirs: extra });
  await serveUntilSignal(service, manager, port, (gui) => console.log(gui.url));
}
