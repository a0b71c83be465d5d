/**
 * The node agent's endpoint (the kubelet's :10250 for Berth): HTTPS with mutual TLS, reachable only by
 * the API server's kubelet-client certificate. Serves /healthz, /containerLogs (CRI log files) and
 * /exec, /attach and /portForward on containerd's CRI streaming server: a SPDY/3.1 upgrade is tunnelled
 * to it as a kubelet does (the API server's path, tunnel.ts); a WebSocket is bridged (/exec and /attach
 * as v5.channel.k8s.io, /portForward as berth.portforward.v1, which the ingress uses).
 */
import { createServer, type Server } from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { AGENT_PORTFORWARD_PROTOCOL } from '../../streams/portforward.ts';
import { V5_PROTOCOL } from '../../streams/ws-channels.ts';
import { loadAgentSettings } from '../config.ts';
import { authenticatePeer } from './auth.ts';
import { holdMessages, type Inbox } from '../../streams/inbox.ts';
import { podSandbox, runningContainer, type PodRef, type StreamCri } from './containers.ts';
import { parseLogQuery, resolveLogSource, streamLog, type LogSink } from './logs.ts';
import { bridgePortForward } from './portforward.ts';
import { bridgeRemoteCommand, type RemoteCommandOptions } from './remote-command.ts';
import { tunnelToStreamingServer } from './tunnel.ts';
import { AgentError, sendStatus, statusBody } from './status.ts';
import { nodeSummary, sendSummary, type StatsCri } from './stats.ts';
import type { Summary } from '../../metrics/summary.ts';

export const AGENT_PORT = 10250;
const PING_INTERVAL_MS = 20_000;

export interface AgentServerOptions {
  cri: StreamCri;
  /** PEMs: the serving certificate and key, and the cluster CA that signs the API server's client cert. */
  certPem: string;
  keyPem: string;
  caPem: string;
  host?: string;
  /** Default 10250; 0 = any free port. */
  port?: number;
  log: (msg: string) => void;
  /** Follow polling interval (default 1 s; a file watch wakes it sooner). */
  logPollMs?: number;
  /** GET /stats/summary: the node's resource usage (stats.ts); 404 without. */
  summary?: () => Promise<Summary>;
}

export interface AgentServer {
  port: number;
  /** Open stream sockets (exec/attach/portForward WebSockets and log follows). */
  openStreams(): number;
  stop(): Promise<void>;
}

type StreamRoute =
  { kind: 'exec' | 'attach'; pod: PodRef; container: string } | { kind: 'portForward'; pod: PodRef };
type Route =
  { kind: 'healthz' } | { kind: 'stats' } | { kind: 'logs'; pod: PodRef; container: string } | StreamRoute;

/** Maps a request path to a route; undefined = 404. */
export function route(url: URL): Route | undefined {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const uid = url.searchParams.get('podUID') || undefined;
  const pod = (ns: string, name: string): PodRef => ({ namespace: ns, name, ...(uid ? { uid } : {}) });
  const [head, ns, name, container] = parts;
  if (head === 'healthz' && parts.length === 1) return { kind: 'healthz' };
  if (head === 'stats' && ns === 'summary' && parts.length === 2) return { kind: 'stats' };
  if (!ns || !name) return undefined;
  if (head === 'containerLogs' && container && parts.length === 4)
    return { kind: 'logs', pod: pod(ns, name), container };
  if ((head === 'exec' || head === 'attach') && container && parts.length === 4)
    return { kind: head, pod: pod(ns, name), container };
  if (head === 'portForward' && parts.length === 3) return { kind: 'portForward', pod: pod(ns, name) };
  return undefined;
}

const flag = (q: URLSearchParams, k: string): boolean => /^(1|true)$/i.test(q.get(k) ?? '');

