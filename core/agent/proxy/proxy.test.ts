import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { servicePorts, usableEndpoints, type ServicePort } from './model.ts';
import { buildRestore, chainFor, chainsInSave, sepChain } from './rules.ts';
import { conntrackCleanups } from './conntrack.ts';

const svc = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>): KObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
  spec: { selector: { app: name }, ...spec },
});

const slice = (
  svcName: string,
  ports: { name: string; port: number; protocol?: string }[],
  eps: { ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }[],
): KObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: `${svcName}-abcde`,
    namespace: 'default',
    labels: { 'kubernetes.io/service-name': svcName },
  },
  addressType: 'IPv4',
  ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  endpoints: eps.map((e) => ({
    addresses: [e.ip],
    conditions: {
      ready: e.ready ?? true,
      serving: e.serving ?? e.ready ?? true,
      terminating: e.terminating ?? false,
    },
    ...(e.node ? { nodeName: e.node } : {}),
  })),
});

const ctx = {
  nodeName: 'n1',
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  existing: { nat: [], filter: [] },
};

const rulesOf = (text: string, chain: string): string[] =>
  text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));

test('model: named ports resolve per slice port; ExternalName, headless and node-local services are skipped', () => {
  const ports = servicePorts({
    services: [
      svc('web', {
        clusterIP: '10.96.0.20',
        ports: [
          { name: 'http', port: 80, protocol: 'TCP' },
          { name: 'alt', port: 8080, protocol: 'TCP' },
        ],
      }),
      svc('ext', { type: 'ExternalName', externalName: 'example.invalid' }),
      svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      svc(
        'kube-dns',
        { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
        {
          'berth.dev/node-local': 'true',
        },
      ),
    ],
    slices: [
      slice(
        'web',
        [
          { name: 'http', port: 8000 },
          { name: 'alt', port: 9000 },
        ],
        [
          { ip: '10.244.1.2', node: 'n1' },
          { ip: '10.244.2.2', node: 'n2', ready: false },
        ],
      ),
    ],
    endpoints: [],
  });
  assert.deepEqual(
    ports.map((p) => [p.key, p.port, p.endpoints.map((e) => `${e.ip}:${e.port}:${e.ready}`)]),
    [
      ['default/web:alt', 8080, ['10.244.1.2:9000:true', '10.244.2.2:9000:false']],
      ['default/web:http', 80, ['10.244.1.2:8000:true', '10.244.2.2:8000:false']],
    ],
  );
  const http = ports[1]!;
  assert.deepEqual(
    usableEndpoints(http).map((e) => e.ip),
    ['10.244.1.2'],
  );
});

test('model: a selectorless service takes its hand-written Endpoints; not-ready addresses are not used', () => {
  const s = svc('external', { clusterIP: '10.96.0.30', ports: [{ port: 80 }] });
  delete (s['spec'] as Record<string, unknown>)['selector'];
  const [p] = servicePorts({
    services: [s],
    slices: [],
    endpoints: [
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'external', namespace: 'default' },
        subsets: [
          {
            addresses: [{ ip: '10.244.1.5' }, { ip: '10.244.2.5' }],
            notReadyAddresses: [{ ip: '10.244.3.5' }],
            ports: [{ port: 8080 }],
          },
        ],
      },
    ],
  });
  assert.deepEqual(
    usableEndpoints(p!).map((e) => `${e.ip}:${e.port}`),
    ['10.244.1.5:8080', '10.244.2.5:8080'],
  );
});

test('model: no ready endpoint → serving terminating ones are used (graceful termination)', () => {
  const [p] = servicePorts({
    services: [svc('web', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] })],
    slices: [
      slice(
        'web',
        [{ name: '', port: 80 }],
        [
          { ip: '10.244.1.2', ready: false, serving: true, terminating: true },
          { ip: '10.244.1.3', ready: false, serving: false },
        ],
      ),
    ],
    endpoints: [],
  });
  assert.deepEqual(
    usableEndpoints(p!).map((e) => e.ip),
    ['10.244.1.2'],
  );
});

const three = (): ServicePort[] =>
  servicePorts({
    services: [
      svc('web', {
        clusterIP: '10.96.0.20',
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      }),
    ],
    slices: [
      slice(
        'web',
        [{ name: 'http', port: 80 }],
        [
          { ip: '10.244.1.2', node: 'n1' },
          { ip: '10.244.1.3', node: 'n1' },
          { ip: '10.244.2.2', node: 'n2' },
        ],
      ),
    ],
    endpoints: [],
  });

test('rules: cluster IP → SVC chain with 1/3, 1/2, rest; each SEP masquerades hairpin and DNATs', () => {
  const [p] = three();
  const text = buildRestore(three(), ctx);
  const svcChain = chainFor('SVC', p!);
  assert.ok(
    text.includes(
      `-A BERTH-SERVICES -m comment --comment "default/web:http cluster IP" -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j ${svcChain}`,
    ),
    text,
  );
  const r = rulesOf(text, svcChain);
  assert.match(r[0]!, /! -s 10\.244\.0\.0\/16 -j BERTH-MARK-MASQ/);
  assert.match(r[1]!, /--probability 0\.3333333333 -j BERTH-SEP-/);
  assert.match(r[2]!, /--probability 0\.5000000000 -j BERTH-SEP-/);
  assert.doesNotMatch(r[3]!, /statistic/);
  const sep = sepChain(p!, p!.endpoints[0]!);
  assert.deepEqual(rulesOf(text, sep), [
    `-A ${sep} -s 10.244.1.2/32 -j BERTH-MARK-MASQ`,
    `-A ${sep} -p tcp -m tcp -j DNAT --to-destination 10.244.1.2:80`,
  ]);
  // Node port: masquerade, then the same SVC chain; the last BERTH-SERVICES rule leads to node ports.
  const ext = chainFor('EXT', p!);
  assert.ok(rulesOf(text, 'BERTH-NODEPORTS')[0]!.endsWith(`--dport 30080 -j ${ext}`));
  assert.deepEqual(
    rulesOf(text, ext).map((l) => l.split(' ').at(-1)),
    ['BERTH-MARK-MASQ', svcChain],
  );
  assert.match(
    rulesOf(text.split('*filter')[0]!, 'BERTH-SERVICES').at(-1)!,
    /--dst-type LOCAL ! -d 127\.0\.0\.0\/8 -j BERTH-NODEPORTS/,
  );
  assert.match(text, /\*nat\n[\s\S]*COMMIT\n\*filter\n[\s\S]*COMMIT\n$/);
});

