/** What the kubelet needs from the agent, and the services its pod workers share. */
import type { KObject } from '../../api/object.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';
import type { CriClient } from '../cri/client.ts';
import type { VolumeHost } from '../pod/volumes.ts';
import type { Backoff } from './backoff.ts';
import type { EventRecorder } from './events.ts';
import type { ImageManager } from './images.ts';
import type { NodeDNS } from './sandbox-config.ts';
import type { StartGate } from './start-gate.ts';
import type { StatusWriter } from './status-writer.ts';

export interface KubeletContext {
  /** Authenticated as system:node:<name>. */
  client: KubeClient;
  nodeName: string;
  cri: CriClient;
  /** The node's InternalIP (status.hostIP). */
  hostIP: string;
  clusterDomain: string;
  clusterDNS: string[];
  /** "/var/lib/berth": pods/<uid>/volumes/... under it. */
  rootDir: string;
  log: (msg: string) => void;
  /**
   * A nameserver for dnsPolicy Default pods when the node's own resolvers are loopback addresses a pod
   * cannot reach (Docker's 127.0.0.11): the agent's forward-only DNS on the node address.
   */
  podReachableHostDNS?: string;
  /** How often the runtime is relisted for container state changes (default 1 s). */
  relistMs?: number;
  /** RunPodSandbox calls in flight at once (default 5; see start-gate.ts). */
  startSlots?: number;
}

export interface KubeletServices {
  ctx: KubeletContext;
  events: EventRecorder;
  images: ImageManager;
  /** Container restart back-off (CrashLoopBackOff), keyed <uid>/<container>. */
  backoff: Backoff;
  volumeHost: VolumeHost;
  dns: NodeDNS;
  status: StatusWriter;
  /** Orders the sandbox creations of starting pods, oldest pod first, a few at a time. */
  startGate: StartGate;
  /** The node's /etc/hosts (for host-network pods). */
  nodeHosts: string;
  /** Services of a namespace plus the master service (for service link env vars). */
  services(ns: string): Promise<KObject[]>;
}

export const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
export const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
export const SECRETS: ResourceRef = { group: '', version: 'v1', resource: 'secrets' };
export const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
export const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
export const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