function commandOptions(q: URLSearchParams): RemoteCommandOptions {
  const o = {
    stdin: flag(q, 'stdin'),
    stdout: flag(q, 'stdout'),
    stderr: flag(q, 'stderr'),
    tty: flag(q, 'tty'),
  };
  if (!o.stdin && !o.stdout && !o.stderr)
    throw new AgentError(400, 'you must specify at least 1 of stdin, stdout, stderr');
  if (o.tty && o.stderr) o.stderr = false; // a terminal merges stderr into stdout
  return o;
}

function forwardPort(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new AgentError(400, `invalid port: "${v}"`);
  return n;
}

/** CRI errors the caller caused (a stopped container, a wrong id) are 400s; the rest 500. */
function asAgentError(e: unknown): AgentError {
  if (e instanceof AgentError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  if (code === 3 || code === 5 || code === 9) return new AgentError(400, msg);
  return new AgentError(500, msg);
}

export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const { cri, log } = opts;
  const streams = new Set<{ close(): void }>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered, req) => {
      const want = req.url?.startsWith('/portForward/') ? AGENT_PORTFORWARD_PROTOCOL : V5_PROTOCOL;
      return offered.has(want) ? want : false;
    },
  });

  const serveLogs = async (
    req: IncomingMessage,
    res: ServerResponse,
    r: { pod: PodRef; container: string },
    q: URLSearchParams,
  ): Promise<void> => {
    const o = parseLogQuery(q);
    const source = await resolveLogSource(cri, r.pod, r.container, o.previous);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    (res.socket as Socket | null)?.setNoDelay(true);
    let closed = false;
    const gone = new Promise<void>((resolve) =>
      res.on('close', () => {
        closed = true;
        resolve();
      }),
    );
    const sink: LogSink = {
      get closed() {
        return closed;
      },
      gone,
      write: (b) =>
        new Promise<void>((resolve) => {
          if (closed || res.write(b)) return resolve();
          res.once('drain', resolve);
          res.once('close', resolve);
        }),
    };
    const handle = { close: () => res.destroy() };
    streams.add(handle);
    try {
      await streamLog(source, o, sink, opts.logPollMs);
    } finally {
      streams.delete(handle);
      res.end();
    }
    void req;
  };

  const server: Server = createServer(
    {
      cert: opts.certPem,
      key: opts.keyPem,
      ca: opts.caPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      void (async () => {
        try {
          authenticatePeer(req.socket as TLSSocket);
          const url = new URL(req.url ?? '/', 'https://agent');
          const r = route(url);
          if (!r)
            throw new AgentError(404, `the server could not find the requested resource (${url.pathname})`);
          if (req.method !== 'GET' && req.method !== 'HEAD')
            throw new AgentError(405, `method ${req.method} not allowed`);
          if (r.kind === 'stats') {
            if (!opts.summary) throw new AgentError(404, 'resource stats are not served here');
            sendSummary(res, await opts.summary());
          } else if (r.kind === 'healthz') {
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end('ok');
          } else if (r.kind === 'logs') await serveLogs(req, res, r, url.searchParams);
          else
            throw new AgentError(
              400,
              `${url.pathname.split('/')[1] ?? ''} needs a WebSocket upgrade (${V5_PROTOCOL})`,
            );
        } catch (e) {
          const err = asAgentError(e);
          if (err.code >= 500) log(`agent endpoint: ${req.url ?? ''}: ${err.message}`);
          sendStatus(res, err.code, err.message);
        }
      })();
    },
  );

  const reject = (socket: Duplex, code: number, message: string): void => {
    const body = statusBody(code, message);
    socket.end(
      `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };

  /** The CRI streaming URL for an exec/attach/portForward route; Status errors before any 101. */
  const streamingUrl = async (r: StreamRoute, q: URLSearchParams, ports: number[]): Promise<string> => {
    if (r.kind === 'portForward') {
      const sb = await podSandbox(cri, r.pod);
      if (!sb.ready) throw new AgentError(400, `pod ${r.pod.name} is not running`);
      return cri.portForward(sb.id, ports);
    }
    const o = commandOptions(q);
    const c = await runningContainer(cri, r.pod, r.container);
    if (r.kind === 'attach') return cri.attach({ containerId: c.id, ...o });
    const cmd = q.getAll('command');
    if (!cmd.length) throw new AgentError(400, 'you must specify at least one command for the container');
    return cri.exec({ containerId: c.id, cmd, ...o });
  };

  /** SPDY/3.1 upgrade (the API server's path): a tunnel to the streaming server, as a kubelet proxies. */
  const tunnel = async (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    r: StreamRoute,
    q: URLSearchParams,
  ): Promise<void> => {
    const ports = q.getAll('port').map(forwardPort);
    const target = await streamingUrl(r, q, ports);
    const protocols = String(req.headersDistinct['x-stream-protocol-version']?.join(',') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const t = await tunnelToStreamingServer(socket, head, target, protocols);
    streams.add(t);
    void t.closed.then(() => streams.delete(t));
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void (async () => {
      let bridge: (ws: WebSocket, inbox: Inbox) => Promise<void>;
      try {
        authenticatePeer(req.socket as TLSSocket);
        const url = new URL(req.url ?? '/', 'https://agent');
        const r = route(url);
        if (!r || r.kind === 'healthz' || r.kind === 'stats' || r.kind === 'logs')
          throw new AgentError(404, `the server could not find the requested resource (${url.pathname})`);
        const q = url.searchParams;
        if ((req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1'))
          return await tunnel(req, socket, head, r, q);
        const want = r.kind === 'portForward' ? AGENT_PORTFORWARD_PROTOCOL : V5_PROTOCOL;
        const offered = String(req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((p) => p.trim());
        if (!offered.includes(want)) throw new AgentError(400, `the WebSocket subprotocol must be ${want}`);
        // Everything that can fail with a Status happens before the 101.
        if (r.kind === 'portForward') {
          const port = forwardPort(q.get('port') ?? '');
          const target = await streamingUrl(r, q, [port]);
          bridge = (ws, inbox) => bridgePortForward(ws, inbox, target, port);
        } else {
          const o = commandOptions(q);
          const target = await streamingUrl(r, q, []);
          bridge = (ws, inbox) => bridgeRemoteCommand(ws, inbox, target, o);
        }
      } catch (e) {
        const err = asAgentError(e);
        if (err.code >= 500) log(`agent endpoint: ${req.url ?? ''}: ${err.message}`);
        return reject(socket, err.code, err.message);
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (!ws.protocol) {
          ws.close(1002, 'unsupported subprotocol');
          return;
        }
        const inbox = holdMessages(ws);
        streams.add(ws);
        let alive = true;
        ws.on('pong', () => (alive = true));
        const ping = setInterval(() => {
          if (!alive) return ws.terminate();
          alive = false;
          ws.ping();
        }, PING_INTERVAL_MS);
        ws.on('error', () => undefined);
        ws.on('close', () => {
          clearInterval(ping);
          streams.delete(ws);
        });
        bridge(ws, inbox).catch((e: unknown) => {
          log(`agent endpoint: ${req.url ?? ''}: ${(e as Error).message}`);
          ws.terminate();
        });
      });
    })();
  });

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(opts.port ?? AGENT_PORT, opts.host ?? '0.0.0.0', () => {
      server.off('error', rejectListen);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log(`agent endpoint listening on ${opts.host ?? '0.0.0.0'}:${port}`);
  return {
    port,
    openStreams: () => streams.size,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of [...streams]) s.close();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The agent's endpoint with the node's serving certificate from the agent's files (main.ts). */
export function startNodeEndpoint(
  cri: StreamCri & StatsCri,
  dir: string | undefined,
  log: (m: string) => void,
): Promise<AgentServer> {
  const s = loadAgentSettings(dir);
  return startAgentServer({
    cri,
    certPem: s.servingCertPem,
    keyPem: s.servingKeyPem,
    caPem: s.caPem,
    log,
    summary: () => nodeSummary(cri, s.config.nodeName),
  });
}
