/**
 * Users of a built-in cluster for the GUI, with the code of `berth user` (core/cli/user.ts): a client
 * certificate signed by the cluster CA plus a kubeconfig under <dataDir>/users, revocation through the
 * cluster's revocation list. Creating a user may also bind a ClusterRole to it, in a namespace (a
 * RoleBinding `<user>-<role>`) or cluster-wide (a ClusterRoleBinding of the same name).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { BerthUser, CreateUserParams, RbacObjectRef } from './contract.ts';
import { checkUserName, createUser, listUsers, revokeUser, userKubeconfigPath } from '../cli/user.ts';
import { resourcePath, type KubeClient } from './kube-client.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function toBerthUser(r: {
  name: string;
  groups: string[];
  serial: string;
  notAfter: string;
  revoked?: boolean;
}): BerthUser {
  return { name: r.name, groups: r.groups, serial: r.serial, notAfter: r.notAfter, revoked: !!r.revoked };
}

/** When the user's kubeconfig was written: `berth user create` writes it once, with the certificate. */
function createdAt(dataDir: string, name: string): { created?: string } {
  try {
    return { created: statSync(userKubeconfigPath(dataDir, name)).mtime.toISOString() };
  } catch {
    return {};
  }
}

export function usersOf(dataDir: string): BerthUser[] {
  return listUsers(dataDir).map((r) => ({ ...toBerthUser(r), ...createdAt(dataDir, r.name) }));
}

function userNamed(dataDir: string, name: string): BerthUser {
  const u = usersOf(dataDir).find((x) => x.name === name);
  if (!u) throw new Error(`no user "${name}" in this cluster`);
  return u;
}

/** An object name from a user and role name (user names may hold `@` and `_`). */
export function bindingName(user: string, role: string): string {
  const n = `${user}-${role}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return n.slice(0, 253) || 'user-binding';
}

export async function createUserWithBinding(
  client: KubeClient,
  dataDir: string,
  p: CreateUserParams,
): Promise<{ user: BerthUser; binding?: RbacObjectRef }> {
  checkUserName(p.name);
  await createUser(dataDir, p.name, p.groups);
  const user = userNamed(dataDir, p.name);
  if (!p.binding) return { user };
  const role = p.binding.clusterRole;
  const ns = p.binding.namespace;
  const name = bindingName(p.name, role);
  const kind = ns ? 'RoleBinding' : 'ClusterRoleBinding';
  await client.request(
    'POST',
    resourcePath(
      { group: RBAC_GROUP, version: 'v1', resource: ns ? 'rolebindings' : 'clusterrolebindings' },
      ns,
    ),
    {
      body: JSON.stringify({
        apiVersion: `${RBAC_GROUP}/v1`,
        kind,
        metadata: { name, ...(ns ? { namespace: ns } : {}) },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: RBAC_GROUP, kind: 'User', name: p.name }],
      }),
    },
  );
  return { user, binding: { kind, name, ...(ns ? { namespace: ns } : {}) } };
}

export function userKubeconfig(dataDir: string, name: string): { yaml: string; fileName: string } {
  const path = userKubeconfigPath(dataDir, checkUserName(name));
  if (!existsSync(path)) throw new Error(`no kubeconfig for user "${name}"`);
  return { yaml: readFileSync(path, 'utf8'), fileName: `${name}.kubeconfig` };
}

export function revokeBerthUser(dataDir: string, name: string): BerthUser {
  return toBerthUser(revokeUser(dataDir, checkUserName(name)));
}
