// Protobuf field facts for k8s.io/api rbac/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const rbacV1: PackageFacts = {
  pkg: 'rbac.v1',
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  messages: {
    AggregationRule: {
      1: 'clusterRoleSelectors []meta.v1.LabelSelector',
    },
    ClusterRole: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'rules []rbac.v1.PolicyRule !',
      3: 'aggregationRule rbac.v1.AggregationRule',
    },
    ClusterRoleBinding: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'subjects []rbac.v1.Subject',
      3: 'roleRef rbac.v1.RoleRef',
    },
    ClusterRoleBindingList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []rbac.v1.ClusterRoleBinding !',
    },
    ClusterRoleList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []rbac.v1.ClusterRole !',
    },
    PolicyRule: {
      1: 'verbs []string !',
      2: 'apiGroups []string',
      3: 'resources []string',
      4: 'resourceNames []string',
      5: 'nonResourceURLs []string',
    },
    Role: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'rules []rbac.v1.PolicyRule !',
    },
    RoleBinding: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'subjects []rbac.v1.Subject',
      3: 'roleRef rbac.v1.RoleRef',
    },
    RoleBindingList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []rbac.v1.RoleBinding !',
    },
    RoleList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []rbac.v1.Role !',
    },
    RoleRef: {
      1: 'apiGroup string',
      2: 'kind string',
      3: 'name string',
    },
    Subject: {
      1: 'kind string',
      2: 'apiGroup string ?',
      3: 'name string',
      4: 'namespace string ?',
    },
  },
};
