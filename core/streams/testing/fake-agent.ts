/**
 * A FAKE node agent for tests: the agent endpoint as the API server uses it (mTLS, Status errors,
 * /containerLogs, and /exec, /attach and /portForward as SPDY/3.1 upgrades, which the real agent
 * tunnels to containerd's streaming server: here a streaming server of its own, on our SPDY session
 * code) with toy semantics, so the API server's side is proven without nodes:
 *   exec `echo A B` → "A B\n"; `sh -c 'exit N'` → exit code N; `cat` → stdin to stdout;
 *   `readline` → "got:<first line>" (and a stderr note, which a tty session must not show);
 *   `test -d P` / `tar …` → the real commands run against a sandbox directory (paths mapped into it);
 *   attach → like cat; logs → numbered lines (follow adds one every 50 ms until 5);
 *   portForward: each error/data stream pair (one per requestid) for port P → the TCP port `ports[P]`
 *   on 127.0.0.1, or a refusal worded like containerd's on the error stream.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from '../spdy/session.ts';
import { expectedSpdyStreams, SPDY_EXEC_PROTOCOLS, type StreamOptions } from '../remotecommand.ts';
import { acceptSpdy, headerList, isSpdyUpgrade } from '../upgrade.ts';
import { onForwardPairs } from './forward-pairs.ts';

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
  /** Open streaming sessions right now (exec/attach/portForward). */
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
  const sessions = new Set<SpdySession>();
  const server: Server = createServer({
    key: opts.keyPem,
    cert: opts.certPem,
    ca: opts.caPem,
    requestCert: true,
    rejectUnauthorized: false,
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

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push(req.url ?? '');
    socket.on('error', () => undefined);
    if (!clientOk(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    const forward = url.pathname.startsWith('/portForward/');
    const supported: readonly string[] = forward ? ['portforward.k8s.io'] : SPDY_EXEC_PROTOCOLS;
    const protocol = headerList(req, 'x-stream-protocol-version').find((p) => supported.includes(p));
    if (!isSpdyUpgrade(req) || !protocol) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 28\r\n\r\nunable to negotiate protocol');
      return;
    }
    const session = new SpdySession(acceptSpdy(socket, head, protocol));
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    if (forward) return portForward(session, opts.ports);
    const q = url.searchParams;
    const o = {
      stdin: q.get('stdin') === '1',
      stdout: q.get('stdout') === '1',
      stderr: q.get('stderr') === '1',
      tty: q.get('tty') === '1',
    };
    const command = url.pathname.startsWith('/attach/') ? ['cat'] : q.getAll('command');
    void commandStreams(session, o, protocol).then(
      (io) => io && runCommand(io, command, opts.sandbox, resizes),
    );
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    resizes,
    openSockets: () => sessions.size,
    close: async () => {
      for (const s of sessions) s.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** What a toy command sees: the session's streams, as a streaming server's command would. */
interface CommandIO {
  out(b: Buffer | string): void;
  /** Dropped under a tty (no stderr stream), as a terminal merges it. */
  err(b: Buffer | string): void;
  onStdin(data: (b: Buffer) => void, end: () => void): void;
  onResize(cb: (json: string) => void): void;
  finish(code: number): void;
  onGone(cb: () => void): void;
}

/** Waits for the streams the client opens for these options (as the kubelet's server does). */
function commandStreams(
  session: SpdySession,
  o: StreamOptions,
  protocol: string,
): Promise<CommandIO | undefined> {
  const expected = expectedSpdyStreams(o, protocol);
  const streams = new Map<string, SpdyStream>();
  return new Promise((resolve) => {
    session.on('close', () => resolve(undefined));
    session.on('stream', (s) => {
      s.on('error', () => undefined);
      streams.set(s.headers['streamtype'] ?? '', s);
      if (!expected.every((t) => streams.has(t))) return;
      const get = (t: string): SpdyStream | undefined => streams.get(t);
      const write = (s?: SpdyStream) => (b: Buffer | string) => {
        if (s && !s.writableEnded) s.write(b);
      };
      for (const t of ['error', 'stdout', 'stderr']) get(t)?.resume();
      let done = false;
      resolve({
        out: write(get('stdout')),
        err: write(get('stderr')),
        onStdin: (data, end) => {
          get('stdin')?.on('data', data);
          get('stdin')?.on('end', end);
        },
        onResize: (cb) => {
          let pending = '';
          get('resize')?.on('data', (d: Buffer) => {
            pending += d.toString('utf8');
            let nl: number;
            while ((nl = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, nl).trim();
              pending = pending.slice(nl + 1);
              if (line) cb(line);
            }
          });
        },
        finish: (code) => {
          if (done) return;
          done = true;
          const error = get('error');
          const v4 = protocol === 'v4.channel.k8s.io';
          if (error && (v4 || code !== 0))
            error.write(v4 ? statusJson(code) : `command terminated with exit code ${code}`);
          const open = [...streams.values()].filter((x) => !x.writableEnded);
          let left = open.length;
          if (!left) return session.goAway();
          for (const x of open) x.end(() => --left === 0 && session.goAway());
        },
        onGone: (cb) => session.on('close', cb),
      });
    });
  });
}

function runCommand(io: CommandIO, command: string[], sandbox: string, resizes: string[]): void {
  const [cmd, ...args] = command;
  const exit = cmd === 'sh' && args[0] === '-c' ? /^exit (\d+)$/.exec(args[1] ?? '') : null;
  io.onResize((json) => resizes.push(json));
  if (cmd === 'echo') {
    io.out(`${args.join(' ')}\n`);
    return io.finish(0);
  }
  if (exit) return io.finish(Number(exit[1]));
  if (cmd === 'readline') {
    // Answers the first line typed (a tty sends \r), after a stderr note a tty session must not show.
    io.err('side-note\n');
    let line = '';
    io.onStdin(
      (b) => {
        line += b.toString('utf8');
        const end = line.search(/[\r\n]/);
        if (end < 0) return;
        io.out(`got:${line.slice(0, end)}\r\n`);
        io.finish(0);
      },
      () => io.finish(0),
    );
    return;
  }
  if (cmd === 'cat') {
    io.onStdin(
      (b) => io.out(b),
      () => io.finish(0),
    );
    return;
  }
  if (cmd === 'test' || cmd === 'tar') {
    // Absolute paths are mapped into the sandbox; `tar cf - /p` becomes `tar cf - -C sandbox p`.
    const mapped = args.map((a) => (a.startsWith('/') ? join(sandbox, a) : a));
    if (cmd === 'tar' && args[0] === 'cf')
      mapped.splice(2, mapped.length - 2, '-C', sandbox, ...args.slice(2).map((a) => a.replace(/^\/+/, '')));
    const child = spawn(cmd, mapped, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => io.out(d));
    child.stderr.on('data', (d: Buffer) => io.err(d));
    child.stdin.on('error', () => undefined);
    io.onStdin(
      (b) => child.stdin.write(b),
      () => child.stdin.end(),
    );
    io.onGone(() => child.kill());
    child.on('close', (code) => io.finish(code ?? 1));
    return;
  }
  io.err(`fake agent: unknown command ${JSON.stringify(command)}\n`);
  io.finish(127);
}

/** Port-forward: every error/data pair (by requestid) is one TCP connection to `ports[port]`. */
function portForward(session: SpdySession, ports: Record<number, number>): void {
  onForwardPairs(session, (error, data) => {
    const port = Number(data.headers['port']);
    const close = (): void => {
      if (!error.writableEnded) error.end();
      if (!data.writableEnded) data.end();
    };
    const local = ports[port];
    const refuse = (): void => {
      if (!error.writableEnded)
        error.write(
          `error forwarding port ${port} to pod fake, uid : failed to connect to localhost:${port} inside namespace "fake", IP: 10.244.0.9: dial tcp [::1]:${port}: connect: connection refused`,
        );
      close();
    };
    if (local === undefined) return refuse();
    const tcp = connect(local, '127.0.0.1');
    tcp.on('error', refuse);
    tcp.on('data', (d: Buffer) => {
      if (!data.writableEnded) data.write(d);
    });
    tcp.on('end', close);
    tcp.on('close', close);
    data.on('data', (d: Buffer) => tcp.write(d));
    data.on('end', () => tcp.end());
    data.on('close', () => tcp.destroy());
  });
}

function statusJson(code: number): string {
  return code === 0 ? SUCCESS : exitStatus(code);
}
