/**
 * The DNS server: UDP and TCP (length-prefixed, several queries per connection) on one address. Each
 * query is answered from the cluster zone or forwarded upstream; a CNAME to an external name is
 * followed upstream as a recursive server would. A UDP answer larger than the client accepts (512
 * bytes, or its EDNS payload size up to 1232) loses records from the end and is marked truncated
 * (names are written uncompressed, as dns-packet encodes them: about 28 A records fit 1232 bytes).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { canonical } from './names.ts';
import type { ClusterZone, Resolution } from './answer.ts';
import type { Forwarder } from './forwarder.ts';
import { frame, unframe } from './tcp-framing.ts';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const FLAG_TC = 1 << 9;
const FLAG_AA = 1 << 10;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;
const EDNS_MAX = 1232;
const TCP_IDLE_MS = 10_000;

export interface DnsStats {
  queries: number;
  forwarded: number;
  nxdomain: number;
  servfail: number;
}

type Transport = 'udp' | 'tcp';

/** A header-only reply with `rcode` to a raw query (its id and RD bit kept), for undecodable input. */
function bareReply(raw: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(raw.readUInt16BE(0), 0);
  out.writeUInt16BE(0x8000 | FLAG_RA | (raw.readUInt16BE(2) & FLAG_RD) | rcode, 2);
  return out;
}

/** The largest UDP reply the client takes. */
function udpLimit(q: DecodedPacket): number {
  const opt = q.additionals?.find((a) => a.type === 'OPT');
  return opt && opt.type === 'OPT' ? Math.max(512, Math.min(opt.udpPayloadSize, EDNS_MAX)) : 512;
}

/** Encodes `p`; over `limit` bytes, keeps as many answers as fit (none of the rest) and sets TC. */
export function encodeWithin(p: Packet, limit: number): Buffer {
  const full = packet.encode(p);
  if (full.length <= limit) return full;
  const answers = p.answers ?? [];
  let lo = 0;
  let hi = answers.length;
  const trimmed = (n: number): Packet => ({
    ...p,
    flags: (p.flags ?? 0) | FLAG_TC,
    answers: answers.slice(0, n),
    authorities: [],
    additionals: (p.additionals ?? []).filter((a) => a.type === 'OPT'),
  });
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (packet.encodingLength(trimmed(mid)) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return packet.encode(trimmed(lo));
}

export class DnsServer {
  readonly stats: DnsStats = { queries: 0, forwarded: 0, nxdomain: 0, servfail: 0 };
  private udp?: UdpSocket;
  private tcp?: Server;
  private readonly conns = new Set<Socket>();

  constructor(
    private readonly zone: ClusterZone,
    private readonly forwarder: Forwarder,
    private readonly log: (m: string) => void,
  ) {}

  /** Binds UDP and TCP on address:port (port 0: one free port for both, for tests). */
  async listen(address: string, port: number): Promise<number> {
    const tcp = createServer((s) => this.serveTcp(s));
    tcp.on('error', (e) => this.log(`dns tcp: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: address, port }, () => resolve());
    });
    this.tcp = tcp;
    const bound = (tcp.address() as { port: number }).port;
    const udp = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address, port: bound }, () => resolve());
    });
    udp.on('error', (e) => this.log(`dns udp: ${e.message}`));
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp').then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    this.udp = udp;
    return bound;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    const { udp, tcp } = this;
    this.udp = undefined;
    this.tcp = undefined;
    udp?.close();
    await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
  }

  private serveTcp(sock: Socket): void {
    this.conns.add(sock);
    let buf: Buffer = Buffer.alloc(0);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      const { messages, rest } = unframe(Buffer.concat([buf, d]));
      buf = rest;
      for (const msg of messages)
        void this.handle(msg, 'tcp').then((reply) => {
          if (reply && !sock.destroyed) sock.write(frame(reply));
        });
    });
  }

  /** The reply to one raw query, or undefined to stay silent (not a query at all). */
  async handle(raw: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (raw.length < 12 || raw.readUInt16BE(2) & 0x8000) return undefined;
    this.stats.queries++;
    let q: DecodedPacket;
    try {
      q = packet.decode(raw);
    } catch {
      return bareReply(raw, RCODE.FORMERR);
    }
    if ((raw.readUInt16BE(2) >> 11) & 0xf) return bareReply(raw, RCODE.NOTIMP);
    const question = q.questions?.[0];
    if (q.questions?.length !== 1 || !question) return bareReply(raw, RCODE.FORMERR);
    const res: Resolution =
      question.class && question.class !== 'IN' ? { kind: 'forward' } : this.zone.resolve(question);
    if (res.kind === 'forward') {
      this.stats.forwarded++;
      const reply = await this.forwarder.forward(raw, transport);
      if (reply) return reply;
      this.stats.servfail++;
      return bareReply(raw, RCODE.SERVFAIL);
    }
    let { rcode, answers } = res;
    if (res.chase) {
      const followed = await this.chase(res.chase, question);
      answers = [...answers, ...followed.answers];
      if (followed.rcode === 'NXDOMAIN') rcode = 'NXDOMAIN';
    }
    if (rcode === 'NXDOMAIN') this.stats.nxdomain++;
    const qname = canonical(question.name);
    const opt = q.additionals?.some((a) => a.type === 'OPT');
    const reply: Packet = {
      id: q.id ?? 0,
      type: 'response',
      flags: FLAG_AA | FLAG_RA | (q.flag_rd ? FLAG_RD : 0) | RCODE[rcode],
      questions: [question],
      answers: answers.map((a) => (a.name === qname ? { ...a, name: question.name } : a)),
      authorities: res.authorities,
      additionals: [
        ...res.additionals,
        ...(opt
          ? [
              {
                name: '.',
                type: 'OPT',
                udpPayloadSize: EDNS_MAX,
                extendedRcode: 0,
                ednsVersion: 0,
                flags: 0,
                flag_do: false,
                options: [],
              } as Answer,
            ]
          : []),
      ],
    };
    return transport === 'udp' ? encodeWithin(reply, udpLimit(q)) : packet.encode(reply);
  }

  /** Records of `q.type` for an external CNAME target, from upstream. */
  private async chase(target: string, q: Question): Promise<{ rcode: string; answers: Answer[] }> {
    const sub = packet.encode({
      id: randomInt(1, 65535),
      type: 'query',
      flags: FLAG_RD,
      questions: [{ name: target, type: q.type, class: 'IN' }],
    });
    this.stats.forwarded++;
    const reply = await this.forwarder.forward(sub, 'udp');
    if (!reply) return { rcode: 'SERVFAIL', answers: [] };
    try {
      const p = packet.decode(reply);
      return { rcode: (p as { rcode?: string }).rcode ?? 'NOERROR', answers: p.answers ?? [] };
    } catch {
      return { rcode: 'SERVFAIL', answers: [] };
    }
  }
}
