import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { localPodPolicies, policyTypes, type ClusterView } from './model.ts';
import { allowMatch, buildRestore, filterChains, podChain } from './rules.ts';

const pod = (
  ns: string,
  name: string,
  ip: string,
  node: string,
  labels: Record<string, string>,
  extra: {
    ports?: { name: string; containerPort: number; protocol?: string }[];
    hostNetwork?: boolean;
    phase?: string;
  } = {},
): KObject => ({
  metadata: { namespace: ns, name, labels },
  spec: {
    nodeName: node,
    hostNetwork: extra.hostNetwork,
    containers: [{ name: 'c', ports: extra.ports ?? [] }],
  },
  status: { phase: extra.phase ?? 'Running', podIP: ip, podIPs: [{ ip }] },
});
const namespace = (name: string, labels?: Record<string, string>): KObject => ({
  metadata: { name, ...(labels ? { labels } : {}) },
});
const policy = (ns: string, name: string, spec: Record<string, unknown>): KObject => ({
  metadata: { namespace: ns, name },
  spec,
});

const view = (policies: KObject[]): ClusterView => ({
  namespaces: [namespace('shop'), namespace('ops', { team: 'ops' }), namespace('dev', { team: 'dev' })],
  pods: [
    pod(
      'shop',
      'db',
      '10.244.1.5',
      'n1',
      { app: 'database' },
      { ports: [{ name: 'pg', containerPort: 5432 }] },
    ),
    pod(
      'shop',
      'web',
      '10.244.2.5',
      'n2',
      { app: 'webserver' },
      { ports: [{ name: 'http', containerPort: 8080 }] },
    ),
    pod(
      'shop',
      'web2',
      '10.244.1.6',
      'n1',
      { app: 'webserver' },
      { ports: [{ name: 'http', containerPort: 80 }] },
    ),
    pod('ops', 'mon', '10.244.2.7', 'n2', { app: 'webserver' }),
    pod('dev', 'tool', '10.244.2.8', 'n2', { app: 'tool' }),
    pod('shop', 'old', '10.244.2.9', 'n2', { app: 'webserver' }, { phase: 'Succeeded' }),
    pod('shop', 'hostnet', '172.29.0.2', 'n1', { app: 'database' }, { hostNetwork: true }),
  ],
  policies,
});

const seed = policy('shop', 'postgres-netpolicy', {
  podSelector: { matchLabels: { app: 'database' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: 'webserver' } } }], ports: [{ port: 5432 }] }],
});

test('pods no policy selects are not listed (default allow); the seed policy isolates the database', () => {
  assert.deepEqual(localPodPolicies(view([]), 'n1'), []);
  const out = localPodPolicies(view([seed]), 'n1');
  assert.equal(out.length, 1, 'only the database on n1 (not the hostNetwork one, not pods of other nodes)');
  const [db] = out;
  assert.equal(db?.pod.name, 'db');
  assert.equal(db?.egress, undefined, 'policyTypes defaults to Ingress only');
  // Webservers of the policy's namespace only, never finished pods (IP may be reused) nor other namespaces.
  assert.deepEqual(
    db?.ingress?.map((a) => [a.cidr, a.protocol, a.port]),
    [
      ['10.244.2.5/32', 'TCP', 5432],
      ['10.244.1.6/32', 'TCP', 5432],
    ],
  );
  assert.equal(db?.ingress?.[0]?.from, 'shop/postgres-netpolicy ingress[0]');
  assert.deepEqual(localPodPolicies(view([seed]), 'n2'), [], 'n2 runs no database');
});

