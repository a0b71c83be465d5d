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
  return { message: e instanceof Error ? e.message : String(e) };
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: string;
  contentType?: string;
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

  async raw(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: string }> {
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
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...reqOpts, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.setTimeout(opts.timeoutMs ?? 30_000, () =>
        req.destroy(new Error(`request to ${url.host} timed out`)),
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  async list(
    ref: ResourceRef,
    namespace?: string,
    query: { labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = '';
    const kind = await this.kindOf(ref);
    do {
      const page = await this.request<{
        items?: KubeObject[];
        metadata?: { resourceVersion?: string; continue?: string };
      }>('GET', resourcePath(ref, namespace), { query: { ...query, limit: 500, continue: cont } });
      const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version;
      // List items carry no apiVersion/kind on the wire; fill them in so views can rely on them.
      for (const it of page.items ?? []) items.push({ ...it, apiVersion, ...(kind ? { kind } : {}) });
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
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
