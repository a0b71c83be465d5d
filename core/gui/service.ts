/**
 * The main-process services behind the GUI contract (core/gui/contract.ts). Transport-neutral: the
 * WebSocket server (`berth serve`) and the Electron IPC shell both open one `GuiSession` per window or
 * socket, pass it each request and forward the events it emits. Closing the session stops its watches.
 */
import { basename } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type {
  ClusterInfo,
  ClusterScoped,
  ContractError,
  EventMessage,
  KubeObject,
  Method,
  Params,
  RbacSubject,
  Result,
  ViewAsState,
} from './contract.ts';
import { ClusterRegistry } from './clusters.ts';
import { KubeClient, resourcePath, toContractError } from './kube-client.ts';
import { applyYaml } from './apply.ts';
import { WatchSubscription, type SubscriptionOptions, type SubscriptionSpec } from './watch.ts';
import { editorSchema } from './openapi-schema.ts';
import { restartDeployment, scaleResource, schedulingVerdict } from './object-actions.ts';
import { clusterIdOf, type ClusterManager } from './manager.ts';
import { TerminalSet } from './terminals.ts';
import { LogSet } from './logs.ts';
import { mergeIntoFile } from './kubeconfig-merge.ts';
import {
  ContractViolation,
  type Handlers,
  bool,
  int,
  kinds,
  obj,
  optBool,
  optStr,
  ref,
  replicas,
  SEGMENT,
  str,
} from './params.ts';
import { rbacHandlers } from './rbac-handlers.ts';
import { type Impersonation, impersonatingKubeConfig, impersonationOf } from './impersonation.ts';

export { ContractViolation };

export interface GuiServiceOptions {
  registry: ClusterRegistry;
  /** The clusters this host runs itself (create/start/stop/delete, nodes); absent: list only. */
  manager?: ClusterManager;
  watch?: SubscriptionOptions;
}

export class GuiService {
  readonly registry: ClusterRegistry;
  readonly manager: ClusterManager | undefined;
  readonly watchOptions: SubscriptionOptions;
  private sessions = new Set<GuiSession>();

  constructor(opts: GuiServiceOptions) {
    this.registry = opts.registry;
    this.manager = opts.manager;
    this.watchOptions = opts.watch ?? {};
  }

