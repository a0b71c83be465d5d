/**
 * The built-in Ingress controller (IngressClass `berth`, controller `berth.dev/ingress`), in the
 * control-plane process. It creates the class at start (marked default unless it exists already),
 * admits the Ingresses of its class (and class-less ones while a default class of ours exists), writes
 * status.loadBalancer.ingress [{ip: 127.0.0.1, ports}] on them, and serves HTTP and HTTPS on loopback
 * ports (default 127.0.0.1:8080 and :8443). Requests are routed by Host and path (routing.ts) to a ready
 * endpoint of the backend Service (endpoints.ts), reached through the pod's node agent (tunnel.ts).
 * A port some other program holds is a log line and a Warning event PortInUse on the IngressClass; the
 * controller retries it every 30 s.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { keyOf, splitKey, type SharedInformer, type SharedInformerFactory } from '../client/informer.ts';
import { WorkQueue, runWorkers } from '../client/workqueue.ts';
import { recordEvent } from '../controllers/replicaset.ts';
import { RoutingTable, ingressSpec } from './routing.ts';
import { RoundRobin, resolveBackend } from './endpoints.ts';
import { IngressProxy, type Lookup } from './proxy.ts';
import { CertificateTable, type CertificatePem } from './tls.ts';
import type { DialPod } from './tunnel.ts';

const G = 'networking.k8s.io';
export const INGRESSES: ResourceRef = { group: G, version: 'v1', resource: 'ingresses' };
export const INGRESS_CLASSES: ResourceRef = { group: G, version: 'v1', resource: 'ingressclasses' };
const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const SECRETS: ResourceRef = { group: '', version: 'v1', resource: 'secrets' };

export const INGRESS_CLASS = 'berth';
export const INGRESS_CONTROLLER = 'berth.dev/ingress';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_HTTPS_PORT = 8443;
const COMPONENT = 'berth-ingress-controller';
/** The work-queue key that rebuilds the routing and certificate tables. */
const TABLES = '\0tables';

