/**
 * The main-process services behind the GUI contract (core/gui/contract.ts). Transport-neutral: the
 * WebSocket server (`berth serve`) and the Electron IPC shell both open one `GuiSession` per window or
 * socket, pass it each request and forward the events it emits. Closing the session stops its watches.
 */
import type {
  ClusterScoped,
  ContractError,
  EventMessage,
  GroupVersionKind,
  Method,
  Params,
  ResourceRef,
  Result,
} from './contract.ts';
import { ClusterRegistry } from './clusters.ts';
import { resourcePath, toContractError } from './kube-client.ts';
import { applyYaml } from './apply.ts';
import { WatchSubscription, type SubscriptionOptions } from './watch.ts';
import { editorSchema } from './openapi-schema.ts';
import { restartDeployment, scaleResource, schedulingVerdict } from './object-actions.ts';

export class ContractViolation extends Error {}

// ─── parameter checks (requests come from a renderer: validate, never trust shapes) ──────────────

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ContractViolation(`${what} must be an object`);
  return v as Record<string, unknown>;
}
function str(p: Record<string, unknown>, k: string): string {
  const v = p[k];
  if (typeof v !== 'string' || !v) throw new ContractViolation(`${k} must be a non-empty string`);
  return v;
}
function optStr(p: Record<string, unknown>, k: string): string | undefined {
  const v = p[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ContractViolation(`${k} must be a string`);
  return v;
}
function replicas(p: Record<string, unknown>): number {
  const v = p['replicas'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ContractViolation('replicas must be a non-negative integer');
  return v;
}
function kinds(p: Record<string, unknown>): GroupVersionKind[] {
  const v = p['kinds'];
  if (!Array.isArray(v) || v.length > 100) throw new ContractViolation('kinds must be an array (≤ 100)');
  return v.map((k) => {
    const o = obj(k, 'kinds[]');
    return { apiVersion: str(o, 'apiVersion'), kind: str(o, 'kind') };
  });
}
function optBool(p: Record<string, unknown>, k: string): boolean | undefined {
  const v = p[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ContractViolation(`${k} must be a boolean`);
  return v;
}
const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
function ref(p: Record<string, unknown>): ResourceRef {
  const r = obj(p['ref'], 'ref');
  const group = typeof r['group'] === 'string' ? r['group'] : '';
  const version = str(r, 'version');
  const resource = str(r, 'resource');
  if ((group && !SEGMENT.test(group)) || !SEGMENT.test(version) || !SEGMENT.test(resource))
    throw new ContractViolation('ref has an invalid group, version or resource');
  return { group, version, resource };
}

type Handlers = { [M in Method]: (params: Record<string, unknown>) => Promise<Result<M>> };

export interface GuiServiceOptions {
  registry: ClusterRegistry;
  watch?: SubscriptionOptions;
}

export class GuiService {
  readonly registry: ClusterRegistry;
  readonly watchOptions: SubscriptionOptions;

  constructor(opts: GuiServiceOptions) {
    this.registry = opts.registry;
    this.watchOptions = opts.watch ?? {};
  }

  openSession(emit: (message: EventMessage) => void): GuiSession {
    return new GuiSession(this, emit);
  }
}

export class GuiSession {
  private subs = new Map<string, WatchSubscription>();
  private closed = false;
  private handlers: Handlers;

  constructor(
    private service: GuiService,
    private emit: (message: EventMessage) => void,
  ) {
    const reg = service.registry;
    const cluster = (p: Record<string, unknown>): string => str(p, 'cluster' satisfies keyof ClusterScoped);
    this.handlers = {
      'clusters.list': () => reg.list(),
      'resources.list': (p) =>
        reg.client(cluster(p)).list(ref(p), optStr(p, 'namespace'), {
          ...(optStr(p, 'labelSelector') ? { labelSelector: optStr(p, 'labelSelector') } : {}),
          ...(optStr(p, 'fieldSelector') ? { fieldSelector: optStr(p, 'fieldSelector') } : {}),
        }),
      'resources.get': (p) =>
        reg.client(cluster(p)).request('GET', resourcePath(ref(p), optStr(p, 'namespace'), str(p, 'name'))),
      'resources.subscribe': async (p) => {
        const id = str(p, 'subscriptionId');
        if (this.subs.has(id)) throw new ContractViolation(`subscription "${id}" already exists`);
        const namespace = optStr(p, 'namespace');
        const labelSelector = optStr(p, 'labelSelector');
        const fieldSelector = optStr(p, 'fieldSelector');
        const sub = new WatchSubscription(
          reg.client(cluster(p)),
          {
            ref: ref(p),
            ...(namespace ? { namespace } : {}),
            ...(labelSelector ? { labelSelector } : {}),
            ...(fieldSelector ? { fieldSelector } : {}),
          },
          (events) => {
            if (!this.closed && this.subs.get(id) === sub)
              this.emit({ kind: 'event', channel: 'resources.watch', subscriptionId: id, events });
          },
          this.service.watchOptions,
        );
        this.subs.set(id, sub);
        try {
          await sub.start();
        } catch (e) {
          sub.stop();
          this.subs.delete(id);
          throw e;
        }
        if (this.closed) sub.stop();
        return { subscriptionId: id };
      },
      'resources.unsubscribe': async (p) => {
        const id = str(p, 'subscriptionId');
        const sub = this.subs.get(id);
        this.subs.delete(id);
        sub?.stop();
        return { stopped: !!sub };
      },
      'resources.apply': (p) => {
        const yaml = p['yaml'];
        if (typeof yaml !== 'string') throw new ContractViolation('yaml must be a string');
        const defaultNamespace = optStr(p, 'defaultNamespace');
        const dryRun = optBool(p, 'dryRun');
        const force = optBool(p, 'force');
        return applyYaml(reg.client(cluster(p)), yaml, {
          ...(defaultNamespace ? { defaultNamespace } : {}),
          ...(dryRun !== undefined ? { dryRun } : {}),
          ...(force !== undefined ? { force } : {}),
        });
      },
      'resources.delete': (p) => {
        const policy = optStr(p, 'propagationPolicy') ?? 'Background';
        if (!['Foreground', 'Background', 'Orphan'].includes(policy))
          throw new ContractViolation('propagationPolicy must be Foreground, Background or Orphan');
        return reg
          .client(cluster(p))
          .request('DELETE', resourcePath(ref(p), optStr(p, 'namespace'), str(p, 'name')), {
            body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy }),
          });
      },
      'resources.scale': (p) =>
        scaleResource(reg.client(cluster(p)), ref(p), str(p, 'namespace'), str(p, 'name'), replicas(p)),
      'deployments.restart': (p) =>
        restartDeployment(reg.client(cluster(p)), str(p, 'namespace'), str(p, 'name')),
      'openapi.schema': (p) => editorSchema(reg.client(cluster(p)), kinds(p)),
      'pods.schedulingVerdict': (p) =>
        schedulingVerdict(reg.client(cluster(p)), str(p, 'namespace'), str(p, 'name')),
      'kubeconfig.export': async (p) => reg.exportKubeconfig(cluster(p)),
    };
  }

  /** Handles one request. Never throws: failures come back as a ContractError. */
  async handle(
    method: unknown,
    params: unknown,
  ): Promise<{ ok: true; result: Result<Method> } | { ok: false; error: ContractError }> {
    try {
      if (this.closed) throw new ContractViolation('session closed');
      if (typeof method !== 'string' || !Object.hasOwn(this.handlers, method))
        throw new ContractViolation(`unknown method "${String(method)}"`);
      const h = this.handlers[method as Method] as (p: Record<string, unknown>) => Promise<Result<Method>>;
      return { ok: true, result: await h(obj(params ?? {}, 'params')) };
    } catch (e) {
      return { ok: false, error: toContractError(e) };
    }
  }

  /** Typed convenience for in-process callers (tests, Electron main). */
  async call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    const r = await this.handle(method, params);
    if (!r.ok) throw Object.assign(new Error(r.error.message), { contractError: r.error });
    return r.result as Result<M>;
  }

  close(): void {
    this.closed = true;
    for (const s of this.subs.values()) s.stop();
    this.subs.clear();
  }
}
