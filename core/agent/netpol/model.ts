/**
 * NetworkPolicy semantics (networking.k8s.io/v1), pure: from the cluster's policies, pods and
 * namespaces, what each pod on this node may receive and send.
 *
 * - A pod is isolated for ingress (egress) when some policy in its namespace selects it (podSelector)
 *   and lists Ingress (Egress) in policyTypes; policyTypes defaults to Ingress, plus Egress when the
 *   policy has egress rules. Pods no policy isolates are not listed at all: default allow.
 * - What an isolated pod may do is the union of every selecting policy's rules. A rule allows the
 *   cross product of its peers (from/to; absent or empty = everyone) and its ports (absent or empty =
 *   every port and protocol).
 * - Peers: podSelector alone = pods in the policy's namespace; namespaceSelector alone = every pod in
 *   the namespaces it selects; both = the pods podSelector selects in those namespaces; ipBlock = the
 *   cidr minus its excepts (IPv4; IPv6 blocks match nothing on these IPv4-only nodes).
 * - Ports: protocol (default TCP) and port, a number with optional endPort (a range) or a container
 *   port name. Ingress names resolve on the selected pod itself, egress names on each destination pod
 *   (so a named egress port turns into one (pod IP, port) allow per destination pod that has it).
 * - Pods with hostNetwork are neither isolated nor peers (upstream leaves them undefined); pods that
 *   have finished (Succeeded/Failed) or have no IP yet are no peers, so a reused IP is not trusted.
 * - Not modelled here, but enforced by the rules: replies of allowed connections, a pod's traffic to
 *   itself, and traffic between a pod and its own node are always allowed (see rules.ts).
 */
import type { KObject } from '../../api/object.ts';
import { fromLabelSelectorObject, matchesLabels } from '../../apiserver/label-selector.ts';
import { ipBlockCIDRs, ipInBlock, parseCIDR } from './cidr.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One allowed (peer, port) pair; an absent field matches everything. */
export interface Allow {
  /** IPv4 CIDR of the other end (source for ingress, destination for egress). */
  cidr?: string;
  protocol?: Protocol;
  /** Destination port, or the first of a range ending at endPort. */
  port?: number;
  endPort?: number;
  /** The policy (ns/name) and rule this comes from, for rule comments. */
  from: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  nodeName: string;
  /** Container ports by name (name → protocol/number). */
  namedPorts: { name: string; protocol: Protocol; port: number }[];
}

export interface PodPolicy {
  pod: PodInfo;
  /** Allowed ingress; undefined when no policy isolates the pod for ingress. */
  ingress?: Allow[];
  egress?: Allow[];
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  ports?: PolicyPort[];
  from?: Peer[];
  to?: Peer[];
}
interface PolicySpec {
  podSelector?: Selector;
  policyTypes?: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];
const protocolOf = (p: string | undefined): Protocol | undefined =>
  PROTOCOLS.includes(p ?? 'TCP') ? ((p ?? 'TCP') as Protocol) : undefined;

/** Whether a metav1.LabelSelector selects `labels` (an empty selector selects everything). */
export function selects(sel: Selector | undefined, labels: Record<string, string>): boolean {
  const reqs = fromLabelSelectorObject(sel ?? {});
  return reqs !== undefined && matchesLabels(reqs, labels);
}

/** A running pod with an IP and its own network namespace, else undefined. */
export function podInfo(o: KObject): PodInfo | undefined {
  const spec = (o['spec'] ?? {}) as {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: { ports?: { name?: string; containerPort?: number; protocol?: string }[] }[];
  };
  const status = (o['status'] ?? {}) as { podIP?: string; podIPs?: { ip: string }[]; phase?: string };
  if (spec.hostNetwork || status.phase === 'Succeeded' || status.phase === 'Failed') return undefined;
  const ip = [status.podIP, ...(status.podIPs ?? []).map((p) => p.ip)].find((a) => a && !a.includes(':'));
  if (!ip || !o.metadata.namespace || !o.metadata.name) return undefined;
  const namedPorts: PodInfo['namedPorts'] = [];
  for (const c of spec.containers ?? [])
    for (const p of c.ports ?? []) {
      const protocol = protocolOf(p.protocol);
      if (p.name && p.containerPort && protocol)
        namedPorts.push({ name: p.name, protocol, port: p.containerPort });
    }
  return {
    namespace: o.metadata.namespace,
    name: o.metadata.name,
    labels: o.metadata.labels ?? {},
    ip,
    nodeName: spec.nodeName ?? '',
    namedPorts,
  };
}

/** policyTypes as stored, or the API's default when absent. */
export function policyTypes(spec: PolicySpec): { ingress: boolean; egress: boolean } {
  const types = spec.policyTypes?.length
    ? spec.policyTypes
    : spec.egress
      ? ['Ingress', 'Egress']
      : ['Ingress'];
  return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
}

export interface ClusterView {
  policies: KObject[];
  pods: KObject[];
  namespaces: KObject[];
}

/** The peer side of a rule: IPv4 CIDRs, plus the pods behind them (for named egress ports). */
interface PeerSet {
  /** undefined = everyone. */
  cidrs?: string[];
  /** Pods the peers cover (for selector peers exactly; for ipBlocks the known pods inside). */
  pods: PodInfo[];
}

class Resolver {
  private readonly nsLabels = new Map<string, Record<string, string>>();
  readonly pods: PodInfo[];

