/**
 * Pod routing between nodes (DESIGN.md §5, §7): a route to every other node's pod CIDR through that
 * node's InternalIP; `unreachable` routes for the cluster's pod and service ranges, so a packet for an
 * address no node owns fails at once instead of leaving through the default route; and one NAT rule:
 * traffic from this node's pods to addresses outside the pod range (the API server on the bridge
 * gateway, say) is masqueraded, so replies come back. Uses iproute2 and iptables from the node image.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PeerRoute {
  podCIDR: string;
  nodeIP: string;
}

/** The `ip route` argument lists that make the table right (idempotent: `replace`). */
export function routeCommands(peers: PeerRoute[], clusterCIDR: string, serviceCIDR: string): string[][] {
  return [
    ['route', 'replace', 'unreachable', clusterCIDR],
    ['route', 'replace', 'unreachable', serviceCIDR],
    ...peers.map((p) => ['route', 'replace', p.podCIDR, 'via', p.nodeIP]),
  ];
}

/** Peer routes present in `ip -j route` output that no longer belong to a node (their CIDR vanished). */
export function staleRoutes(
  current: { dst?: string; gateway?: string }[],
  peers: PeerRoute[],
  clusterCIDR: string,
): string[] {
  const [base = '', bits = '16'] = clusterCIDR.split('/');
  const prefix = base
    .split('.')
    .slice(0, Number(bits) / 8)
    .join('.');
  const wanted = new Set(peers.map((p) => p.podCIDR));
  return current
    .filter((r) => r.gateway && r.dst && r.dst.startsWith(`${prefix}.`) && !wanted.has(r.dst))
    .map((r) => r.dst!);
}

export class RouteManager {
  private natDone = false;

  constructor(
    private readonly clusterCIDR: string,
    private readonly serviceCIDR: string,
    private readonly log: (m: string) => void,
  ) {}

  /** Brings the routing table in line with the peers (other nodes) given. */
  async sync(peers: PeerRoute[]): Promise<void> {
    for (const args of routeCommands(peers, this.clusterCIDR, this.serviceCIDR)) await run('ip', args);
    const { stdout } = await run('ip', ['-j', 'route', 'show']);
    for (const dst of staleRoutes(
      JSON.parse(stdout) as { dst?: string; gateway?: string }[],
      peers,
      this.clusterCIDR,
    )) {
      await run('ip', ['route', 'del', dst]).catch(() => undefined);
      this.log(`removed route to ${dst} (its node is gone)`);
    }
  }

  /** Masquerades what this node's pods send outside the pod range (once). */
  async ensureMasquerade(podCIDR: string): Promise<void> {
    if (this.natDone) return;
    const rule = [
      '-s',
      podCIDR,
      '!',
      '-d',
      this.clusterCIDR,
      '-m',
      'comment',
      '--comment',
      'berth: pods leaving the pod range',
      '-j',
      'MASQUERADE',
    ];
    try {
      await run('iptables', ['-w', '-t', 'nat', '-C', 'POSTROUTING', ...rule]);
    } catch {
      await run('iptables', ['-w', '-t', 'nat', '-A', 'POSTROUTING', ...rule]);
    }
    this.natDone = true;
  }
}
