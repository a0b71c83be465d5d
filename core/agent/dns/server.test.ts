import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import * as packet from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import type { KObject } from '../../api/object.ts';
import { ClusterZone } from './answer.ts';
import { Forwarder, upstreamServers } from './forwarder.ts';
import { ensureLocalAddress } from './node-address.ts';
import { DnsServer } from './server.ts';
import { frame, unframe } from './tcp-framing.ts';
import { buildZone } from './zone.ts';
import { testPods, testServices, testSlices, testZoneSettings } from './test-objects.ts';

// 40 ready endpoints behind one headless service: too many A records for a 512-byte UDP answer.
const bigSlice: KObject = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'apps', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
  addressType: 'IPv4',
  endpoints: Array.from({ length: 40 }, (_, i) => ({
    addresses: [`10.244.3.${i + 1}`],
    conditions: { ready: true },
  })),
};
const bigService: KObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'apps', name: 'big' },
  spec: { clusterIP: 'None' },
};
const index = buildZone(testZoneSettings, {
  services: [...testServices, bigService],
  endpointSlices: [...testSlices, bigSlice],
  pods: testPods,
});
const zone = new ClusterZone(testZoneSettings, () => index);

/** A stand-in for the node's resolver on loopback: knows *.example.test, NXDOMAIN otherwise. */
function upstreamAnswer(raw: Buffer): Buffer {
  const q = packet.decode(raw);
  const question = q.questions![0]!;
  const known = question.name.endsWith('example.test') && question.type === 'A';
  return packet.encode({
    id: q.id ?? 0,
    type: 'response',
    flags: packet.RECURSION_AVAILABLE | (known ? 0 : 3),
    questions: [question],
    answers: known ? [{ name: question.name, type: 'A', ttl: 60, data: '192.0.2.7' }] : [],
  });
}

let upstreamPort = 0;
let upstreamQueries = 0;
const upstreamUdp = createSocket('udp4');
const upstreamTcp = createServer((s) => {
  s.on('data', (d: Buffer) => {
    upstreamQueries++;
    s.end(frame(upstreamAnswer(unframe(d).messages[0]!)));
  });
});
let server: DnsServer;
let port = 0;

before(async () => {
  await new Promise<void>((r) => upstreamTcp.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstreamTcp.address() as { port: number }).port;
  await new Promise<void>((r) => upstreamUdp.bind(upstreamPort, '127.0.0.1', () => r()));
  upstreamUdp.on('message', (m, rinfo) => {
    upstreamQueries++;
    upstreamUdp.send(upstreamAnswer(m), rinfo.port, rinfo.address);
  });
  const forwarder = new Forwarder({ servers: ['127.0.0.1'], port: upstreamPort, timeoutMs: 1000 });
  server = new DnsServer(zone, forwarder, () => undefined);
  port = await server.listen('127.0.0.1', 0);
});
after(async () => {
  await server.close();
  upstreamUdp.close();
  upstreamTcp.close();
});

let nextId = 1;
const query = (name: string, type: string, extra: Partial<Packet> = {}): Buffer =>
  packet.encode({
    id: nextId++,
    type: 'query',
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    ...extra,
  });

function overUdp(msg: Buffer, to = port): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no UDP answer'))), 3000);
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m)));
    s.send(msg, to, '127.0.0.1');
  });
}

