/**
 * The filter-table rules enforcing NetworkPolicy on this node, as one `iptables-restore --noflush`
 * input (our own chains only). Pure: tests compare the text.
 *
 * BERTH-NETPOL (jumped to from FORWARD: pod traffic bridged on cni0 — br_netfilter — or routed
 * between cni0 and the node's interface, i.e. every packet to or from a pod that is not the node's own)
 *   1. replies and related packets of connections already allowed: RETURN (conntrack ESTABLISHED,
 *      RELATED; nothing else in FORWARD is touched, so other chains still see what they expect);
 *   2. `-s <pod IP>` → BERTH-NPE-<h> for each local pod isolated for egress;
 *   3. `-d <pod IP>` → BERTH-NPI-<h> for each local pod isolated for ingress.
 * BERTH-NPE/NPI-<h>: the pod itself (a pod cannot block access to itself) and every allow RETURN —
 * back to BERTH-NETPOL, so a packet between two isolated pods on this node passes the sender's egress
 * and then the receiver's ingress — and whatever is left is REJECTed (icmp-port-unreachable, so
 * clients fail fast instead of timing out).
 *
 * Traffic between a pod and its own node never passes FORWARD (the node's packets leave through
 * OUTPUT, packets for the node arrive in INPUT), so it is always allowed, as upstream requires
 * ("traffic to and from the node where a Pod is running is always allowed"): kubelet probes and the
 * node-local cluster DNS keep working for isolated pods, as with Calico and kube-router. Other nodes
 * and the host are ordinary sources/destinations, subject to ipBlock rules.
 */
import { createHash } from 'node:crypto';
import type { Allow, PodInfo, PodPolicy } from './model.ts';

export const NETPOL_CHAIN = 'BERTH-NETPOL';
/** Per-pod chains (hash-named); ones no longer wanted are deleted. */
export const PER_POD_CHAIN = /^BERTH-NP[IE]-[0-9A-F]{16}$/;

/** The jump from FORWARD, added once (and re-added by the periodic resync if it went missing). */
export const HOOK = {
  table: 'filter',
  chain: 'FORWARD',
  rule: ['-m', 'comment', '--comment', 'berth network policy', '-j', NETPOL_CHAIN],
} as const;

const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16).toUpperCase();

export const podChain = (dir: 'I' | 'E', pod: PodInfo): string =>
  `BERTH-NP${dir}-${hash(`${pod.namespace}/${pod.name}`)}`;

const quote = (a: string): string => (/[\s"]/.test(a) ? `"${a.replace(/"/g, '')}"` : a);
const comment = (text: string): string[] => ['-m', 'comment', '--comment', text];

/** The match arguments of one allow; `peerFlag` is -s (ingress) or -d (egress). */
export function allowMatch(a: Allow, peerFlag: '-s' | '-d'): string[] {
  const args: string[] = a.cidr ? [peerFlag, a.cidr] : [];
  if (a.protocol) {
    const p = a.protocol.toLowerCase();
    args.push('-p', p);
    if (a.port !== undefined)
      args.push('-m', p, '--dport', a.endPort !== undefined ? `${a.port}:${a.endPort}` : String(a.port));
  }
  return args;
}

function podRules(dir: 'I' | 'E', pp: PodPolicy, allows: Allow[]): string[] {
  const chain = podChain(dir, pp.pod);
  const peerFlag = dir === 'I' ? '-s' : '-d';
  const who = `${pp.pod.namespace}/${pp.pod.name}`;
  const line = (args: string[]): string => `-A ${chain} ${args.map(quote).join(' ')}`;
  return [
    line([peerFlag, `${pp.pod.ip}/32`, ...comment(`${who} to itself`), '-j', 'RETURN']),
    ...allows.map((a) => line([...allowMatch(a, peerFlag), ...comment(a.from), '-j', 'RETURN'])),
    line([
      ...comment(`${who} ${dir === 'I' ? 'ingress' : 'egress'} not allowed by any policy`),
      '-j',
      'REJECT',
      '--reject-with',
      'icmp-port-unreachable',
    ]),
  ];
}

/** The restore text for `policies`; `existing` = filter chains present now (iptables-save). */
export function buildRestore(policies: PodPolicy[], existing: string[]): string {
  const chains: string[] = [NETPOL_CHAIN];
  const rules: string[] = [
    `-A ${NETPOL_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED ${comment('replies of allowed connections').map(quote).join(' ')} -j RETURN`,
  ];
  const perPod: string[] = [];
  for (const dir of ['E', 'I'] as const)
    for (const pp of policies) {
      const allows = dir === 'I' ? pp.ingress : pp.egress;
      if (!allows) continue;
      const chain = podChain(dir, pp.pod);
      chains.push(chain);
      const who = `${pp.pod.namespace}/${pp.pod.name} ${dir === 'I' ? 'ingress' : 'egress'}`;
      rules.push(
        `-A ${NETPOL_CHAIN} ${dir === 'I' ? '-d' : '-s'} ${pp.pod.ip}/32 ${comment(who).map(quote).join(' ')} -j ${chain}`,
      );
      perPod.push(...podRules(dir, pp, allows));
    }
  const stale = existing.filter((c) => PER_POD_CHAIN.test(c) && !chains.includes(c));
  return [
    '*filter',
    ...chains.map((c) => `:${c} - [0:0]`),
    ...stale.map((c) => `:${c} - [0:0]`),
    ...rules,
    ...perPod,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

/** Chain names of the filter table in `iptables-save` output. */
export function filterChains(save: string): string[] {
  const out: string[] = [];
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':') && table === 'filter') out.push(line.slice(1).split(' ')[0] ?? '');
  }
  return out;
}