  constructor(view: ClusterView) {
    for (const n of view.namespaces) {
      const name = n.metadata.name ?? '';
      // The API server adds this label; older objects may lack it, so it is implied here.
      this.nsLabels.set(name, { 'kubernetes.io/metadata.name': name, ...(n.metadata.labels ?? {}) });
    }
    this.pods = view.pods.flatMap((p) => podInfo(p) ?? []);
  }

  private namespaceSelected(ns: string, sel: Selector): boolean {
    const labels = this.nsLabels.get(ns);
    return labels !== undefined && selects(sel, labels);
  }

  peers(list: Peer[] | undefined, policyNs: string): PeerSet {
    if (!list || list.length === 0) return { pods: this.pods };
    const cidrs: string[] = [];
    const pods: PodInfo[] = [];
    for (const peer of list) {
      if (peer.ipBlock) {
        const blocks = ipBlockCIDRs(peer.ipBlock.cidr, peer.ipBlock.except);
        cidrs.push(...blocks);
        const parsed = blocks.flatMap((b) => parseCIDR(b) ?? []);
        pods.push(...this.pods.filter((p) => parsed.some((b) => ipInBlock(p.ip, b))));
        continue;
      }
      if (!peer.podSelector && !peer.namespaceSelector) continue; // invalid: selects nothing
      for (const p of this.pods) {
        const nsOk = peer.namespaceSelector
          ? this.namespaceSelected(p.namespace, peer.namespaceSelector)
          : p.namespace === policyNs;
        if (nsOk && (!peer.podSelector || selects(peer.podSelector, p.labels))) {
          cidrs.push(`${p.ip}/32`);
          pods.push(p);
        }
      }
    }
    return { cidrs: [...new Set(cidrs)], pods };
  }
}

type Port = Pick<Allow, 'protocol' | 'port' | 'endPort'>;

/** A numeric policy port (or protocol only) → the port match; named ports → undefined. */
function numericPort(p: PolicyPort, protocol: Protocol): Port | undefined {
  const n = typeof p.port === 'string' && /^\d+$/.test(p.port) ? Number(p.port) : p.port;
  if (n === undefined) return { protocol };
  if (typeof n !== 'number') return undefined;
  return { protocol, port: n, ...(p.endPort !== undefined && p.endPort > n ? { endPort: p.endPort } : {}) };
}

function namedPort(pod: PodInfo, name: string, protocol: Protocol): number | undefined {
  return pod.namedPorts.find((np) => np.name === name && np.protocol === protocol)?.port;
}

function withPeers(peers: PeerSet, port: Port, from: string): Allow[] {
  if (!peers.cidrs) return [{ ...port, from }];
  return peers.cidrs.map((cidr) => ({ cidr, ...port, from }));
}

function ingressAllows(rule: Rule, target: PodInfo, peers: PeerSet, from: string): Allow[] {
  if (!rule.ports?.length) return withPeers(peers, {}, from);
  const out: Allow[] = [];
  for (const p of rule.ports) {
    const protocol = protocolOf(p.protocol);
    if (!protocol) continue;
    const port =
      numericPort(p, protocol) ??
      (() => {
        const n = namedPort(target, String(p.port), protocol);
        return n === undefined ? undefined : { protocol, port: n };
      })();
    if (port) out.push(...withPeers(peers, port, from));
  }
  return out;
}

function egressAllows(rule: Rule, peers: PeerSet, from: string): Allow[] {
  if (!rule.ports?.length) return withPeers(peers, {}, from);
  const out: Allow[] = [];
  for (const p of rule.ports) {
    const protocol = protocolOf(p.protocol);
    if (!protocol) continue;
    const port = numericPort(p, protocol);
    if (port) {
      out.push(...withPeers(peers, port, from));
      continue;
    }
    for (const dest of peers.pods) {
      const n = namedPort(dest, String(p.port), protocol);
      if (n !== undefined) out.push({ cidr: `${dest.ip}/32`, protocol, port: n, from });
    }
  }
  return out;
}

const allowKey = (a: Allow): string =>
  `${a.cidr ?? '*'}|${a.protocol ?? '*'}|${a.port ?? '*'}|${a.endPort ?? ''}`;

function dedupe(list: Allow[]): Allow[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const k = allowKey(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The policies' verdicts for every isolated pod on `nodeName`, sorted by namespace/name. */
export function localPodPolicies(view: ClusterView, nodeName: string): PodPolicy[] {
  const r = new Resolver(view);
  const out: PodPolicy[] = [];
  const policies = [...view.policies].sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
  const locals = r.pods
    .filter((p) => p.nodeName === nodeName)
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const pod of locals) {
    let ingress: Allow[] | undefined;
    let egress: Allow[] | undefined;
    for (const pol of policies) {
      const ns = pol.metadata.namespace ?? '';
      const spec = (pol['spec'] ?? {}) as PolicySpec;
      if (ns !== pod.namespace || !selects(spec.podSelector, pod.labels)) continue;
      const types = policyTypes(spec);
      const id = `${ns}/${pol.metadata.name ?? ''}`;
      if (types.ingress) {
        ingress ??= [];
        (spec.ingress ?? []).forEach((rule, i) =>
          ingress!.push(...ingressAllows(rule, pod, r.peers(rule.from, ns), `${id} ingress[${i}]`)),
        );
      }
      if (types.egress) {
        egress ??= [];
        (spec.egress ?? []).forEach((rule, i) =>
          egress!.push(...egressAllows(rule, r.peers(rule.to, ns), `${id} egress[${i}]`)),
        );
      }
    }
    if (ingress || egress)
      out.push({
        pod,
        ...(ingress ? { ingress: dedupe(ingress) } : {}),
        ...(egress ? { egress: dedupe(egress) } : {}),
      });
  }
  return out;
}
