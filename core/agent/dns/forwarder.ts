/**
 * Forwards what the cluster zone does not answer to the node's own resolvers (the nameservers of the
 * node's /etc/resolv.conf — in a Docker node, Docker's embedded DNS at 127.0.0.11), over the transport
 * the client used: UDP (one connected socket per query, so only the server asked can answer) or TCP.
 * Servers are tried in order, each with a deadline; a bounded number of queries may be in flight.
 */
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { frame, unframe } from './tcp-framing.ts';

export interface ForwarderOptions {
  servers: string[];
  /** Per server, ms (default 2000). */
  timeoutMs?: number;
  /** Queries in flight at once (default 200); more fail at once. */
  maxInFlight?: number;
  port?: number;
}

/** The nameservers of a resolv.conf text, without the addresses given (our own, to avoid loops). */
export function upstreamServers(resolvConf: string, exclude: string[]): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m?.[1] && !exclude.includes(m[1]) && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

export class Forwarder {
  private inFlight = 0;

  constructor(private readonly opts: ForwarderOptions) {}

  get servers(): string[] {
    return this.opts.servers;
  }

  /** The upstream's raw response to the raw query, or undefined when no server answered. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (this.inFlight >= (this.opts.maxInFlight ?? 200)) return undefined;
    this.inFlight++;
    try {
      for (const server of this.opts.servers) {
        const reply = await (transport === 'udp' ? this.udp(server, query) : this.tcp(server, query)).catch(
          () => undefined,
        );
        if (reply && reply.length >= 12 && reply.readUInt16BE(0) === query.readUInt16BE(0)) return reply;
      }
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  private udp(server: string, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = createSocket(isIPv6(server) ? 'udp6' : 'udp4');
      const timer = setTimeout(() => finish(new Error('timeout')), this.opts.timeoutMs ?? 2000);
      const finish = (err?: Error, msg?: Buffer): void => {
        clearTimeout(timer);
        sock.close();
        if (msg) resolve(msg);
        else reject(err ?? new Error('no answer'));
      };
      sock.on('error', (e) => finish(e));
      sock.on('message', (msg) => finish(undefined, msg));
      sock.connect(this.opts.port ?? 53, server, () => sock.send(query));
    });
  }

  private tcp(server: string, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: server, port: this.opts.port ?? 53 });
      let buf: Buffer = Buffer.alloc(0);
      sock.setTimeout(this.opts.timeoutMs ?? 2000, () => sock.destroy(new Error('timeout')));
      sock.on('connect', () => sock.write(frame(query)));
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const [reply] = unframe(buf).messages;
        if (reply) {
          resolve(reply);
          sock.end();
        }
      });
      sock.on('error', reject);
      sock.on('close', () => reject(new Error('closed')));
    });
  }
}
