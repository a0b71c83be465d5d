/**
 * The HorizontalPodAutoscaler controller in a simulated cluster, with the resource metrics given by the
 * test (the real metrics pipeline from node agents is proven in e2e/metrics.test.ts): scale up from
 * pod usage, status and conditions as upstream writes them, a target at 0 disables scaling, no metrics
 * → FailedGetResourceMetric, autoscaling/v1 objects drive the same controller.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import type { ResourceRef } from '../client/in-process.ts';
import { clusterFixture } from '../testing/cluster-fixture.ts';
import { waitFor } from '../testing/wait.ts';
import { HorizontalPodAutoscalerController, HPAS } from './horizontal-pod-autoscaler.ts';

const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const HPAS_V1: ResourceRef = { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers' };
const NS = 'default';

/** Usage per pod the "metrics API" reports: millicores by pod name prefix. */
const usage = new Map<string, number>();
let metricsAvailable = true;
// Samples are taken "10 minutes later" so every pod is past its cpu initialization period.
const later = (): number => Date.now() + 10 * 60_000;

const f = clusterFixture(
  'berth-hpa',
  { driver: 'simulated', nodes: 1, disableControllers: ['horizontalpodautoscaling'] },
  { serviceAccountIn: NS },
);
let hpa: HorizontalPodAutoscalerController | undefined;

function podMetrics(namespace: string, selector: string): KObject[] | undefined {
  if (!metricsAvailable) return undefined;
  return f.client
    .list(PODS, namespace, { labelSelector: selector })
    .items.filter((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running')
    .map((p) => {
      const name = p.metadata.name ?? '';
      const milli = [...usage].find(([prefix]) => name.startsWith(prefix))?.[1] ?? 0;
      return {
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: { name, namespace },
        timestamp: new Date(later()).toISOString(),
        window: '15s',
        containers: [{ name: 'app', usage: { cpu: `${milli * 1_000_000}n`, memory: '10Mi' } }],
      };
    });
}

function start(): void {
  hpa = new HorizontalPodAutoscalerController(f.client, undefined, {
    podMetrics,
    syncPeriodMs: 150,
    now: later,
  });
  hpa.start();
}
after(async () => {
  await hpa?.stop();
});

function deployment(name: string, replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'app', image: 'registry.berth.test/app:1', resources: { requests: { cpu: '100m' } } },
          ],
        },
      },
    },
  };
}

function autoscaler(name: string, target: string, pct: number, max = 10): KObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: 1,
      maxReplicas: max,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } },
        },
      ],
    },
  };
}

type Cond = { type: string; status: string; reason: string; message: string };
const conditions = (name: string): Record<string, Cond> =>
  Object.fromEntries(
    (((f.client.get(HPAS, NS, name)['status'] ?? {}) as { conditions?: Cond[] }).conditions ?? []).map(
      (c) => [c.type, c],
    ),
  );
const replicasOf = (name: string): number =>
  (f.client.get(DEPLOYMENTS, NS, name)['spec'] as { replicas: number }).replicas;