/** Sends every message on one TCP connection; resolves the replies in order. */
function overTcp(msgs: Buffer[]): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf: Buffer = Buffer.alloc(0);
    const out: DecodedPacket[] = [];
    s.on('connect', () => s.write(Buffer.concat(msgs.map(frame))));
    s.on('data', (d: Buffer) => {
      const { messages, rest } = unframe(Buffer.concat([buf, d]));
      buf = rest;
      out.push(...messages.map((m) => packet.decode(m)));
      if (out.length === msgs.length) {
        s.end();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
}

const rcode = (p: DecodedPacket): string => (p as unknown as { rcode: string }).rcode;
const data = (p: DecodedPacket): unknown[] =>
  (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

test('UDP: a cluster name is answered authoritatively, id and question echoed', async () => {
  const q = query('kubia.default.svc.cluster.local', 'A');
  const r = packet.decode(await overUdp(q));
  assert.equal(r.id, q.readUInt16BE(0));
  assert.equal(r.flag_qr, true);
  assert.equal(r.flag_aa, true);
  assert.equal(r.flag_rd, true);
  assert.equal(rcode(r), 'NOERROR');
  assert.deepEqual(data(r), ['10.96.5.5']);
  assert.equal(r.questions?.[0]?.name, 'kubia.default.svc.cluster.local');
  const nx = packet.decode(await overUdp(query('nope.default.svc.cluster.local', 'A')));
  assert.equal(rcode(nx), 'NXDOMAIN');
  assert.equal(nx.authorities?.[0]?.type, 'SOA');
});

test('TCP: several length-prefixed queries on one connection', async () => {
  const [a, srv] = await overTcp([
    query('web-1.web.apps.svc.cluster.local', 'A'),
    query('_web._tcp.web.apps.svc.cluster.local', 'SRV'),
  ]);
  assert.deepEqual(data(a!), ['10.244.2.6']);
  assert.equal(srv!.answers?.length, 2);
  assert.equal(srv!.additionals?.length, 2);
});

test('names outside the zone go to the upstream, over the transport the client used', async () => {
  const before = upstreamQueries;
  const r = packet.decode(await overUdp(query('www.example.test', 'A')));
  assert.deepEqual(data(r), ['192.0.2.7']);
  assert.equal(r.flag_aa, false);
  const [t] = await overTcp([query('www.example.test', 'A')]);
  assert.deepEqual(data(t!), ['192.0.2.7']);
  assert.equal(upstreamQueries - before, 2);
  const nx = packet.decode(await overUdp(query('missing.invalid', 'A')));
  assert.equal(rcode(nx), 'NXDOMAIN');
});

test('an ExternalName to an outside name: the CNAME, then the target records from upstream', async () => {
  const r = packet.decode(await overUdp(query('outside.default.svc.cluster.local', 'A')));
  assert.deepEqual(
    (r.answers ?? []).map((a) => [a.type, 'data' in a ? a.data : '']),
    [
      ['CNAME', 'db.example.test'],
      ['A', '192.0.2.7'],
    ],
  );
});

test('UDP answers too big for the client are cut and marked truncated; EDNS and TCP get more', async () => {
  const plain = await overUdp(query('big.apps.svc.cluster.local', 'A'));
  const p = packet.decode(plain);
  assert.ok(plain.length <= 512, `${plain.length} bytes`);
  assert.equal(p.flag_tc, true);
  assert.ok((p.answers?.length ?? 0) > 0 && (p.answers?.length ?? 0) < 40);
  const edns = packet.decode(
    await overUdp(
      query('big.apps.svc.cluster.local', 'A', {
        additionals: [
          {
            name: '.',
            type: 'OPT',
            udpPayloadSize: 4096,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ],
      }),
    ),
  );
  // Names are not compressed (dns-packet writes them whole): 40 A records need more than 1232 bytes.
  assert.ok((edns.answers?.length ?? 0) > (p.answers?.length ?? 0));
  assert.ok((edns.answers?.length ?? 0) < 40);
  const [t] = await overTcp([query('big.apps.svc.cluster.local', 'A')]);
  assert.equal(t!.answers?.length, 40);
});

test('malformed input is FORMERR, replies are ignored, an unreachable upstream is SERVFAIL', async () => {
  const junk = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
  const r = await overUdp(junk);
  assert.equal(r.readUInt16BE(0), 0x1234);
  assert.equal(r.readUInt16BE(2) & 0x800f, 0x8001);
  assert.equal(
    await server.handle(packet.encode({ type: 'response', id: 9, questions: [] }), 'udp'),
    undefined,
  );
  const dead = new DnsServer(
    zone,
    new Forwarder({ servers: ['127.0.0.1'], port: 9, timeoutMs: 300 }),
    () => undefined,
  );
  const reply = await dead.handle(query('www.example.test', 'A'), 'udp');
  assert.equal(rcode(packet.decode(reply!)), 'SERVFAIL');
  // The cluster zone does not need the upstream.
  const local = await dead.handle(query('kubia.default.svc.cluster.local', 'A'), 'udp');
  assert.deepEqual(data(packet.decode(local!)), ['10.96.5.5']);
});

test('upstreams: resolv.conf nameservers without our own address', () => {
  const conf =
    'search example.test\nnameserver 127.0.0.11\nnameserver 10.96.0.10\noptions ndots:0\nnameserver 127.0.0.11\n';
  assert.deepEqual(upstreamServers(conf, ['10.96.0.10']), ['127.0.0.11']);
});

test('node address: a berth-dns dummy link, or lo where the kernel has no dummy links', async () => {
  const calls: string[] = [];
  const ok = async (args: string[]): Promise<void> => {
    calls.push(args.join(' '));
  };
  assert.equal(await ensureLocalAddress('10.96.0.10', ok), 'berth-dns');
  assert.deepEqual(calls, [
    'link add berth-dns type dummy',
    'addr replace 10.96.0.10/32 dev berth-dns',
    'link set berth-dns up',
  ]);
  const exists = async (args: string[]): Promise<void> => {
    if (args[1] === 'add')
      throw Object.assign(new Error('failed'), { stderr: 'RTNETLINK answers: File exists' });
  };
  assert.equal(await ensureLocalAddress('10.96.0.10', exists), 'berth-dns');
  calls.length = 0;
  const noDummy = async (args: string[]): Promise<void> => {
    if (args[1] === 'add')
      throw Object.assign(new Error('failed'), { stderr: 'Error: Unknown device type.' });
    calls.push(args.join(' '));
  };
  assert.equal(await ensureLocalAddress('10.96.0.10', noDummy), 'lo');
  assert.deepEqual(calls, ['addr replace 10.96.0.10/32 dev lo']);
  const denied = async (): Promise<void> => {
    throw Object.assign(new Error('failed'), { stderr: 'RTNETLINK answers: Operation not permitted' });
  };
  await assert.rejects(ensureLocalAddress('10.96.0.10', denied), /Operation not permitted/);
});
