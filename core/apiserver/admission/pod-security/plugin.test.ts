import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../../api/object.ts';
import { StatusError } from '../../../api/status.ts';
import type { RequestContext } from '../../../registry/types.ts';
import { clusterFixture } from '../../../testing/cluster-fixture.ts';
import { waitFor } from '../../../testing/wait.ts';
import type { Served } from '../../resources.ts';

const fx = clusterFixture('berth-psa-', { disableScheduler: true });

const served = (group: string, resource: string): Served => {
  const s = fx.cluster.server.table.lookup(group, group === 'apps' ? 'v1' : 'v1', resource);
  assert.ok(s, resource);
  return s;
};
const registry = () => fx.cluster.server.registry;
/** A request context as the API server makes one per request (with its warnings channel). */
const requestContext = (): RequestContext => ({
  ...fx.cluster.server.context({ username: 'alice', groups: ['system:masters', 'system:authenticated'] }),
  warnings: [],
  auditAnnotations: {},
});

/** The StatusError `fn` throws (the test fails if it throws nothing or something else). */
function refusal(fn: () => unknown): StatusError {
  let thrown: unknown;
  assert.throws(fn, (e) => ((thrown = e), e instanceof StatusError));
  return thrown as StatusError;
}

async function labelledNamespace(name: string, labels: Record<string, string>): Promise<RequestContext> {
  const ctx = requestContext();
  registry().create(
    served('', 'namespaces'),
    '',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
    ctx,
  );
  await waitFor('default service account', () =>
    registry().tryGet(served('', 'serviceaccounts'), name, 'default'),
  );
  return ctx;
}

function relabel(name: string, labels: Record<string, string>): RequestContext {
  const ctx = requestContext();
  const ns = registry().get(served('', 'namespaces'), '', name);
  ns.metadata.labels = { ...ns.metadata.labels, ...labels };
  registry().update(served('', 'namespaces'), '', name, ns, ctx);
  return ctx;
}

const restrictedContext = {
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
const pod = (ns: string, name: string, securityContext?: Record<string, unknown>): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: 'c', image: 'nginx', ...(securityContext ? { securityContext } : {}) }] },
});
const createPod = (p: KObject, ctx = requestContext()): { pod: KObject; warnings: string[] } => ({
  pod: registry().create(served('', 'pods'), p.metadata.namespace ?? '', p, ctx),
  warnings: ctx.warnings ?? [],
});

const RESTRICTED_PLAIN =
  'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
  'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
  'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
  'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

test('invalid PodSecurity labels are refused on namespace create and update', async () => {
  const e = refusal(() =>
    registry().create(
      served('', 'namespaces'),
      '',
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'psa-bad', labels: { 'pod-security.kubernetes.io/enforce': 'x' } },
      },
      requestContext(),
    ),
  );
  assert.equal(e.code, 422);
  assert.equal(
    e.message,
    'Namespace "psa-bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "x": must be one of privileged, baseline, restricted',
  );
  await labelledNamespace('psa-relabel', {});
  const u = refusal(() => relabel('psa-relabel', { 'pod-security.kubernetes.io/warn-version': 'latest1' }));
  assert.equal(u.code, 422);
  assert.match(u.message, /warn-version\]: Invalid value: "latest1": must be "latest" or "v1.x"$/);
});

test('enforce refuses, warn warns, a restricted pod passes silently', async () => {
  const ns = 'psa-pods';
  const nsCtx = await labelledNamespace(ns, {
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/warn': 'restricted',
  });
  assert.deepEqual(nsCtx.warnings, []);

  const ctx = requestContext();
  const e = refusal(() => createPod(pod(ns, 'priv', { privileged: true }), ctx));
  assert.equal(e.code, 403);
  assert.equal(e.reason, 'Forbidden');
  assert.equal(
    e.message,
    'pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)',
  );
  assert.deepEqual(ctx.warnings, [], 'no warnings on a refused request');

  assert.deepEqual(createPod(pod(ns, 'plain')).warnings, [
    `would violate PodSecurity "restricted:latest": ${RESTRICTED_PLAIN}`,
  ]);
  assert.deepEqual(createPod(pod(ns, 'locked', restrictedContext)).warnings, []);
});

