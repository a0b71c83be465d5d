/**
 * Minimal local declarations of the Electron APIs the shell uses, so electron/ typechecks where the
 * `electron` package cannot be installed (its binary cannot be downloaded in this environment).
 * Delete this file once `electron` is a devDependency: its own types are complete and take over.
 */
declare module 'electron' {
  interface Event {
    preventDefault(): void;
  }

  interface WebFrameMain {
    readonly url: string;
    readonly top: WebFrameMain | null;
  }

  interface WebContents {
    readonly id: number;
    readonly mainFrame: WebFrameMain;
    send(channel: string, ...args: unknown[]): void;
    isDestroyed(): boolean;
    setWindowOpenHandler(
      handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' },
    ): void;
    on(event: 'will-navigate' | 'will-redirect', listener: (event: Event, url: string) => void): this;
    on(event: 'will-attach-webview', listener: (event: Event) => void): this;
    on(event: 'destroyed', listener: () => void): this;
    openDevTools(): void;
  }

  interface IpcMainInvokeEvent {
    readonly sender: WebContents;
    readonly senderFrame: WebFrameMain | null;
  }

  interface IpcRendererEvent {
    readonly sender: unknown;
  }

  interface Session {
    setPermissionRequestHandler(
      handler:
        ((webContents: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null,
    ): void;
    setPermissionCheckHandler(
      handler: ((webContents: WebContents | null, permission: string) => boolean) | null,
    ): void;
  }

  interface WebPreferences {
    preload?: string;
    contextIsolation?: boolean;
    sandbox?: boolean;
    nodeIntegration?: boolean;
    nodeIntegrationInSubFrames?: boolean;
    webSecurity?: boolean;
    allowRunningInsecureContent?: boolean;
    webviewTag?: boolean;
    spellcheck?: boolean;
  }

  interface Rectangle {
    x: number;
    y: number;
    width: number;
    height: number;
  }

  interface BrowserWindowConstructorOptions {
    width?: number;
    height?: number;
    x?: number;
    y?: number;
    minWidth?: number;
    minHeight?: number;
    show?: boolean;
    title?: string;
    backgroundColor?: string;
    webPreferences?: WebPreferences;
  }

  class BrowserWindow {
    constructor(options?: BrowserWindowConstructorOptions);
    readonly webContents: WebContents;
    loadFile(filePath: string): Promise<void>;
    show(): void;
    focus(): void;
    restore(): void;
    isMinimized(): boolean;
    isDestroyed(): boolean;
    isVisible(): boolean;
    isMaximized(): boolean;
    isFullScreen(): boolean;
    maximize(): void;
    getBounds(): Rectangle;
    /** The bounds of the normal state (also while maximized, minimized or full screen). */
    getNormalBounds(): Rectangle;
    once(event: 'ready-to-show', listener: () => void): this;
    on(event: 'close' | 'closed' | 'resize' | 'move' | 'maximize' | 'unmaximize', listener: () => void): this;
  }

  interface Display {
    readonly id: number;
    readonly bounds: Rectangle;
    /** The display minus taskbars, docks and menu bars. */
    readonly workArea: Rectangle;
  }

  interface Screen {
    getAllDisplays(): Display[];
    getPrimaryDisplay(): Display;
  }

  interface MenuItemConstructorOptions {
    label?: string;
    role?: string;
    type?: 'normal' | 'separator' | 'submenu';
    accelerator?: string;
    click?: () => void;
    submenu?: MenuItemConstructorOptions[];
  }

  class Menu {
    static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
    static setApplicationMenu(menu: Menu | null): void;
  }

  interface MessageBoxOptions {
    type?: 'none' | 'info' | 'error' | 'question' | 'warning';
    title?: string;
    message: string;
    detail?: string;
    buttons?: string[];
    defaultId?: number;
    cancelId?: number;
  }

  interface Dialog {
    showMessageBox(window: BrowserWindow, options: MessageBoxOptions): Promise<{ response: number }>;
  }

  interface Shell {
    /** Opens a local file or folder with the desktop's default application; resolves '' or an error text. */
    openPath(path: string): Promise<string>;
  }

  interface App {
    whenReady(): Promise<void>;
    quit(): void;
    exit(code?: number): void;
    getPath(name: 'userData' | 'home' | 'appData'): string;
    requestSingleInstanceLock(): boolean;
    on(event: 'second-instance' | 'window-all-closed' | 'activate', listener: () => void): this;
    on(event: 'web-contents-created', listener: (event: Event, contents: WebContents) => void): this;
    on(event: 'before-quit', listener: (event: Event) => void): this;
  }

  interface IpcMain {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  }

  interface IpcRenderer {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this;
    removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this;
  }

  interface ContextBridge {
    exposeInMainWorld(apiKey: string, api: unknown): void;
  }

  export const app: App;
  export const ipcMain: IpcMain;
  export const ipcRenderer: IpcRenderer;
  export const contextBridge: ContextBridge;
  export const session: { readonly defaultSession: Session };
  export const screen: Screen;
  export const dialog: Dialog;
  export const shell: Shell;
  export { BrowserWindow, Menu };
  export type {
    IpcMainInvokeEvent,
    IpcRendererEvent,
    WebContents,
    WebFrameMain,
    Rectangle,
    Display,
    MenuItemConstructorOptions,
  };
}
