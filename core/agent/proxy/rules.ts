/**
 * The iptables rules of the service proxy (kube-proxy's iptables mode, our own chain names), as one
 * `iptables-restore --noflush` input. Pure: tests compare the text.
 *
 * nat table
 * - BERTH-SERVICES (from PREROUTING and OUTPUT): `-d <clusterIP> -p <proto> --dport <port>` → the
 *   service port's chain; last, traffic to a local address (not loopback) → BERTH-NODEPORTS.
 * - BERTH-NODEPORTS: `--dport <nodePort>` → BERTH-EXT-<h>.
 * - BERTH-SVC-<h> (all usable endpoints) / BERTH-SVL-<h> (this node's, for internalTrafficPolicy or
 *   externalTrafficPolicy Local): mark for masquerade what does not come from the pod range; with
 *   sessionAffinity ClientIP, an endpoint the client used within the timeout wins (`recent` match);
 *   then endpoint i of n is taken with probability 1/(n-i) (uniform overall).
 * - BERTH-EXT-<h> (node ports): policy Cluster → mark for masquerade, then BERTH-SVC; policy Local →
 *   pods and the node itself go cluster-wide, everyone else to this node's endpoints, unmasqueraded.
 * - BERTH-SEP-<h>: mark hairpin traffic (an endpoint reaching itself) for masquerade, remember the
 *   client for affinity, DNAT to the endpoint.
 * - BERTH-MARK-MASQ sets 0x4000; BERTH-POSTROUTING (from POSTROUTING) masquerades marked packets.
 *
 * filter table
 * - BERTH-SERVICES (from OUTPUT and FORWARD, new connections): a port with no usable endpoint is
 *   REJECTed (icmp-port-unreachable), or DROPped when only other nodes' endpoints exist under
 *   internalTrafficPolicy Local; anything else still addressed to the service range (not DNATed, not a
 *   local address such as node-local DNS) is rejected so it never leaves the node.
 * - BERTH-EXTERNAL (from INPUT and FORWARD): node ports without usable endpoints, likewise.
 */
import { createHash } from 'node:crypto';
import { usableEndpoints, type Endpoint, type ServicePort } from './model.ts';

export const MASQ_MARK = '0x4000';

/** Chains we own and rebuild on every sync. */
export const NAT_BASE_CHAINS = ['BERTH-SERVICES', 'BERTH-NODEPORTS', 'BERTH-POSTROUTING', 'BERTH-MARK-MASQ'];
export const FILTER_BASE_CHAINS = ['BERTH-SERVICES', 'BERTH-EXTERNAL'];
/** Per-service chains (hash-named); ones no longer wanted are deleted. */
export const PER_SERVICE_CHAIN = /^BERTH-(SVC|SVL|EXT|SEP)-[0-9A-F]{16}$/;

/** The jumps from built-in chains, added once (table, chain, rule args). */
export const HOOKS: { table: 'nat' | 'filter'; chain: string; rule: string[] }[] = [
  { table: 'nat', chain: 'PREROUTING', rule: comment('berth service portals', ['-j', 'BERTH-SERVICES']) },
  { table: 'nat', chain: 'OUTPUT', rule: comment('berth service portals', ['-j', 'BERTH-SERVICES']) },
  {
    table: 'nat',
    chain: 'POSTROUTING',
    rule: comment('berth service masquerade', ['-j', 'BERTH-POSTROUTING']),
  },
  ...(['OUTPUT', 'FORWARD'] as const).map((chain) => ({
    table: 'filter' as const,
    chain,
    rule: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('berth services', ['-j', 'BERTH-SERVICES'])],
  })),
  ...(['INPUT', 'FORWARD'] as const).map((chain) => ({
    table: 'filter' as const,
    chain,
    rule: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('berth node ports', ['-j', 'BERTH-EXTERNAL'])],
  })),
];

function comment(text: string, rest: string[]): string[] {
  return ['-m', 'comment', '--comment', text, ...rest];
}

const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16).toUpperCase();
const q = (s: string): string => `"${s.replace(/"/g, '')}"`;

