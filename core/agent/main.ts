/**
 * The Berth node agent (bundled into the node image, run by the node's entrypoint beside containerd):
 * the kubelet's job for one node. It authenticates as system:node:<name> with the certificate the node
 * driver gave it, registers the Node, keeps its Lease and status fresh, writes the CNI configuration
 * for the pod CIDR node IPAM assigns, keeps routes to the other nodes' pod ranges, and runs the pods
 * bound to it through containerd's CRI (core/agent/kubelet).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HttpsClient } from '../client/https-client.ts';
import { Reflector } from '../client/reflector.ts';
import type { KObject } from '../api/object.ts';
import { loadAgentSettings } from './config.ts';
import { gatherNodeFacts, NodeStatusReporter } from './node-status.ts';
import { writeCniConfig } from './network/cni-config.ts';
import { RouteManager, type PeerRoute } from './network/routes.ts';
import { CriClient } from './cri/client.ts';
import { startKubelet } from './kubelet/kubelet.ts';
import { startServiceProxy } from './proxy/proxy.ts';
import { startNetworkPolicy } from './netpol/netpol.ts';
import { startClusterDns } from './dns/cluster-dns.ts';
import { startNodeEndpoint } from './server/server.ts';
import { startMemoryReports } from './memory-report.ts';

const log = (m: string): void => console.log(`berth-agent: ${m}`);

/** "containerd://1.6.20": CRI Version, else `containerd --version`. */
async function runtimeVersion(cri: CriClient): Promise<string> {
  try {
    const v = await cri.version();
    if (v.runtimeName && v.runtimeVersion)
      return `${v.runtimeName}://${v.runtimeVersion.replace(/^v/, '').replace(/~.*$/, '')}`;
  } catch {
    /* fall back to the binary */
  }
  try {
    const { stdout } = await promisify(execFile)('containerd', ['--version']);
    const v = /\s(v?\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
    return `containerd://${v.replace(/^v/, '')}`;
  } catch {
    return 'containerd://unknown';
  }
}

/** Other nodes' pod CIDRs and InternalIPs. */
function peersOf(nodes: KObject[], self: string): PeerRoute[] {
  const out: PeerRoute[] = [];
  for (const n of nodes) {
    if (n.metadata.name === self) continue;
    const podCIDR = (n['spec'] as { podCIDR?: string } | undefined)?.podCIDR;
    const addrs =
      (n['status'] as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [];
    const nodeIP = addrs.find((a) => a.type === 'InternalIP')?.address;
    if (podCIDR && nodeIP) out.push({ podCIDR, nodeIP });
  }
  return out.sort((a, b) => a.podCIDR.localeCompare(b.podCIDR));
}

async function untilApiAnswers(client: HttpsClient, nodeName: string): Promise<void> {
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      await client.list({ group: '', version: 'v1', resource: 'namespaces' }, '', { limit: 1 });
      return;
    } catch (e) {
      const msg = (e as Error).message;
      if (/forbidden/i.test(msg)) return; // the server answers; authorization is its business
      log(`API server not reachable yet (${msg}); retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
    void nodeName;
  }
}

export async function main(): Promise<void> {
  const { config, caPem, certPem, keyPem } = loadAgentSettings(process.env['BERTH_AGENT_DIR']);
  const client = new HttpsClient({
    server: config.server,
    caPem,
    certPem,
    keyPem,
    userAgent: `berth-agent/${config.kubeletVersion} (${config.nodeName})`,
  });
  log(`node ${config.nodeName}, API server ${config.server}`);
  const stopMemoryReports = startMemoryReports(log, Number(process.env['BERTH_AGENT_MEMORY_LOG'] ?? 0));
  await untilApiAnswers(client, config.nodeName);

  const cri = new CriClient();
  const facts = gatherNodeFacts(config, await runtimeVersion(cri));
  const reporter = new NodeStatusReporter(client, config, facts, log);
  await reporter.register();
  reporter.start();

  const podCIDR = await reporter.waitForPodCIDR();
  if (writeCniConfig(podCIDR)) log(`CNI config written for pod CIDR ${podCIDR}`);
  const routes = new RouteManager(config.clusterCIDR, config.serviceCIDR, log);
  await routes.ensureMasquerade(podCIDR);

  const nodes = new Reflector(
    client,
    { group: '', version: 'v1', resource: 'nodes' },
    {
      onError: (e) => log(`node watch: ${e.message}`),
    },
  );
  let syncing = Promise.resolve();
  const resync = (): void => {
    const peers = peersOf(nodes.list(), config.nodeName);
    syncing = syncing
      .then(() => routes.sync(peers))
      .catch((e: unknown) => log(`route sync failed: ${(e as Error).message}`));
  };
  nodes.addHandlers({ add: resync, update: resync, delete: resync });
  await nodes.start();
  resync();
  await syncing;

  await reporter.setReady(true, 'kubelet is posting ready status');
  log('node ready');
  const kubelet = startKubelet({
    client,
    nodeName: config.nodeName,
    cri,
    hostIP: facts.internalIP,
    clusterDomain: config.clusterDomain,
    clusterDNS: config.clusterDNS,
    rootDir: '/var/lib/berth',
    podReachableHostDNS: facts.internalIP,
    log,
  });
  // --- service proxy (issue 6, core/agent/proxy) ---
  const proxy = startServiceProxy({
    client,
    nodeName: config.nodeName,
    nodeIP: facts.internalIP,
    clusterCIDR: config.clusterCIDR,
    serviceCIDR: config.serviceCIDR,
    log,
  });
  // --- end service proxy ---
  // --- network policy (issue 6, core/agent/netpol) ---
  const netpol = startNetworkPolicy({ client, nodeName: config.nodeName, log });
  // --- end network policy ---
  // --- cluster DNS (issue 6, core/agent/dns) ---
  const dns = startClusterDns({
    client,
    clusterDomain: config.clusterDomain,
    addresses: config.clusterDNS,
    serviceCIDR: config.serviceCIDR,
    clusterCIDR: config.clusterCIDR,
    forwardAddress: facts.internalIP,
    log,
  });
  dns.ready.catch((e: unknown) => log(`dns: not serving: ${(e as Error).message}`));
  // --- end cluster DNS ---
  // --- agent endpoint: logs, exec, attach, port-forward on :10250 (issue 5, core/agent/server) ---
  const endpoint = await startNodeEndpoint(cri, process.env['BERTH_AGENT_DIR'], log).catch((e: unknown) => {
    log(`agent endpoint: not serving: ${(e as Error).message}`);
    return undefined;
  });
  // --- end agent endpoint ---

  const shutdown = (sig: string): void => {
    log(`${sig}: stopping`);
    stopMemoryReports();
    reporter.stop();
    nodes.stop();
    proxy.stop();
    netpol.stop();
    void dns.stop();
    void endpoint?.stop(); // agent endpoint (issue 5)
    // Pods keep running in containerd: the next agent start adopts them.
    void kubelet.stop().finally(() => {
      cri.close();
      client.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  console.error(`berth-agent: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
