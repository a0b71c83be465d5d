import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import type { Attributes } from './types.ts';
import { resourceAttributes, type ResourceTarget } from './attributes.ts';
import { NodeAuthorizer, nodeNameOf, podReferences } from './node-authorizer.ts';

const node = (name: string) => ({
  username: `system:node:${name}`,
  groups: ['system:nodes', 'system:authenticated'],
});
const at = (n: string, verb: string, resource: string, o: ResourceTarget = {}): Attributes =>
  resourceAttributes(node(n), verb, resource, o);

const pod = (name: string, nodeName: string | undefined): KObject =>
  ({
    metadata: { namespace: 'app', name },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      serviceAccountName: 'runner',
      imagePullSecrets: [{ name: 'pull' }],
      containers: [
        {
          env: [{ valueFrom: { secretKeyRef: { name: 'env-secret' } } }],
          envFrom: [{ configMapRef: { name: 'env-cm' } }],
        },
      ],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: 'claim' } },
        {
          name: 'proj',
          projected: { sources: [{ configMap: { name: 'proj-cm' } }, { serviceAccountToken: {} }] },
        },
        { name: 'scratch', ephemeral: {} },
      ],
    },
  }) as unknown as KObject;

test('node identities', () => {
  assert.equal(nodeNameOf(node('a')), 'a');
  assert.equal(nodeNameOf({ username: 'system:node:a', groups: [] }), undefined);
  assert.equal(nodeNameOf({ username: 'alice', groups: ['system:nodes'] }), undefined);
});

test('pod references', () => {
  assert.deepEqual(podReferences(pod('p', 'n1')).sort(), [
    'configmap/app/env-cm',
    'configmap/app/proj-cm',
    'pvc/app/claim',
    'pvc/app/p-scratch',
    'secret/app/env-secret',
    'secret/app/pull',
    'serviceaccount/app/runner',
  ]);
});

test('a node reads only what the pods bound to it reference, and only its own lease', () => {
  const z = new NodeAuthorizer((ns, name) => (ns === 'app' && name === 'claim' ? 'pv-1' : undefined));
  const allowed = (a: Attributes): boolean => z.authorize(a).decision === 'allow';
  z.applyPod('ADDED', pod('p', undefined));
  assert.ok(
    !allowed(at('n1', 'get', 'secrets', { ns: 'app', name: 'env-secret' })),
    'unscheduled pods grant nothing',
  );
  z.applyPod('MODIFIED', pod('p', 'n1'));
  assert.ok(allowed(at('n1', 'get', 'secrets', { ns: 'app', name: 'env-secret' })));
  assert.ok(allowed(at('n1', 'get', 'configmaps', { ns: 'app', name: 'proj-cm' })));
  assert.ok(allowed(at('n1', 'get', 'persistentvolumeclaims', { ns: 'app', name: 'claim' })));
  assert.ok(allowed(at('n1', 'get', 'persistentvolumes', { name: 'pv-1' })));
  assert.ok(!allowed(at('n1', 'get', 'persistentvolumes', { name: 'pv-2' })));
  assert.ok(allowed(at('n1', 'create', 'serviceaccounts', { ns: 'app', name: 'runner', sub: 'token' })));
  assert.ok(!allowed(at('n1', 'create', 'serviceaccounts', { ns: 'app', name: 'default', sub: 'token' })));
  assert.deepEqual(z.authorize(at('n2', 'get', 'secrets', { ns: 'app', name: 'env-secret' })), {
    decision: 'noOpinion',
    reason: "no relationship found between node 'n2' and this object",
  });
  assert.ok(!allowed(at('n1', 'list', 'secrets', { ns: 'app' })), 'no listing secrets');
  assert.ok(!allowed(at('n1', 'update', 'secrets', { ns: 'app', name: 'env-secret' })));
  // Leases.
  const lease = (n: string, verb: string, name: string, ns = 'kube-node-lease') =>
    at(n, verb, 'leases', { group: 'coordination.k8s.io', ns, name });
  assert.ok(allowed(lease('n1', 'update', 'n1')));
  assert.ok(allowed(lease('n1', 'create', '')));
  assert.ok(!allowed(lease('n1', 'update', 'n2')));
  assert.ok(!allowed(lease('n1', 'get', 'n1', 'default')));
  // system:node (and node-proxier) rules.
  assert.ok(allowed(at('n1', 'watch', 'pods')));
  assert.ok(allowed(at('n1', 'patch', 'pods', { ns: 'app', name: 'p', sub: 'status' })));
  assert.ok(allowed(at('n1', 'list', 'endpointslices', { group: 'discovery.k8s.io' })));
  assert.ok(!allowed(at('n1', 'create', 'deployments', { group: 'apps', ns: 'app' })));
  // Deleting the pod removes the relationship.
  z.applyPod('DELETED', pod('p', 'n1'));
  assert.ok(!allowed(at('n1', 'get', 'secrets', { ns: 'app', name: 'env-secret' })));
  // Not a node: no opinion at all.
  assert.deepEqual(z.authorize({ ...at('n1', 'get', 'pods'), user: { username: 'bob', groups: [] } }), {
    decision: 'noOpinion',
    reason: '',
  });
});
