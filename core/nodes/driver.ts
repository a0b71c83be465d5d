/**
 * The node-driver interface: how the cluster creates and manages its worker nodes. Every driver
 * (docker, qemu, simulated) implements it; the composition root (core/cluster) and `berth node …`
 * only ever talk to this interface.
 *
 * A driver owns the machine side of a node (container, VM, or simulation). The Node object itself is
 * registered by whatever plays the kubelet on that node (the agent for real nodes, the driver itself
 * for simulated ones), through the API like any other client.
 */

/** A taint to register the node with (core/v1 Taint without timeAdded). */
export interface NodeTaintSpec {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeCreateOptions {
  /** Node name (a DNS-1123 subdomain); also the hostname label. */
  name: string;
  /** Capacity; the driver picks defaults for what is left out. */
  cpu?: string;
  memory?: string;
  pods?: number;
  /** Extra labels (merged over the driver's well-known labels). */
  labels?: Record<string, string>;
  /** Taints to register with. */
  taints?: NodeTaintSpec[];
}

export type NodeState = 'running' | 'stopped';

/** What a driver knows about one of its nodes. */
export interface NodeRecord {
  name: string;
  /** The driver's name (NodeDriver.name), so callers can label it in the UI ("simulated"). */
  driver: string;
  state: NodeState;
  /** The node's InternalIP, once known. */
  internalIP?: string;
  /** The pod CIDR the node uses for its pods, once known. */
  podCIDR?: string;
}

export interface NodeDriver {
  /** "docker", "qemu" or "simulated". */
  readonly name: string;
  /** Creates and starts a node; resolves once the node is registered (or registering). */
  create(opts: NodeCreateOptions): Promise<NodeRecord>;
  /** Starts a stopped node again (heartbeats and pod sync resume). */
  start(name: string): Promise<void>;
  /** Stops a node without removing it (its heartbeats stop: the node goes NotReady). */
  stop(name: string): Promise<void>;
  /** Stops a node and removes it and its Node object. */
  remove(name: string): Promise<void>;
  /** The driver's nodes. */
  list(): Promise<NodeRecord[]>;
  /**
   * Copies images from the host's container engine into every node (`berth image load`), reporting
   * progress lines as it goes. Drivers whose nodes run no containers (simulated) leave it out.
   */
  loadImages?(refs: string[], progress?: (line: string) => void): Promise<void>;
  /** Stops managing every node without removing anything (cluster shutdown; resumed on next start). */
  close(): Promise<void>;
}