const runningPods = (app: string): number =>
  f.client
    .list(PODS, NS, { labelSelector: `app=${app}` })
    .items.filter((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running').length;
const eventsFor = (name: string): string[] =>
  f.client
    .list(EVENTS, NS)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === name)
    .map((e) => `${String(e['reason'])}: ${String(e['message'])}`);

test('pods at 100 % of their cpu request against a 50 % target: 2 → 4 replicas, with upstream status', async () => {
  start();
  usage.set('web-', 100);
  f.client.create(DEPLOYMENTS, NS, deployment('web', 2));
  await waitFor('2 running web pods', () => runningPods('web') === 2);
  f.client.create(HPAS, NS, autoscaler('web', 'web', 50));
  await waitFor('scaled to 4', () => replicasOf('web') === 4, 10_000);
  const st = await waitFor('status written', () => {
    const s = f.client.get(HPAS, NS, 'web')['status'] as {
      desiredReplicas?: number;
      currentMetrics?: unknown[];
    };
    return s.desiredReplicas === 4 ? s : undefined;
  });
  assert.deepEqual(st.currentMetrics, [
    {
      type: 'Resource',
      resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } },
    },
  ]);
  const c = conditions('web');
  assert.equal(c['AbleToScale']?.status, 'True');
  assert.equal(c['ScalingActive']?.reason, 'ValidMetricFound');
  assert.equal(
    c['ScalingActive']?.message,
    'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
  );
  assert.ok(
    eventsFor('web').includes(
      'SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target',
    ),
    eventsFor('web').join('\n'),
  );
  // A spec change is acted on at once (generation), not at the next 15 s resync: maxReplicas 3 < 4.
  assert.equal(f.client.get(HPAS, NS, 'web').metadata.generation, 1);
  f.client.patch(HPAS, NS, 'web', 'application/merge-patch+json', { spec: { maxReplicas: 3 } });
  assert.equal(f.client.get(HPAS, NS, 'web').metadata.generation, 2);
  await waitFor('scaled to maxReplicas 3', () => replicasOf('web') === 3);
  f.client.patch(HPAS, NS, 'web', 'application/merge-patch+json', { spec: { maxReplicas: 10 } });
  // At 25 m per pod (25 %), scaling down waits for the 5-minute stabilization window: still 4.
  usage.set('web-', 25);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(replicasOf('web'), 4);
  await waitFor(
    'ScaleDownStabilized',
    () => conditions('web')['AbleToScale']?.reason === 'ScaleDownStabilized',
  );
});

test('no metrics API: ScalingActive False with FailedGetResourceMetric; the target is left alone', async () => {
  metricsAvailable = false;
  try {
    f.client.create(DEPLOYMENTS, NS, deployment('quiet', 2));
    f.client.create(HPAS, NS, autoscaler('quiet', 'quiet', 50));
    const c = await waitFor('ScalingActive False', () => {
      const s = conditions('quiet')['ScalingActive'];
      return s?.status === 'False' ? s : undefined;
    });
    assert.equal(c.reason, 'FailedGetResourceMetric');
    assert.equal(
      c.message,
      'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    );
    assert.equal(replicasOf('quiet'), 2);
    await waitFor('warning events', () =>
      eventsFor('quiet').some((e) =>
        e.startsWith('FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1)'),
      ),
    );
  } finally {
    metricsAvailable = true;
  }
});

test('a target scaled to 0 disables autoscaling; an autoscaling/v1 object drives the same controller', async () => {
  f.client.create(DEPLOYMENTS, NS, deployment('zero', 0));
  f.client.create(HPAS, NS, autoscaler('zero', 'zero', 50));
  await waitFor('ScalingDisabled', () => conditions('zero')['ScalingActive']?.reason === 'ScalingDisabled');
  assert.equal(replicasOf('zero'), 0);

  usage.set('v1app-', 300);
  f.client.create(DEPLOYMENTS, NS, deployment('v1app', 1));
  await waitFor('1 running v1app pod', () => runningPods('v1app') === 1);
  f.client.create(HPAS_V1, NS, {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'v1app', namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'v1app' },
      minReplicas: 1,
      maxReplicas: 3,
      targetCPUUtilizationPercentage: 60,
    },
  });
  // 300 % of request vs 60 % → 5, capped at maxReplicas 3 (TooManyReplicas).
  await waitFor('scaled to 3', () => replicasOf('v1app') === 3);
  const v1 = await waitFor('v1 status', () => {
    const s = f.client.get(HPAS_V1, NS, 'v1app')['status'] as { currentCPUUtilizationPercentage?: number };
    return s.currentCPUUtilizationPercentage !== undefined ? s : undefined;
  });
  assert.equal(v1.currentCPUUtilizationPercentage, 300);
  assert.equal(conditions('v1app')['ScalingLimited']?.reason, 'TooManyReplicas');
});