export interface IngressControllerOptions {
  client: InProcessClient;
  informers: SharedInformerFactory;
  dial: DialPod;
  /** The certificate for hosts without one of their own. */
  defaultCertificate: CertificatePem;
  /** Listen address (default 127.0.0.1; loopback only). */
  host?: string;
  /** 0 = any free port. */
  httpPort?: number;
  httpsPort?: number;
  retryMs?: number;
  responseTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Listener {
  scheme: 'http' | 'https';
  port: number;
  server?: Server;
  /** The port actually bound (differs from `port` when that is 0). */
  bound?: number;
  error?: string;
  sockets: Set<Socket>;
}

export function isDefaultClass(c: KObject): boolean {
  return c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
}

export class IngressController {
  readonly queue = new WorkQueue();
  private readonly ingresses: SharedInformer;
  private readonly classes: SharedInformer;
  private readonly services: SharedInformer;
  private readonly slices: SharedInformer;
  private readonly secrets: SharedInformer;
  private routes = new RoutingTable([]);
  private certs?: CertificateTable;
  private readonly defaultContext: SecureContext;
  private readonly rr = new RoundRobin();
  private readonly proxy: IngressProxy;
  private readonly listeners: Listener[];
  private readonly host: string;
  /** Secret keys ("ns/name") some admitted Ingress's TLS names: only their changes rebuild. */
  private tlsSecrets = new Set<string>();
  /** TLS problems already reported (message per Ingress), so a rebuild does not repeat events. */
  private reported = new Map<string, string>();
  private running?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: IngressControllerOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.defaultContext = createSecureContext({
      cert: opts.defaultCertificate.certPem,
      key: opts.defaultCertificate.keyPem,
    });
    this.ingresses = opts.informers.informer(INGRESSES);
    this.classes = opts.informers.informer(INGRESS_CLASSES);
    this.services = opts.informers.informer(SERVICES);
    this.slices = opts.informers.informer(SLICES);
    this.secrets = opts.informers.informer(SECRETS);
    const ingressChanged = (o: KObject): void => {
      this.queue.add(TABLES);
      this.queue.add(keyOf(o));
    };
    this.ingresses.addHandlers({
      add: ingressChanged,
      update: (_o, n) => ingressChanged(n),
      delete: () => this.queue.add(TABLES),
    });
    const classChanged = (): void => {
      this.queue.add(TABLES);
      for (const i of this.ingresses.list()) this.queue.add(keyOf(i));
    };
    this.classes.addHandlers({ add: classChanged, update: classChanged, delete: classChanged });
    const secretChanged = (s: KObject): void => {
      if (this.tlsSecrets.has(keyOf(s))) this.queue.add(TABLES);
    };
    this.secrets.addHandlers({
      add: secretChanged,
      update: (_o, n) => secretChanged(n),
      delete: secretChanged,
    });
    this.listeners = [
      { scheme: 'http', port: opts.httpPort ?? DEFAULT_HTTP_PORT, sockets: new Set() },
      { scheme: 'https', port: opts.httpsPort ?? DEFAULT_HTTPS_PORT, sockets: new Set() },
    ];
    this.proxy = new IngressProxy({
      lookup: (host, path) => this.lookup(host, path),
      dial: opts.dial,
      ...(opts.responseTimeoutMs ? { responseTimeoutMs: opts.responseTimeoutMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  async start(): Promise<void> {
    this.ensureClass();
    await this.listenAll();
    this.queue.add(TABLES);
    for (const i of this.ingresses.list()) this.queue.add(keyOf(i));
    this.running = runWorkers(this.queue, 1, (k) => this.sync(k), undefined, this.opts.client);
    this.retry = setInterval(() => {
      if (this.listeners.some((l) => l.error)) void this.listenAll();
    }, this.opts.retryMs ?? 30_000);
    this.retry.unref?.();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry) clearInterval(this.retry);
    this.queue.shutDown();
    await this.running;
    await Promise.all(this.listeners.map((l) => this.close(l)));
  }

  /** The ports served now ({http, https}; undefined while a port could not be bound). */
  ports(): { http?: number; https?: number } {
    const [http, https] = this.listeners;
    return { http: http?.bound, https: https?.bound };
  }

  /** Creates IngressClass `berth` (default class) unless it exists: a user's changes to it are kept. */
  private ensureClass(): void {
    try {
      this.opts.client.create(INGRESS_CLASSES, '', {
        apiVersion: `${G}/v1`,
        kind: 'IngressClass',
        metadata: { name: INGRESS_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
        spec: { controller: INGRESS_CONTROLLER },
      });
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409)) throw e;
    }
  }

  /** Whether this controller serves the Ingress (its class, or no class while our class is the default). */
  isOurs(ing: KObject): boolean {
    const named =
      ingressSpec(ing).ingressClassName ?? ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION] ?? undefined;
    const ours = (c: KObject | undefined): boolean =>
      (c?.['spec'] as { controller?: string } | undefined)?.controller === INGRESS_CONTROLLER;
    if (named !== undefined) return ours(this.classes.get('', named));
    const defaults = this.classes.list().filter(isDefaultClass);
    return defaults.length > 0 && defaults.every(ours);
  }

  private admitted(): KObject[] {
    return this.ingresses.list().filter((i) => !i.metadata.deletionTimestamp && this.isOurs(i));
  }

  private lookup(host: string | undefined, path: string): Lookup {
    const route = this.routes.match(host, path);
    if (!route) return { kind: 'notFound' };
    if ('unsupported' in route.target) return { kind: 'unavailable', reason: route.target.unsupported };
    const b = route.target.backend;
    const r = resolveBackend(b, this.services.get(b.namespace, b.service), this.slices.list(b.namespace));
    if ('error' in r) return { kind: 'unavailable', reason: r.error };
    const key = `${b.namespace}/${b.service}:${b.port}`;
    return { kind: 'ok', key, endpoints: this.rr.order(key, r.endpoints) };
  }

  sync(key: string): void {
    if (key === TABLES) return this.rebuild();
    const { namespace, name } = splitKey(key);
    const ing = this.ingresses.get(namespace, name);
    if (!ing || ing.metadata.deletionTimestamp) return;
    this.writeStatus(ing, this.isOurs(ing));
  }

  private rebuild(): void {
    const admitted = this.admitted();
    this.routes = new RoutingTable(admitted);
    this.tlsSecrets = new Set(
      admitted.flatMap((i) =>
        (ingressSpec(i).tls ?? []).map((t) => `${i.metadata.namespace ?? ''}/${t.secretName ?? ''}`),
      ),
    );
    this.certs = new CertificateTable(admitted, (ns, n) => this.secrets.get(ns, n));
    const now = new Map<string, string>();
    for (const p of this.certs.problems) {
      const k = keyOf(p.ingress);
      now.set(k, `${now.get(k) ?? ''}${p.message}; `);
    }
    for (const [k, message] of now)
      if (this.reported.get(k) !== message) {
        const ing = this.ingresses.getByKey(k);
        if (ing) recordEvent(this.opts.client, COMPONENT, ing, 'Warning', 'InvalidTLS', message.slice(0, -2));
        this.log(`ingress ${k}: ${message.slice(0, -2)}`);
      }
    this.reported = now;
  }

  private statusPorts(): { port: number; protocol: string; error?: string }[] {
    return this.listeners.map((l) =>
      l.error
        ? { port: l.port, protocol: 'TCP', error: l.error }
        : { port: l.bound ?? l.port, protocol: 'TCP' },
    );
  }

  private writeStatus(ing: KObject, ours: boolean): void {
    const cur = (ing['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)
      ?.loadBalancer?.ingress;
    const want = ours ? [{ ip: this.host, ports: this.statusPorts() }] : undefined;
    if (!ours && !cur?.some((i) => i.ip === this.host)) return;
    if (JSON.stringify(cur ?? null) === JSON.stringify(want ?? null)) return;
    const { namespace, name } = splitKey(keyOf(ing));
    this.opts.client.patch(
      INGRESSES,
      namespace,
      name,
      'application/merge-patch+json',
      { status: { loadBalancer: { ingress: want ?? null } } },
      'status',
    );
    if (ours && !cur?.length)
      recordEvent(this.opts.client, COMPONENT, ing, 'Normal', 'Sync', 'Scheduled for sync');
  }

  private async listenAll(): Promise<void> {
    const before = JSON.stringify(this.statusPorts());
    for (const l of this.listeners) if (!l.server || l.error) await this.listen(l);
    if (JSON.stringify(this.statusPorts()) !== before)
      for (const i of this.ingresses.list()) this.queue.add(keyOf(i));
  }

  private listen(l: Listener): Promise<void> {
    const server =
      l.scheme === 'http'
        ? createHttpServer((req, res) => void this.proxy.handle(req, res, 'http'))
        : createHttpsServer(
            {
              SNICallback: (servername, cb) =>
                cb(null, this.certs?.lookup(servername) ?? this.defaultContext),
              cert: this.opts.defaultCertificate.certPem,
              key: this.opts.defaultCertificate.keyPem,
            },
            (req, res) => void this.proxy.handle(req, res, 'https'),
          );
    server.on('upgrade', (req, socket, head) => void this.proxy.upgrade(req, socket, head, l.scheme));
    server.on('connection', (s: Socket) => {
      l.sockets.add(s);
      s.on('close', () => l.sockets.delete(s));
    });
    server.on('tlsClientError', () => undefined);
    return new Promise((resolve) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const was = l.error;
        l.error =
          e.code === 'EADDRINUSE' ? 'PortInUse' : e.code === 'EACCES' ? 'PortNotPermitted' : 'ListenFailed';
        l.server = undefined;
        if (was !== l.error) this.reportListenFailure(l, e);
        resolve();
      });
      server.listen({ port: l.port, host: this.host, exclusive: true }, () => {
        const a = server.address();
        l.bound = typeof a === 'object' && a ? a.port : l.port;
        l.server = server;
        if (l.error) this.log(`ingress: ${l.scheme} now served on ${this.host}:${l.bound}`);
        delete l.error;
        resolve();
      });
    });
  }

