/**
 * LoadBalancer Services on the desktop (the way Docker Desktop does it): the control-plane process gives
 * every `type: LoadBalancer` Service the ingress address 127.0.0.1 and listens on 127.0.0.1:<port> for
 * each of its TCP ports, forwarding every connection to <a Ready node's InternalIP>:<nodePort>
 * (round-robin over Ready nodes, the next node tried when one refuses); the node's service proxy takes
 * it from there. Loopback only: nothing listens on other interfaces.
 *
 * One address (127.0.0.1) for every Service, so two Services cannot share a port: the later one gets
 * `ingress[].ports[].error` "PortInUse" and a Warning event SyncLoadBalancerFailed, as does a port some
 * other program holds; the listener is retried on the next change and every 30 s. UDP and SCTP ports are
 * reported "ProtocolNotSupported". Listeners close when the Service goes away or changes type.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, type SharedInformerFactory } from '../client/informer.ts';
import { WorkQueue, runWorkers } from '../client/workqueue.ts';
import { recordEvent } from '../controllers/replicaset.ts';

const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const COMPONENT = 'berth-load-balancer';

export const LOAD_BALANCER_IP = '127.0.0.1';

interface PortSpec {
  name?: string;
  protocol?: string;
  port: number;
  nodePort?: number;
}
interface PortStatus {
  port: number;
  protocol: string;
  error?: string;
}

interface Listener {
  server: Server;
  /** The node port connections go to (updated in place when the Service changes). */
  nodePort: number;
  error?: string;
  sockets: Set<Socket>;
}

export interface LoadBalancerOptions {
  client: InProcessClient;
  informers: SharedInformerFactory;
  /** Listen address (tests may pick another loopback address); default 127.0.0.1. */
  host?: string;
  retryMs?: number;
}

const isLoadBalancer = (svc: KObject | undefined): boolean =>
  (svc?.['spec'] as { type?: string } | undefined)?.type === 'LoadBalancer';

function readyNodeIPs(nodes: KObject[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const st = n['status'] as
      | { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] }
      | undefined;
    if (!st?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const ip = st.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (ip) out.push(ip);
  }
  return out.sort();
}

export class LoadBalancerController {
  readonly queue = new WorkQueue();
  private readonly services: SharedInformer;
  private readonly nodes: SharedInformer;
  /** "ns/name" → port → listener. */
  private readonly listeners = new Map<string, Map<number, Listener>>();
  private readonly host: string;
  private next = 0;
  private running?: Promise<void>;
  private retry?: NodeJS.Timeout;

  constructor(private readonly opts: LoadBalancerOptions) {
    this.host = opts.host ?? LOAD_BALANCER_IP;
    this.services = opts.informers.informer(SERVICES);
    this.nodes = opts.informers.informer(NODES);
    this.services.addHandlers({
      add: (s) => this.queue.add(keyOf(s)),
      update: (_o, s) => this.queue.add(keyOf(s)),
      delete: (s) => this.queue.add(keyOf(s)),
    });
  }

  start(): void {
    this.running = runWorkers(this.queue, 1, (k) => this.sync(k), undefined, this.opts.client);
    // Ports another program held may be free now.
    this.retry = setInterval(() => {
      for (const [k, ports] of this.listeners)
        if ([...ports.values()].some((l) => l.error)) this.queue.add(k);
    }, this.opts.retryMs ?? 30_000);
    this.retry.unref?.();
  }

  async stop(): Promise<void> {
    if (this.retry) clearInterval(this.retry);
    this.queue.shutDown();
    await this.running;
    await Promise.all([...this.listeners.keys()].map((k) => this.closeAll(k)));
  }

