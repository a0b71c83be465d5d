/**
 * The "view as" matrix: for one subject and namespace, verbs × resources, each cell answered by the API
 * server (a SubjectAccessReview: every authorizer of the chain has its say) and explained by Berth's own
 * RBAC authorizer (core/auth/rbac/explain.ts) fed with the cluster's ClusterRoles, ClusterRoleBindings
 * and the namespace's Roles and RoleBindings — which binding grants it, through which role and rule.
 * Also SelfSubjectAccessReviews for "may I (or the subject I view as) do this?".
 */
import type { KObject } from '../api/object.ts';
import type { UserInfo } from '../auth/types.ts';
import { resourceAttributes } from '../auth/attributes.ts';
import { RbacAuthorizer, type Subject } from '../auth/rbac/authorizer.ts';
import { explain, grantText, matchingSubjects } from '../auth/rbac/explain.ts';
import type {
  AccessCell,
  AccessGrant,
  AccessMatrix,
  AccessQuestion,
  AccessRow,
  KubeObject,
  RbacSubject,
} from './contract.ts';
import type { KubeClient } from './kube-client.ts';
import { effectiveUser } from './impersonation.ts';

export const MATRIX_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
];

/** group, resource[/subresource], namespaced. */
const ROWS: [string, string, boolean][] = [
  ['', 'pods', true],
  ['', 'pods/log', true],
  ['', 'pods/exec', true],
  ['', 'pods/portforward', true],
  ['', 'services', true],
  ['', 'endpoints', true],
  ['', 'configmaps', true],
  ['', 'secrets', true],
  ['', 'serviceaccounts', true],
  ['', 'persistentvolumeclaims', true],
  ['', 'events', true],
  ['', 'namespaces', false],
  ['', 'nodes', false],
  ['', 'persistentvolumes', false],
  ['apps', 'deployments', true],
  ['apps', 'deployments/scale', true],
  ['apps', 'replicasets', true],
  ['apps', 'statefulsets', true],
  ['apps', 'daemonsets', true],
  ['batch', 'jobs', true],
  ['batch', 'cronjobs', true],
  ['rbac.authorization.k8s.io', 'roles', true],
  ['rbac.authorization.k8s.io', 'rolebindings', true],
  ['rbac.authorization.k8s.io', 'clusterroles', false],
  ['rbac.authorization.k8s.io', 'clusterrolebindings', false],
  ['networking.k8s.io', 'networkpolicies', true],
  ['networking.k8s.io', 'ingresses', true],
];

const RBAC = { group: 'rbac.authorization.k8s.io', version: 'v1' };
const REVIEWS = '/apis/authorization.k8s.io/v1';
const CONCURRENCY = 8;

interface ReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** Runs `fn` over `items` with at most `n` at a time, keeping the order of the results. */
async function mapLimited<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

function answer(r: ReviewStatus): { allowed: boolean; reason?: string } {
  const why = [r.status?.reason, r.status?.evaluationError].filter(Boolean).join('; ');
  return { allowed: r.status?.allowed === true, ...(why ? { reason: why } : {}) };
}

function splitResource(combined: string): { resource: string; subresource: string } {
  const i = combined.indexOf('/');
  return i < 0
    ? { resource: combined, subresource: '' }
    : { resource: combined.slice(0, i), subresource: combined.slice(i + 1) };
}

