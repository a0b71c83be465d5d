/**
 * `berth start` (`npm start`): opens the app with a ready cluster. Starts (or resumes) the cluster
 * "default" in this process — 2 Docker nodes when a Docker engine answers, else the control plane
 * only, with a printed line saying what is missing — then opens the Electron window when a display
 * and the Electron binary exist (the Electron main process then hosts the cluster instead), else
 * serves the same GUI on loopback and prints its URL. `berth up` stays the headless way.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { commonOptions, parse } from './args.ts';
import { portOption, serveUntilSignal } from './serve.ts';
import { createGuiHost } from '../gui/host.ts';
import { ensureDefaultCluster } from '../gui/default-cluster.ts';
import { repoRoot } from '../gui/renderer-build.ts';
import { appDataDir } from '../cluster/paths.ts';

/** The Electron binary, when the `electron` package is installed; undefined otherwise. */
export function electronBinary(): string | undefined {
  try {
    const p: unknown = createRequire(join(repoRoot, 'package.json'))('electron');
    return typeof p === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

export function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return !!(env['DISPLAY'] || env['WAYLAND_DISPLAY']);
}

export async function runStart(args: string[]): Promise<void> {
  const { values } = parse(args, {
    ...commonOptions,
    port: { type: 'string' },
    browser: { type: 'boolean' },
  });
  const port = portOption(values.port);
  const name = values.name ?? 'default';
  const electron = electronBinary();
  if (electron && hasDisplay() && !values.browser) {
    console.log('opening the Berth window (it starts cluster "%s")…', name);
    const child = spawn(electron, [join(repoRoot, 'electron', 'launch.mjs'), '--start-cluster', name], {
      stdio: 'inherit',
    });
    await new Promise<void>((done) => child.once('exit', () => done()));
    return;
  }
  const why = !electron ? 'the Electron binary is not installed' : 'no display';
  const { service, manager } = createGuiHost({ clustersDir: join(appDataDir(), 'clusters') });
  const started = await ensureDefaultCluster(manager, { name });
  if (started.notice) console.log(`note: ${started.notice}`);
  if (started.action === 'running-elsewhere')
    console.log(`cluster "${name}" is already running in another berth process; the GUI shows it.`);
  const unsubscribe = watchProgress(service, started.id);
  await serveUntilSignal(service, manager, port, (gui) => {
    console.log(`${why}: the Berth GUI is served at`);
    console.log(`  ${gui.url}`);
    console.log('open it in a browser on this machine (Ctrl+C stops Berth and the cluster).');
  });
  unsubscribe();
}

/** Prints the cluster's progress lines on the terminal as the GUI gets them. */
function watchProgress(service: ReturnType<typeof createGuiHost>['service'], id: string): () => void {
  const session = service.openSession((m) => {
    if (m.channel === 'clusters.progress' && m.cluster === id && m.line) console.log(`  ${m.line}`);
  });
  return () => session.close();
}
