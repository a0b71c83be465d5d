/**
 * The Electron main process: a thin shell around the same core/gui services that `berth serve` uses.
 * Security (DESIGN.md §6): contextIsolation + sandbox, no nodeIntegration, no webviews, a strict CSP
 * (meta tag in renderer/index.html — the page is loaded from file://), navigation and new windows
 * blocked, every permission denied, and the one IPC handler checks that its sender is the main frame
 * of our window showing our index.html.
 *
 * Window state (size, position, maximized) is kept in the user data dir and fitted to the displays
 * there are at the next launch (window-state.ts); the application menu is menu.ts — its commands
 * reach the window as the contract's AppCommand events. Reload and developer tools exist only with
 * `--dev` or BERTH_DEV=1. A second launch focuses the first instance's window.
 *
 * Run through electron/launch.mjs (registers tsx so this TypeScript runs unbuilt, as `berth` does).
 */
import {
  app,
  BrowserWindow,
  ipcMain,
  screen,
  session,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type {
  AppCommandMessage,
  EventMessage,
  IpcEventChannel,
  IpcReply,
  IpcRequestChannel,
} from './contract.ts';
import type { GuiSession } from '../core/gui/service.ts';
import { createGuiHost } from '../core/gui/host.ts';
import { ensureDefaultCluster } from '../core/gui/default-cluster.ts';
import { ensureRendererBuilt } from '../core/gui/renderer-build.ts';
import { appDataDir } from '../core/cluster/paths.ts';
import { fitToDisplays, loadWindowState, MIN_HEIGHT, MIN_WIDTH, saveWindowState } from './window-state.ts';
import { installMenu } from './app-menu.ts';

const REQUEST: IpcRequestChannel = 'berth:request';
const EVENT: IpcEventChannel = 'berth:event';
const here = fileURLToPath(new URL('.', import.meta.url));

/** Bundles preload.ts to CommonJS (cached by content hash) — sandboxed preloads need a single CJS file. */
async function buildPreload(): Promise<string> {
  const src = join(here, 'preload.ts');
  const outDir = join(here, 'dist');
  const out = join(outDir, 'preload.cjs');
  const hashFile = join(outDir, 'preload.hash');
  const hash = createHash('sha256')
    .update(readFileSync(src))
    .update(readFileSync(join(here, '..', 'core', 'gui', 'contract.ts')))
    .digest('hex');
  if (existsSync(out) && existsSync(hashFile) && readFileSync(hashFile, 'utf8') === hash) return out;
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [src],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    external: ['electron'],
    outfile: out,
  });
  writeFileSync(hashFile, hash);
  return out;
}

function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Saves the window's normal bounds and maximized flag (debounced while it moves; at once on close). */
function trackWindowState(win: BrowserWindow, file: string): void {
  let timer: NodeJS.Timeout | undefined;
  const save = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (win.isDestroyed() || win.isFullScreen()) return;
    const { x, y, width, height } = win.getNormalBounds();
    try {
      saveWindowState(file, { bounds: { x, y, width, height }, maximized: win.isMaximized() });
    } catch (e) {
      console.error(`berth: cannot save the window state: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  for (const ev of ['resize', 'move', 'maximize', 'unmaximize'] as const) win.on(ev, later);
  win.on('close', save);
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const [{ dir }, preload] = await Promise.all([ensureRendererBuilt((l) => console.log(l)), buildPreload()]);
  const indexHtml = join(dir, 'index.html');
  const indexUrl = pathToFileURL(indexHtml).href;

  // The main process hosts the cluster manager: clusters created in the window run in this process.
  const { service, manager } = createGuiHost({ clustersDir: join(appDataDir(), 'clusters') });
  const startArg = process.argv.indexOf('--start-cluster');
  const startName = startArg >= 0 ? process.argv[startArg + 1] : undefined;
  if (startName)
    void ensureDefaultCluster(manager, { name: startName }).then(
      (r) => r.notice && console.log(`note: ${r.notice}`),
      (e: unknown) => console.error(`berth: ${e instanceof Error ? e.message : String(e)}`),
    );
  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    void manager.closeAll().finally(() => app.exit(0));
  });
  const sessions = new Map<number, GuiSession>();

  const stateFile = join(app.getPath('userData'), 'window-state.json');
  const primary = screen.getPrimaryDisplay();
  const displays = [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)];
  const saved = fitToDisplays(
    loadWindowState(stateFile),
    displays.map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    ...saved.bounds,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    show: false,
    title: 'Berth',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const wc = win.webContents;
  const wcId = wc.id;
  wc.on('destroyed', () => {
    sessions.get(wcId)?.close();
    sessions.delete(wcId);
  });

  /** Only the top frame of our window, showing our own index.html, may call the services. */
  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    if (event.sender !== wc || wc.isDestroyed() || !frame || frame !== wc.mainFrame) return false;
    const url = new URL(frame.url);
    return (
      url.protocol === 'file:' &&
      `${url.origin === 'null' ? 'file://' : url.origin}${url.pathname}` === indexUrl
    );
  };

  ipcMain.handle(REQUEST, async (event, method, params): Promise<IpcReply> => {
    if (!trusted(event)) return { ok: false, error: { message: 'forbidden: untrusted sender', code: 403 } };
    let s = sessions.get(wcId);
    if (!s) {
      s = service.openSession((m: EventMessage) => {
        if (!wc.isDestroyed()) wc.send(EVENT, m);
      });
      sessions.set(wcId, s);
    }
    return s.handle(method, params);
  });

  trackWindowState(win, stateFile);
  installMenu(win, (c) => {
    const m: AppCommandMessage = { kind: 'event', channel: 'app.command', command: c };
    if (!wc.isDestroyed()) wc.send(EVENT, m satisfies EventMessage);
  });

  win.once('ready-to-show', () => {
    if (saved.maximized) win.maximize();
    win.show();
  });
  app.on('second-instance', () => {
    if (win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    if (!win.isVisible()) win.show();
    win.focus();
  });
  app.on('window-all-closed', () => app.quit());
  await win.loadFile(indexHtml);
}

main().catch((e: unknown) => {
  console.error(`berth: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  app.quit();
});
