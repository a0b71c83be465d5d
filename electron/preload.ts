/**
 * The preload (sandboxed, context-isolated): exposes exactly one object, `window.berth`, a BerthBridge
 * over two IPC channels. No Node or Electron objects reach the page. Bundled to CommonJS by main.ts
 * (sandboxed preloads cannot load ES modules or TypeScript).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type {
  BerthBridge,
  EventMessage,
  IpcEventChannel,
  IpcReply,
  IpcRequestChannel,
  Method,
  Params,
  Result,
} from './contract.ts';

const REQUEST: IpcRequestChannel = 'berth:request';
const EVENT: IpcEventChannel = 'berth:event';

const bridge: BerthBridge = {
  async request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    const reply = (await ipcRenderer.invoke(REQUEST, method, params)) as IpcReply;
    if (reply.ok) return reply.result as Result<M>;
    // Only the message survives the context bridge; keep the rest in it for display.
    throw new Error(reply.error.message + (reply.error.reason ? ` (${reply.error.reason})` : ''));
  },
  onEvent(listener: (message: EventMessage) => void): () => void {
    const handler = (_event: IpcRendererEvent, message: unknown): void => listener(message as EventMessage);
    ipcRenderer.on(EVENT, handler);
    return () => {
      ipcRenderer.removeListener(EVENT, handler);
    };
  },
};

contextBridge.exposeInMainWorld('berth', bridge);