  openSession(emit: (message: EventMessage) => void): GuiSession {
    const s = new GuiSession(this, emit, () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  /** Sends an event to every open session (every window / socket). */
  broadcast(message: EventMessage): void {
    for (const s of this.sessions) s.deliver(message);
  }

  /** Every cluster, with this host's state of the built-in ones it can manage. */
  async listClusters(): Promise<ClusterInfo[]> {
    const list = await this.registry.list();
    const m = this.manager;
    if (!m) return list;
    for (const dir of m.dataDirs())
      if (!list.some((c) => c.dataDir === dir))
        list.push({
          id: clusterIdOf(dir),
          name: basename(dir),
          source: 'berth',
          server: '',
          status: 'unknown',
          dataDir: dir,
        });
    return list.map((c) =>
      c.source === 'berth' && c.dataDir
        ? { ...c, hosted: m.stateOf(c.dataDir) ?? { phase: 'stopped', progress: [] } }
        : c,
    );
  }

  async clusterInfo(id: string): Promise<ClusterInfo> {
    const c = (await this.listClusters()).find((x) => x.id === id);
    if (!c) throw new Error(`unknown cluster "${id}"`);
    return c;
  }
}

interface Subscription {
  cluster: string;
  spec: SubscriptionSpec;
  sub: WatchSubscription;
}

interface ViewAs {
  cluster: string;
  subject: RbacSubject;
  as: Impersonation;
  client: KubeClient;
}

export class GuiSession {
  private subs = new Map<string, Subscription>();
  private viewAs: ViewAs | undefined;
  private closed = false;
  private handlers: Handlers;
  private terminals: TerminalSet;
  private logs: LogSet;

  constructor(
    private service: GuiService,
    private emit: (message: EventMessage) => void,
    private onClose: () => void = () => {},
  ) {
    const reg = service.registry;
    const cluster = (p: Record<string, unknown>): string => str(p, 'cluster' satisfies keyof ClusterScoped);
    const manager = (): ClusterManager => {
      if (!service.manager) throw new ContractViolation('this host does not manage clusters');
      return service.manager;
    };
    /** kubectl's choice: the default-container annotation, else the first container. */
    const defaultContainer = async (c: string, namespace: string, pod: string): Promise<string> => {
      const o = await this.client(c).request<KubeObject>(
        'GET',
        resourcePath({ group: '', version: 'v1', resource: 'pods' }, namespace, pod),
      );
      const annotated = o.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
      const containers = (o['spec'] as { containers?: { name: string }[] } | undefined)?.containers ?? [];
      const name =
        annotated && containers.some((x) => x.name === annotated) ? annotated : containers[0]?.name;
      if (!name) throw new Error(`pod ${namespace}/${pod} has no containers`);
      return name;
    };
    this.terminals = new TerminalSet((m) => this.deliver(m));
    this.logs = new LogSet((m) => this.deliver(m));
    this.handlers = {
      'clusters.list': () => service.listClusters(),
      'clusters.create': async (p) => {
        const driver = str(p, 'driver');
        if (driver !== 'docker' && driver !== 'simulated')
          throw new ContractViolation('driver must be docker or simulated');
        const id = manager().create({ name: str(p, 'name'), nodes: int(p, 'nodes', 0, 20), driver });
        return service.clusterInfo(id);
      },
      'clusters.start': async (p) => {
        manager().start(cluster(p));
        return service.clusterInfo(cluster(p));
      },
      'clusters.stop': async (p) => {
        await manager().stop(cluster(p));
        return service.clusterInfo(cluster(p));
      },
      'clusters.delete': async (p) => {
        await manager().delete(cluster(p));
        return { deleted: true };
      },
      'nodes.list': (p) => manager().nodes(cluster(p)),
      'nodes.add': (p) => manager().addNode(cluster(p), optStr(p, 'name')),
      'nodes.remove': async (p) => ({ removed: await manager().removeNode(cluster(p), str(p, 'name')) }),
      'nodes.stop': (p) => manager().setNodeRunning(cluster(p), str(p, 'name'), false),
      'nodes.start': (p) => manager().setNodeRunning(cluster(p), str(p, 'name'), true),
      'kubeconfig.merge': async (p) => {
        const id = cluster(p);
        return mergeIntoFile(reg.userKubeconfigFile(), reg.exportKubeconfig(id).yaml, reg.nameOf(id));
      },
      'terminal.open': async (p) => {
        const id = str(p, 'terminalId');
        const target = obj(p['target'], 'target');
        const c = cluster(p);
        const cols = int(p, 'cols', 1, 1000);
        const rows = int(p, 'rows', 1, 1000);
        if (target['kind'] === 'shell') {
          if (this.viewAs?.cluster === c)
            throw new ContractViolation(
              'a local shell would run with your own credentials: leave "view as" mode to open one',
            );
          const info = await service.clusterInfo(c);
          const title = await this.terminals.open(id, cols, rows, {
            kind: 'shell',
            ...(info.dataDir ? { kubeconfigFile: `${info.dataDir}/kubeconfig` } : {}),
            kubeconfigYaml: reg.exportKubeconfig(c).yaml,
          });
          return { terminalId: id, title };
        }
        if (target['kind'] !== 'exec') throw new ContractViolation('target.kind must be shell or exec');
        const namespace = str(target, 'namespace');
        const pod = str(target, 'pod');
        const container = optStr(target, 'container') ?? (await defaultContainer(c, namespace, pod));
        const title = await this.terminals.open(id, cols, rows, {
          kind: 'exec',
          kubeConfig: this.kubeConfig(c),
          namespace,
          pod,
          container,
        });
        return { terminalId: id, title };
      },
      'terminal.input': async (p) => {
        const data = p['data'];
        if (typeof data !== 'string' || data.length > 65536)
          throw new ContractViolation('data must be a string (≤ 64 KiB)');
        this.terminals.input(str(p, 'terminalId'), data);
        return { ok: true };
      },
      'terminal.resize': async (p) => {
        this.terminals.resize(str(p, 'terminalId'), int(p, 'cols', 1, 1000), int(p, 'rows', 1, 1000));
        return { ok: true };
      },
      'terminal.close': async (p) => ({ closed: this.terminals.close(str(p, 'terminalId')) }),
      'logs.open': async (p) => {
        const id = str(p, 'streamId');
        const c = cluster(p);
        const namespace = str(p, 'namespace');
        const podsParam = p['pods'];
        if (!Array.isArray(podsParam) || !podsParam.every((x) => typeof x === 'string' && SEGMENT.test(x)))
          throw new ContractViolation('pods must be an array of pod names');
        const container = optStr(p, 'container');
        const streams = await Promise.all(
          (podsParam as string[]).map(async (pod) => ({
            pod,
            container: container ?? (await defaultContainer(c, namespace, pod)),
          })),
        );
        const tail = p['tailLines'];
        await this.logs.start(id, {
          client: this.client(c),
          namespace,
          streams,
          follow: bool(p, 'follow'),
          previous: bool(p, 'previous'),
          timestamps: bool(p, 'timestamps'),
          ...(tail !== undefined ? { tailLines: int(p, 'tailLines', 0, 1_000_000) } : {}),
        });
        return { streamId: id, streams };
      },
      'logs.close': async (p) => ({ closed: this.logs.close(str(p, 'streamId')) }),
      'resources.list': (p) =>
        this.client(cluster(p)).list(ref(p), optStr(p, 'namespace'), {
          ...(optStr(p, 'labelSelector') ? { labelSelector: optStr(p, 'labelSelector') } : {}),
          ...(optStr(p, 'fieldSelector') ? { fieldSelector: optStr(p, 'fieldSelector') } : {}),
        }),
      'resources.get': (p) =>
        this.client(cluster(p)).request('GET', resourcePath(ref(p), optStr(p, 'namespace'), str(p, 'name'))),
      'resources.subscribe': async (p) => {
        const id = str(p, 'subscriptionId');
        if (this.subs.has(id)) throw new ContractViolation(`subscription "${id}" already exists`);
        const namespace = optStr(p, 'namespace');
        const labelSelector = optStr(p, 'labelSelector');
        const fieldSelector = optStr(p, 'fieldSelector');
        await this.subscribe(id, cluster(p), {
          ref: ref(p),
          ...(namespace ? { namespace } : {}),
          ...(labelSelector ? { labelSelector } : {}),
          ...(fieldSelector ? { fieldSelector } : {}),
        });
        return { subscriptionId: id };
      },
      'resources.unsubscribe': async (p) => {
        const id = str(p, 'subscriptionId');
        const s = this.subs.get(id);
        this.subs.delete(id);
        s?.sub.stop();
        return { stopped: !!s };
      },
      'resources.apply': (p) => {
        const yaml = p['yaml'];
        if (typeof yaml !== 'string') throw new ContractViolation('yaml must be a string');
        const defaultNamespace = optStr(p, 'defaultNamespace');
        const dryRun = optBool(p, 'dryRun');
        const force = optBool(p, 'force');
        return applyYaml(this.client(cluster(p)), yaml, {
          ...(defaultNamespace ? { defaultNamespace } : {}),
          ...(dryRun !== undefined ? { dryRun } : {}),
          ...(force !== undefined ? { force } : {}),
        });
      },
      'resources.delete': (p) => {
        const policy = optStr(p, 'propagationPolicy') ?? 'Background';
        if (!['Foreground', 'Background', 'Orphan'].includes(policy))
          throw new ContractViolation('propagationPolicy must be Foreground, Background or Orphan');
        return this.client(cluster(p)).request(
          'DELETE',
          resourcePath(ref(p), optStr(p, 'namespace'), str(p, 'name')),
          {
            body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy }),
          },
        );
      },
      'resources.scale': (p) =>
        scaleResource(this.client(cluster(p)), ref(p), str(p, 'namespace'), str(p, 'name'), replicas(p)),
      'deployments.restart': (p) =>
        restartDeployment(this.client(cluster(p)), str(p, 'namespace'), str(p, 'name')),
      'openapi.schema': (p) => editorSchema(this.client(cluster(p)), kinds(p)),
      'pods.schedulingVerdict': (p) =>
        schedulingVerdict(this.client(cluster(p)), str(p, 'namespace'), str(p, 'name')),
      'kubeconfig.export': async (p) => reg.exportKubeconfig(cluster(p)),
      ...rbacHandlers({
        dataDirOf: async (c) => {
          const dir = (await service.clusterInfo(c)).dataDir;
          if (!dir) throw new ContractViolation('users exist only in Berth clusters (client certificates)');
          return dir;
        },
        ownClient: (c) => reg.client(c),
        client: (c) => this.client(c),
        setViewAs: (c, subject) => this.setViewAs(c, subject),
      }),
    };
  }

