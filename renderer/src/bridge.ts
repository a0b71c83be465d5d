/**
 * The renderer's one door to the main-process services: the Electron preload's `window.berth` when it
 * exists, otherwise the WebSocket of `berth serve` (same contract, same messages). The socket is
 * authenticated by the HttpOnly cookie the server set when the tokened URL was opened; it reconnects
 * with backoff and tells listeners so live lists can resubscribe.
 */
import { shallowRef, type ShallowRef } from 'vue';
import type {
  BerthBridge,
  EventMessage,
  Method,
  Params,
  RequestMessage,
  Result,
  ServerMessage,
  ContractError,
} from '../../electron/contract.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Connection extends BerthBridge {
  state: ShallowRef<ConnectionState>;
  /** Called after every (re)connection, including the first. */
  onOpen(listener: () => void): () => void;
}

export class RequestError extends Error {
  readonly error: ContractError;
  constructor(error: ContractError) {
    super(error.message);
    this.error = error;
  }
}

function electronConnection(bridge: BerthBridge): Connection {
  const state = shallowRef<ConnectionState>('open');
  return {
    state,
    request: (method, params) => bridge.request(method, params),
    onEvent: (l) => bridge.onEvent(l),
    onOpen(l) {
      queueMicrotask(l);
      return () => {};
    },
  };
}

function socketConnection(): Connection {
  const state = shallowRef<ConnectionState>('connecting');
  const eventListeners = new Set<(m: EventMessage) => void>();
  const openListeners = new Set<() => void>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ws: WebSocket | undefined;
  let attempts = 0;

  const connect = (): void => {
    state.value = 'connecting';
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${proto}//${location.host}/ws`);
    ws = socket;
    socket.onopen = () => {
      attempts = 0;
      state.value = 'open';
      for (const l of openListeners) l();
    };
    socket.onmessage = (ev: MessageEvent<string>) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(ev.data) as ServerMessage;
      } catch {
        return;
      }
      if (msg.kind === 'response') {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new RequestError(msg.error));
      } else if (msg.kind === 'event') {
        for (const l of eventListeners) l(msg);
      }
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = undefined;
      state.value = 'closed';
      for (const p of pending.values()) p.reject(new Error('connection to the Berth server lost'));
      pending.clear();
      const delay = Math.min(10_000, 500 * 2 ** attempts++);
      setTimeout(connect, delay);
    };
  };
  connect();

  return {
    state,
    request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
      return new Promise<Result<M>>((resolve, reject) => {
        if (!ws || ws.readyState !== WebSocket.OPEN) {
          reject(new Error('not connected to the Berth server'));
          return;
        }
        const id = nextId++;
        pending.set(id, { resolve: (v) => resolve(v as Result<M>), reject });
        const msg = { kind: 'request', id, method, params } as RequestMessage;
        ws.send(JSON.stringify(msg));
      });
    },
    onEvent(l) {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onOpen(l) {
      openListeners.add(l);
      if (state.value === 'open') queueMicrotask(l);
      return () => openListeners.delete(l);
    },
  };
}

let connection: Connection | undefined;

export function useConnection(): Connection {
  connection ??= window.berth ? electronConnection(window.berth) : socketConnection();
  return connection;
}
