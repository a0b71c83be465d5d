/**
 * The composition root: one running cluster = store + PKI + API server + in-process controllers,
 * for a data dir. Used by `berth up` and by the desktop app's cluster manager.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { ApiServer, type VersionInfo } from '../apiserver/server.ts';
import { Authenticator } from '../apiserver/authn.ts';
import { AuthorizerChain, PublicInfoAuthorizer, SuperuserAuthorizer } from '../apiserver/authz.ts';
import { namespaceLifecycle } from '../apiserver/admission/namespace-lifecycle.ts';
import { InProcessClient } from '../client/in-process.ts';
import { openStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/types.ts';
import { allStrategies } from '../registry/index.ts';
import { serviceAccountPlugin } from '../apiserver/admission/service-account.ts';
import { podSchedulingVerdictHandler } from '../apiserver/subresources/pod-scheduling-verdict.ts';
import { SharedInformerFactory } from '../client/informer.ts';
import { CONTROLLERS, type Controller } from '../controllers/index.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { NodeDriver } from '../nodes/driver.ts';
import { SimulatedNodeDriver, type SimulatedDriverOptions } from '../nodes/simulated/driver.ts';
import { loadOrCreatePki } from '../pki/store.ts';
import { writeKubeconfig } from '../pki/kubeconfig.ts';
import { bootstrapObjects } from './bootstrap.ts';
import { clusterFiles } from './paths.ts';
import { TokenFileAuthenticator } from '../auth/token-file.ts';
import { acquire, release } from './lock.ts';
import { serviceAllocation } from '../apiserver/admission/service-allocation.ts';
import { defaultStorageClassAdmission, limitRanger } from '../apiserver/admission/limit-ranger.ts';
import { resourceQuotaAdmission } from '../apiserver/admission/resource-quota.ts';
import { storageObjectInUseProtection } from '../controllers/pv-protection.ts';
import { defaultTolerationSeconds } from '../apiserver/admission/default-toleration-seconds.ts';
import { createFieldManager, createPatcher } from '../apiserver/patcher.ts';
import { protobufDecoder } from '../apiserver/protobuf-body.ts';
import { createOpenAPIProvider, createFieldValidator } from '../apiserver/openapi-provider.ts';

export const KUBERNETES_VERSION: VersionInfo = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: `${process.platform === 'win32' ? 'windows' : process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** The identity of the in-process controllers (system:kube-controller-manager, as in Kubernetes). */
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
/** The scheduler's identity (as in Kubernetes). */
export const SCHEDULER_USER = 'system:kube-scheduler';
/** The identity simulated nodes act as (real nodes get system:node:<name> certificates). */
export const SIMULATED_NODES_USER = 'system:node:simulated';

export interface ClusterConfig {
  name: string;
  apiPort: number;
  serviceCIDR: string;
  podCIDR: string;
  createdAt: string;
}

export interface StartClusterOptions {
  dataDir: string;
  name?: string;
  /** 0 = any free port (remembered in cluster.json for restarts). */
  apiPort?: number;
  host?: string;
  /** Controllers not to start (ControllerEntry names), for tests of one controller in isolation. */
  disableControllers?: string[];
  /** Don't run the scheduler (tests that bind pods themselves). */
  disableScheduler?: boolean;
  /**
   * The node driver: "simulated" (API-only nodes, labelled simulated) or none. The docker and qemu
   * drivers plug in here when they land.
   */
  driver?: 'simulated' | 'none';
  /** Nodes to have: the driver creates the missing ones (named `<cluster>-worker-<n>`) at start. */
  nodes?: number;
  /** Options for the simulated driver (tests shorten its intervals). */
  simulated?: SimulatedDriverOptions;
}

export interface RunningCluster {
  config: ClusterConfig;
  url: string;
  kubeconfigPath: string;
  server: ApiServer;
  store: Store;
  /** The scheduler (undefined when disabled); explain() gives a pod's last verdict per node. */
  scheduler?: Scheduler;
  /** The node driver, if any. */
  driver?: NodeDriver;
  /** The API client the controllers use (system:kube-controller-manager). */
  controllerClient: InProcessClient;
  stop(): Promise<void>;
}

function loadConfig(path: string, opts: StartClusterOptions): ClusterConfig {
  if (existsSync(path)) {
    const c = JSON.parse(readFileSync(path, 'utf8')) as ClusterConfig;
    if (opts.apiPort !== undefined && opts.apiPort !== 0) c.apiPort = opts.apiPort;
    return c;
  }
  return {
    name: opts.name ?? 'berth',
    apiPort: opts.apiPort ?? 6443,
    serviceCIDR: '10.96.0.0/12',
    podCIDR: '10.244.0.0/16',
    createdAt: new Date().toISOString(),
  };
}

