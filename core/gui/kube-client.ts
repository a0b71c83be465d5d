/**
 * A small generic Kubernetes client for the GUI services, built on @kubernetes/client-node's KubeConfig
 * (credentials, TLS, exec/OIDC auth plugins) and Watch. Objects stay plain JSON exactly as the API
 * server sent them (the typed client's ObjectSerializer would turn timestamps into Date objects).
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { ContractError, KubeObject, KubeStatus, ResourceRef } from './contract.ts';

export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string | undefined;
  readonly status: KubeStatus;
  constructor(code: number, status: KubeStatus) {
    super(status.message || `the server answered ${code}`);
    this.code = code;
    this.reason = status.reason;
    this.status = status;
  }
}

export function toContractError(e: unknown): ContractError {
  if (e instanceof KubeApiError) {
    const out: ContractError = { message: e.message, code: e.code };
    if (e.reason) out.reason = e.reason;
    if (e.status.details?.causes) out.causes = e.status.details.causes;
    return out;
  }
  return { message: errorText(e) };
}

/**
 * A readable message for anything thrown: Errors, WebSocket error events (`{ message }` or
 * `{ error: Error }`), Kubernetes Status bodies, strings.
 */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null) {
    const o = e as { message?: unknown; error?: unknown; body?: unknown; type?: unknown };
    if (typeof o.message === 'string' && o.message) return o.message;
    if (o.error instanceof Error) return o.error.message;
    if (typeof o.body === 'string' && o.body) return o.body.slice(0, 500);
    try {
      return JSON.stringify(e).slice(0, 500);
    } catch {
      return String(e);
    }
  }
  return String(e);
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: string;
  contentType?: string;
  /** Idle timeout (default 30 s); 0: none. */
  timeoutMs?: number;
}

export interface DiscoveredResource {
  ref: ResourceRef;
  kind: string;
  namespaced: boolean;
}

interface APIResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