/** Berth's RBAC authorizer holding the cluster's policy as seen from `namespace`. */
async function loadPolicy(
  client: KubeClient,
  namespace: string,
): Promise<{ rbac: RbacAuthorizer; subjectsOf: (ns: string, name: string) => Subject[] }> {
  const [clusterRoles, clusterBindings, roles, bindings] = await Promise.all([
    client.list({ ...RBAC, resource: 'clusterroles' }),
    client.list({ ...RBAC, resource: 'clusterrolebindings' }),
    namespace ? client.list({ ...RBAC, resource: 'roles' }, namespace) : { items: [] },
    namespace ? client.list({ ...RBAC, resource: 'rolebindings' }, namespace) : { items: [] },
  ]);
  const rbac = new RbacAuthorizer();
  const subjects = new Map<string, Subject[]>();
  const feed = (kind: string, items: KubeObject[]): void => {
    for (const o of items) {
      rbac.apply(kind, 'ADDED', o as unknown as KObject);
      if (kind.endsWith('Binding'))
        subjects.set(
          `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`,
          (o['subjects'] ?? []) as unknown as Subject[],
        );
    }
  };
  feed('ClusterRole', clusterRoles.items);
  feed('ClusterRoleBinding', clusterBindings.items);
  feed('Role', roles.items);
  feed('RoleBinding', bindings.items);
  return { rbac, subjectsOf: (ns, name) => subjects.get(`${ns}/${name}`) ?? [] };
}

function subjectText(s: Subject): string {
  return `${s.kind} ${s.kind === 'ServiceAccount' && s.namespace ? `${s.namespace}/` : ''}${s.name}`;
}

export async function accessMatrix(
  client: KubeClient,
  subject: RbacSubject,
  namespace: string,
): Promise<AccessMatrix> {
  const user: UserInfo = effectiveUser(subject);
  const { rbac, subjectsOf } = await loadPolicy(client, namespace);
  const errors = new Set<string>();
  const cells = ROWS.flatMap(([group, combined, namespaced]) =>
    MATRIX_VERBS.map((verb) => ({ group, combined, namespaced, verb })),
  );
  const answered = await mapLimited(cells, CONCURRENCY, async (c): Promise<AccessCell> => {
    const { resource, subresource } = splitResource(c.combined);
    const ns = c.namespaced ? namespace : '';
    const review = await client.request<ReviewStatus>('POST', `${REVIEWS}/subjectaccessreviews`, {
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          groups: user.groups,
          resourceAttributes: {
            verb: c.verb,
            group: c.group,
            resource,
            ...(subresource ? { subresource } : {}),
            ...(ns ? { namespace: ns } : {}),
          },
        },
      }),
    });
    const why = explain(
      rbac,
      resourceAttributes(user, c.verb, resource, { group: c.group, sub: subresource, ns }),
    );
    for (const e of why.errors) errors.add(e);
    const grants: AccessGrant[] = why.grants.map((g) => ({
      binding: g.binding,
      role: g.role,
      rule: g.rule,
      via: matchingSubjects(
        subjectsOf(g.binding.namespace ?? '', g.binding.name),
        g.binding.namespace ?? '',
        user,
      ).map(subjectText),
      text: grantText(g),
    }));
    return { verb: c.verb, ...answer(review), grants };
  });
  const rows: AccessRow[] = ROWS.map(([group, combined, namespaced], i) => {
    const { resource, subresource } = splitResource(combined);
    return {
      group,
      resource,
      ...(subresource ? { subresource } : {}),
      label: group ? `${combined}.${group}` : combined,
      namespaced,
      cells: answered.slice(i * MATRIX_VERBS.length, (i + 1) * MATRIX_VERBS.length),
    };
  });
  return { subject, user, namespace, verbs: MATRIX_VERBS, rows, errors: [...errors] };
}

/** SelfSubjectAccessReviews: what the client's identity (impersonated or not) may do. */
export function selfAccess(
  client: KubeClient,
  questions: AccessQuestion[],
): Promise<{ allowed: boolean; reason?: string }[]> {
  return mapLimited(questions, CONCURRENCY, async (q) =>
    answer(
      await client.request<ReviewStatus>('POST', `${REVIEWS}/selfsubjectaccessreviews`, {
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: q.verb,
              group: q.group,
              resource: q.resource,
              ...(q.subresource ? { subresource: q.subresource } : {}),
              ...(q.namespace ? { namespace: q.namespace } : {}),
              ...(q.name ? { name: q.name } : {}),
            },
          },
        }),
      }),
    ),
  );
}
