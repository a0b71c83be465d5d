/**
 * The Docker node driver: each worker node is a container of the node image (vm-images/) on a
 * per-cluster Docker bridge network, with its own volume for /var/lib/containerd. Everything it makes
 * is labelled `dev.berth.cluster=<cluster>` and removed by label. Node containers started earlier (by
 * a previous run of the app) are adopted, never duplicated.
 *
 * Privilege: `--privileged` where the bounding set is complete, else --cap-add of the bounding set
 * (see caps.ts); seccomp and AppArmor unconfined, no masked /proc paths, a private cgroup namespace,
 * tmpfs /run and /tmp. The entrypoint (vm-images/node-entrypoint.sh) makes cgroups writable and starts
 * containerd; create() and start() resolve once it prints "berth-node: containerd ready".
 *
 * With `agent` set, each node runs the node agent (core/agent, bundled into the image) beside
 * containerd: its configuration and a per-node client certificate are put into the container before it
 * starts (agent-files.ts). Without it (driver tests), nodes run containerd only.
 *
 * close() stops the node containers (quitting the app frees their resources); the next start of the
 * cluster starts and adopts the same containers, whose agents bring their pods back.
 */
import { PassThrough, type Readable, Writable } from 'node:stream';
import Docker from 'dockerode';
import type { InProcessClient, ResourceRef } from '../../client/in-process.ts';
import { StatusError } from '../../api/status.ts';
import type { NodeCreateOptions, NodeDriver, NodeRecord } from '../driver.ts';
import { capabilityPlan } from './caps.ts';
import { ensureNodeImages, LABEL_PREFIX, type ProgressFn } from './images.ts';
import { pingDocker } from './prereqs.ts';
import type { AgentConfig } from '../../agent/config.ts';
import { agentFilesArchive, type AgentPki } from './agent-files.ts';

export const CLUSTER_LABEL = `${LABEL_PREFIX}.cluster`;
export const NODE_LABEL = `${LABEL_PREFIX}.node`;
export const ROLE_LABEL = `${LABEL_PREFIX}.role`;
const READY_LINE = 'berth-node: containerd ready';

const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };

export interface DockerDriverOptions {
  /** Cluster name: names and labels everything the driver makes. */
  cluster: string;
  docker?: Docker;
  /** The cluster bridge's subnet (IPv4 CIDR); default: a free /24 in 172.29.0.0/16. */
  subnet?: string;
  /** A node image to use as is (skips the build). */
  image?: string;
  /** vm-images/ directory (default: the checkout's). */
  imagesDir?: string;
  progress?: ProgressFn;
  /** How long to wait for containerd in a node (default 60 s). */
  readyTimeoutMs?: number;
  /** Extra environment for the node (agent settings). */
  env?: Record<string, string>;
  /** The agent command run by the entrypoint beside containerd. */
  agentCommand?: string[];
  /** When given, remove() also deletes the node's Node and Lease objects. */
  client?: InProcessClient;
  /** Run the node agent in every node, configured by this. */
  agent?: AgentSetup;
}

/** What the driver needs to start node agents. */
export interface AgentSetup {
  /** The agent configuration for a node (server URL as seen from the node, ranges, labels…). */
  config(node: NodeCreateOptions): AgentConfig;
  /** The cluster CA and a fresh client certificate for system:node:<name> in group system:nodes. */
  pki(node: string): Promise<AgentPki>;
}

/**
 * Where the node image keeps the agent bundle (vm-images/Dockerfile). --lite-mode (interpreter only,
 * lazy feedback) keeps ~7 MiB less resident at idle with no measurable cost to pod start or exec
 * streams (docs/benchmarks.md, idle RSS).
 */
