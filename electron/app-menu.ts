/**
 * The desktop app's menu bar (the template is menu.ts): menu commands go to the window as the
 * contract's AppCommand events; Help shows only what is installed here — the version and the local
 * docs folder, never a web page (network safety).
 */
import { dialog, Menu, shell, type BrowserWindow } from 'electron';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppCommand } from './contract.ts';
import { appDataDir } from '../core/cluster/paths.ts';
import { menuTemplate } from './menu.ts';

const repoDir = fileURLToPath(new URL('..', import.meta.url));
/** Reload and developer tools: with `--dev` or BERTH_DEV=1 only. */
const DEV = process.argv.includes('--dev') || process.env['BERTH_DEV'] === '1';

function versionOfBerth(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Sets the application menu for `win`; `command` sends an AppCommand to it. */
export function installMenu(win: BrowserWindow, command: (c: AppCommand) => void): void {
  const docsDir = join(repoDir, 'docs');
  const template = menuTemplate({
    platform: process.platform,
    dev: DEV,
    actions: {
      command,
      about: () =>
        void dialog.showMessageBox(win, {
          type: 'info',
          title: 'About Berth',
          message: `Berth ${versionOfBerth()}`,
          detail: [
            'A local multi-node Kubernetes-compatible cluster.',
            `Electron ${process.versions['electron'] ?? '?'} · Chromium ${process.versions['chrome'] ?? '?'} · Node.js ${process.versions.node}`,
            `Clusters: ${join(appDataDir(), 'clusters')}`,
          ].join('\n'),
        }),
      docs: () => {
        let files: string[] = [];
        try {
          files = readdirSync(docsDir).filter((f) => f.endsWith('.md'));
        } catch {
          // no docs folder in this installation
        }
        void dialog
          .showMessageBox(win, {
            type: 'info',
            title: 'Berth documentation',
            message: files.length
              ? `The documentation is installed with Berth in ${docsDir}`
              : 'No documentation is installed.',
            detail: [...files.map((f) => `• ${f}`), '', 'The command line: berth --help'].join('\n'),
            buttons: files.length ? ['Open Folder', 'Close'] : ['Close'],
            defaultId: 0,
            cancelId: files.length ? 1 : 0,
          })
          .then(({ response }) => {
            if (files.length && response === 0) void shell.openPath(docsDir);
          });
      },
    },
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
