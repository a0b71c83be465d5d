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

function started<T extends { start(): void }>(c: T): T {
  c.start();
  return c;
}

export const CONTROLLERS: readonly ControllerEntry[] = [
  { name: 'namespace', start: (c) => started(new NamespaceController(c.client)) },
  { name: 'serviceaccount', start: (c) => started(new ServiceAccountController(c.client, c.caPem)) },
  { name: 'garbagecollector', start: (c) => started(new GarbageCollector(c.client)) },
  {
    name: 'replicaset',
    start: (c) => started(new ReplicaSetController(c.client, undefined, c.informers)),
  },
  {
    name: 'replicationcontroller',
    start: (c) => started(new ReplicaSetController(c.client, replicationControllerKind, c.informers)),
  },
  { name: 'deployment', start: (c) => started(new DeploymentController(c.client, c.informers)) },
];