export const AGENT_COMMAND = [
  'node',
  '--max-semi-space-size=1',
  '--lite-mode',
  '/usr/local/lib/berth/agent.mjs',
];

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const isNotFound = (e: unknown): boolean => (e as { statusCode?: number }).statusCode === 404;
const isNotModified = (e: unknown): boolean => (e as { statusCode?: number }).statusCode === 304;

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** [first, last] address of an IPv4 CIDR as integers. */
export function cidrRange(cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** The first /24 of 172.29.0.0/16, then of 10.250.0.0/16, overlapping none of `used`. */
export function pickSubnet(used: string[]): string {
  for (const prefix of ['172.29', '10.250']) {
    for (let i = 0; i < 256; i++) {
      const c = `${prefix}.${i}.0/24`;
      if (!used.some((u) => cidrsOverlap(c, u))) return c;
    }
  }
  throw new Error('no free /24 in 172.29.0.0/16 or 10.250.0.0/16 for the cluster network; pass a subnet');
}

export class DockerNodeDriver implements NodeDriver {
  readonly name = 'docker';
  readonly docker: Docker;
  private image?: string;
  private imagePromise?: Promise<string>;
  private networkPromise?: Promise<string>;
  private enginePromise?: Promise<unknown>;

  /** The client remove() deletes Node and Lease objects with (when the API server starts after us). */
  setClient(client: InProcessClient): void {
    this.opts.client = client;
  }

  constructor(private readonly opts: DockerDriverOptions) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(opts.cluster))
      throw new Error(`invalid cluster name ${JSON.stringify(opts.cluster)}: want a DNS label`);
    this.docker = opts.docker ?? new Docker();
    if (opts.image) this.image = opts.image;
  }

  get networkName(): string {
    return `berth-${this.opts.cluster}`;
  }

  containerName(node: string): string {
    return `berth-${this.opts.cluster}.${node}`;
  }

  volumeName(node: string): string {
    return `berth-${this.opts.cluster}.${node}.containerd`;
  }

  private labels(role: string, node?: string): Record<string, string> {
    return {
      [CLUSTER_LABEL]: this.opts.cluster,
      [ROLE_LABEL]: role,
      ...(node ? { [NODE_LABEL]: node } : {}),
    };
  }

  private progress(line: string): void {
    this.opts.progress?.(line);
  }

  /** The node image, built (once, cached by content hash) when not given. */
  ensureImage(): Promise<string> {
    if (this.image) return Promise.resolve(this.image);
    this.imagePromise ??= (async () => {
      await this.engine();
      const r = await ensureNodeImages(this.docker, {
        ...(this.opts.imagesDir ? { imagesDir: this.opts.imagesDir } : {}),
        progress: (l) => this.progress(l),
      });
      this.image = r.node;
      return r.node;
    })();
    this.imagePromise.catch(() => (this.imagePromise = undefined));
    return this.imagePromise;
  }

  /** The cluster's bridge network (created with a free subnet, or adopted). Returns its name. */
  ensureNetwork(): Promise<string> {
    this.networkPromise ??= (async () => {
      const name = this.networkName;
      const existing = await this.docker.listNetworks({
        filters: { label: [`${CLUSTER_LABEL}=${this.opts.cluster}`] },
      });
      if (existing.some((n) => n.Name === name)) return name;
      const all = await this.docker.listNetworks();
      const used = all.flatMap((n) =>
        (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter((s) => /^\d+\./.test(s)),
      );
      used.push('10.244.0.0/16', '10.96.0.0/12'); // pod and service ranges
      const subnet = this.opts.subnet ?? pickSubnet(used);
      if (this.opts.subnet && used.some((u) => cidrsOverlap(subnet, u)))
        throw new Error(
          `subnet ${subnet} overlaps an existing Docker network or the cluster's pod/service ranges`,
        );
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: this.labels('network'),
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'true' },
      });
      this.progress(`network ${name} (${subnet})`);
      return name;
    })();
    this.networkPromise.catch(() => (this.networkPromise = undefined));
    return this.networkPromise;
  }

  /** Resolves once the engine answers; rejects with a DockerUnavailableError naming the fix. */
  private engine(): Promise<unknown> {
    this.enginePromise ??= pingDocker(this.docker);
    this.enginePromise.catch(() => (this.enginePromise = undefined));
    return this.enginePromise;
  }

  private async findContainer(node: string): Promise<Docker.ContainerInfo | undefined> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${CLUSTER_LABEL}=${this.opts.cluster}`, `${NODE_LABEL}=${node}`] },
    });
    return list[0];
  }

  private container(node: string): Docker.Container {
    return this.docker.getContainer(this.containerName(node));
  }

  async create(opts: NodeCreateOptions): Promise<NodeRecord> {
    await this.engine();
    const existing = await this.findContainer(opts.name);
    if (existing) {
      // Adopt: a node container from an earlier run. Its agent gets today's configuration (the API
      // server's port may have changed); a running node whose configuration changed restarts.
      const changed = await this.putAgentFiles(opts, this.container(opts.name));
      if (existing.State !== 'running') await this.start(opts.name);
      else if (changed) {
        this.progress(`node ${opts.name}: agent configuration changed, restarting it`);
        await this.container(opts.name)
          .stop({ t: 10 })
          .catch((e: unknown) => {
            if (!isNotModified(e)) throw e;
          });
        await this.start(opts.name);
      }
      return this.record(opts.name);
    }
    const [image, network] = await Promise.all([this.ensureImage(), this.ensureNetwork()]);
    const volume = this.volumeName(opts.name);
    await this.docker.createVolume({ Name: volume, Labels: this.labels('containerd-state', opts.name) });
    const env: Record<string, string> = {
      BERTH_CLUSTER: this.opts.cluster,
      BERTH_NODE_NAME: opts.name,
      ...(opts.cpu ? { BERTH_NODE_CPU: opts.cpu } : {}),
      ...(opts.memory ? { BERTH_NODE_MEMORY: opts.memory } : {}),
      ...(opts.pods !== undefined ? { BERTH_NODE_PODS: String(opts.pods) } : {}),
      ...(opts.labels ? { BERTH_NODE_LABELS: JSON.stringify(opts.labels) } : {}),
      ...(opts.taints ? { BERTH_NODE_TAINTS: JSON.stringify(opts.taints) } : {}),
      ...this.opts.env,
    };
    const plan = capabilityPlan();
    /** Fields the engine takes that @types/dockerode lacks. */
    type HostConfig = Docker.HostConfig & {
      CgroupnsMode?: string;
      MaskedPaths?: string[];
      ReadonlyPaths?: string[];
    };
    const hostConfig = (capAdd: string[]): HostConfig => ({
      // Without --privileged the node still needs every device in its device cgroup, as --privileged
      // gives it: a privileged pod's runtime writes "a *:* rwm" into a child of that cgroup.
      ...(plan.privileged ? { Privileged: true } : { CapAdd: capAdd, DeviceCgroupRules: ['a *:* rwm'] }),
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      MaskedPaths: [],
      ReadonlyPaths: [],
      CgroupnsMode: 'private',
      Tmpfs: { '/run': 'rw,exec,nosuid,nodev,mode=755', '/tmp': 'rw,exec,nosuid,nodev,mode=1777' },
      Mounts: [{ Type: 'volume', Source: volume, Target: '/var/lib/containerd' }],
      NetworkMode: network,
      RestartPolicy: { Name: 'no' },
      Init: false,
    });
    const create = (capAdd: string[]): Promise<Docker.Container> =>
      this.docker.createContainer({
        name: this.containerName(opts.name),
        Hostname: opts.name,
        Image: image,
        Labels: this.labels('node', opts.name),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...(this.agentCommand() ? { Cmd: this.agentCommand() } : {}),
        StopTimeout: 10,
        HostConfig: hostConfig(capAdd),
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [opts.name] } } },
      });
    let capAdd = plan.capAdd;
    let container: Docker.Container | undefined;
    for (let attempt = 0; !container; attempt++) {
      try {
        container = await create(capAdd);
      } catch (e) {
        // Older engines do not know the newest capabilities (20.10: no PERFMON, BPF, CHECKPOINT_RESTORE).
        const m = /unknown capability: "?(?:CAP_)?([A-Z_]+)"?/.exec((e as Error).message);
        if (!m?.[1] || attempt > CAPABILITY_LIMIT) throw e;
        const unknown = m[1];
        capAdd = capAdd.filter((c) => c !== unknown);
      }
    }
    await this.putAgentFiles(opts, container);
    try {
      await this.startAndWait(opts.name, container);
    } catch (e) {
      throw new Error(`node ${opts.name} did not become ready: ${(e as Error).message}`, { cause: e });
    }
    return this.record(opts.name);
  }

  private agentCommand(): string[] | undefined {
    return this.opts.agentCommand ?? (this.opts.agent ? AGENT_COMMAND : undefined);
  }

  /**
   * Puts the agent's configuration and a fresh certificate into the container (when agents run).
   * Returns whether the configuration differs from what the container had.
   */
  private async putAgentFiles(opts: NodeCreateOptions, container: Docker.Container): Promise<boolean> {
    const agent = this.opts.agent;
    if (!agent) return false;
    const config = agent.config(opts);
    const text = `${JSON.stringify(config, null, 2)}\n`;
    let before: string | undefined;
    try {
      const info = await container.inspect();
      if (info.State.Running) before = (await this.exec(opts.name, ['cat', '/etc/berth/agent.json'])).stdout;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (before === text) return false;
    await container.putArchive(await agentFilesArchive(config, await agent.pki(opts.name)), { path: '/' });
    return before !== undefined;
  }

  /** The cluster network's gateway: the host's address on the bridge, where nodes reach the API server. */
  async gatewayIP(): Promise<string> {
    const name = await this.ensureNetwork();
    const info = (await this.docker.getNetwork(name).inspect()) as {
      IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
    };
    const cfg = info.IPAM?.Config?.find((c) => c.Subnet && /^\d+\./.test(c.Subnet));
    if (cfg?.Gateway) return cfg.Gateway;
    if (!cfg?.Subnet) throw new Error(`network ${name} has no IPv4 subnet`);
    const [first] = cidrRange(cfg.Subnet);
    return [24, 16, 8, 0].map((sh) => ((first + 1) >>> sh) & 255).join('.');
  }

  /** Starts the container and waits for the entrypoint's ready line (of this start, not an earlier). */
  private async startAndWait(node: string, container = this.container(node)): Promise<void> {
    try {
      await container.start();
    } catch (e) {
      if (!isNotModified(e)) throw e;
    }
    const info = await container.inspect();
    const since = Date.parse(info.State.StartedAt) / 1000;
    const timeoutMs = this.opts.readyTimeoutMs ?? 60_000;
    const stream = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
      since: Math.floor(since),
    })) as unknown as Readable;
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          text += chunk.toString();
          if (text.includes(READY_LINE)) finish();
          cb();
        },
      });
      const timer = setTimeout(
        () => finish(new Error(`containerd not ready after ${timeoutMs} ms; log:\n${text.slice(-2000)}`)),
        timeoutMs,
      );
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stream.destroy();
        if (err) reject(err);
        else resolve();
      };
      this.docker.modem.demuxStream(stream, sink, sink);
      stream.on('end', () => finish(new Error(`node container exited; log:\n${text.slice(-2000)}`)));
      stream.on('error', (e: Error) => finish(e));
    });
  }

  private async record(node: string): Promise<NodeRecord> {
    const info = await this.container(node).inspect();
    const ip = info.NetworkSettings.Networks[this.networkName]?.IPAddress;
    return {
      name: node,
      driver: this.name,
      state: info.State.Running ? 'running' : 'stopped',
      ...(ip ? { internalIP: ip } : {}),
    };
  }

  async start(name: string): Promise<void> {
    await this.startAndWait(name);
  }

  async stop(name: string): Promise<void> {
    try {
      await this.container(name).stop({ t: 10 });
    } catch (e) {
      if (!isNotModified(e)) throw e;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.container(name).remove({ force: true, v: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.removeVolumes([`${NODE_LABEL}=${name}`]);
    const client = this.opts.client;
    if (client) {
      for (const [ref, ns] of [
        [nodesRef, ''],
        [leasesRef, 'kube-node-lease'],
      ] as const) {
        try {
          client.delete(ref, ns, name);
        } catch (e) {
          if (!(e instanceof StatusError && e.code === 404)) throw e;
        }
      }
    }
  }

  private async removeVolumes(extra: string[]): Promise<void> {
    const { Volumes } = await this.docker.listVolumes({
      filters: { label: [`${CLUSTER_LABEL}=${this.opts.cluster}`, ...extra] },
    });
    for (const v of Volumes ?? []) {
      try {
        await this.docker.getVolume(v.Name).remove();
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  async list(): Promise<NodeRecord[]> {
    await this.engine();
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${CLUSTER_LABEL}=${this.opts.cluster}`, `${ROLE_LABEL}=node`] },
    });
    return list
      .map((c): NodeRecord => {
        const ip = c.NetworkSettings?.Networks?.[this.networkName]?.IPAddress;
        return {
          name: c.Labels[NODE_LABEL] ?? '',
          driver: this.name,
          state: c.State === 'running' ? 'running' : 'stopped',
          ...(ip ? { internalIP: ip } : {}),
        };
      })
      .filter((r) => r.name)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Stops every running node of the cluster (in parallel); the next start adopts them. */
  async close(): Promise<void> {
    if (!this.opts.agent) return;
    const nodes = (await this.list()).filter((n) => n.state === 'running');
    await Promise.all(nodes.map((n) => this.stop(n.name)));
  }

  /** Removes every container, volume and network labelled with this cluster. */
  async destroy(): Promise<void> {
    const filters = { label: [`${CLUSTER_LABEL}=${this.opts.cluster}`] };
    for (const c of await this.docker.listContainers({ all: true, filters })) {
      try {
        await this.docker.getContainer(c.Id).remove({ force: true, v: true });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    await this.removeVolumes([]);
    for (const n of await this.docker.listNetworks({ filters })) {
      try {
        await this.docker.getNetwork(n.Id).remove();
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    this.networkPromise = undefined;
  }

  /** Runs a command in a node; `stdin` is streamed in and closed. */
  async exec(node: string, cmd: string[], stdin?: Readable | Buffer | string): Promise<ExecResult> {
    const ex = await this.container(node).exec({
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: stdin !== undefined,
    });
    const stream = (await ex.start({
      hijack: true,
      stdin: stdin !== undefined,
    })) as unknown as NodeJS.ReadWriteStream;
    const out = new PassThrough();
    const err = new PassThrough();
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on('data', (d: Buffer) => outChunks.push(d));
    err.on('data', (d: Buffer) => errChunks.push(d));
    this.docker.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', reject);
    });
    if (stdin !== undefined) {
      if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) stream.end(stdin);
      else stdin.pipe(stream);
    }
    await ended;
    const { ExitCode } = await ex.inspect();
    return {
      exitCode: ExitCode ?? -1,
      stdout: Buffer.concat(outChunks).toString(),
      stderr: Buffer.concat(errChunks).toString(),
    };
  }

  /**
   * `berth image load`: copies images from the host's Docker into every running node's containerd
   * (one `docker save` of all of them, imported into the nodes in parallel).
   */
  async loadImages(refs: string[], progress: (line: string) => void = () => {}): Promise<void> {
    await this.engine();
    for (const ref of refs) {
      try {
        await this.docker.getImage(ref).inspect();
      } catch (e) {
        if (isNotFound(e))
          throw new Error(
            `image ${ref} is not in the host's Docker (docker images); build or pull it there first`,
            { cause: e },
          );
        throw e;
      }
    }
    const nodes = (await this.list()).filter((n) => n.state === 'running');
    if (!nodes.length) throw new Error('no running nodes to load images into (berth node ls)');
    // GET /images/get?names=…: one archive with every image (dockerode lacks types for it).
    const getImages = (this.docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> })
      .getImages;
    const stream = await getImages.call(this.docker, { names: refs });
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    const tar = Buffer.concat(chunks);
    progress(`${refs.join(', ')}: ${(tar.length / 1048576).toFixed(1)} MiB from the host's Docker`);
    await Promise.all(
      nodes.map(async (n) => {
        const r = await this.exec(
          n.name,
          ['ctr', '-n', 'k8s.io', 'images', 'import', '--all-platforms', '-'],
          tar,
        );
        if (r.exitCode !== 0)
          throw new Error(`importing into ${n.name} failed: ${r.stderr.trim() || r.stdout.trim()}`);
        progress(`loaded into ${n.name}`);
      }),
    );
  }

  /** Copies an image from the host's Docker into a node's containerd (namespace k8s.io). */
  async loadImage(node: string, ref: string): Promise<void> {
    const tar = (await this.docker.getImage(ref).get()) as unknown as Readable;
    const r = await this.exec(node, ['ctr', '-n', 'k8s.io', 'images', 'import', '--all-platforms', '-'], tar);
    if (r.exitCode !== 0)
      throw new Error(`importing ${ref} into ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  }
}

const CAPABILITY_LIMIT = 8;
