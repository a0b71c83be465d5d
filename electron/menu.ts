/**
 * The application menu as data (no Electron import: unit-tested under plain Node; main.ts hands it to
 * Menu.buildFromTemplate). What the menu asks of the window goes out as the contract's AppCommand
 * events, the same way the renderer's own buttons reach the services; Help stays local (version and
 * the docs installed with the app — nothing opens a web page).
 */
import type { AppCommand } from './contract.ts';

/** The subset of Electron's MenuItemConstructorOptions the menu uses. */
export interface MenuItemSpec {
  label?: string;
  role?: MenuRole;
  type?: 'separator' | 'normal' | 'submenu';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuItemSpec[];
}

export type MenuRole =
  | 'about'
  | 'hide'
  | 'hideOthers'
  | 'unhide'
  | 'quit'
  | 'undo'
  | 'redo'
  | 'cut'
  | 'copy'
  | 'paste'
  | 'pasteAndMatchStyle'
  | 'delete'
  | 'selectAll'
  | 'reload'
  | 'forceReload'
  | 'toggleDevTools'
  | 'resetZoom'
  | 'zoomIn'
  | 'zoomOut'
  | 'togglefullscreen'
  | 'minimize'
  | 'zoom'
  | 'close'
  | 'front'
  | 'appMenu'
  | 'editMenu'
  | 'windowMenu';

export interface MenuActions {
  /** Sends a command to the window (an AppCommandMessage on the contract's event channel). */
  command(c: AppCommand): void;
  /** Help → About: the version of Berth and its runtime, locally. */
  about(): void;
  /** Help → Documentation: the docs that ship with the app (local files only). */
  docs(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  /** Development: reload and developer tools in View. */
  dev: boolean;
  actions: MenuActions;
}

const SEPARATOR: MenuItemSpec = { type: 'separator' };
const MAC_WINDOW_ITEMS: MenuItemSpec[] = [{ role: 'zoom' }, SEPARATOR, { role: 'front' }];
const DEV_ITEMS: MenuItemSpec[] = [
  { role: 'reload' },
  { role: 'forceReload' },
  { role: 'toggleDevTools' },
  SEPARATOR,
];

export function menuTemplate({ platform, dev, actions }: MenuOptions): MenuItemSpec[] {
  const mac = platform === 'darwin';
  const menus: MenuItemSpec[] = [];
  if (mac)
    menus.push({
      label: 'Berth',
      submenu: [
        { label: 'About Berth', click: () => actions.about() },
        SEPARATOR,
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        SEPARATOR,
        { role: 'quit' },
      ],
    });
  menus.push(
    {
      label: 'File',
      submenu: [
        { label: 'New Cluster…', accelerator: 'CmdOrCtrl+N', click: () => actions.command('new-cluster') },
        {
          label: 'Export Kubeconfig…',
          accelerator: 'CmdOrCtrl+E',
          click: () => actions.command('export-kubeconfig'),
        },
        ...(mac ? [] : [SEPARATOR, { role: 'quit' } satisfies MenuItemSpec]),
      ],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        SEPARATOR,
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [
        ...(dev ? DEV_ITEMS : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        SEPARATOR,
        { role: 'togglefullscreen' },
      ],
    },
    {
      label: 'Window',
      submenu: [
        {
          label: 'Clusters',
          accelerator: 'CmdOrCtrl+Shift+K',
          click: () => actions.command('show-clusters'),
        },
        SEPARATOR,
        { role: 'minimize' },
        ...(mac ? MAC_WINDOW_ITEMS : [{ role: 'close' } satisfies MenuItemSpec]),
      ],
    },
    {
      label: 'Help',
      submenu: [
        { label: 'Documentation', click: () => actions.docs() },
        ...(mac ? [] : [SEPARATOR, { label: 'About Berth', click: () => actions.about() }]),
      ],
    },
  );
  return menus;
}

/** Every item of a template, depth first (tests, accelerator checks). */
export function flattenMenu(items: readonly MenuItemSpec[]): MenuItemSpec[] {
  return items.flatMap((i) => [i, ...flattenMenu(i.submenu ?? [])]);
}
