/**
 * The Kubernetes API server: HTTPS (HTTP/1.1) with optional client certificates, authentication,
 * impersonation, authorization, discovery, OpenAPI, health endpoints and the resource handlers.
 */
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Attributes, Authorizer, UserInfo } from '../auth/types.ts';
import { errors } from '../api/status.ts';
import type { Strategy, RequestContext } from '../registry/types.ts';
import type { Store } from '../store/types.ts';
import { type Authenticator, impersonationRequest } from './authn.ts';
import { forbiddenReason } from './authz.ts';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from './discovery.ts';
import { GenericRegistry, groupResource } from './generic-registry.ts';
import { sendError, sendJSON, sendText, toStatusError } from './http-util.ts';
import { negotiateDiscovery } from './negotiate.ts';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';
import { ResourceHandlers, type FieldValidator, type Patcher } from './resource-handlers.ts';
import { ResourceTable } from './resources.ts';
import type { ProtobufDecoder } from './body.ts';
import { podBindingHandler } from './subresources/pod-binding.ts';
import { podEvictionHandler } from './subresources/pod-eviction.ts';
import { podEphemeralContainersHandler } from './subresources/pod-ephemeral-containers.ts';
import { NodeConnector, type NodeClientCredentials } from './node-connection.ts';
import { podLogHandler } from './subresources/pod-log.ts';
import { podExecHandler, type UpgradeHandler } from './subresources/pod-exec.ts';
import { podAttachHandler } from './subresources/pod-attach.ts';
import { podPortForwardHandler } from './subresources/pod-portforward.ts';
import { isWebSocketUpgrade, rejectUpgrade } from '../streams/upgrade.ts';
import type { Duplex } from 'node:stream';
import type { AuditLog } from './audit.ts';
import { MetricsApi, type MetricsProvider } from './metrics-api.ts';
import { CustomResourceServing, withCustomResourcePruning } from '../apiextensions/serving.ts';
import { customResourceOpenAPI } from '../openapi/custom-resources.ts';

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export interface OpenAPIProvider {
  v2(): Buffer;
  v3Index(): object;
  v3Doc(path: string): { json: string; hash: string } | undefined;
}

export interface ApiServerOptions {
  store: Store;
  strategies: readonly Strategy[];
  tls: { key: string; cert: string; ca: string };
  authenticator: Authenticator;
  authorizer: Authorizer;
  version: VersionInfo;
  protobuf?: ProtobufDecoder;
  patcher?: Patcher;
  fieldValidator?: FieldValidator;
  openapi?: OpenAPIProvider;
  /** Readiness beyond "listening" (e.g. bootstrap objects created). */
  isReady?: () => boolean;
  /** The client certificate (CN kube-apiserver-kubelet-client) for node agents' endpoints: logs, exec… */
  nodeClient?: NodeClientCredentials;
  /** The audit log (one event per request, Metadata level). */
  audit?: AuditLog;
}

export class ApiServer {
  readonly table: ResourceTable;
  readonly registry: GenericRegistry;
  readonly handlers: ResourceHandlers;
  readonly customResources: CustomResourceServing;
  private readonly openapi?: OpenAPIProvider;
  /** Listeners: loopback, and the cluster bridge's gateway when nodes must reach the server. */
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(readonly opts: ApiServerOptions) {
    this.table = new ResourceTable(opts.strategies);
    this.registry = new GenericRegistry(opts.store, this.table);
    this.handlers = new ResourceHandlers({
      registry: this.registry,
      protobuf: opts.protobuf,
      patcher: opts.patcher,
      fieldValidator: withCustomResourcePruning(opts.fieldValidator),
    });
    // Custom resources: served from the stored CRDs (at once for those already established).
    this.customResources = new CustomResourceServing(this.registry, this.table);
    this.customResources.start();
    this.openapi = opts.openapi && customResourceOpenAPI(opts.openapi, this.table, opts.version.gitVersion);
    this.handlers.extraSubresources.set('/pods/binding', podBindingHandler(this.registry, opts.protobuf));
    this.handlers.extraSubresources.set('/pods/eviction', podEvictionHandler(this.registry, opts.protobuf));
    this.handlers.extraSubresources.set(
      '/pods/ephemeralcontainers',
      podEphemeralContainersHandler(this.registry, opts.patcher, opts.protobuf),
    );
    const nodes = new NodeConnector(this.registry, this.table, opts.nodeClient);
    this.handlers.extraSubresources.set('/pods/log', podLogHandler(nodes));
    this.upgrades.set('exec', podExecHandler(nodes));
    this.upgrades.set('attach', podAttachHandler(nodes));
    this.upgrades.set('portforward', podPortForwardHandler(nodes));
    for (const sub of this.upgrades.keys())
      this.handlers.extraSubresources.set(`/pods/${sub}`, () =>
        Promise.reject(errors.badRequest('Upgrade request required')),
      );
  }