export async function startCluster(opts: StartClusterOptions): Promise<RunningCluster> {
  const files = clusterFiles(opts.dataDir);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  acquire(files.pidFile);
  const host = opts.host ?? '127.0.0.1';
  const config = loadConfig(files.config, opts);
  let store: Store | undefined;
  let server: ApiServer | undefined;
  try {
    const pki = await loadOrCreatePki(opts.dataDir, {});
    const st = openStore({ path: files.db });
    store = st;
    const authorizer = new AuthorizerChain([
      new SuperuserAuthorizer([CONTROLLER_MANAGER_USER, SCHEDULER_USER, SIMULATED_NODES_USER]),
      new PublicInfoAuthorizer(),
    ]);
    let ready = false;
    const strategies = allStrategies();
    const s = new ApiServer({
      store: st,
      strategies,
      tls: { key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem },
      authenticator: new Authenticator([new TokenFileAuthenticator(files.tokens)]),
      authorizer,
      version: KUBERNETES_VERSION,
      protobuf: protobufDecoder,
      patcher: createPatcher(),
      openapi: createOpenAPIProvider(strategies, KUBERNETES_VERSION.gitVersion),
      fieldValidator: createFieldValidator(),
      isReady: () => ready,
    });
    server = s;
    s.registry.fieldManager = createFieldManager();
    s.registry.admission.push(
      namespaceLifecycle(s.registry),
      limitRanger(s.registry),
      serviceAccountPlugin(s.registry),
      serviceAllocation(s.registry, config.serviceCIDR),
      defaultTolerationSeconds(),
      defaultStorageClassAdmission(s.registry),
      storageObjectInUseProtection(),
      resourceQuotaAdmission(s.registry),
    );

    let port: number;
    try {
      port = await s.listen(config.apiPort, host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.apiPort) throw e;
      port = await s.listen(0, host);
    }
    config.apiPort = port;
    writeFileSync(files.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    const url = `https://${host}:${port}`;
    writeKubeconfig(files.kubeconfig, {
      clusterName: config.name,
      server: url,
      caPem: pki.ca.certPem,
      userName: `${config.name}-admin`,
      certPem: pki.admin.certPem,
      keyPem: pki.admin.keyPem,
    });

    const controllers = new InProcessClient(s, {
      username: CONTROLLER_MANAGER_USER,
      groups: ['system:authenticated'],
    });
    bootstrapObjects(controllers, { port });
    const informers = new SharedInformerFactory(controllers);
    const disabled = new Set(opts.disableControllers ?? []);
    const running: Controller[] = [];
    for (const entry of CONTROLLERS)
      if (!disabled.has(entry.name))
        running.push(
          entry.start({
            client: controllers,
            informers,
            caPem: pki.ca.certPem,
            podCIDR: config.podCIDR,
            serviceCIDR: config.serviceCIDR,
          }),
        );
    informers.start();
    let scheduler: Scheduler | undefined;
    if (!opts.disableScheduler) {
      scheduler = new Scheduler(
        new InProcessClient(s, { username: SCHEDULER_USER, groups: ['system:authenticated'] }),
      );
      scheduler.start();
      const sched = scheduler;
      s.handlers.extraSubresources.set(
        '/pods/schedulingverdict',
        podSchedulingVerdictHandler(s.registry, (ns, name) => sched.explain(ns, name)),
      );
    }
    let driver: NodeDriver | undefined;
    if (opts.driver === 'simulated') {
      const sim = new SimulatedNodeDriver(
        new InProcessClient(s, { username: SIMULATED_NODES_USER, groups: ['system:nodes'] }),
        opts.simulated,
      );
      driver = sim;
      const have = await sim.resume();
      const names = new Set(have.map((n) => n.name));
      for (let i = 1, count = have.length; count < (opts.nodes ?? 0); i++) {
        const name = `${config.name}-worker-${i}`;
        if (names.has(name)) continue;
        await sim.create({ name });
        count++;
      }
    }
    ready = true;

    return {
      config,
      url,
      kubeconfigPath: files.kubeconfig,
      server: s,
      store: st,
      scheduler,
      driver,
      controllerClient: controllers,
      async stop() {
        await driver?.close();
        scheduler?.stop();
        for (const c of running.reverse()) await c.stop();
        informers.stop();
        await s.close();
        st.close();
        release(files.pidFile);
      },
    };
  } catch (e) {
    await server?.close();
    store?.close();
    release(files.pidFile);
    throw e;
  }
}
