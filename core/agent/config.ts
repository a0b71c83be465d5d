/**
 * The node agent's configuration: one JSON file and three PEM files the node driver puts into the node
 * before the agent starts (core/nodes/docker/agent-files.ts writes them; this reads them). Kept free of
 * any host-side import: it is bundled into the node image.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the files live inside a node. */
export const AGENT_CONFIG_DIR = '/etc/berth';
export const AGENT_FILES = {
  config: 'agent.json',
  ca: 'pki/ca.crt',
  cert: 'pki/node.crt',
  key: 'pki/node.key',
  /** The agent endpoint's serving certificate (CN system:node:<name>, DNS SAN <name>). */
  servingCert: 'pki/serving.crt',
  servingKey: 'pki/serving.key',
} as const;

export interface AgentTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface AgentConfig {
  nodeName: string;
  /** The API server as seen from the node (https://<bridge gateway>:<port>). */
  server: string;
  /** The whole pod range of the cluster (each node owns a /24 of it, assigned by node IPAM). */
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** Node driver name, shown in the berth.dev/driver annotation. */
  driver: string;
  kubeletVersion: string;
  labels: Record<string, string>;
  taints: AgentTaint[];
  /** Capacity overrides (default: what the node sees). */
  cpu?: string;
  memory?: string;
  pods: number;
}

export interface AgentSettings {
  config: AgentConfig;
  caPem: string;
  certPem: string;
  keyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
}

/** Reads and checks the agent's files; the error names the file and what is wrong. */
export function loadAgentSettings(dir = AGENT_CONFIG_DIR): AgentSettings {
  const read = (rel: string): string => {
    try {
      return readFileSync(join(dir, rel), 'utf8');
    } catch (e) {
      throw new Error(`berth-agent: cannot read ${join(dir, rel)}: ${(e as Error).message}`, { cause: e });
    }
  };
  const raw = JSON.parse(read(AGENT_FILES.config)) as Partial<AgentConfig>;
  for (const k of ['nodeName', 'server', 'clusterCIDR', 'serviceCIDR'] as const)
    if (typeof raw[k] !== 'string' || !raw[k])
      throw new Error(`berth-agent: ${AGENT_FILES.config}: ${k} is missing`);
  const config: AgentConfig = {
    nodeName: raw.nodeName!,
    server: raw.server!,
    clusterCIDR: raw.clusterCIDR!,
    serviceCIDR: raw.serviceCIDR!,
    clusterDNS: raw.clusterDNS ?? ['10.96.0.10'],
    clusterDomain: raw.clusterDomain ?? 'cluster.local',
    driver: raw.driver ?? 'docker',
    kubeletVersion: raw.kubeletVersion ?? 'v1.33.0',
    labels: raw.labels ?? {},
    taints: raw.taints ?? [],
    pods: raw.pods ?? 110,
    ...(raw.cpu ? { cpu: raw.cpu } : {}),
    ...(raw.memory ? { memory: raw.memory } : {}),
  };
  return {
    config,
    caPem: read(AGENT_FILES.ca),
    certPem: read(AGENT_FILES.cert),
    keyPem: read(AGENT_FILES.key),
    servingCertPem: read(AGENT_FILES.servingCert),
    servingKeyPem: read(AGENT_FILES.servingKey),
  };
}
