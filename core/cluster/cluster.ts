/**
 * The composition root: one running cluster = store + PKI + API server + in-process controllers,
 * for a data dir. Used by `berth up` and by the desktop app's cluster manager.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { ApiServer, type VersionInfo } from '../apiserver/server.ts';
import { Authenticator } from '../apiserver/authn.ts';
import { AuthorizerChain, SuperuserAuthorizer } from '../apiserver/authz.ts';
import { RbacAuthorizer } from '../auth/rbac/authorizer.ts';
import { watchPolicy } from '../auth/rbac/policy-source.ts';
import { reconcileDefaultPolicy } from '../auth/rbac/reconcile.ts';
import { rbacEscalationAdmission } from '../auth/rbac/escalation.ts';
import { NodeAuthorizer, nodeRestriction } from '../auth/node-authorizer.ts';
import { RevocationList, revocationPath } from '../auth/revocation.ts';
import { tokenReviewStrategy } from '../registry/authentication/tokenreviews.ts';
import { namespaceLifecycle } from '../apiserver/admission/namespace-lifecycle.ts';
import { InProcessClient } from '../client/in-process.ts';
import { openStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/types.ts';
import { allStrategies } from '../registry/index.ts';
import { startClusterMetrics, type MetricsStore } from '../metrics/index.ts';
import { serviceAccountPlugin } from '../apiserver/admission/service-account.ts';
import { podSchedulingVerdictHandler } from '../apiserver/subresources/pod-scheduling-verdict.ts';
import { SharedInformerFactory } from '../client/informer.ts';
import { CONTROLLERS, type Controller } from '../controllers/index.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { NodeDriver } from '../nodes/driver.ts';
import { SimulatedNodeDriver, type SimulatedDriverOptions } from '../nodes/simulated/driver.ts';
import { DockerNodeDriver } from '../nodes/docker/driver.ts';
import {
  LOCAL_PATH_PROVISIONER,
  createLocalPathProvisioner,
  standardStorageClass,
} from '../nodes/local-path.ts';
import { MemoryProvisioner, ProvisionerRegistry, provisioners } from '../nodes/provisioner.ts';
import { startLoadBalancers, type LoadBalancerController } from './load-balancer.ts';
import { startClusterIngress } from '../ingress/start.ts';
import type { IngressController } from '../ingress/controller.ts';
import { StatusError } from '../api/status.ts';
import type { ProgressFn } from '../nodes/docker/images.ts';
import type { AgentConfig } from '../agent/config.ts';
import type { NodeCreateOptions } from '../nodes/driver.ts';
import { SYSTEM_MASTERS } from '../auth/types.ts';
import { loadOrCreatePki } from '../pki/store.ts';
import { writeKubeconfig } from '../pki/kubeconfig.ts';
import { bootstrapObjects } from './bootstrap.ts';
import { clusterFiles } from './paths.ts';
import { TokenFileAuthenticator } from '../auth/token-file.ts';
import {
  loadOrCreateSigningKey,
  ServiceAccountTokenAuthenticator,
  ServiceAccountTokens,
  type UidLookup,
} from '../auth/service-account-token.ts';
import { serviceAccountTokenHandler } from '../apiserver/subresources/serviceaccount-token.ts';
import { acquire, release } from './lock.ts';
import { serviceAllocation } from '../apiserver/admission/service-allocation.ts';
import { defaultStorageClassAdmission, limitRanger } from '../apiserver/admission/limit-ranger.ts';
import { resourceQuotaAdmission } from '../apiserver/admission/resource-quota.ts';
import { storageObjectInUseProtection } from '../controllers/pv-protection.ts';
import { defaultTolerationSeconds } from '../apiserver/admission/default-toleration-seconds.ts';
import { podSecurity } from '../apiserver/admission/pod-security/plugin.ts';
import { bootstrapSystemPriorityClasses, priorityAdmission } from '../apiserver/admission/priority.ts';
import { createFieldManager, createPatcher } from '../apiserver/patcher.ts';
import { protobufDecoder } from '../apiserver/protobuf-body.ts';
import { createOpenAPIProvider, createFieldValidator } from '../apiserver/openapi-provider.ts';
import { aesGcmTransformer, loadOrCreateEncryptionKeys } from '../store/encryption.ts';
import { AuditLog } from '../apiserver/audit.ts';
import { csrStrategy } from '../registry/certificates/certificatesigningrequests.ts';
import { csrApprovalHandler } from '../registry/certificates/approval.ts';
import { csrSubjectRestriction } from '../registry/certificates/subject-restriction.ts';
import { legacySecretToken } from '../controllers/serviceaccount-token.ts';

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
/** The group of every node identity (system:node:<name>), as in Kubernetes. */
export const NODES_GROUP = 'system:nodes';
/** Cluster DNS service address (the kube-dns Service's clusterIP) and domain. */
export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';

