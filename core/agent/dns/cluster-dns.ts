/**
 * Cluster DNS on this node (issue 6): Reflectors on Services, EndpointSlices and Pods feed the zone
 * (rebuilt on the first query after a change), the node gets the cluster DNS address on a local link,
 * and a DNS server listens there on UDP and TCP port 53, forwarding what is not the cluster's to the
 * node's own resolvers. The kube-system/kube-dns Service only names the address: it carries the
 * berth.dev/node-local label, so the service proxy leaves it alone and each node answers itself.
 */
import { readFileSync } from 'node:fs';
import { Reflector } from '../../client/reflector.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';
import { ClusterZone } from './answer.ts';
import { Forwarder, upstreamServers } from './forwarder.ts';
import { ensureLocalAddress } from './node-address.ts';
import { DnsServer, type DnsStats } from './server.ts';
import { buildZone, type ZoneIndex } from './zone.ts';

const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };

export interface ClusterDnsOptions {
  client: KubeClient;
  clusterDomain: string;
  /** Addresses to serve (the kubelet's clusterDNS, 10.96.0.10). */
  addresses: string[];
  serviceCIDR: string;
  clusterCIDR: string;
  log: (m: string) => void;
  /** Default 53; tests use 0 on loopback. */
  port?: number;
  /** Put the addresses on the node (default true; tests serving loopback say false). */
  assignAddresses?: boolean;
  /** The node's resolver configuration (default: /etc/resolv.conf). */
  resolvConf?: string;
  ttl?: number;
  /**
   * An address of the node (its InternalIP) where a forward-only server answers for pods with
   * dnsPolicy Default: the node's own resolvers (Docker's 127.0.0.11) are unreachable from a pod, so
   * the kubelet points those pods here. No cluster names are answered on it, as on a real node.
   */
  forwardAddress?: string;
}

export interface ClusterDns {
  /** Resolves with the port served once the zone is synced and every address is listening. */
  readonly ready: Promise<number>;
  readonly stats: DnsStats;
  stop(): Promise<void>;
}

export function startClusterDns(opts: ClusterDnsOptions): ClusterDns {
  const onError = (what: string) => (e: Error) => opts.log(`dns: ${what} watch: ${e.message}`);
  const services = new Reflector(opts.client, SERVICES, { onError: onError('service') });
  const slices = new Reflector(opts.client, SLICES, { onError: onError('endpointslice') });
  const pods = new Reflector(opts.client, PODS, { onError: onError('pod') });
  const settings = { domain: opts.clusterDomain, ttl: opts.ttl ?? 5, dnsIPs: opts.addresses };
  let index: ZoneIndex | undefined;
  const dirty = (): void => {
    index = undefined;
  };
  for (const r of [services, slices, pods]) r.addHandlers({ add: dirty, update: dirty, delete: dirty });
  const zone = new ClusterZone(
    { ...settings, reverseCIDRs: [opts.serviceCIDR, opts.clusterCIDR] },
    () =>
      (index ??= buildZone(settings, {
        services: services.list(),
        endpointSlices: slices.list(),
        pods: pods.list(),
      })),
  );
  let resolvConf = opts.resolvConf;
  if (resolvConf === undefined)
    try {
      resolvConf = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      resolvConf = '';
    }
  const forwarder = new Forwarder({ servers: upstreamServers(resolvConf, opts.addresses) });
  const servers = opts.addresses.map(() => new DnsServer(zone, forwarder, opts.log));
  const forwardOnly = opts.forwardAddress
    ? new DnsServer(
        new ClusterZone(
          { domain: 'forward-only.invalid', ttl: settings.ttl, dnsIPs: [], reverseCIDRs: [] },
          () =>
            buildZone(
              { domain: 'forward-only.invalid', ttl: settings.ttl, dnsIPs: [] },
              { services: [], endpointSlices: [], pods: [] },
            ),
        ),
        forwarder,
        opts.log,
      )
    : undefined;
  let stopped = false;

  const serve = async (): Promise<number> => {
    await Promise.all([services.start(), slices.start(), pods.start()]);
    let port = opts.port ?? 53;
    for (const [i, address] of opts.addresses.entries()) {
      if (opts.assignAddresses !== false) {
        const link = await ensureLocalAddress(address);
        opts.log(`dns: ${address} on ${link}`);
      }
      port = await servers[i]!.listen(address, port);
    }
    if (forwardOnly && opts.forwardAddress) await forwardOnly.listen(opts.forwardAddress, port);
    opts.log(
      `dns: serving ${opts.clusterDomain} on ${opts.addresses.join(', ')} port ${port}, ` +
        `forwarding to ${forwarder.servers.join(', ') || '(no upstream)'}`,
    );
    return port;
  };
  // Until it serves: the API server may be away for a moment, or the address not ready yet.
  const ready = (async (): Promise<number> => {
    for (let delay = 500; ; delay = Math.min(delay * 2, 15_000)) {
      try {
        return await serve();
      } catch (e) {
        for (const r of [services, slices, pods]) r.stop();
        await Promise.all([...servers, ...(forwardOnly ? [forwardOnly] : [])].map((s) => s.close()));
        if (stopped) throw e;
        opts.log(`dns: cannot serve yet (${(e as Error).message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        if (stopped) throw e;
      }
    }
  })();

  const stats: DnsStats = { queries: 0, forwarded: 0, nxdomain: 0, servfail: 0 };
  return {
    ready,
    get stats(): DnsStats {
      for (const k of Object.keys(stats) as (keyof DnsStats)[])
        stats[k] = servers.reduce((n, s) => n + s.stats[k], 0);
      return stats;
    },
    async stop() {
      stopped = true;
      for (const r of [services, slices, pods]) r.stop();
      await Promise.all([...servers, ...(forwardOnly ? [forwardOnly] : [])].map((s) => s.close()));
    },
  };
}