test('namespaceSelector alone, combined with podSelector, and empty selectors', () => {
  const ns = policy('shop', 'ns', {
    podSelector: {},
    ingress: [
      { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] },
      {
        from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'team', operator: 'In', values: ['dev', 'ops'] }],
            },
            podSelector: { matchLabels: { app: 'tool' } },
          },
        ],
      },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }],
        ports: [{ protocol: 'UDP' }],
      },
    ],
  });
  const out = localPodPolicies(view([ns]), 'n1');
  assert.deepEqual(
    out.map((p) => p.pod.name),
    ['db', 'web2'],
    'podSelector {} selects every pod of the namespace on this node',
  );
  assert.deepEqual(
    out[0]?.ingress?.map((a) => `${a.cidr} ${a.protocol ?? 'any'}`),
    [
      '10.244.2.7/32 any', // ops/mon: namespace alone
      '10.244.2.8/32 any', // dev/tool: namespace and pod together
      '10.244.1.5/32 UDP', // the implicit kubernetes.io/metadata.name label selects shop
      '10.244.2.5/32 UDP',
      '10.244.1.6/32 UDP',
    ],
  );
  // An empty namespaceSelector selects every namespace.
  const all = policy('shop', 'all', {
    podSelector: { matchLabels: { app: 'database' } },
    ingress: [{ from: [{ namespaceSelector: {} }] }],
  });
  assert.equal(localPodPolicies(view([all]), 'n1')[0]?.ingress?.length, 5);
});