export interface ClusterConfig {
  name: string;
  apiPort: number;
  serviceCIDR: string;
  podCIDR: string;
  createdAt: string;
  /** The node driver the cluster was made with (restarts without --driver use it again). */
  driver?: 'docker' | 'simulated';
  /** Loopback ports of the built-in Ingress controller (defaults 8080 and 8443; 0 = any free port). */
  ingressHTTPPort?: number;
  ingressHTTPSPort?: number;
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
   * The node driver: "docker" (node containers running containerd and the node agent), "simulated"
   * (API-only nodes, labelled simulated) or none.
   */
  driver?: 'docker' | 'simulated' | 'none';
  /** Nodes to have: the driver creates the missing ones (named `<cluster>-worker-<n>`) at start. */
  nodes?: number;
  /** Options for the simulated driver (tests shorten its intervals). */
  simulated?: SimulatedDriverOptions;
  /** Progress lines (image builds, nodes starting). */
  progress?: ProgressFn;
  /** With a node driver: wait until this many nodes report Ready before resolving (default: all). */
  waitForNodesMs?: number;
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
  /** Resource metrics (metrics.k8s.io): the latest usage per node, pod and container. */
  metrics: MetricsStore;
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

/** Creates the default StorageClass "standard" unless it exists (a restart, or the user replaced it). */
function ensureStandardStorageClass(client: InProcessClient): void {
  try {
    client.create(
      { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' },
      '',
      standardStorageClass(),
    );
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 409)) throw e;
  }
}

/** The node agent's configuration for a node of this cluster. */
function agentConfig(node: NodeCreateOptions, config: ClusterConfig, server: string): AgentConfig {
  return {
    nodeName: node.name,
    server,
    clusterCIDR: config.podCIDR,
    serviceCIDR: config.serviceCIDR,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    driver: 'docker',
    kubeletVersion: KUBERNETES_VERSION.gitVersion,
    labels: node.labels ?? {},
    taints: node.taints ?? [],
    pods: node.pods ?? 110,
    ...(node.cpu ? { cpu: node.cpu } : {}),
    ...(node.memory ? { memory: node.memory } : {}),
  };
}

/** Adopts the driver's existing nodes (starting stopped ones) and creates the missing ones, in parallel. */
async function ensureNodes(driver: NodeDriver, cluster: string, want: number): Promise<void> {
  const have = await driver.list();
  const names = new Set(have.map((n) => n.name));
  const jobs: Promise<unknown>[] = have.map((n) => driver.create({ name: n.name }));
  for (let i = 1, count = have.length; count < want; i++) {
    const name = `${cluster}-worker-${i}`;
    if (names.has(name)) continue;
    jobs.push(driver.create({ name }));
    count++;
  }
  await Promise.all(jobs);
}