test('audit: the enforced policy and what the audit level would refuse become audit annotations', async () => {
  const ns = 'psa-audit';
  await labelledNamespace(ns, {
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/audit': 'restricted',
  });
  const ctx = requestContext();
  createPod(pod(ns, 'plain'), ctx);
  assert.deepEqual(ctx.auditAnnotations, {
    'pod-security.kubernetes.io/enforce-policy': 'baseline:latest',
    'pod-security.kubernetes.io/audit-violations': `would violate PodSecurity "restricted:latest": ${RESTRICTED_PLAIN}`,
  });
  assert.deepEqual(ctx.warnings, [], 'audit is not warn');
  // A refused pod still records the enforced policy.
  const refused = requestContext();
  refusal(() => createPod(pod(ns, 'priv', { privileged: true }), refused));
  assert.equal(refused.auditAnnotations?.['pod-security.kubernetes.io/enforce-policy'], 'baseline:latest');
});

test('pod updates: only significant changes are evaluated; status writes never are', async () => {
  const ns = 'psa-updates';
  await labelledNamespace(ns, {});
  createPod(pod(ns, 'web'));
  relabel(ns, { 'pod-security.kubernetes.io/enforce': 'restricted' });

  const pods = served('', 'pods');
  const labelOnly = registry().get(pods, ns, 'web');
  labelOnly.metadata.labels = { tier: 'front' };
  registry().update(pods, ns, 'web', labelOnly, requestContext());

  const status = registry().get(pods, ns, 'web');
  status['status'] = { phase: 'Pending', message: 'x' };
  registry().update(pods, ns, 'web', status, requestContext(), { subresource: 'status' });

  const image = registry().get(pods, ns, 'web');
  (image['spec'] as { containers: { image: string }[] }).containers[0]!.image = 'nginx:2';
  const e = refusal(() => registry().update(pods, ns, 'web', image, requestContext()));
  assert.equal(
    e.message,
    `pods "web" is forbidden: violates PodSecurity "restricted:latest": ${RESTRICTED_PLAIN}`,
  );
});

test('workload templates get warnings, never refusals', async () => {
  const ns = 'psa-workloads';
  await labelledNamespace(ns, {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/warn': 'baseline',
  });
  const ctx = requestContext();
  const template = { metadata: { labels: { app: 'w' } }, spec: pod(ns, 'x', { privileged: true })['spec'] };
  registry().create(
    served('apps', 'deployments'),
    ns,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'w', namespace: ns },
      spec: { replicas: 0, selector: { matchLabels: { app: 'w' } }, template },
    },
    ctx,
  );
  assert.deepEqual(ctx.warnings, [
    'would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)',
  ]);
  const cj = requestContext();
  registry().create(
    served('batch', 'cronjobs'),
    ns,
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'cj', namespace: ns },
      spec: {
        schedule: '* * * * *',
        jobTemplate: {
          spec: { template: { spec: { ...(template.spec as object), restartPolicy: 'Never' } } },
        },
      },
    },
    cj,
  );
  assert.equal(cj.warnings?.length, 1);
});

test('a stricter enforce level warns about existing pods', async () => {
  const ns = 'psa-existing';
  await labelledNamespace(ns, {});
  createPod(pod(ns, 'b-plain'));
  createPod(pod(ns, 'a-plain'));
  createPod(pod(ns, 'c-priv', { privileged: true }));
  createPod(pod(ns, 'ok', restrictedContext));

  const baseline = relabel(ns, { 'pod-security.kubernetes.io/enforce': 'baseline' });
  assert.deepEqual(baseline.warnings, [
    `existing pods in namespace "${ns}" violate the new PodSecurity enforce level "baseline:latest"`,
    'c-priv: privileged',
  ]);
  const restricted = relabel(ns, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  assert.deepEqual(restricted.warnings, [
    `existing pods in namespace "${ns}" violate the new PodSecurity enforce level "restricted:latest"`,
    'a-plain (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    'c-priv: privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
  ]);
  // Relaxing (same version) or an unchanged enforce label does not check pods.
  assert.deepEqual(relabel(ns, { 'pod-security.kubernetes.io/enforce': 'baseline' }).warnings, []);
  assert.deepEqual(relabel(ns, { other: 'label' }).warnings, []);
});