test('rules: sessionAffinity ClientIP checks and sets the recent list of each endpoint with the timeout', () => {
  const ports = three().map((p) => ({ ...p, affinitySeconds: 60 }));
  const text = buildRestore(ports, ctx);
  const svcChain = chainFor('SVC', ports[0]!);
  const sep = sepChain(ports[0]!, ports[0]!.endpoints[0]!);
  assert.ok(
    rulesOf(text, svcChain).includes(
      `-A ${svcChain} -m recent --name ${sep} --rcheck --seconds 60 --reap -j ${sep}`,
    ),
  );
  assert.ok(
    rulesOf(text, sep).includes(
      `-A ${sep} -p tcp -m recent --name ${sep} --set -m tcp -j DNAT --to-destination 10.244.1.2:80`,
    ),
  );
});

test('rules: no endpoints → REJECT in filter (cluster IP and node port); internalTrafficPolicy Local uses local endpoints or DROPs', () => {
  const empty = three().map((p) => ({ ...p, endpoints: [] }));
  const text = buildRestore(empty, ctx);
  assert.equal(rulesOf(text, 'BERTH-SERVICES').filter((l) => l.includes('10.96.0.20')).length, 1);
  assert.ok(
    text.includes('-d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable'),
  );
  assert.ok(text.includes('-m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT'));
  assert.ok(!text.includes(':BERTH-SVC-'));

  const local = three().map((p) => ({ ...p, internalLocal: true }));
  const lt = buildRestore(local, ctx);
  const svl = chainFor('SVL', local[0]!);
  assert.ok(lt.includes(`--dport 80 -j ${svl}`));
  assert.equal(rulesOf(lt, svl).filter((l) => l.includes('DNAT') || l.includes('BERTH-SEP')).length, 2);
  const remoteOnly = buildRestore(local, { ...ctx, nodeName: 'n3' });
  assert.ok(remoteOnly.includes('has no local endpoints" -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j DROP'));
});

test('rules: externalTrafficPolicy Local: pods and the node go cluster-wide, others to local endpoints unmasqueraded', () => {
  const ports = three().map((p) => ({ ...p, externalLocal: true }));
  const text = buildRestore(ports, ctx);
  const ext = chainFor('EXT', ports[0]!);
  assert.deepEqual(
    rulesOf(text, ext).map((l) => l.split(' ').at(-1)),
    [chainFor('SVC', ports[0]!), 'BERTH-MARK-MASQ', chainFor('SVC', ports[0]!), chainFor('SVL', ports[0]!)],
  );
});

test('rules: stale per-service chains are flushed and deleted, others left alone', () => {
  const save =
    '*nat\n:PREROUTING ACCEPT [0:0]\n:BERTH-SVC-0123456789ABCDEF - [0:0]\n:CNI-HOSTPORT-DNAT - [0:0]\nCOMMIT\n*filter\n:BERTH-NP-X - [0:0]\nCOMMIT\n';
  const existing = chainsInSave(save);
  assert.deepEqual(existing, {
    nat: ['PREROUTING', 'BERTH-SVC-0123456789ABCDEF', 'CNI-HOSTPORT-DNAT'],
    filter: ['BERTH-NP-X'],
  });
  const text = buildRestore([], { ...ctx, existing });
  assert.ok(text.includes(':BERTH-SVC-0123456789ABCDEF - [0:0]\n'));
  assert.ok(text.includes('-X BERTH-SVC-0123456789ABCDEF\n'));
  assert.ok(!text.includes('CNI-HOSTPORT') && !text.includes('BERTH-NP-X'));
});

test('conntrack: removed UDP endpoints and UDP services gaining endpoints are flushed; TCP is not', () => {
  const udp = three().map((p) => ({ ...p, protocol: 'UDP' as const }));
  const fewer = udp.map((p) => ({ ...p, endpoints: p.endpoints.slice(1) }));
  assert.deepEqual(conntrackCleanups(udp, fewer, 'n1'), [
    ['-D', '-p', 'udp', '--orig-dst', '10.96.0.20', '--dst-nat', '10.244.1.2'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30080', '--dst-nat', '10.244.1.2'],
  ]);
  const none = udp.map((p) => ({ ...p, endpoints: [] }));
  assert.deepEqual(conntrackCleanups(none, udp, 'n1'), [
    ['-D', '-p', 'udp', '--orig-dst', '10.96.0.20', '--orig-port-dst', '80'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30080'],
  ]);
  assert.deepEqual(conntrackCleanups(three(), [], 'n1'), []);
  assert.equal(conntrackCleanups(udp, [], 'n1').length, 6);
});
