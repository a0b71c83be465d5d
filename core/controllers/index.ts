/**
 * The controller manager's list: every in-process controller, started by the composition root
 * (core/cluster) in this order and stopped in reverse. Each entry builds one controller from the shared
 * context; tests start a cluster with some of them disabled (StartClusterOptions.disableControllers).
 */
import type { InProcessClient } from '../client/in-process.ts';
import type { SharedInformerFactory } from '../client/informer.ts';
import { NamespaceController } from './namespace.ts';
import { ServiceAccountController } from './serviceaccounts.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { ReplicaSetController, replicationControllerKind } from './replicaset.ts';
import { DeploymentController } from './deployment.ts';
import { DaemonSetController } from './daemonset.ts';
import { StatefulSetController } from './statefulset.ts';
import { JobController } from './job.ts';
import { CronJobController } from './cronjob.ts';
import { TTLAfterFinishedController } from './ttl-after-finished.ts';
import { EndpointsController } from './endpoints.ts';
import { EndpointSliceController } from './endpointslices.ts';
import { NodeLifecycleController } from './node-lifecycle.ts';
import { TaintEvictionController } from './taint-eviction.ts';
import { DisruptionController } from './disruption.ts';
import { NodeIpamController } from './node-ipam.ts';
import { PodGCController } from './pod-gc.ts';
import { ResourceQuotaController } from './resourcequota.ts';
import { PersistentVolumeBinder } from './pv-binder.ts';
import { StorageProtectionController } from './pv-protection.ts';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.ts';
import { CsrSignerController } from './csr-signer.ts';
import { ServiceAccountTokenController } from './serviceaccount-token.ts';
import type { ServiceAccountTokens } from '../auth/service-account-token.ts';
import type { ProvisionerRegistry } from '../nodes/provisioner.ts';
import { HorizontalPodAutoscalerController, type PodMetricsSource } from './horizontal-pod-autoscaler.ts';
import { CustomResourceDefinitionController } from './customresourcedefinitions.ts';

/** What every controller may use. */
export interface ControllerContext {
  /** The API as system:kube-controller-manager (authorized, admitted, validated). */
  client: InProcessClient;
  /** Shared informers (started after every controller registered its handlers). */
  informers: SharedInformerFactory;
  /** The cluster CA (PEM), for kube-root-ca.crt. */
  caPem: string;
  /** The cluster-wide pod range (node IPAM carves per-node CIDRs from it). */
  podCIDR: string;
  /** The service range. */
  serviceCIDR: string;
  /** The cluster CA's private key (PEM), for the CSR signer (which does not start without it). */
  caKeyPem?: string;
  /** The service-account token signer, for legacy token Secrets (that controller needs it). */
  serviceAccountTokens?: ServiceAccountTokens;
  /** The cluster's dynamic volume provisioners (the process-wide registry when absent). */
  provisioners?: ProvisionerRegistry;
  /** The resource metrics API's pod metrics (metrics.k8s.io), for the HorizontalPodAutoscaler. */
  podMetrics?: PodMetricsSource;
}

/** A running controller. */
export interface Controller {
  stop(): void | Promise<void>;
}

export interface ControllerEntry {
  /** The name used to disable it (kube-controller-manager's --controllers names where one exists). */
  name: string;
  start(ctx: ControllerContext): Controller;
}

function required<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`controller context: ${what} is needed`);
  return v;
}

function started<T extends { start(): void }>(c: T): T {
  c.start();
  return c;
}

export const CONTROLLERS: readonly ControllerEntry[] = [
  { name: 'namespace', start: (c) => started(new NamespaceController(c.client)) },
  { name: 'serviceaccount', start: (c) => started(new ServiceAccountController(c.client, c.caPem)) },
  { name: 'garbagecollector', start: (c) => started(new GarbageCollector(c.client)) },
  {
    name: 'customresourcedefinition',
    start: (c) => started(new CustomResourceDefinitionController(c.client)),
  },
  {
    name: 'replicaset',
    start: (c) => started(new ReplicaSetController(c.client, undefined, c.informers)),
  },
  {
    name: 'replicationcontroller',
    start: (c) => started(new ReplicaSetController(c.client, replicationControllerKind, c.informers)),
  },
  { name: 'deployment', start: (c) => started(new DeploymentController(c.client, c.informers)) },
  { name: 'daemonset', start: (c) => started(new DaemonSetController(c.client, c.informers)) },
  { name: 'statefulset', start: (c) => started(new StatefulSetController(c.client, c.informers)) },
  { name: 'job', start: (c) => started(new JobController(c.client, c.informers)) },
  { name: 'cronjob', start: (c) => started(new CronJobController(c.client, c.informers)) },
  {
    name: 'ttl-after-finished',
    start: (c) => started(new TTLAfterFinishedController(c.client, c.informers)),
  },
  { name: 'endpoint', start: (c) => started(new EndpointsController(c.client, c.informers)) },
  { name: 'endpointslice', start: (c) => started(new EndpointSliceController(c.client, c.informers)) },
  { name: 'nodelifecycle', start: (c) => started(new NodeLifecycleController(c.client, c.informers)) },
  {
    name: 'taint-eviction-controller',
    start: (c) => started(new TaintEvictionController(c.client, c.informers)),
  },
  { name: 'disruption', start: (c) => started(new DisruptionController(c.client, c.informers)) },
  { name: 'nodeipam', start: (c) => started(new NodeIpamController(c.client, c.informers, c.podCIDR)) },
  { name: 'podgc', start: (c) => started(new PodGCController(c.client, c.informers)) },
  { name: 'resourcequota', start: (c) => started(new ResourceQuotaController(c.client, c.informers)) },
  {
    name: 'persistentvolume-binder',
    start: (c) => started(new PersistentVolumeBinder(c.client, c.informers, c.provisioners)),
  },
  {
    name: 'horizontalpodautoscaling',
    start: (c) =>
      started(new HorizontalPodAutoscalerController(c.client, c.informers, { podMetrics: c.podMetrics })),
  },
  { name: 'pvc-protection', start: (c) => started(new StorageProtectionController(c.client, c.informers)) },
  {
    name: 'clusterrole-aggregation',
    start: (c) => started(new ClusterRoleAggregationController(c.client, c.informers)),
  },
  {
    name: 'csrsigning',
    start: (c) => started(new CsrSignerController(c.client, c.caPem, required(c.caKeyPem, 'caKeyPem'))),
  },
  {
    name: 'serviceaccount-token',
    start: (c) =>
      started(
        new ServiceAccountTokenController(
          c.client,
          required(c.serviceAccountTokens, 'serviceAccountTokens'),
          c.caPem,
        ),
      ),
  },
];
