/**
 * Browser mode (`berth serve`): serves the built renderer on 127.0.0.1 only and carries the GUI
 * contract over one authenticated WebSocket per page (DESIGN.md §6).
 *
 * Access: a random 256-bit token. The printed URL carries it as `?token=`; the first page load
 * trades it for an HttpOnly, SameSite=Strict cookie scoped to this port and redirects to `/` so the
 * token leaves the address bar. Every other request needs the cookie (or `Authorization: Bearer`):
 * without it → 401; a Host header other than 127.0.0.1/localhost:<port> (DNS rebinding) → 403; a
 * WebSocket upgrade from a foreign Origin → 403. Responses carry a strict CSP.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerMessage } from './contract.ts';
import type { GuiService } from './service.ts';

export interface GuiServerOptions {
  service: GuiService;
  /** Folder with the built renderer (index.html + assets/). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
}

export interface RunningGuiServer {
  url: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Monaco (the manifest editor) writes <style> elements at run time and has no nonce support.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

export async function startGuiServer(opts: GuiServerOptions): Promise<RunningGuiServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  let port = 0;
  const cookieName = (): string => `berth_${port}`;
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

  const authorized = (req: IncomingMessage, url: URL): 'cookie' | 'query' | false => {
    const c = cookies(req).get(cookieName());
    if (c && safeEqual(c, token)) return 'cookie';
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && safeEqual(auth.slice(7).trim(), token)) return 'cookie';
    const q = url.searchParams.get('token');
    if (q && safeEqual(q, token)) return 'query';
    return false;
  };

  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  const deny = (res: ServerResponse, code: 401 | 403 | 404 | 405, msg: string): void => {
    securityHeaders(res);
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${msg}\n`);
  };

  const serveFile = async (res: ServerResponse, pathname: string): Promise<void> => {
    let rel = decodeURIComponent(pathname).replace(/^\/+/, '');
    if (!rel) rel = 'index.html';
    const root = normalize(opts.staticDir + sep);
    let file = normalize(join(root, rel));
    if (!file.startsWith(root)) return deny(res, 404, 'not found');
    let st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) {
      // Client-side routes fall back to the app; missing assets are 404s.
      if (rel.startsWith('assets/') || extname(rel)) return deny(res, 404, 'not found');
      file = join(root, 'index.html');
      st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) return deny(res, 404, 'the renderer is not built');
    }
    const body = await readFile(file);
    securityHeaders(res);
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': file.includes(`${sep}assets${sep}`)
        ? 'private, max-age=31536000, immutable'
        : 'no-store',
    });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!allowedHosts().includes(req.headers.host ?? '')) return deny(res, 403, 'forbidden host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    const how = authorized(req, url);
    if (!how)
      return deny(res, 401, 'unauthorized: open the URL printed by `berth serve` (it carries the token)');
    if (how === 'query') {
      // Trade the token for a cookie and drop it from the address bar.
      securityHeaders(res);
      url.searchParams.delete('token');
      res.writeHead(303, {
        Location: url.pathname + (url.search || ''),
        'Set-Cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }
    serveFile(res, url.pathname).catch(() => deny(res, 404, 'not found'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  const refuse = (socket: Duplex, code: 401 | 403 | 404): void => {
    const text = code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'Not Found';
    socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/ws') return refuse(socket, 404);
    if (!allowedHosts().includes(req.headers.host ?? '')) return refuse(socket, 403);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts().some((h) => origin === `http://${h}`))
      return refuse(socket, 403);
    if (!authorized(req, url)) return refuse(socket, 401);
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  const onConnection = (ws: WebSocket): void => {
    const send = (m: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const session = opts.service.openSession((m) => send(m));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return ws.close(1007, 'invalid JSON');
      }
      if (typeof msg !== 'object' || msg === null) return ws.close(1007, 'invalid message');
      const { kind, id, method, params } = msg as Record<string, unknown>;
      if (kind !== 'request' || typeof id !== 'number' || !Number.isSafeInteger(id))
        return ws.close(1007, 'invalid message');
      void session
        .handle(method, params)
        .then((r) =>
          send(
            r.ok
              ? { kind: 'response', id, ok: true, result: r.result }
              : { kind: 'response', id, ok: false, error: r.error },
          ),
        );
    });
    ws.on('close', () => session.close());
    ws.on('error', () => session.close());
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  return {
    url,
    port,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