  /** Streaming pod subresources, reached through HTTP upgrades (WebSocket or SPDY/3.1). */
  private readonly upgrades = new Map<string, UpgradeHandler>();

  /** metrics.k8s.io, once a provider is given (serveMetrics). */
  private metrics?: MetricsApi;

  /** Serves the resource metrics API (metrics.k8s.io/v1beta1) from `provider`; lists it in discovery. */
  serveMetrics(provider: MetricsProvider): void {
    this.metrics = new MetricsApi(provider);
  }

  /** A request context for in-process callers (controllers) acting as `user`. */
  context(user: UserInfo, dryRun = false): RequestContext {
    return { user, now: new Date(), dryRun, authorizer: this.opts.authorizer };
  }

  /** Listens on host:port (again for each address to serve on); resolves with the port. */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createHttpsServer(
      {
        key: this.opts.tls.key,
        cert: this.opts.tls.cert,
        ca: this.opts.tls.ca,
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      },
      (req, res) => void this.onRequest(req, res),
    );
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 70_000;
    server.requestTimeout = 0; // watches and streams are long-lived
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head),
    );
    server.on('tlsClientError', () => {
      /* a client that fails the TLS handshake is not our problem */
    });
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.customResources.stop();
    const all = this.servers.splice(0);
    for (const sock of this.sockets) sock.destroy();
    await Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private authorize(a: Attributes): void {
    const r = this.opts.authorizer.authorize(a);
    if (r.decision === 'allow') return;
    const why = forbiddenReason(a, r.reason);
    if (!a.resourceRequest) throw errors.forbiddenPath(why);
    const gr = { group: a.apiGroup, resource: a.subresource ? `${a.resource}/${a.subresource}` : a.resource };
    throw errors.forbidden(gr, a.name, why);
  }

  /** Applies Impersonate-* headers after checking the impersonate verb for each part. */
  private impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
    const target = impersonationRequest(req);
    if (!target) return user;
    const check = (resource: string, name: string, apiGroup = ''): void => {
      const ns =
        resource === 'serviceaccounts'
          ? (/^system:serviceaccount:([^:]+):/.exec(target.username)?.[1] ?? '')
          : '';
      const a: Attributes = {
        user,
        verb: 'impersonate',
        resourceRequest: true,
        apiGroup,
        apiVersion: '',
        resource,
        subresource: '',
        namespace: ns,
        name: resource === 'serviceaccounts' ? target.username.split(':').pop()! : name,
        path: '',
      };
      if (this.opts.authorizer.authorize(a).decision !== 'allow')
        throw errors.forbidden({ group: apiGroup, resource }, a.name, forbiddenReason(a, ''));
    };
    if (/^system:serviceaccount:[^:]+:[^:]+$/.test(target.username))
      check('serviceaccounts', target.username);
    else check('users', target.username);
    // Groups the server adds itself (system:authenticated; a service account's groups when none were
    // requested) need no impersonate permission, as upstream.
    const sa = /^system:serviceaccount:([^:]+):/.exec(target.username);
    const implied = ['system:authenticated'];
    if (sa && !req.headersDistinct['impersonate-group']?.length)
      implied.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    for (const g of target.groups) if (!implied.includes(g)) check('groups', g);
    if (target.uid) check('uids', target.uid, 'authentication.k8s.io');
    for (const [k, vs] of Object.entries(target.extra ?? {}))
      for (const v of vs) check(`userextras/${k}`, v, 'authentication.k8s.io');
    return target;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const audit = this.opts.audit?.start(req, res);
    try {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const q = url.searchParams;
      const authn = this.opts.authenticator.authenticate(req);
      const user = this.impersonate(req, authn);
      const info = parseRequestInfo(req.method ?? 'GET', path, q);
      const ctx: RequestContext = {
        user,
        now: new Date(),
        dryRun: false,
        authorizer: this.opts.authorizer,
        warnings: [],
        auditAnnotations: {},
      };
      audit?.identify(authn, user, info, ctx.auditAnnotations);

      if (!info.isResourceRequest) {
        this.authorize({
          user,
          verb: info.verb,
          resourceRequest: false,
          apiGroup: '',
          apiVersion: '',
          resource: '',
          subresource: '',
          namespace: '',
          name: '',
          path,
        });
        return this.nonResource(req, res, path, q);
      }
      const metricsApi = this.metrics;
      const metrics = metricsApi?.lookup(info);
      const served = this.table.lookup(info.apiGroup, info.apiVersion, info.resource) ?? metrics;
      if (!served) throw errors.pathNotFound();
      if (served.strategy.info.namespaced === false && info.namespace) throw errors.pathNotFound();
      this.authorize({
        user,
        verb: info.verb,
        resourceRequest: true,
        apiGroup: info.apiGroup,
        apiVersion: info.apiVersion,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
        path,
      });
      if (metricsApi && served === metrics) return metricsApi.handle(req, res, info, served, q);
      await this.handlers.handle(req, res, info, served, ctx, q);
    } catch (e) {
      if (!res.headersSent) sendError(res, e);
      else if (!res.writableEnded) res.end();
    }
  }

  /** Authenticates and authorizes an upgrade like a request; a WebSocket GET also needs `create`. */
  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const user = this.impersonate(req, this.opts.authenticator.authenticate(req));
      const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
      const handler =
        info.isResourceRequest && info.apiGroup === '' && info.resource === 'pods' && info.name
          ? this.upgrades.get(info.subresource)
          : undefined;
      if (!handler || !this.table.lookup('', info.apiVersion, 'pods')) throw errors.pathNotFound();
      const { verb, apiVersion, subresource, namespace, name } = info;
      const a: Attributes = {
        user,
        verb,
        resourceRequest: true,
        apiGroup: '',
        apiVersion,
        resource: 'pods',
        subresource,
        namespace,
        name,
        path,
      };
      this.authorize(a);
      if (a.verb === 'get' && isWebSocketUpgrade(req)) this.authorize({ ...a, verb: 'create' });
      await handler(req, socket, head, info, url.searchParams);
    } catch (e) {
      const se = toStatusError(e);
      rejectUpgrade(socket, se.status.code, se.status);
    }
  }

  private sendCached(
    req: IncomingMessage,
    res: ServerResponse,
    body: object,
    contentType = 'application/json',
  ): void {
    const text = JSON.stringify(body);
    const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 32)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag, Vary: 'Accept' });
      res.end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(text),
      ETag: etag,
      Vary: 'Accept',
      'Cache-Control': 'public',
    });
    res.end(text);
  }

  private nonResource(req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams): void {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw errors.methodNotSupported({ group: '', resource: path }, (req.method ?? '').toLowerCase());
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      const ready = path !== '/readyz' || (this.opts.isReady?.() ?? true);
      if (q.has('verbose'))
        return sendText(
          res,
          ready ? 200 : 500,
          ready
            ? `[+]ping ok\n${path.slice(1)} check passed\n`
            : `[-]bootstrap failed\n${path.slice(1)} check failed\n`,
        );
      return sendText(res, ready ? 200 : 500, ready ? 'ok' : 'not ready');
    }
    if (path === '/version') return sendJSON(res, 200, this.opts.version);
    const host = req.headers.host ?? '127.0.0.1';
    const table = this.metrics?.discoveryTable(this.table) ?? this.table;
    if (path === '/api') {
      const v = negotiateDiscovery(req.headers.accept);
      return v
        ? this.sendCached(req, res, aggregatedDiscovery(table, 'api', v), aggregatedContentType(v))
        : this.sendCached(req, res, apiVersions(host));
    }
    if (path === '/apis') {
      const v = negotiateDiscovery(req.headers.accept);
      return v
        ? this.sendCached(req, res, aggregatedDiscovery(table, 'apis', v), aggregatedContentType(v))
        : this.sendCached(req, res, apiGroupList(table));
    }
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/([^/]+)$/.exec(path))) {
      const doc = apiResourceList(table, '', m[1]!);
      if (doc) return this.sendCached(req, res, doc);
    }
    if ((m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path))) {
      const doc = apiResourceList(table, m[1]!, m[2]!);
      if (doc) return this.sendCached(req, res, doc);
    }
    if ((m = /^\/apis\/([^/]+)$/.exec(path))) {
      const doc = apiGroup(table, m[1]!);
      if (doc) return this.sendCached(req, res, doc);
    }
    const oa = this.openapi;
    if (oa && path === '/openapi/v2') {
      const body = oa.v2();
      res.writeHead(200, {
        'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
        'Content-Length': body.length,
      });
      res.end(body);
      return;
    }
    if (oa && path === '/openapi/v3') return this.sendCached(req, res, oa.v3Index());
    if (oa && path.startsWith('/openapi/v3/')) {
      const doc = oa.v3Doc(path.slice('/openapi/v3/'.length));
      if (doc) {
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(doc.json),
          ETag: `"${doc.hash}"`,
          'Cache-Control': q.get('hash') === doc.hash ? 'public, immutable' : 'no-cache, private',
        });
        res.end(doc.json);
        return;
      }
    }
    throw errors.pathNotFound();
  }
}

export { groupResource };
export type { RequestInfo };
