/**
 * `berth serve [--port P] [--data-dir D]`: the GUI in a browser (DESIGN.md §3, §6). Builds the renderer
 * if its build is missing or stale, serves it on 127.0.0.1 only, and prints exactly one line on stdout:
 * the full URL including the random access token. The GUI shows the cluster of the data dir (its
 * `kubeconfig`, written by `berth up`) and every context of the user's kubeconfig. Progress and errors
 * go to stderr. SIGTERM/SIGINT stop it.
 */
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { UsageError } from './usage-error.ts';
import { ClusterRegistry } from '../gui/clusters.ts';
import { GuiService } from '../gui/service.ts';
import { startGuiServer } from '../gui/server.ts';
import { ensureRendererBuilt } from '../gui/renderer-build.ts';

export async function runServe(args: string[]): Promise<void> {
  const { values } = parse(args, { ...commonOptions, port: { type: 'string' } });
  let port = 0;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be a port number, got "${values.port}"`);
  }
  const dataDir = dataDirFrom(values);
  const { dir } = await ensureRendererBuilt((line) => console.error(`berth serve: ${line}`));
  const service = new GuiService({ registry: new ClusterRegistry({ dataDirs: [dataDir] }) });
  const gui = await startGuiServer({ service, staticDir: dir, port });
  console.log(gui.url);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void gui.close().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
