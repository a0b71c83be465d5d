/**
 * Dials the agent endpoint of a pod's node (the kubelet's :10250): mutual TLS with the API server's
 * kubelet-client certificate, the node's serving certificate verified against the cluster CA with
 * servername = the node's name, at the Node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port.
 */
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { dialSpdyTls, type SpdyTlsConnection } from '../streams/spdy/client.ts';
import { UpgradeRefused } from '../streams/upgrade-dial.ts';
import type { KObject } from '../api/object.ts';
import { errors, StatusError, type Status } from '../api/status.ts';
import type { GenericRegistry } from './generic-registry.ts';
import type { ResourceTable } from './resources.ts';

export interface NodeClientCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface NodeTarget {
  nodeName: string;
  address: string;
  port: number;
}

interface PodShape {
  spec?: {
    nodeName?: string;
    containers?: { name: string }[];
    initContainers?: { name: string }[];
    ephemeralContainers?: { name: string }[];
  };
  status?: { phase?: string };
}

export const pod = (o: KObject): PodShape => o as unknown as PodShape;

/** The WebSocket keep-alive towards the agent (the agent pings too). */
const AGENT_PING_MS = 20_000;

export class NodeConnector {
  constructor(
    private readonly registry: GenericRegistry,
    private readonly table: ResourceTable,
    private readonly creds: NodeClientCredentials | undefined,
  ) {}

  getPod(namespace: string, name: string): KObject {
    return this.registry.get(this.table.lookup('', 'v1', 'pods')!, namespace, name);
  }

  /**
   * The container to use: `requested`, or the only container; upstream's messages otherwise.
   */
  container(p: KObject, requested: string | null): string {
    const spec = pod(p).spec ?? {};
    const name = p.metadata.name ?? '';
    const all = [
      ...(spec.containers ?? []),
      ...(spec.initContainers ?? []),
      ...(spec.ephemeralContainers ?? []),
    ];
    if (!requested) {
      const only = spec.containers?.length === 1 ? spec.containers[0]!.name : undefined;
      if (only) return only;
      throw errors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]`,
      );
    }
    if (!all.some((c) => c.name === requested))
      throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }

  /** Where the pod's node agent listens; 400 when the pod is not bound yet. */
  target(p: KObject): NodeTarget {
    const nodeName = pod(p).spec?.nodeName;
    if (!nodeName) throw errors.badRequest(`pod ${p.metadata.name ?? ''} does not have a host assigned`);
    const node = this.registry.tryGet(this.table.lookup('', 'v1', 'nodes')!, '', nodeName) as
      | (KObject & {
          status?: {
            addresses?: { type: string; address: string }[];
            daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
          };
        })
      | undefined;
    if (!node) throw errors.internal(new Error(`node "${nodeName}" not found`));
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!address)
      throw errors.internal(
        new Error(
          `no preferred addresses found; known addresses: [${(node.status?.addresses ?? []).map((a) => `{${a.type} ${a.address}}`).join(' ')}]`,
        ),
      );
    return { nodeName, address, port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250 };
  }

  private tls(t: NodeTarget): { ca: string; cert: string; key: string; servername: string } {
    if (!this.creds)
      throw new StatusError(503, 'ServiceUnavailable', 'the API server has no node client credentials');
    return { ca: this.creds.caPem, cert: this.creds.certPem, key: this.creds.keyPem, servername: t.nodeName };
  }

  private url(t: NodeTarget, scheme: 'https' | 'wss', path: string): string {
    const host = t.address.includes(':') ? `[${t.address}]` : t.address;
    return `${scheme}://${host}:${t.port}${path}`;
  }

  /** A plain GET (logs); resolves with the response whatever its status. */
  get(t: NodeTarget, path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const opts = this.tls(t);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(this.url(t, 'https', path), { ...opts, method: 'GET', signal }, resolve);
      req.on('error', (e) => reject(dialError(t, e)));
      req.end();
    });
  }

  /**
   * A SPDY/3.1 upgrade to the agent, which tunnels it to the container runtime's streaming server
   * (exec, attach, port-forward, as the kubelet proxies them). Resolves with the raw connection after
   * the 101; another answer rejects with the agent's Status (or the streaming server's text as a 500).
   * The connection is read without an allocation per read (borrowed-reads.ts): it carries the bulk.
   */
  async spdyTunnel(t: NodeTarget, path: string, protocols: readonly string[]): Promise<SpdyTlsConnection> {
    try {
      return await dialSpdyTls({ host: t.address, port: t.port, ...this.tls(t) }, path, protocols);
    } catch (e) {
      if (e instanceof UpgradeRefused) throw statusFromBody(e.statusCode, e.body);
      throw dialError(t, e as Error);
    }
  }

  /**
   * Opens a WebSocket to the agent; resolves when open. A non-101 answer rejects with the agent's
   * Status (or a 500 naming the failure).
   */
  webSocket(t: NodeTarget, path: string, protocol: string): Promise<WebSocket> {
    const opts = this.tls(t);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url(t, 'wss', path), protocol, {
        ...opts,
        perMessageDeflate: false,
        handshakeTimeout: 30_000,
      });
      ws.once('open', () => {
        ws.removeAllListeners('error');
        ws.on('error', () => ws.terminate());
        keepAlive(ws);
        resolve(ws);
      });
      ws.once('error', (e) => reject(dialError(t, e)));
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          reject(statusFromBody(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8')));
          ws.terminate();
        });
        res.on('error', () => reject(dialError(t, new Error('agent response failed'))));
      });
    });
  }
}

function keepAlive(ws: WebSocket): void {
  const timer = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.ping();
  }, AGENT_PING_MS);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}

function dialError(t: NodeTarget, e: Error): StatusError {
  return errors.internal(new Error(`error dialing backend: ${e.message} (node ${t.nodeName})`));
}

/** The agent answers errors with a Status; anything else becomes an InternalError. */
export function statusFromBody(code: number, body: string): StatusError {
  try {
    const s = JSON.parse(body) as Partial<Status>;
    if (s.kind === 'Status' && typeof s.message === 'string')
      return new StatusError(code, s.reason ?? '', s.message, s.details);
  } catch {
    /* not JSON */
  }
  return new StatusError(code, 'InternalError', body.trim() || `the node agent answered ${code}`);
}
