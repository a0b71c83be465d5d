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
    getBounds(): Rectangle;
    once(event: 'ready-to-show', listener: () => void): this;
    on(event: 'close' | 'closed', listener: () => void): this;
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
  export { BrowserWindow };
  export type { IpcMainInvokeEvent, IpcRendererEvent, WebContents, WebFrameMain, Rectangle };
}
