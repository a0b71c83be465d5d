/**
 * A FAKE node agent for tests: the internal protocol of the agent endpoint (mTLS, Status errors,
 * /containerLogs, /exec and /attach as v5.channel.k8s.io, /portForward as berth.portforward.v1) with
 * toy semantics, so the API server's side is proven without nodes:
 *   exec `echo A B` → "A B\n"; `sh -c 'exit N'` → exit code N; `cat` → stdin to stdout;
 *   `readline` → "got:<first line>" (and a stderr note, which a tty session must not show);
 *   `test -d P` / `tar …` → the real commands run against a sandbox directory (paths mapped into it);
 *   attach → like cat; logs → numbered lines (follow adds one every 50 ms until 5);
 *   portForward port P → the TCP port `ports[P]` on 127.0.0.1, or a refusal worded like containerd's.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import {
  Channel,
  channelMessage,
  closeChannelMessage,
  messageBuffer,
  parseChannelMessage,
} from '../ws-channels.ts';

export interface FakeAgentOptions {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Directory that plays the container's filesystem for test/tar. */
  sandbox: string;
  /** Pod port → local TCP port for port-forward. */
  ports: Record<number, number>;
}

export interface FakeAgent {
  port: number;
  requests: string[];
  /** Resize messages received (JSON text). */
  resizes: string[];
  /** Open WebSockets right now (exec/attach/portForward). */
  openSockets(): number;
  close(): Promise<void>;
}

const SUCCESS = JSON.stringify({ metadata: {}, status: 'Success' });

function exitStatus(code: number): string {
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [...], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(body);
}

function clientOk(req: IncomingMessage): boolean {
  const sock = req.socket as TLSSocket;
  return sock.authorized && sock.getPeerCertificate().subject?.CN === 'kube-apiserver-kubelet-client';
}

