/**
 * The `kubectl auth can-i` table of e2e/rbac.test.ts, against e2e/fixtures/rbac-policy.yaml. Every
 * expected answer comes from Kubernetes' documented semantics: the default roles (view: read, no
 * secrets, no RBAC; edit: + writes and secrets, no RBAC, no quotas; admin: + Roles/RoleBindings in the
 * namespace and local access reviews), aggregation (leases-view → view → edit → admin),
 * resourceNames (no list/watch/create), `*`/subresource rules, non-resource URLs with a trailing `*`,
 * the discovery/public-info/basic-user defaults, and system:node.
 *
 * A case is `subject verb target namespace yes|no`: subject `user` or `user|group,group` (--as,
 * --as-group); target a resource (`pods`, `deployments.apps`, `configmaps/app-config`), optionally
 * `+sub` for --subresource, or a URL starting with `/`; namespace `-` for none (kubectl's default ns).
 */
const table = `
vic get pods foo yes
vic list pods foo yes
vic watch pods foo yes
vic create pods foo no
vic delete pods foo no
vic update pods foo no
vic patch pods foo no
vic get secrets foo no
vic list secrets foo no
vic watch secrets foo no
vic get configmaps foo yes
vic list services foo yes
vic get deployments.apps foo yes
vic create deployments.apps foo no
vic get deployments.apps+scale foo yes
vic update deployments.apps+scale foo no
vic get pods+log foo yes
vic create pods+exec foo no
vic get pods+exec foo no
vic get pods+status foo yes
vic list events foo yes
vic list endpoints foo yes
vic list persistentvolumeclaims foo yes
vic list serviceaccounts foo yes
vic create serviceaccounts+token foo no
vic list jobs.batch foo yes
vic list cronjobs.batch foo yes
vic list ingresses.networking.k8s.io foo yes
vic list networkpolicies.networking.k8s.io foo yes
vic list poddisruptionbudgets.policy foo yes
vic list horizontalpodautoscalers.autoscaling foo yes
vic list endpointslices.discovery.k8s.io foo yes
vic list statefulsets.apps foo yes
vic list daemonsets.apps foo yes
vic list replicasets.apps foo yes
vic list controllerrevisions.apps foo yes
vic list resourcequotas foo yes
vic list limitranges foo yes
vic list roles.rbac.authorization.k8s.io foo no
vic list rolebindings.rbac.authorization.k8s.io foo no
vic get namespaces foo yes
vic list leases.coordination.k8s.io bar no
vic get leases.coordination.k8s.io foo yes
vic create leases.coordination.k8s.io foo no
vic list pods bar no
vic get configmaps bar no
vic list nodes - no
vic list clusterroles.rbac.authorization.k8s.io - no
vic impersonate serviceaccounts foo no
vic create selfsubjectaccessreviews.authorization.k8s.io - yes
ed get secrets foo yes
ed list secrets foo yes
ed create secrets foo yes
ed delete secrets foo yes
ed create pods foo yes
ed delete pods foo yes
ed create pods+exec foo yes
ed get pods+exec foo yes
ed create pods+attach foo yes
ed create pods+portforward foo yes
ed create pods+eviction foo yes
ed create deployments.apps foo yes
ed update deployments.apps+scale foo yes
ed patch statefulsets.apps foo yes
ed delete daemonsets.apps foo yes
ed deletecollection replicasets.apps foo yes
ed create jobs.batch foo yes
ed create cronjobs.batch foo yes
ed create services foo yes
ed create configmaps foo yes
ed create persistentvolumeclaims foo yes
ed create serviceaccounts foo yes
ed create serviceaccounts+token foo yes
ed impersonate serviceaccounts foo yes
ed create ingresses.networking.k8s.io foo yes
ed create networkpolicies.networking.k8s.io foo yes
ed create poddisruptionbudgets.policy foo yes
ed create horizontalpodautoscalers.autoscaling foo yes
ed create events foo yes
ed list pods foo yes
ed get leases.coordination.k8s.io foo yes
ed create roles.rbac.authorization.k8s.io foo no
ed create rolebindings.rbac.authorization.k8s.io foo no
ed list roles.rbac.authorization.k8s.io foo no
ed create localsubjectaccessreviews.authorization.k8s.io foo no
ed create resourcequotas foo no
ed update resourcequotas foo no
ed create limitranges foo no
ed get resourcequotas foo yes
ed delete namespaces foo no
ed update namespaces foo no
ed update deployments.apps+status foo no
ed get secrets bar no
ed create pods bar no
ed list nodes - no
ed create namespaces - no
ed create clusterrolebindings.rbac.authorization.k8s.io - no
ed list persistentvolumes - no
ed escalate roles.rbac.authorization.k8s.io foo no
ed bind clusterroles.rbac.authorization.k8s.io foo no
someone|team-a create roles.rbac.authorization.k8s.io foo yes
someone|team-a create rolebindings.rbac.authorization.k8s.io foo yes
someone|team-a delete rolebindings.rbac.authorization.k8s.io foo yes
someone|team-a list roles.rbac.authorization.k8s.io foo yes
someone|team-a create localsubjectaccessreviews.authorization.k8s.io foo yes
someone|team-a get secrets foo yes
someone|team-a create deployments.apps foo yes
someone|team-a create pods+exec foo yes
someone|team-a get leases.coordination.k8s.io foo yes
someone|team-a escalate roles.rbac.authorization.k8s.io foo no
someone|team-a bind clusterroles.rbac.authorization.k8s.io foo no
someone|team-a create resourcequotas foo no
someone|team-a get resourcequotas foo yes
someone|team-a delete namespaces foo no
someone|team-a list nodes - no
someone|team-a create roles.rbac.authorization.k8s.io bar no
someone|team-a list pods bar no
someone list pods foo no
someone|team-b list pods foo no
cv list pods foo yes
cv list pods bar yes
cv list pods default yes
cv get secrets foo no
cv get secrets kube-system no
cv list nodes - no
cv list namespaces - yes
cv get deployments.apps bar yes
cv create pods bar no
cv list persistentvolumes - no
cv list storageclasses.storage.k8s.io - no
cv list clusterroles.rbac.authorization.k8s.io - no
cv get leases.coordination.k8s.io bar yes
cv list roles.rbac.authorization.k8s.io bar no
cv get pods+log kube-system yes
cm get configmaps/app-config foo yes
cm get configmaps/other foo no
cm update configmaps/app-config foo yes
cm patch configmaps/app-config foo no
cm list configmaps foo no
cm watch configmaps foo no
cm delete configmaps/app-config foo no
cm create configmaps foo no
cm get configmaps/app-config bar no
sc update deployments.apps+scale foo yes
sc get statefulsets.apps+scale foo yes
sc update replicasets.apps+scale foo yes
sc update replicationcontrollers+scale foo yes
sc update deployments.apps foo no
sc get deployments.apps foo no
sc update deployments.apps+status foo no
sc update deployments.apps+scale bar no
sc update deployments.apps+scale - no
mon|monitoring-team get /logs - yes
mon|monitoring-team get /logs/ - yes
mon|monitoring-team get /logs/kube-apiserver.log - yes
mon|monitoring-team get /metrics - yes
mon|monitoring-team get /metricsx - no
mon|monitoring-team post /logs - no
mon|monitoring-team get /healthz - yes
mon|monitoring-team get /api - yes
mon|monitoring-team get /openapi/v2 - yes
mon|monitoring-team get /secret-path - no
mon|monitoring-team list pods foo no
mon get /logs - no
nobody list pods foo no
nobody list pods default no
nobody get /healthz - yes
nobody get /livez - yes
nobody get /readyz - yes
nobody get /version - yes
nobody get /apis - yes
nobody get /apis/apps/v1 - yes
nobody get /metrics - no
nobody get /logs - no
nobody post /api - no
nobody create selfsubjectaccessreviews.authorization.k8s.io - yes
nobody create selfsubjectrulesreviews.authorization.k8s.io - yes
nobody create subjectaccessreviews.authorization.k8s.io - no
nobody create tokenreviews.authentication.k8s.io - no
nobody list namespaces - no
nobody get /.well-known/openid-configuration - no
system:serviceaccount:foo:builder get /.well-known/openid-configuration - yes
system:serviceaccount:foo:builder list pods foo no
alice|dev list pods foo yes
alice|dev list pods default yes
alice|dev get pods kube-system yes
alice|dev create pods foo no
alice|dev create pods bar yes
alice|dev get secrets bar yes
alice|dev get secrets foo no
alice|dev list nodes - no
alice|dev create deployments.apps bar yes
alice|dev create rolebindings.rbac.authorization.k8s.io bar no
alice list pods foo no
alice create pods bar yes
bob|dev list pods foo yes
bob|dev create pods bar no
system:node:n1|system:nodes get nodes - yes
system:node:n1|system:nodes list pods - yes
system:node:n1|system:nodes update pods+status foo yes
system:node:n1|system:nodes get secrets/x foo no
system:node:n1|system:nodes list secrets foo no
system:node:n1|system:nodes update leases.coordination.k8s.io/n1 kube-node-lease yes
system:node:n1|system:nodes update leases.coordination.k8s.io/n2 kube-node-lease no
system:node:n1|system:nodes list endpointslices.discovery.k8s.io - yes
system:node:n1|system:nodes create deployments.apps foo no
system:node:n1|system:nodes create events foo yes
system:node:n1 get nodes - no
berth-admin|berth:cluster-admins list nodes - yes
berth-admin|berth:cluster-admins delete namespaces foo yes
berth-admin|berth:cluster-admins create clusterrolebindings.rbac.authorization.k8s.io - yes
berth-admin|berth:cluster-admins get /metrics - yes
berth-admin|berth:cluster-admins escalate roles.rbac.authorization.k8s.io foo yes
berth-admin|berth:cluster-admins bind clusterroles.rbac.authorization.k8s.io - yes
berth-admin|berth:cluster-admins impersonate users - yes
berth-admin|berth:cluster-admins get secrets kube-system yes
berth-admin|berth:cluster-admins * * - yes
berth-admin|berth:cluster-admins get /anything/at/all - yes
berth-admin list nodes - no
`;

export interface CanICase {
  line: string;
  user: string;
  groups: string[];
  verb: string;
  /** The positional arguments after the verb, and flags. */
  args: string[];
  expect: 'yes' | 'no';
}

export const CAN_I_CASES: CanICase[] = table
  .trim()
  .split('\n')
  .map((line) => {
    const [subject = '', verb = '', target = '', ns = '', expect = ''] = line.trim().split(/\s+/);
    const [user = '', groupList] = subject.split('|');
    const [resource = '', sub] = target.split('+');
    const args = [resource, ...(sub ? [`--subresource=${sub}`] : []), ...(ns !== '-' ? ['-n', ns] : [])];
    if (expect !== 'yes' && expect !== 'no') throw new Error(`bad case: ${line}`);
    return { line, user, groups: groupList ? groupList.split(',') : [], verb, args, expect };
  });