/** Resolves once `count` Nodes have Ready=True; fails after `timeoutMs` naming the ones that are not. */
async function waitForReadyNodes(
  client: InProcessClient,
  count: number,
  timeoutMs: number,
  progress?: ProgressFn,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const nodes = client.list({ group: '', version: 'v1', resource: 'nodes' }, '').items;
    const ready = nodes.filter((n) =>
      (
        (n['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
      ).some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ready.length !== last) progress?.(`nodes Ready: ${ready.length}/${count}`);
    last = ready.length;
    if (ready.length >= count) return;
    if (Date.now() > deadline) {
      const notReady = nodes.filter((n) => !ready.includes(n)).map((n) => n.metadata.name);
      throw new Error(
        `only ${ready.length} of ${count} nodes became Ready within ${Math.round(timeoutMs / 1000)} s` +
          (notReady.length ? ` (not ready: ${notReady.join(', ')})` : ' (some never registered)') +
          '; see `docker logs berth-<cluster>.<node>`',
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startCluster(opts: StartClusterOptions): Promise<RunningCluster> {
  const files = clusterFiles(opts.dataDir);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  acquire(files.pidFile);
  const host = opts.host ?? '127.0.0.1';
  const config = loadConfig(files.config, opts);
  const driverName = opts.driver ?? config.driver ?? 'none';
  if (driverName !== 'none') config.driver = driverName;
  let store: Store | undefined;
  let server: ApiServer | undefined;
  try {
    // Docker nodes reach the API server on the cluster bridge's gateway: the network comes first, so
    // that the serving certificate names that address.
    let docker: DockerNodeDriver | undefined;
    let gateway: string | undefined;
    if (driverName === 'docker') {
      docker = new DockerNodeDriver({
        cluster: config.name,
        ...(opts.progress ? { progress: opts.progress } : {}),
        agent: {
          config: (n) => agentConfig(n, config, `https://${gateway}:${config.apiPort}`),
          pki: async (node) => {
            const c = await pki.issueClientCert(`system:node:${node}`, [NODES_GROUP]);
            const serving = await pki.issueNodeServingCert(node);
            return {
              caPem: pki.ca.certPem,
              certPem: c.certPem,
              keyPem: c.keyPem,
              servingCertPem: serving.certPem,
              servingKeyPem: serving.keyPem,
            };
          },
        },
      });
      gateway = await docker.gatewayIP();
    }
    const pki = await loadOrCreatePki(opts.dataDir, gateway ? { extraSANs: { ips: [gateway] } } : {});
    const kubeletClient = await pki.issueClientCert('kube-apiserver-kubelet-client', [SYSTEM_MASTERS]);
    const st = openStore({
      path: files.db,
      transformer: aesGcmTransformer(loadOrCreateEncryptionKeys(opts.dataDir)),
    });
    store = st;
    // Node authorizer, then RBAC (everyone else, the admin group included, through default roles and
    // bindings). system:masters and the in-process components sharing one identity each (controller
    // manager, scheduler, simulated nodes) stay privileged, checked first.
    const rbac = new RbacAuthorizer();
    let claimVolume: (ns: string, name: string) => string | undefined = () => undefined;
    const nodeAuthorizer = new NodeAuthorizer((ns, name) => claimVolume(ns, name));
    const authorizer = new AuthorizerChain([
      new SuperuserAuthorizer(
        [CONTROLLER_MANAGER_USER, SCHEDULER_USER, SIMULATED_NODES_USER],
        [SYSTEM_MASTERS],
      ),
      nodeAuthorizer,
      rbac,
    ]);
    // Service account tokens (TokenRequest); the authenticator looks the bound objects up in-process.
    const saTokens = new ServiceAccountTokens(loadOrCreateSigningKey(pki.dir));
    let uidOf: UidLookup = () => undefined;
    let secretToken: (ns: string, name: string) => string | undefined = () => undefined;
    const saAuthenticator = new ServiceAccountTokenAuthenticator(
      saTokens,
      (k, ns, n) => uidOf(k, ns, n),
      (ns, n) => secretToken(ns, n),
    );
    let ready = false;
    const strategies = allStrategies();
    const tokenAuthenticators = [new TokenFileAuthenticator(files.tokens), saAuthenticator];
    strategies.push(tokenReviewStrategy(tokenAuthenticators, saTokens.audiences));
    strategies.push(csrStrategy);
    const s = new ApiServer({
      store: st,
      strategies,
      tls: { key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem },
      authenticator: new Authenticator(tokenAuthenticators, new RevocationList(revocationPath(opts.dataDir))),
      authorizer,
      version: KUBERNETES_VERSION,
      protobuf: protobufDecoder,
      patcher: createPatcher(),
      openapi: createOpenAPIProvider(strategies, KUBERNETES_VERSION.gitVersion),
      fieldValidator: createFieldValidator(),
      // Logs, exec, attach, port-forward: the API server reaches node agents as the kubelet client.
      nodeClient: { caPem: pki.ca.certPem, certPem: kubeletClient.certPem, keyPem: kubeletClient.keyPem },
      isReady: () => ready,
      audit: new AuditLog(opts.dataDir),
    });
    server = s;
    s.registry.fieldManager = createFieldManager();
    const stopPolicy = watchPolicy(s.registry, s.table, rbac);
    const podGraph = nodeAuthorizer.watchPods(s.registry, s.table);
    const pvcs = s.table.lookup('', 'v1', 'persistentvolumeclaims');
    claimVolume = (ns, name) =>
      pvcs && ((s.registry.tryGet(pvcs, ns, name)?.['spec'] ?? {}) as { volumeName?: string }).volumeName;
    s.handlers.extraSubresources.set(
      '/serviceaccounts/token',
      serviceAccountTokenHandler(s.registry, saTokens, (g, r) => s.table.lookup(g, 'v1', r), protobufDecoder),
    );
    s.handlers.extraSubresources.set(
      'certificates.k8s.io/certificatesigningrequests/approval',
      csrApprovalHandler(s.registry, protobufDecoder),
    );
    s.registry.admission.push(
      namespaceLifecycle(s.registry),
      limitRanger(s.registry),
      serviceAccountPlugin(s.registry),
      podSecurity(s.registry),
      serviceAllocation(s.registry, config.serviceCIDR),
      priorityAdmission(s.registry),
      defaultTolerationSeconds(),
      defaultStorageClassAdmission(s.registry),
      storageObjectInUseProtection(),
      resourceQuotaAdmission(s.registry),
      rbacEscalationAdmission(rbac, () => authorizer),
      nodeRestriction(),
      csrSubjectRestriction(),
    );
    reconcileDefaultPolicy(
      s.registry,
      s.table,
      s.context({ username: 'system:apiserver', groups: [SYSTEM_MASTERS] }),
    );

    let port: number;
    try {
      port = await s.listen(config.apiPort, host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.apiPort) throw e;
      port = await s.listen(0, host);
    }
    config.apiPort = port;
    if (gateway) await s.listen(port, gateway);
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
    bootstrapObjects(controllers, {
      port,
      dnsIP: CLUSTER_DNS_IP,
      ...(gateway ? { advertise: gateway } : {}),
    });
    bootstrapSystemPriorityClasses(controllers);
    const kindRefs = {
      ServiceAccount: { group: '', version: 'v1', resource: 'serviceaccounts' },
      Pod: { group: '', version: 'v1', resource: 'pods' },
      Secret: { group: '', version: 'v1', resource: 'secrets' },
      Node: { group: '', version: 'v1', resource: 'nodes' },
    };
    uidOf = (kind, ns, name) => {
      try {
        return controllers.get(kindRefs[kind], ns, name).metadata.uid;
      } catch {
        return undefined;
      }
    };
    secretToken = (ns, name) => {
      try {
        return legacySecretToken(controllers.get(kindRefs.Secret, ns, name));
      } catch {
        return undefined;
      }
    };
    const informers = new SharedInformerFactory(controllers);
    // This cluster's provisioners (falling back to the process-wide registry tests register in).
    const clusterProvisioners = new ProvisionerRegistry(provisioners);
    const disabled = new Set(opts.disableControllers ?? []);
    // Resource metrics: the node agents' usage every 15 s, served as metrics.k8s.io (kubectl top).
    const metrics = startClusterMetrics({
      informers,
      credentials: { caPem: pki.ca.certPem, certPem: kubeletClient.certPem, keyPem: kubeletClient.keyPem },
      log: (m) => opts.progress?.(m),
    });
    s.serveMetrics(metrics.store);
    const running: Controller[] = [];
    for (const entry of CONTROLLERS)
      if (!disabled.has(entry.name))
        running.push(
          entry.start({
            client: controllers,
            informers,
            caPem: pki.ca.certPem,
            caKeyPem: pki.ca.keyPem,
            serviceAccountTokens: saTokens,
            podCIDR: config.podCIDR,
            serviceCIDR: config.serviceCIDR,
            provisioners: clusterProvisioners,
            // The HorizontalPodAutoscaler reads the metrics store directly, as kube-controller-manager
            // reads metrics.k8s.io.
            podMetrics: (ns, selector) => metrics.store.podMetrics(ns, selector),
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
    let loadBalancers: LoadBalancerController | undefined;
    let ingress: IngressController | undefined;
    if (docker) {
      driver = docker;
      docker.setClient(controllers);
      // type=LoadBalancer Services: 127.0.0.1:<port> on the host → a Ready node's NodePort.
      loadBalancers = startLoadBalancers({ client: controllers, informers });
      // Ingresses of class "berth": 127.0.0.1:<ingressHTTPPort|ingressHTTPSPort> → pods via node agents.
      ingress = await startClusterIngress({
        server: s,
        client: controllers,
        informers,
        nodeClient: { caPem: pki.ca.certPem, certPem: kubeletClient.certPem, keyPem: kubeletClient.keyPem },
        caKeyPem: pki.ca.keyPem,
        httpPort: config.ingressHTTPPort,
        httpsPort: config.ingressHTTPSPort,
      });
      // StorageClass "standard" (the default): a directory on the node that runs the pod.
      const node = docker;
      clusterProvisioners.register(createLocalPathProvisioner((n, argv) => node.exec(n, argv)));
      ensureStandardStorageClass(controllers);
      await ensureNodes(docker, config.name, opts.nodes ?? 0);
      const count = (await docker.list()).length;
      if (count) await waitForReadyNodes(controllers, count, opts.waitForNodesMs ?? 120_000, opts.progress);
    } else if (driverName === 'simulated') {
      const sim = new SimulatedNodeDriver(
        // Not in system:nodes: one identity acts for every simulated node (NodeRestriction would refuse it).
        new InProcessClient(s, { username: SIMULATED_NODES_USER, groups: ['system:authenticated'] }),
        opts.simulated,
      );
      driver = sim;
      // The same default StorageClass "standard" as on real nodes; its volumes exist only as
      // PersistentVolumes (simulated pods mount nothing), so claims bind and StatefulSets start.
      clusterProvisioners.register(
        new MemoryProvisioner(LOCAL_PATH_PROVISIONER, '/var/lib/berth/local-path'),
      );
      ensureStandardStorageClass(controllers);
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
      metrics: metrics.store,
      async stop() {
        metrics.stop();
        await loadBalancers?.stop();
        await ingress?.stop();
        await driver?.close();
        scheduler?.stop();
        for (const c of running.reverse()) await c.stop();
        informers.stop();
        stopPolicy();
        podGraph.stop();
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