export const chainFor = (kind: 'SVC' | 'SVL' | 'EXT', sp: ServicePort): string =>
  `BERTH-${kind}-${hash(`${sp.key}/${sp.protocol}`)}`;
export const sepChain = (sp: ServicePort, e: Endpoint): string =>
  `BERTH-SEP-${hash(`${sp.key}/${sp.protocol}/${e.ip}:${e.port}`)}`;

export interface RuleContext {
  nodeName: string;
  clusterCIDR: string;
  serviceCIDR: string;
  /** Chains present now (from iptables-save), per table: stale per-service ones are deleted. */
  existing: { nat: string[]; filter: string[] };
}

class Table {
  readonly chains: string[] = [];
  readonly rules: string[] = [];
  chain(name: string): void {
    if (!this.chains.includes(name)) this.chains.push(name);
  }
  add(chain: string, ...args: string[]): void {
    this.rules.push(`-A ${chain} ${args.map((a) => (/[\s"]/.test(a) ? q(a) : a)).join(' ')}`);
  }
  text(name: string, existing: string[]): string {
    const stale = existing.filter((c) => PER_SERVICE_CHAIN.test(c) && !this.chains.includes(c));
    return [
      `*${name}`,
      ...this.chains.map((c) => `:${c} - [0:0]`),
      ...stale.map((c) => `:${c} - [0:0]`),
      ...this.rules,
      ...stale.map((c) => `-X ${c}`),
      'COMMIT',
      '',
    ].join('\n');
  }
}

/** Probability with kube-proxy's precision (10 decimals). */
const probability = (n: number): string => (1 / n).toFixed(10);

/** Endpoint selection (affinity, then random) into `chain` over `eps`; SEP chains are written once. */
function balance(nat: Table, chain: string, sp: ServicePort, eps: Endpoint[], ctx: RuleContext): void {
  nat.chain(chain);
  nat.add(
    chain,
    ...comment(`${sp.key} from outside the pod range`, ['!', '-s', ctx.clusterCIDR, '-j', 'BERTH-MARK-MASQ']),
  );
  if (sp.affinitySeconds !== undefined)
    for (const e of eps) {
      const sep = sepChain(sp, e);
      nat.add(
        chain,
        '-m',
        'recent',
        '--name',
        sep,
        '--rcheck',
        '--seconds',
        String(sp.affinitySeconds),
        '--reap',
        '-j',
        sep,
      );
    }
  eps.forEach((e, i) => {
    const sep = sepChain(sp, e);
    const pick =
      i < eps.length - 1
        ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(eps.length - i)]
        : [];
    nat.add(chain, ...comment(`${sp.key} -> ${e.ip}:${e.port}`, [...pick, '-j', sep]));
    if (nat.chains.includes(sep)) return;
    nat.chain(sep);
    nat.add(sep, '-s', `${e.ip}/32`, '-j', 'BERTH-MARK-MASQ');
    const remember = sp.affinitySeconds !== undefined ? ['-m', 'recent', '--name', sep, '--set'] : [];
    const proto = sp.protocol.toLowerCase();
    nat.add(
      sep,
      '-p',
      proto,
      ...remember,
      '-m',
      proto,
      '-j',
      'DNAT',
      '--to-destination',
      `${e.ip}:${e.port}`,
    );
  });
}

