/**
 * The ClusterRole aggregation controller (pkg/controller/clusterroleaggregation), written anew: a
 * ClusterRole with an aggregationRule gets as rules the rules of every ClusterRole its selectors match;
 * any ClusterRole change re-syncs every aggregated role.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { type SharedInformer, SharedInformerFactory } from '../client/informer.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';
import { aggregatedRules, aggregationSelectors } from '../auth/rbac/aggregation.ts';

const CLUSTER_ROLES: ResourceRef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'clusterroles',
};

export class ClusterRoleAggregationController {
  readonly queue = new WorkQueue();
  private readonly roles: SharedInformer;
  private readonly ownFactory?: SharedInformerFactory;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    factory?: SharedInformerFactory,
  ) {
    const f = factory ?? (this.ownFactory = new SharedInformerFactory(client));
    this.roles = f.informer(CLUSTER_ROLES);
    const all = (): void => {
      for (const r of this.roles.list()) if (aggregationSelectors(r)) this.queue.add(r.metadata.name ?? '');
    };
    this.roles.addHandlers({ add: all, update: all, delete: all });
  }

  start(): void {
    this.ownFactory?.start();
    this.running = runWorkers(this.queue, 1, (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.ownFactory?.stop();
    await this.running;
  }

  sync(name: string): void {
    const role = this.roles.get('', name);
    if (!role || !aggregationSelectors(role)) return;
    const rules = aggregatedRules(role, this.roles.list());
    if (JSON.stringify(rules) === JSON.stringify(role['rules'] ?? [])) return;
    const next: KObject = { ...role, rules };
    try {
      this.client.update(CLUSTER_ROLES, '', next);
    } catch (e) {
      if (e instanceof StatusError && (e.code === 404 || e.code === 409)) {
        if (e.code === 409) this.queue.addRateLimited(name);
        return;
      }
      throw e;
    }
  }
}