  /** The cluster's client as this window's identity: impersonating the subject while "view as" is on. */
  private client(cluster: string): KubeClient {
    const v = this.viewAs;
    return v?.cluster === cluster ? v.client : this.service.registry.client(cluster);
  }

  private kubeConfig(cluster: string): KubeConfig {
    const kc = this.service.registry.kubeConfig(cluster);
    const v = this.viewAs;
    return v?.cluster === cluster ? impersonatingKubeConfig(kc, v.as) : kc;
  }

  viewAsState(): ViewAsState {
    const v = this.viewAs;
    return v ? { cluster: v.cluster, subject: v.subject, impersonate: v.as } : {};
  }

  /** Enters, changes or (subject null) leaves "view as"; open lists of the clusters concerned are re-read. */
  private setViewAs(cluster: string, subject: RbacSubject | null): ViewAsState {
    const touched = new Set([cluster, ...(this.viewAs ? [this.viewAs.cluster] : [])]);
    if (subject) {
      const as = impersonationOf(subject);
      const kc = impersonatingKubeConfig(this.service.registry.kubeConfig(cluster), as);
      this.viewAs = { cluster, subject, as, client: new KubeClient(kc) };
    } else this.viewAs = undefined;
    for (const [id, s] of [...this.subs]) if (touched.has(s.cluster)) void this.resubscribe(id, s);
    return this.viewAsState();
  }