/** The complete iptables-restore input for these service ports. */
export function buildRestore(ports: ServicePort[], ctx: RuleContext): string {
  const nat = new Table();
  const filter = new Table();
  for (const c of NAT_BASE_CHAINS) nat.chain(c);
  for (const c of FILTER_BASE_CHAINS) filter.chain(c);
  nat.add('BERTH-MARK-MASQ', '-j', 'MARK', '--or-mark', MASQ_MARK);
  nat.add('BERTH-POSTROUTING', '-m', 'mark', '!', '--mark', `${MASQ_MARK}/${MASQ_MARK}`, '-j', 'RETURN');
  nat.add('BERTH-POSTROUTING', '-j', 'MARK', '--xor-mark', MASQ_MARK);
  nat.add(
    'BERTH-POSTROUTING',
    ...comment('berth service traffic requiring SNAT', ['-j', 'MASQUERADE', '--random-fully']),
  );

  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const match = ['-p', proto, '-m', proto, '--dport', String(sp.port)];
    const all = usableEndpoints(sp);
    const local = usableEndpoints(sp, ctx.nodeName);
    const internal = sp.internalLocal ? local : all;
    const svc = chainFor('SVC', sp);
    const svl = chainFor('SVL', sp);
    if (all.length) balance(nat, svc, sp, all, ctx);
    if ((sp.internalLocal || sp.externalLocal) && local.length) balance(nat, svl, sp, local, ctx);

    for (const ip of sp.clusterIPs) {
      const dst = ['-d', `${ip}/32`, ...match];
      if (internal.length)
        nat.add(
          'BERTH-SERVICES',
          ...comment(`${sp.key} cluster IP`, [...dst, '-j', sp.internalLocal ? svl : svc]),
        );
      else
        filter.add(
          'BERTH-SERVICES',
          ...comment(all.length ? `${sp.key} has no local endpoints` : `${sp.key} has no endpoints`, [
            ...dst,
            '-j',
            ...(all.length ? ['DROP'] : ['REJECT', '--reject-with', 'icmp-port-unreachable']),
          ]),
        );
    }

    if (sp.nodePort === undefined) continue;
    const npMatch = ['-p', proto, '-m', proto, '--dport', String(sp.nodePort)];
    const external = sp.externalLocal ? local : all;
    if (!external.length) {
      filter.add(
        'BERTH-EXTERNAL',
        ...comment(all.length ? `${sp.key} has no local endpoints` : `${sp.key} has no endpoints`, [
          '-m',
          'addrtype',
          '--dst-type',
          'LOCAL',
          ...npMatch,
          '-j',
          ...(all.length ? ['DROP'] : ['REJECT', '--reject-with', 'icmp-port-unreachable']),
        ]),
      );
      continue;
    }
    const ext = chainFor('EXT', sp);
    nat.chain(ext);
    nat.add('BERTH-NODEPORTS', ...comment(`${sp.key} node port`, [...npMatch, '-j', ext]));
    if (!sp.externalLocal) {
      nat.add(ext, ...comment('masquerade traffic for node ports', ['-j', 'BERTH-MARK-MASQ']));
      nat.add(ext, '-j', svc);
    } else {
      nat.add(
        ext,
        ...comment('pod traffic for node ports uses every endpoint', ['-s', ctx.clusterCIDR, '-j', svc]),
      );
      nat.add(
        ext,
        ...comment('masquerade the node own traffic', [
          '-m',
          'addrtype',
          '--src-type',
          'LOCAL',
          '-j',
          'BERTH-MARK-MASQ',
        ]),
      );
      nat.add(ext, '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svc);
      nat.add(ext, '-j', svl);
    }
  }
  nat.add(
    'BERTH-SERVICES',
    ...comment('node ports on the node addresses', [
      '-m',
      'addrtype',
      '--dst-type',
      'LOCAL',
      '!',
      '-d',
      '127.0.0.0/8',
      '-j',
      'BERTH-NODEPORTS',
    ]),
  );
  filter.add(
    'BERTH-SERVICES',
    ...comment('service IPs nobody serves', [
      '-d',
      ctx.serviceCIDR,
      '-m',
      'addrtype',
      '!',
      '--dst-type',
      'LOCAL',
      '-j',
      'REJECT',
      '--reject-with',
      'icmp-net-unreachable',
    ]),
  );
  return nat.text('nat', ctx.existing.nat) + filter.text('filter', ctx.existing.filter);
}

/** Chain names in `iptables-save` output, per table. */
export function chainsInSave(save: string): { nat: string[]; filter: string[] } {
  const out: { nat: string[]; filter: string[] } = { nat: [], filter: [] };
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':') && (table === 'nat' || table === 'filter'))
      out[table].push(line.slice(1).split(' ')[0] ?? '');
  }
  return out;
}
