import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import { ClusterZone, type Resolution } from './answer.ts';
import { buildZone } from './zone.ts';
import { ipOfDashed, ipOfReverseName, reverseName } from './names.ts';
import { testPods, testServices, testSlices, testZoneSettings } from './test-objects.ts';

const zone = new ClusterZone(testZoneSettings, () =>
  buildZone(testZoneSettings, { services: testServices, endpointSlices: testSlices, pods: testPods }),
);

type Answered = Extract<Resolution, { kind: 'answer' }>;
function ask(name: string, type: string): Answered {
  const r = zone.resolve({ name, type });
  assert.equal(r.kind, 'answer', `${name} ${type} should be answered by the cluster zone`);
  return r as Answered;
}
const data = (rs: Answer[]): unknown[] => rs.map((r) => ('data' in r ? r.data : undefined));

test('names: reverse names and dashed addresses both ways', () => {
  assert.equal(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa');
  assert.equal(ipOfReverseName('10.0.96.10.in-addr.arpa'), '10.96.0.10');
  assert.equal(ipOfReverseName('0.96.10.in-addr.arpa'), undefined);
  const v6 = reverseName('fd00::5');
  assert.ok(v6?.startsWith('5.0.0.0.0.0.0.0.') && v6.endsWith('.d.f.ip6.arpa'));
  assert.equal(ipOfReverseName(v6!), 'fd00:0:0:0:0:0:0:5');
  assert.equal(ipOfDashed('10-244-1-5'), '10.244.1.5');
  assert.equal(ipOfDashed('010-244-1-5'), undefined);
  assert.equal(ipOfDashed('web-0'), undefined);
});

test('ClusterIP service: A is the cluster IP (any case, trailing dot); SRV for the named port only', () => {
  const a = ask('Kubia.Default.SVC.cluster.local.', 'A');
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(data(a.answers), ['10.96.5.5']);
  assert.equal((a.answers[0] as { ttl?: number } | undefined)?.ttl, 5);
  const srv = ask('_http._tcp.kubia.default.svc.cluster.local', 'SRV');
  assert.deepEqual(data(srv.answers), [
    { priority: 0, weight: 100, port: 80, target: 'kubia.default.svc.cluster.local' },
  ]);
  assert.deepEqual(data(srv.additionals), ['10.96.5.5']);
  assert.equal(ask('_http._udp.kubia.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
  // Endpoint names exist for ClusterIP services too (dashed address when no hostname).
  assert.deepEqual(data(ask('10-244-1-7.kubia.default.svc.cluster.local', 'A').answers), ['10.244.1.7']);
});

test('a name that exists without records of the type is NODATA with the SOA; unknown names NXDOMAIN', () => {
  const aaaa = ask('kubia.default.svc.cluster.local', 'AAAA');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.equal(aaaa.answers.length, 0);
  assert.equal(aaaa.authorities[0]?.type, 'SOA');
  assert.equal(aaaa.authorities[0]?.name, 'cluster.local');
  for (const parent of [
    'default.svc.cluster.local',
    'svc.cluster.local',
    '_tcp.kubia.default.svc.cluster.local',
  ])
    assert.equal(ask(parent, 'A').rcode, 'NOERROR', parent);
  for (const unknown of [
    'nope.default.svc.cluster.local',
    'kubia.other.svc.cluster.local',
    'kubia.default.svc.cluster.local.default.svc.cluster.local', // the first search-list try
    'foo.cluster.local',
  ]) {
    const r = ask(unknown, 'A');
    assert.equal(r.rcode, 'NXDOMAIN', unknown);
    assert.equal(r.authorities[0]?.type, 'SOA');
  }
  assert.equal(ask('cluster.local', 'SOA').answers[0]?.type, 'SOA');
  const ns = ask('cluster.local', 'NS');
  assert.deepEqual(data(ns.answers), ['ns.dns.cluster.local']);
  assert.deepEqual(data(ns.additionals), ['10.96.0.10']);
  assert.deepEqual(data(ask('dns-version.cluster.local', 'TXT').answers), ['1.1.0']);
});

test('headless service: ready endpoint addresses, hostnamed endpoint names, SRV per endpoint', () => {
  const a = ask('web.apps.svc.cluster.local', 'A');
  assert.deepEqual(data(a.answers).sort(), ['10.244.1.5', '10.244.2.6']);
  assert.deepEqual(data(ask('web-0.web.apps.svc.cluster.local', 'A').answers), ['10.244.1.5']);
  assert.equal(ask('web-2.web.apps.svc.cluster.local', 'A').rcode, 'NXDOMAIN'); // not ready
  const srv = ask('_web._tcp.web.apps.svc.cluster.local', 'SRV');
  assert.deepEqual(
    data(srv.answers)
      .map((d) => (d as { target: string }).target)
      .sort(),
    ['web-0.web.apps.svc.cluster.local', 'web-1.web.apps.svc.cluster.local'],
  );
  for (const d of data(srv.answers))
    assert.deepEqual({ ...(d as object), target: '' }, { priority: 0, weight: 50, port: 80, target: '' });
  assert.deepEqual(data(srv.additionals).sort(), ['10.244.1.5', '10.244.2.6']);
});

test('ExternalName: CNAME for any type, followed inside the zone, handed back to chase outside it', () => {
  const inside = ask('alias.default.svc.cluster.local', 'A');
  assert.deepEqual(
    inside.answers.map((r) => [r.type, 'data' in r ? r.data : '']),
    [
      ['CNAME', 'kubia.default.svc.cluster.local'],
      ['A', '10.96.5.5'],
    ],
  );
  assert.equal(inside.chase, undefined);
  const out = ask('outside.default.svc.cluster.local', 'A');
  assert.deepEqual(data(out.answers), ['db.example.test']);
  assert.equal(out.chase, 'db.example.test');
  const cname = ask('outside.default.svc.cluster.local', 'CNAME');
  assert.equal(cname.chase, undefined);
  assert.deepEqual(data(cname.answers), ['db.example.test']);
  assert.equal(
    (data(ask('_pg._tcp.outside.default.svc.cluster.local', 'SRV').answers)[0] as { target: string }).target,
    'db.example.test',
  );
});

test('PTR: cluster IPs → service, endpoints → their names, other pods → pod names; unknown in range NXDOMAIN', () => {
  const ptr = (ip: string): unknown[] => data(ask(reverseName(ip)!, 'PTR').answers);
  assert.deepEqual(ptr('10.96.5.5'), ['kubia.default.svc.cluster.local']);
  assert.deepEqual(ptr('10.244.1.5'), ['web-0.web.apps.svc.cluster.local']);
  assert.deepEqual(ptr('10.244.2.8'), ['10-244-2-8.tools.pod.cluster.local']);
  const unknown = ask(reverseName('10.96.9.9')!, 'PTR');
  assert.equal(unknown.rcode, 'NXDOMAIN');
  assert.equal(unknown.authorities[0]?.name, 'in-addr.arpa');
  assert.equal(zone.resolve({ name: reverseName('192.0.2.1')!, type: 'PTR' }).kind, 'forward');
  assert.equal(zone.resolve({ name: '10.in-addr.arpa', type: 'PTR' }).kind, 'forward');
});

test('pod records a-b-c-d.ns.pod.<zone> from the name; everything outside the zone is forwarded', () => {
  assert.deepEqual(data(ask('10-244-3-4.default.pod.cluster.local', 'A').answers), ['10.244.3.4']);
  assert.equal(ask('10-244-3-4.default.pod.cluster.local', 'AAAA').rcode, 'NOERROR');
  assert.equal(ask('not-an-ip.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.equal(ask('default.pod.cluster.local', 'A').rcode, 'NOERROR');
  for (const name of ['example.test', 'cluster.local.example.test', 'localcluster.local'])
    assert.equal(zone.resolve({ name, type: 'A' }).kind, 'forward', name);
});

test('zone index follows the objects: a removed service is NXDOMAIN after a rebuild', () => {
  let services = testServices;
  const live = new ClusterZone(testZoneSettings, () =>
    buildZone(testZoneSettings, { services, endpointSlices: testSlices, pods: [] }),
  );
  assert.equal(
    (live.resolve({ name: 'kubia.default.svc.cluster.local', type: 'A' }) as Answered).rcode,
    'NOERROR',
  );
  services = services.filter((s) => s.metadata.name !== 'kubia');
  assert.equal(
    (live.resolve({ name: 'kubia.default.svc.cluster.local', type: 'A' }) as Answered).rcode,
    'NXDOMAIN',
  );
});
