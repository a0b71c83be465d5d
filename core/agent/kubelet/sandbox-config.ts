/**
 * The pod sandbox's CRI configuration as the kubelet builds it (generatePodSandboxConfig): metadata,
 * hostname, log directory, DNS per dnsPolicy, hostPort mappings, labels and annotations, and the Linux
 * part (cgroup parent, sandbox security context with the host namespaces, sysctls). Also the managed
 * /etc/hosts file. Pure functions of the pod and the node settings.
 */
import type { PodDNSConfig, PodSpec } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { sandboxCgroupParent } from '../pod/resources.ts';
import { sandboxSecurity, sandboxSysctls } from '../pod/security.ts';
import { podNamespace, podSpec, podUid } from '../pod/types.ts';
import type { CriDNSConfig, CriPodSandboxConfig, CriPortMapping } from '../cri/types.ts';

export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

export interface NodeDNS {
  clusterDomain: string;
  clusterDNS: string[];
  /** The node's resolv.conf (for dnsPolicy Default and the host search list). */
  host: { servers: string[]; searches: string[]; options: string[] };
}

/** nameserver / search / options of a resolv.conf text. */
export function parseResolvConf(text: string): NodeDNS['host'] {
  const out: NodeDNS['host'] = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.filter((s) => s && s !== '.');
    else if (key === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** Options by name, later ones winning ("ndots:5" and "ndots:2" → the latter). */
function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of base) m.set(o.split(':')[0] ?? o, o);
  for (const o of extra) if (o.name) m.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  return [...m.values()];
}

/** The pod's DNS configuration (the kubelet's GetPodDNS). */
export function podDNSConfig(pod: KObject, node: NodeDNS): CriDNSConfig {
  const spec = podSpec(pod);
  const hostNetwork = spec.hostNetwork === true;
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  // ClusterFirst on the host network means Default; ClusterFirstWithHostNet is the explicit opt-in.
  if (policy === 'ClusterFirst' && hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && node.clusterDNS.length === 0) policy = 'Default';
  let cfg: Required<CriDNSConfig>;
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') cfg = { ...node.host, options: [...node.host.options] };
  else {
    const ns = podNamespace(pod);
    const d = node.clusterDomain;
    cfg = {
      servers: [...node.clusterDNS],
      searches: unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...node.host.searches]),
      options: ['ndots:5'],
    };
  }
  const extra: PodDNSConfig | undefined = spec.dnsConfig;
  if (extra) {
    cfg.servers = unique([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = unique([...cfg.searches, ...(extra.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, extra.options ?? []);
  }
  return cfg;
}

/** The pod's hostname and (with a subdomain) its FQDN, as the kubelet's GeneratePodHostNameAndDomain. */
export function podHostname(pod: KObject, clusterDomain: string): { hostname: string; fqdn?: string } {
  const spec = podSpec(pod);
  let hostname = spec.hostname || (pod.metadata.name ?? '');
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  if (spec.subdomain)
    return { hostname, fqdn: `${hostname}.${spec.subdomain}.${podNamespace(pod)}.svc.${clusterDomain}` };
  return { hostname };
}

/** The kubelet-managed /etc/hosts of a pod on the pod network. */
export function managedHostsFile(pod: KObject, podIPs: string[], clusterDomain: string): string {
  const { hostname, fqdn } = podHostname(pod, clusterDomain);
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  for (const ip of podIPs) lines.push(fqdn ? `${ip}\t${fqdn}\t${hostname}` : `${ip}\t${hostname}`);
  return lines.join('\n') + '\n' + hostAliasesBlock(podSpec(pod));
}

/** The node's /etc/hosts for a host-network pod, plus its host aliases. */
export function hostNetworkHostsFile(nodeHosts: string, pod: KObject): string {
  const base = nodeHosts.endsWith('\n') || nodeHosts === '' ? nodeHosts : `${nodeHosts}\n`;
  return base + hostAliasesBlock(podSpec(pod));
}

function hostAliasesBlock(spec: PodSpec): string {
  const aliases = spec.hostAliases ?? [];
  if (aliases.length === 0) return '';
  const lines = ['', '# Entries added by HostAliases.'];
  for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  return lines.join('\n') + '\n';
}

/** Port mappings of every container port with a hostPort. */
export function portMappings(pod: KObject): CriPortMapping[] {
  const out: CriPortMapping[] = [];
  const spec = podSpec(pod);
  for (const c of [...(spec.initContainers ?? []), ...spec.containers])
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({
        protocol: (p.protocol ?? 'TCP') as CriPortMapping['protocol'],
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        ...(p.hostIP ? { hostIp: p.hostIP } : {}),
      });
    }
  return out;
}

/** The pod's log directory: /var/log/pods/<ns>_<name>_<uid>. */
export function podLogDirectory(pod: KObject): string {
  return `/var/log/pods/${podNamespace(pod)}_${pod.metadata.name ?? ''}_${podUid(pod)}`;
}

export function podLabels(pod: KObject): Record<string, string> {
  return {
    ...(pod.metadata.labels ?? {}),
    [POD_NAME_LABEL]: pod.metadata.name ?? '',
    [POD_NAMESPACE_LABEL]: podNamespace(pod),
    [POD_UID_LABEL]: podUid(pod),
  };
}

/** The RunPodSandbox configuration of attempt `attempt`. */
export function sandboxConfig(pod: KObject, attempt: number, dns: NodeDNS): CriPodSandboxConfig {
  const spec = podSpec(pod);
  const { hostname } = podHostname(pod, dns.clusterDomain);
  return {
    metadata: { name: pod.metadata.name ?? '', namespace: podNamespace(pod), uid: podUid(pod), attempt },
    hostname: spec.hostNetwork ? '' : hostname,
    logDirectory: podLogDirectory(pod),
    dnsConfig: podDNSConfig(pod, dns),
    portMappings: portMappings(pod),
    labels: podLabels(pod),
    annotations: { ...(pod.metadata.annotations ?? {}) },
    linux: {
      cgroupParent: sandboxCgroupParent(pod),
      securityContext: sandboxSecurity(pod),
      sysctls: sandboxSysctls(pod),
    },
  };
}
