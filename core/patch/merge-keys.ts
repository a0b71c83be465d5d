/**
 * Patch strategies of the built-in types: facts from the Go struct tags of k8s.io/api
 * (`patchStrategy:"merge" patchMergeKey:"name"`) and their server-side-apply list types
 * (`+listType=map` with `+listMapKey`s; `+listType=set`). Keyed by our schema definition names.
 * Lists not named here are atomic: a patch replaces them whole.
 */

export interface ListFacts {
  /** Strategic merge patch strategy of the field. */
  strategy: 'merge' | 'retainKeys' | 'merge,retainKeys';
  /** SMP merge key for lists of maps (absent for primitive lists merged as sets). */
  key?: string;
  /** SSA list-map keys, when they differ from [key] (e.g. ports keyed by port and protocol). */
  ssaKeys?: string[];
}

/** Schema defaults of list-map key fields: a missing key field matches its default (protocol → TCP). */
export const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

const core = 'io.k8s.api.core.v1.';
const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const byName: ListFacts = { strategy: 'merge', key: 'name' };
const byType: ListFacts = { strategy: 'merge', key: 'type' };

export const PATCH_FACTS: Record<string, Record<string, ListFacts>> = {
  [`${meta}ObjectMeta`]: {
    finalizers: { strategy: 'merge' },
    ownerReferences: { strategy: 'merge', key: 'uid' },
  },
  [`${core}PodSpec`]: {
    volumes: { strategy: 'merge,retainKeys', key: 'name' },
    initContainers: byName,
    containers: byName,
    ephemeralContainers: byName,
    imagePullSecrets: byName,
    hostAliases: { strategy: 'merge', key: 'ip' },
    topologySpreadConstraints: {
      strategy: 'merge',
      key: 'topologyKey',
      ssaKeys: ['topologyKey', 'whenUnsatisfiable'],
    },
    resourceClaims: { strategy: 'merge,retainKeys', key: 'name' },
    schedulingGates: byName,
  },
  [`${core}Container`]: {
    ports: { strategy: 'merge', key: 'containerPort', ssaKeys: ['containerPort', 'protocol'] },
    env: byName,
    volumeMounts: { strategy: 'merge', key: 'mountPath' },
    volumeDevices: { strategy: 'merge', key: 'devicePath' },
  },
  [`${core}EphemeralContainer`]: {
    ports: { strategy: 'merge', key: 'containerPort', ssaKeys: ['containerPort', 'protocol'] },
    env: byName,
    volumeMounts: { strategy: 'merge', key: 'mountPath' },
    volumeDevices: { strategy: 'merge', key: 'devicePath' },
  },
  [`${core}ServiceSpec`]: {
    ports: { strategy: 'merge', key: 'port', ssaKeys: ['port', 'protocol'] },
  },
  [`${core}ServiceAccount`]: { secrets: byName },
  [`${core}PodStatus`]: {
    conditions: byType,
    podIPs: { strategy: 'merge', key: 'ip' },
    hostIPs: { strategy: 'merge', key: 'ip' },
  },
  [`${core}NodeStatus`]: { conditions: byType, addresses: byType },
  [`${core}NamespaceStatus`]: { conditions: byType },
  [`${core}PersistentVolumeClaimStatus`]: { conditions: byType },
  [`${core}ReplicationControllerStatus`]: { conditions: byType },
  [`${core}ServiceStatus`]: { conditions: { strategy: 'merge', key: 'type' } },
  ['io.k8s.api.apps.v1.DeploymentStatus']: { conditions: byType },
  ['io.k8s.api.apps.v1.ReplicaSetStatus']: { conditions: byType },
  ['io.k8s.api.apps.v1.StatefulSetStatus']: { conditions: byType },
  ['io.k8s.api.apps.v1.DaemonSetStatus']: { conditions: byType },
  ['io.k8s.api.batch.v1.JobStatus']: { conditions: byType },
  ['io.k8s.api.policy.v1.PodDisruptionBudgetStatus']: { conditions: byType },
  ['io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus']: { conditions: byType },
  [`${core}NodeSpec`]: { podCIDRs: { strategy: 'merge' } },
};

// DeploymentSpec.strategy and each PodSpec volume use retainKeys: the server honours any `$retainKeys`
// directive a patch carries, so no fact is needed for them.

export function listFacts(defName: string | undefined, field: string): ListFacts | undefined {
  return defName ? PATCH_FACTS[defName]?.[field] : undefined;
}
