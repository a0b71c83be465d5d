/** The RBAC part of the GUI contract: users, the "view as" matrix and mode, access questions. */
import type { AccessQuestion, CreateUserParams, RbacSubject, ViewAsState } from './contract.ts';
import type { KubeClient } from './kube-client.ts';
import { ContractViolation, type Handlers, SEGMENT, obj, optStr, str } from './params.ts';
import { accessMatrix, selfAccess } from './rbac-matrix.ts';
import { createUserWithBinding, revokeBerthUser, userKubeconfig, usersOf } from './rbac-users.ts';

export interface RbacContext {
  /** The data dir of a built-in cluster (users live there); throws for other clusters. */
  dataDirOf(cluster: string): Promise<string>;
  /** A client with this host's own credentials. */
  ownClient(cluster: string): KubeClient;
  /** A client as the window's current identity (the subject while "view as" is on). */
  client(cluster: string): KubeClient;
  setViewAs(cluster: string, subject: RbacSubject | null): ViewAsState;
}

export type RbacMethod =
  | 'users.list'
  | 'users.create'
  | 'users.kubeconfig'
  | 'users.revoke'
  | 'rbac.matrix'
  | 'rbac.can'
  | 'viewAs.set';

const MAX_NAME = 253;

function name(p: Record<string, unknown>, k: string): string {
  const v = str(p, k);
  if (v.length > MAX_NAME || !SEGMENT.test(v)) throw new ContractViolation(`${k} must be a DNS name`);
  return v;
}

function strings(p: Record<string, unknown>, k: string, max = 20): string[] {
  const v = p[k] ?? [];
  if (
    !Array.isArray(v) ||
    v.length > max ||
    !v.every((g) => typeof g === 'string' && g && g.length <= MAX_NAME)
  )
    throw new ContractViolation(`${k} must be an array of non-empty strings (≤ ${max})`);
  return v as string[];
}

export function subjectParam(v: unknown): RbacSubject {
  const s = obj(v, 'subject');
  switch (s['kind']) {
    case 'User': {
      const groups = strings(s, 'groups');
      return { kind: 'User', name: str(s, 'name'), ...(groups.length ? { groups } : {}) };
    }
    case 'Group':
      return { kind: 'Group', name: str(s, 'name') };
    case 'ServiceAccount':
      return { kind: 'ServiceAccount', namespace: name(s, 'namespace'), name: name(s, 'name') };
    default:
      throw new ContractViolation('subject.kind must be User, Group or ServiceAccount');
  }
}

function createParams(p: Record<string, unknown>): CreateUserParams {
  const out: CreateUserParams = { name: str(p, 'name'), groups: strings(p, 'groups') };
  if (p['binding'] !== undefined && p['binding'] !== null) {
    const b = obj(p['binding'], 'binding');
    const ns = optStr(b, 'namespace');
    if (ns !== undefined) name(b, 'namespace');
    out.binding = { clusterRole: name(b, 'clusterRole'), ...(ns ? { namespace: ns } : {}) };
  }
  return out;
}

function questions(p: Record<string, unknown>): AccessQuestion[] {
  const v = p['questions'];
  if (!Array.isArray(v) || v.length > 100) throw new ContractViolation('questions must be an array (≤ 100)');
  return v.map((x) => {
    const q = obj(x, 'questions[]');
    const group = typeof q['group'] === 'string' ? q['group'] : '';
    const subresource = optStr(q, 'subresource');
    const namespace = optStr(q, 'namespace');
    const objectName = optStr(q, 'name');
    return {
      verb: str(q, 'verb'),
      group,
      resource: str(q, 'resource'),
      ...(subresource ? { subresource } : {}),
      ...(namespace ? { namespace } : {}),
      ...(objectName ? { name: objectName } : {}),
    };
  });
}

export function rbacHandlers(ctx: RbacContext): Handlers<RbacMethod> {
  const cluster = (p: Record<string, unknown>): string => str(p, 'cluster');
  return {
    'users.list': async (p) => usersOf(await ctx.dataDirOf(cluster(p))),
    'users.create': async (p) =>
      createUserWithBinding(ctx.ownClient(cluster(p)), await ctx.dataDirOf(cluster(p)), createParams(p)),
    'users.kubeconfig': async (p) => userKubeconfig(await ctx.dataDirOf(cluster(p)), str(p, 'name')),
    'users.revoke': async (p) => revokeBerthUser(await ctx.dataDirOf(cluster(p)), str(p, 'name')),
    'rbac.matrix': (p) =>
      accessMatrix(ctx.ownClient(cluster(p)), subjectParam(p['subject']), name(p, 'namespace')),
    'rbac.can': (p) => selfAccess(ctx.client(cluster(p)), questions(p)),
    'viewAs.set': async (p) =>
      ctx.setViewAs(cluster(p), p['subject'] === null ? null : subjectParam(p['subject'])),
  };
}
