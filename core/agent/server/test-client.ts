/**
 * Test support (imported by tests only): the API server's side of the agent endpoint, reduced to what
 * tests need — an HTTPS GET and WebSockets with a client certificate, and a remote-command session
 * collector for v5.channel.k8s.io.
 */
import { request } from 'node:https';
import WebSocket from 'ws';
import { Channel, channelMessage, closeChannelMessage, messageBuffer } from '../../streams/ws-channels.ts';

export interface EndpointTarget {
  host: string;
  port: number;
  /** The name in the serving certificate. */
  servername: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
}

const tls = (t: EndpointTarget) => ({
  ca: t.caPem,
  servername: t.servername,
  ...(t.certPem && t.keyPem ? { cert: t.certPem, key: t.keyPem } : {}),
});

export function get(
  t: EndpointTarget,
  path: string,
  onChunk?: (b: Buffer) => void,
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: t.host, port: t.port, path, method: 'GET', ...tls(t) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => {
        parts.push(b);
        onChunk?.(b);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts).toString('utf8'),
          type: String(res.headers['content-type'] ?? ''),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; rejects with "<status> <body>" on a non-101 answer. */
export function openWebSocket(t: EndpointTarget, path: string, protocol: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${t.host}:${t.port}${path}`, [protocol], tls(t));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () =>
        reject(new Error(`${res.statusCode ?? 0} ${Buffer.concat(parts).toString('utf8')}`)),
      );
    });
  });
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  status: {
    status?: string;
    reason?: string;
    message?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  closeCode: number;
}

/** Collects a v5 session until close; `input` is sent on stdin then closed (EOF) unless `keepStdin`. */
export function collectCommand(
  ws: WebSocket,
  opts: { input?: string; keepStdin?: boolean; resize?: { Width: number; Height: number } } = {},
): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  let status = '';
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const b = messageBuffer(data);
    const text = b.subarray(1).toString('utf8');
    if (b[0] === Channel.STDOUT) stdout += text;
    else if (b[0] === Channel.STDERR) stderr += text;
    else if (b[0] === Channel.ERROR) status += text;
  });
  if (opts.resize) ws.send(channelMessage(Channel.RESIZE, JSON.stringify(opts.resize)));
  if (opts.input !== undefined) ws.send(channelMessage(Channel.STDIN, opts.input));
  if (opts.input !== undefined && !opts.keepStdin) ws.send(closeChannelMessage(Channel.STDIN));
  return new Promise((resolve) =>
    ws.once('close', (closeCode: number) =>
      resolve({
        stdout,
        stderr,
        status: status ? (JSON.parse(status) as CommandResult['status']) : {},
        closeCode,
      }),
    ),
  );
}