export function resourcePath(
  ref: ResourceRef,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  let p = base;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${ref.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export class KubeClient {
  readonly kc: KubeConfig;
  private discovery = new Map<string, Promise<APIResourceList>>();
  /** Keep-alive connections for plain requests (a TLS handshake per request costs more than a page). */
  private agent: https.Agent | undefined;

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  /** One request; resolves with the parsed JSON body for 2xx, rejects with KubeApiError otherwise. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { status, body } = await this.raw(method, path, opts);
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : {};
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed as T;
    const st: KubeStatus =
      parsed && typeof parsed === 'object' && (parsed as KubeStatus).kind === 'Status'
        ? (parsed as KubeStatus)
        : { status: 'Failure', code: status, message: body.slice(0, 500) || `HTTP ${status}` };
    throw new KubeApiError(status, st);
  }

  /** Sends a request; resolves with the response once its headers arrive (the body is the caller's). */
  private async send(
    method: string,
    path: string,
    opts: RequestOptions = {},
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const server = this.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const reqOpts: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(reqOpts);
    const headers = { ...(reqOpts.headers as Record<string, string>) };
    if (opts.body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    }
    const mod = url.protocol === 'http:' ? http : https;
    if (mod === https && !reqOpts.agent) {
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = reqOpts;
      this.agent ??= new https.Agent({
        keepAlive: true,
        ...{ ca, cert, key, pfx, passphrase, rejectUnauthorized, servername },
      });
      reqOpts.agent = this.agent;
    }
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...reqOpts, headers, ...(signal ? { signal } : {}) }, resolve);
      if (opts.timeoutMs !== 0)
        req.setTimeout(opts.timeoutMs ?? 30_000, () =>
          req.destroy(new Error(`request to ${url.host} timed out`)),
        );
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  async raw(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: string }> {
    const res = await this.send(method, path, opts);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
  }

  /**
   * A streamed GET (pod logs): resolves with the open response on 2xx; otherwise rejects with the
   * server's Status as a KubeApiError. No idle timeout: `signal` ends it.
   */
  async stream(
    path: string,
    query: RequestOptions['query'],
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const res = await this.send('GET', path, { ...(query ? { query } : {}), timeoutMs: 0 }, signal);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    throw new KubeApiError(
      status,
      parsed && typeof parsed === 'object' && (parsed as KubeStatus).kind === 'Status'
        ? (parsed as KubeStatus)
        : { status: 'Failure', code: status, message: body.slice(0, 500) || `HTTP ${status}` },
    );
  }

  /**
   * Lists in pages (the first `firstPage` items, then 1,000 a page); `onPage` sees each page as it
   * arrives (`last` on the final one), so a caller can show the first rows before the rest is read.
   */
  async list(
    ref: ResourceRef,
    namespace?: string,
    query: { labelSelector?: string; fieldSelector?: string } = {},
    onPage?: (page: { items: KubeObject[]; resourceVersion: string; index: number; last: boolean }) => void,
    firstPage = 500,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = '';
    let index = 0;
    const kind = await this.kindOf(ref);
    do {
      const page = await this.request<{
        items?: KubeObject[];
        metadata?: { resourceVersion?: string; continue?: string };
      }>('GET', resourcePath(ref, namespace), {
        query: { ...query, limit: index === 0 ? firstPage : 1000, continue: cont },
      });
      const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version;
      // List items carry no apiVersion/kind on the wire; fill them in so views can rely on them.
      const got = (page.items ?? []).map((it) => ({ ...it, apiVersion, ...(kind ? { kind } : {}) }));
      for (const it of got) items.push(it);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
      onPage?.({ items: got, resourceVersion: rv, index: index++, last: !cont });
    } while (cont);
    return { items, resourceVersion: rv };
  }

  /** Starts a watch from `resourceVersion`; `onEvent` gets each raw event, `onDone` once at the end. */
  watch(
    ref: ResourceRef,
    namespace: string | undefined,
    query: { labelSelector?: string; fieldSelector?: string; resourceVersion: string },
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    const w = new Watch(this.kc);
    return w.watch(
      resourcePath(ref, namespace),
      { ...query, allowWatchBookmarks: true, timeoutSeconds: 300 },
      (type: string, obj: unknown) => onEvent(type, obj),
      (err: unknown) => onDone(err),
    );
  }

  private groupVersionList(group: string, version: string): Promise<APIResourceList> {
    const key = `${group}/${version}`;
    let p = this.discovery.get(key);
    if (!p) {
      p = this.request<APIResourceList>('GET', group ? `/apis/${group}/${version}` : `/api/${version}`);
      p.catch(() => this.discovery.delete(key));
      this.discovery.set(key, p);
    }
    return p;
  }

  async kindOf(ref: ResourceRef): Promise<string | undefined> {
    try {
      const list = await this.groupVersionList(ref.group, ref.version);
      return list.resources?.find((r) => r.name === ref.resource)?.kind;
    } catch {
      return undefined;
    }
  }

  /** Maps apiVersion + kind to its resource through discovery (like kubectl's RESTMapper). */
  async resolveKind(apiVersion: string, kind: string): Promise<DiscoveredResource> {
    const { group, version } = splitApiVersion(apiVersion);
    let list: APIResourceList;
    try {
      list = await this.groupVersionList(group, version);
    } catch (e) {
      if (e instanceof KubeApiError && e.code === 404)
        throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`, { cause: e });
      throw e;
    }
    const r = list.resources?.find((x) => x.kind === kind && !x.name.includes('/'));
    if (!r) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
    return { ref: { group, version, resource: r.name }, kind: r.kind, namespaced: r.namespaced };
  }

  /** GET /readyz with a short timeout. */
  async ready(timeoutMs = 1500): Promise<boolean> {
    try {
      const r = await this.raw('GET', '/readyz', { timeoutMs });
      return r.status === 200;
    } catch {
      return false;
    }
  }
}