  private reportListenFailure(l: Listener, e: NodeJS.ErrnoException): void {
    const message =
      e.code === 'EADDRINUSE'
        ? `cannot serve Ingress ${l.scheme.toUpperCase()} on ${this.host}:${l.port}: the port is in use by another program; retrying every ${Math.round((this.opts.retryMs ?? 30_000) / 1000)} s (set ${l.scheme === 'http' ? 'ingressHTTPPort' : 'ingressHTTPSPort'} in cluster.json to use another port)`
        : `cannot serve Ingress ${l.scheme.toUpperCase()} on ${this.host}:${l.port}: ${e.message}`;
    this.log(`ingress: ${message}`);
    const cls = this.classes.get('', INGRESS_CLASS) ?? this.tryGetClass();
    if (cls) recordEvent(this.opts.client, COMPONENT, cls, 'Warning', l.error ?? 'ListenFailed', message);
  }

  private tryGetClass(): KObject | undefined {
    try {
      return this.opts.client.get(INGRESS_CLASSES, '', INGRESS_CLASS);
    } catch {
      return undefined;
    }
  }

  private async close(l: Listener): Promise<void> {
    const s = l.server;
    l.server = undefined;
    for (const sock of l.sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Starts the controller (listening included); the composition root calls this. */
export async function startIngressController(opts: IngressControllerOptions): Promise<IngressController> {
  const c = new IngressController(opts);
  await c.start();
  return c;
}