  /** The ports listened on now (for tests): "ns/name" → ports. */
  listening(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [k, ports] of this.listeners)
      out.set(
        k,
        [...ports].filter(([, l]) => !l.error).map(([p]) => p),
      );
    return out;
  }

  async sync(key: string): Promise<void> {
    const svc = this.services.get(splitKey(key).namespace, splitKey(key).name);
    if (!svc || !isLoadBalancer(svc) || svc.metadata.deletionTimestamp) {
      await this.closeAll(key);
      if (svc && !isLoadBalancer(svc)) this.clearStatus(svc);
      return;
    }
    const ports = ((svc['spec'] as { ports?: PortSpec[] }).ports ?? []).filter((p) => p.port);
    const have = this.listeners.get(key) ?? new Map<number, Listener>();
    this.listeners.set(key, have);
    const wanted = new Set<number>();
    const status: PortStatus[] = [];
    const failures: string[] = [];
    for (const p of ports) {
      const protocol = p.protocol ?? 'TCP';
      if (protocol !== 'TCP') {
        status.push({ port: p.port, protocol, error: 'ProtocolNotSupported' });
        failures.push(`${protocol} port ${p.port}: only TCP is forwarded from the host`);
        continue;
      }
      wanted.add(p.port);
      let l = have.get(p.port);
      if (l?.error) {
        have.delete(p.port);
        l = undefined;
      }
      if (!l) {
        l = await this.listen(p.port, p.nodePort ?? 0);
        have.set(p.port, l);
      }
      l.nodePort = p.nodePort ?? 0;
      if (!l.nodePort && !l.error) l.error = 'NoNodePort';
      status.push({ port: p.port, protocol, ...(l.error ? { error: l.error } : {}) });
      if (l.error === 'PortInUse')
        failures.push(`${this.host}:${p.port} is in use (by another Service or program on this computer)`);
      else if (l.error) failures.push(`${this.host}:${p.port}: ${l.error}`);
    }
    for (const [port, l] of have)
      if (!wanted.has(port)) {
        have.delete(port);
        await this.close(l);
      }
    this.writeStatus(svc, status, failures);
  }

  private listen(port: number, nodePort: number): Promise<Listener> {
    const l: Listener = { server: createServer(), nodePort, sockets: new Set() };
    l.server.on('connection', (s) => this.forward(l, s));
    return new Promise((resolve) => {
      l.server.once('error', (e: NodeJS.ErrnoException) => {
        l.error =
          e.code === 'EADDRINUSE' ? 'PortInUse' : e.code === 'EACCES' ? 'PortNotPermitted' : 'ListenFailed';
        resolve(l);
      });
      l.server.listen({ port, host: this.host, exclusive: true }, () => resolve(l));
    });
  }

  /** One connection: to the next Ready node's node port; a node that refuses → the next one. */
  private forward(l: Listener, client: Socket): void {
    l.sockets.add(client);
    client.on('close', () => l.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const ips = readyNodeIPs(this.nodes.list());
    const attempt = (left: number): void => {
      if (!left || !l.nodePort) {
        client.destroy();
        return;
      }
      const ip = ips[this.next++ % ips.length]!;
      const upstream = connect({ host: ip, port: l.nodePort });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        upstream.setNoDelay(true);
        client.setNoDelay(true);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (!connected) attempt(left - 1);
        else client.destroy();
      });
      upstream.on('close', () => connected && client.end());
      client.on('close', () => upstream.destroy());
    };
    attempt(ips.length);
  }

  private async close(l: Listener): Promise<void> {
    for (const s of l.sockets) s.destroy();
    if (l.error) return;
    await new Promise<void>((r) => l.server.close(() => r()));
  }

  private async closeAll(key: string): Promise<void> {
    const have = this.listeners.get(key);
    this.listeners.delete(key);
    for (const l of have?.values() ?? []) await this.close(l);
  }

  private writeStatus(svc: KObject, ports: PortStatus[], failures: string[]): void {
    const ingress = [{ ip: this.host, ports }];
    const cur = (svc['status'] as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer
      ?.ingress;
    if (JSON.stringify(cur) === JSON.stringify(ingress)) return;
    this.patchIngress(svc, ingress);
    if (failures.length)
      recordEvent(
        this.opts.client,
        COMPONENT,
        svc,
        'Warning',
        'SyncLoadBalancerFailed',
        `Error syncing load balancer: ${failures.join('; ')}`,
      );
    else
      recordEvent(
        this.opts.client,
        COMPONENT,
        svc,
        'Normal',
        'EnsuredLoadBalancer',
        `Ensured load balancer: ${ports.map((p) => `${this.host}:${p.port}`).join(', ')}`,
      );
  }

  /** A Service that stopped being a LoadBalancer loses the address we gave it. */
  private clearStatus(svc: KObject): void {
    const ingress = (svc['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)
      ?.loadBalancer?.ingress;
    if (ingress?.some((i) => i.ip === this.host)) this.patchIngress(svc, null);
  }

  private patchIngress(svc: KObject, ingress: unknown): void {
    const { namespace, name } = splitKey(keyOf(svc));
    const body = { status: { loadBalancer: { ingress } } };
    this.opts.client.patch(SERVICES, namespace, name, 'application/merge-patch+json', body, 'status');
  }
}

/** Starts the controller (the composition root calls this for clusters with real nodes). */
export function startLoadBalancers(opts: LoadBalancerOptions): LoadBalancerController {
  const c = new LoadBalancerController(opts);
  c.start();
  return c;
}