test('ingress without rules denies all; rules without from allow all; several policies add up', () => {
  const denyAll = policy('shop', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const out = localPodPolicies(view([denyAll]), 'n1');
  assert.deepEqual(out[0]?.ingress, []);
  assert.deepEqual(out[0]?.egress, []);
  const openPort = policy('shop', 'open', {
    podSelector: { matchLabels: { app: 'database' } },
    ingress: [{ ports: [{ port: 5432, protocol: 'TCP' }] }],
  });
  const both = localPodPolicies(view([denyAll, openPort]), 'n1').find((p) => p.pod.name === 'db');
  assert.deepEqual(both?.ingress, [{ protocol: 'TCP', port: 5432, from: 'shop/open ingress[0]' }]);
  assert.deepEqual(both?.egress, [], 'egress still isolated by deny');
  assert.deepEqual(policyTypes({ egress: [] }), { ingress: true, egress: true });
  assert.deepEqual(policyTypes({ policyTypes: ['Egress'] }), { ingress: false, egress: true });
});

test('ipBlock with except, endPort ranges, SCTP and named ports on both sides', () => {
  const pol = policy('shop', 'mixed', {
    podSelector: { matchLabels: { app: 'webserver' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [{ ipBlock: { cidr: '172.29.0.0/22', except: ['172.29.1.0/24', 'fd00::/8'] } }],
        ports: [
          { port: 'http' },
          { protocol: 'UDP', port: 30000, endPort: 30010 },
          { protocol: 'SCTP', port: 99 },
        ],
      },
    ],
    egress: [
      {
        to: [{ podSelector: { matchLabels: { app: 'database' } } }],
        ports: [{ port: 'pg' }, { port: 'nope' }],
      },
      { ports: [{ port: 'http' }] },
      { to: [{ ipBlock: { cidr: '10.244.2.0/24' } }], ports: [{ port: 'http' }] },
    ],
  });
  const web2 = localPodPolicies(view([pol]), 'n1')[0];
  assert.equal(web2?.pod.name, 'web2');
  const rows = (dir: 'ingress' | 'egress'): string[] =>
    (web2?.[dir] ?? []).map(
      (a) => `${a.cidr ?? '*'} ${a.protocol}/${a.port}${a.endPort ? `-${a.endPort}` : ''}`,
    );
  assert.deepEqual(rows('ingress'), [
    // 'http' resolves on web2 itself (80); the except splits the block.
    '172.29.0.0/24 TCP/80',
    '172.29.2.0/23 TCP/80',
    '172.29.0.0/24 UDP/30000-30010',
    '172.29.2.0/23 UDP/30000-30010',
    '172.29.0.0/24 SCTP/99',
    '172.29.2.0/23 SCTP/99',
  ]);
  assert.deepEqual(rows('egress'), [
    '10.244.1.5/32 TCP/5432', // 'pg' on the database; 'nope' resolves nowhere
    '10.244.2.5/32 TCP/8080', // any destination with a port named http: web (8080) and web2 itself (80)
    '10.244.1.6/32 TCP/80',
  ]);
});

test('restore text: replies first, egress then ingress jumps, self and allows RETURN, the rest REJECTed', () => {
  const out = localPodPolicies(
    view([
      seed,
      policy('shop', 'eg', {
        podSelector: { matchLabels: { app: 'database' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }],
      }),
    ]),
    'n1',
  );
  const db = out[0]!;
  const I = podChain('I', db.pod);
  const E = podChain('E', db.pod);
  assert.match(I, /^BERTH-NPI-[0-9A-F]{16}$/);
  const stale = 'BERTH-NPI-0123456789ABCDEF';
  const text = buildRestore(out, ['INPUT', 'BERTH-SERVICES', stale, I]);
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 5), [
    '*filter',
    ':BERTH-NETPOL - [0:0]',
    `:${E} - [0:0]`,
    `:${I} - [0:0]`,
    `:${stale} - [0:0]`,
  ]);
  const rules = lines.filter((l) => l.startsWith('-A BERTH-NETPOL'));
  assert.deepEqual(rules, [
    '-A BERTH-NETPOL -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "replies of allowed connections" -j RETURN',
    `-A BERTH-NETPOL -s 10.244.1.5/32 -m comment --comment "shop/db egress" -j ${E}`,
    `-A BERTH-NETPOL -d 10.244.1.5/32 -m comment --comment "shop/db ingress" -j ${I}`,
  ]);
  assert.deepEqual(
    lines.filter((l) => l.startsWith(`-A ${I}`)),
    [
      `-A ${I} -s 10.244.1.5/32 -m comment --comment "shop/db to itself" -j RETURN`,
      `-A ${I} -s 10.244.2.5/32 -p tcp -m tcp --dport 5432 -m comment --comment "shop/postgres-netpolicy ingress[0]" -j RETURN`,
      `-A ${I} -s 10.244.1.6/32 -p tcp -m tcp --dport 5432 -m comment --comment "shop/postgres-netpolicy ingress[0]" -j RETURN`,
      `-A ${I} -m comment --comment "shop/db ingress not allowed by any policy" -j REJECT --reject-with icmp-port-unreachable`,
    ],
  );
  assert.ok(
    lines.includes(`-A ${E} -p udp -m udp --dport 53 -m comment --comment "shop/eg egress[0]" -j RETURN`),
  );
  assert.ok(lines.includes(`-X ${stale}`), 'a chain of a pod no longer isolated is deleted');
  assert.ok(!text.includes('BERTH-SERVICES'), "other components' chains are never touched");
  assert.deepEqual(lines.slice(-2), ['COMMIT', '']);
  // Nothing isolated: the base chain holds only the replies rule, and the old pod chains go.
  const empty = buildRestore([], [I, E]);
  assert.deepEqual(
    empty.split('\n').filter((l) => l.startsWith('-X')),
    [`-X ${I}`, `-X ${E}`],
  );
});

test('allowMatch: protocol only, ranges, any peer', () => {
  assert.deepEqual(allowMatch({ from: 'x' }, '-s'), []);
  assert.deepEqual(allowMatch({ from: 'x', protocol: 'SCTP' }, '-d'), ['-p', 'sctp']);
  assert.deepEqual(
    allowMatch({ from: 'x', cidr: '10.0.0.0/8', protocol: 'UDP', port: 10, endPort: 20 }, '-d'),
    ['-d', '10.0.0.0/8', '-p', 'udp', '-m', 'udp', '--dport', '10:20'],
  );
});

test('filterChains reads the filter table of iptables-save only', () => {
  const save = [
    '*nat',
    ':BERTH-SERVICES - [0:0]',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':BERTH-NETPOL - [0:0]',
    'COMMIT',
  ].join('\n');
  assert.deepEqual(filterChains(save), ['INPUT', 'BERTH-NETPOL']);
});