  /**
   * Starts a list+watch as the current identity; rejects if the first list fails, and then forgets it
   * unless `keep` (a re-read after "view as" changed: leaving the mode must bring it back).
   */
  private async subscribe(id: string, cluster: string, spec: SubscriptionSpec, keep = false): Promise<void> {
    const sub = new WatchSubscription(
      this.client(cluster),
      spec,
      (events) => {
        if (!this.closed && this.subs.get(id)?.sub === sub)
          this.emit({ kind: 'event', channel: 'resources.watch', subscriptionId: id, events });
      },
      this.service.watchOptions,
    );
    const prev = this.subs.get(id);
    this.subs.set(id, { cluster, spec, sub });
    prev?.sub.stop();
    try {
      await sub.start();
    } catch (e) {
      sub.stop();
      if (!keep && this.subs.get(id)?.sub === sub) this.subs.delete(id);
      throw e;
    }
    if (this.closed) sub.stop();
  }

  /** The identity changed: the list is read again; if that fails the window sees it empty, with the error. */
  private async resubscribe(id: string, s: Subscription): Promise<void> {
    try {
      await this.subscribe(id, s.cluster, s.spec, true);
    } catch (e) {
      const err = toContractError(e);
      this.deliver({
        kind: 'event',
        channel: 'resources.watch',
        subscriptionId: id,
        events: [
          { type: 'SYNC', items: [], resourceVersion: '' },
          {
            type: 'ERROR',
            status: {
              status: 'Failure',
              message: err.message,
              ...(err.code ? { code: err.code } : {}),
              ...(err.reason ? { reason: err.reason } : {}),
            },
          },
        ],
      });
    }
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

  /** Sends an event to this session's window unless it has closed. */
  deliver(message: EventMessage): void {
    if (!this.closed) this.emit(message);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs.values()) s.sub.stop();
    this.subs.clear();
    this.terminals.closeAll();
    this.logs.closeAll();
    this.onClose();
  }
}
