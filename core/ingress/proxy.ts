/**
 * The reverse proxy: one request from the host → a ready pod endpoint, through a DialPod tunnel and
 * Node's http client (http.request with createConnection; one tunnel per request, no pooling).
 * The Host header is kept; X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host,
 * X-Forwarded-Port and X-Real-IP are set, hop-by-hop headers dropped. WebSocket (and other) upgrades
 * are relayed as raw bytes after the request head. A tunnel that cannot be opened → the next endpoint;
 * no endpoint → 503; the pod failing → 502; no answer within the timeout → 504; no route → 404.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodEndpoint } from './endpoints.ts';
import type { DialPod } from './tunnel.ts';

export type Lookup =
  | { kind: 'ok'; key: string; endpoints: PodEndpoint[] }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'notFound' };

export interface ProxyOptions {
  /** Where the request goes: the backend's endpoints in the order to try them. */
  lookup(host: string | undefined, path: string): Lookup;
  dial: DialPod;
  /** No response head from the pod within this → 504 (default 60 s). */
  responseTimeoutMs?: number;
  log?: (line: string) => void;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

function stripHopByHop(h: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...h };
  const listed = String(h['connection'] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const k of [...HOP_BY_HOP, ...listed]) delete out[k];
  return out;
}

/** The request headers for the pod. */
export function forwardedHeaders(req: IncomingMessage, scheme: 'http' | 'https'): IncomingHttpHeaders {
  const h = stripHopByHop(req.headers);
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  h['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  h['x-forwarded-proto'] = scheme;
  if (req.headers.host) h['x-forwarded-host'] = req.headers.host;
  h['x-forwarded-port'] = String(req.socket.localPort ?? '');
  h['x-real-ip'] = client;
  return h;
}

function plain(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(code, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export class IngressProxy {
  constructor(private readonly opts: ProxyOptions) {}

  /** Opens a tunnel to the first endpoint that can be dialed. */
  private async open(endpoints: PodEndpoint[]): Promise<{ stream: Duplex; ep: PodEndpoint }> {
    let last: unknown;
    for (const ep of endpoints) {
      try {
        return { stream: await this.opts.dial(ep.namespace, ep.pod, ep.port), ep };
      } catch (e) {
        last = e;
        this.opts.log?.(
          `ingress: cannot reach ${ep.namespace}/${ep.pod}:${ep.port}: ${(e as Error).message}`,
        );
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  private route(req: IncomingMessage): Lookup {
    return this.opts.lookup(req.headers.host, req.url ?? '/');
  }

  async handle(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): Promise<void> {
    const where = this.route(req);
    if (where.kind === 'notFound') return plain(res, 404, 'default backend - 404\n');
    if (where.kind === 'unavailable') return plain(res, 503, `503 Service Unavailable: ${where.reason}\n`);
    let tunnel: { stream: Duplex; ep: PodEndpoint };
    try {
      tunnel = await this.open(where.endpoints);
    } catch (e) {
      return plain(res, 502, `502 Bad Gateway: ${(e as Error).message}\n`);
    }
    const { stream, ep } = tunnel;
    if (req.socket.destroyed) {
      stream.destroy(); // the client went away while the tunnel opened
      return;
    }
    const out = request({
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req, scheme),
      createConnection: () => stream as unknown as import('node:net').Socket,
    });
    const timer = setTimeout(() => {
      plain(res, 504, `504 Gateway Timeout: ${ep.namespace}/${ep.pod}:${ep.port} did not answer\n`);
      out.destroy();
    }, this.opts.responseTimeoutMs ?? 60_000);
    out.on('response', (up) => {
      clearTimeout(timer);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, stripHopByHop(up.headers));
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    out.on('error', (e) => {
      clearTimeout(timer);
      this.opts.log?.(`ingress: ${ep.namespace}/${ep.pod}:${ep.port}: ${e.message}`);
      plain(res, 502, `502 Bad Gateway: ${e.message}\n`);
    });
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) out.destroy();
      stream.destroy();
    });
    req.pipe(out);
  }

  /** An Upgrade request (WebSocket…): the head is sent as is (plus X-Forwarded-*), then raw bytes. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https'): Promise<void> {
    socket.on('error', () => socket.destroy());
    const where = this.route(req);
    const refuse = (code: number, text: string): void => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (where.kind === 'notFound') return refuse(404, 'Not Found');
    if (where.kind === 'unavailable') return refuse(503, 'Service Unavailable');
    let stream: Duplex;
    try {
      ({ stream } = await this.open(where.endpoints));
    } catch {
      return refuse(502, 'Bad Gateway');
    }
    if (socket.destroyed) {
      stream.destroy();
      return;
    }
    const h = forwardedHeaders(req, scheme);
    h['connection'] = 'Upgrade';
    if (req.headers.upgrade) h['upgrade'] = req.headers.upgrade;
    const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
    for (const [k, v] of Object.entries(h))
      for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) lines.push(`${k}: ${one}`);
    stream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) stream.write(head);
    stream.on('error', () => socket.destroy());
    socket.on('close', () => stream.destroy());
    stream.on('close', () => socket.destroy());
    stream.pipe(socket);
    socket.pipe(stream);
  }
}