export async function startFakeAgent(opts: FakeAgentOptions): Promise<FakeAgent> {
  const requests: string[] = [];
  const resizes: string[] = [];
  const sockets = new Set<WebSocket>();
  const server: Server = createServer({
    key: opts.keyPem,
    cert: opts.certPem,
    ca: opts.caPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (ps) =>
      ps.has('v5.channel.k8s.io')
        ? 'v5.channel.k8s.io'
        : ps.has('berth.portforward.v1')
          ? 'berth.portforward.v1'
          : false,
  });

  server.on('request', (req, res) => {
    requests.push(req.url ?? '');
    if (!clientOk(req)) return status(res, 403, 'Forbidden', 'forbidden: not the API server');
    const url = new URL(req.url ?? '/', 'https://x');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return status(res, 404, 'NotFound', 'not found');
    if (m[3] === 'waiting')
      return status(
        res,
        400,
        'BadRequest',
        `container "waiting" in pod "${m[2]}" is waiting to start: ContainerCreating`,
      );
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    let n = 0;
    const line = (): void => {
      n++;
      res.write(`${url.searchParams.get('timestamps') ? '2026-11-23T10:00:00.000000000Z ' : ''}line ${n}\n`);
    };
    line();
    line();
    if (!url.searchParams.get('follow')) return void res.end();
    const t = setInterval(() => {
      line();
      if (n >= 5) {
        clearInterval(t);
        res.end();
      }
    }, 50);
    res.on('close', () => clearInterval(t));
  });

  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    requests.push(req.url ?? '');
    if (!clientOk(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => ws.terminate());
      const url = new URL(req.url ?? '/', 'https://x');
      if (url.pathname.startsWith('/portForward/'))
        return portForward(ws, Number(url.searchParams.get('port')), opts.ports);
      const q = url.searchParams;
      const command = url.pathname.startsWith('/attach/') ? ['cat'] : q.getAll('command');
      runCommand(ws, command, opts.sandbox, resizes);
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    resizes,
    openSockets: () => sockets.size,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function finish(ws: WebSocket, code: number): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  ws.send(channelMessage(Channel.ERROR, code === 0 ? SUCCESS : exitStatus(code)));
  ws.close(1000);
}

function runCommand(ws: WebSocket, command: string[], sandbox: string, resizes: string[]): void {
  const out = (s: Buffer | string): void => ws.send(channelMessage(Channel.STDOUT, s));
  const [cmd, ...args] = command;
  const exit = cmd === 'sh' && args[0] === '-c' ? /^exit (\d+)$/.exec(args[1] ?? '') : null;
  if (cmd === 'echo') {
    out(`${args.join(' ')}\n`);
    return finish(ws, 0);
  }
  if (exit) return finish(ws, Number(exit[1]));
  if (cmd === 'readline') {
    // Answers the first line typed (a tty sends \r), after a stderr note the API must drop under a tty.
    ws.send(channelMessage(Channel.STDERR, 'side-note\n'));
    let line = '';
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const m = parseChannelMessage(messageBuffer(data), true);
      if (m?.kind === 'data' && m.channel === Channel.RESIZE) resizes.push(m.data.toString('utf8'));
      if (m?.kind !== 'data' || m.channel !== Channel.STDIN) return;
      line += m.data.toString('utf8');
      const end = line.search(/[\r\n]/);
      if (end < 0) return;
      out(`got:${line.slice(0, end)}\r\n`);
      finish(ws, 0);
    });
    return;
  }
  if (cmd === 'cat') {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const m = parseChannelMessage(messageBuffer(data), true);
      if (!m) return;
      if (m.kind === 'close' && m.channel === Channel.STDIN) finish(ws, 0);
      else if (m.kind === 'data' && m.channel === Channel.STDIN) out(m.data);
      else if (m.kind === 'data' && m.channel === Channel.RESIZE) resizes.push(m.data.toString('utf8'));
    });
    return;
  }
  if (cmd === 'test' || cmd === 'tar') {
    // Absolute paths are mapped into the sandbox; `tar cf - /p` becomes `tar cf - -C sandbox p`.
    const mapped = args.map((a) => (a.startsWith('/') ? join(sandbox, a) : a));
    if (cmd === 'tar' && args[0] === 'cf')
      mapped.splice(2, mapped.length - 2, '-C', sandbox, ...args.slice(2).map((a) => a.replace(/^\/+/, '')));
    const child = spawn(cmd, mapped, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => out(d));
    child.stderr.on('data', (d: Buffer) => ws.send(channelMessage(Channel.STDERR, d)));
    child.stdin.on('error', () => undefined);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const m = parseChannelMessage(messageBuffer(data), true);
      if (m?.kind === 'close' && m.channel === Channel.STDIN) child.stdin.end();
      else if (m?.kind === 'data' && m.channel === Channel.STDIN) child.stdin.write(m.data);
    });
    ws.on('close', () => child.kill());
    child.on('close', (code) => finish(ws, code ?? 1));
    return;
  }
  ws.send(channelMessage(Channel.STDERR, `fake agent: unknown command ${JSON.stringify(command)}\n`));
  ws.send(closeChannelMessage(Channel.STDERR));
  finish(ws, 127);
}

function portForward(ws: WebSocket, port: number, ports: Record<number, number>): void {
  const local = ports[port];
  const refuse = (): void => {
    ws.send(
      `failed to connect to localhost:${port} inside namespace "fake", IP: 10.244.0.9: dial tcp [::1]:${port}: connect: connection refused`,
    );
    ws.close(1011);
  };
  if (local === undefined) return refuse();
  const tcp = connect(local, '127.0.0.1');
  tcp.on('error', () => refuse());
  tcp.on('data', (d) => ws.readyState === WebSocket.OPEN && ws.send(d, { binary: true }));
  tcp.on('end', () => ws.readyState === WebSocket.OPEN && ws.send('EOF'));
  tcp.on('close', () => ws.readyState === WebSocket.OPEN && ws.close(1000));
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    if (isBinary) tcp.write(messageBuffer(data));
    else if (messageBuffer(data).toString() === 'EOF') tcp.end();
  });
  ws.on('close', () => tcp.destroy());
}
