/**
 * Berth's own fact table of the patch and apply strategies of the built-in types, written from the Go
 * struct tags and markers of k8s.io/api (`patchStrategy:"merge" patchMergeKey:"name"`, `+listType=map`,
 * `+listMapKey=…`, `+structType=atomic`, `+mapType=atomic`), and a schema walker over it.
 *
 * Only the types that lead to a list with a strategy, or that are atomic, are written down: everything
 * else is "untyped", which means what Kubernetes does for a field without tags — maps merge field by
 * field, lists are replaced (SMP) or owned as a whole (server-side apply).
 */

/** How a list field is patched (SMP) and owned (server-side apply). */
export interface ListStrategy {
  /** SMP strategy; absent means the patch replaces the list. */
  patchStrategy?: 'merge' | 'merge,retainKeys';
  /** SMP merge key for lists of maps; absent for primitive lists merged as sets. */
  patchMergeKey?: string;
  /** Server-side apply list type. */
  listType: 'atomic' | 'set' | 'map';
  /** Server-side apply keys for listType=map (may differ from the SMP merge key). */
  listMapKeys?: string[];
  /** Schema defaults of key fields: an element without the field is keyed by the default. */
  keyDefaults?: Record<string, unknown>;
}

interface FieldDef {
  /** Type of the value (for lists: of each element; for maps: of each value when `values`). */
  type?: string;
  list?: ListStrategy;
  /** SMP strategy of a non-list field: `retainKeys` (documented; the server honours $retainKeys anyway) or `replace`. */
  patchStrategy?: 'retainKeys' | 'replace';
}

interface TypeDef {
  fields: Record<string, FieldDef>;
  /** +structType=atomic / +mapType=atomic: server-side apply owns it as a whole. */
  atomic?: boolean;
}

const mergeBy = (key: string, type?: string, ssaKeys?: string[], keyDefaults?: Record<string, unknown>) => ({
  ...(type ? { type } : {}),
  list: {
    patchStrategy: 'merge' as const,
    patchMergeKey: key,
    listType: 'map' as const,
    listMapKeys: ssaKeys ?? [key],
    ...(keyDefaults ? { keyDefaults } : {}),
  },
});
const mergeSet: FieldDef = { list: { patchStrategy: 'merge', listType: 'set' } };
const atomicList = (type?: string): FieldDef => ({ ...(type ? { type } : {}), list: { listType: 'atomic' } });
const byType = mergeBy('type');
const TCP = { protocol: 'TCP' };

const meta = { metadata: { type: 'ObjectMeta' } };
const withStatus = (spec: string, status?: string): Record<string, FieldDef> => ({
  ...meta,
  spec: { type: spec },
  ...(status ? { status: { type: status } } : {}),
});

/** The type table. Names are the Go type names (unique enough across the built-in groups we model). */
const TYPES: Record<string, TypeDef> = {
  ObjectMeta: {
    fields: {
      finalizers: mergeSet,
      ownerReferences: mergeBy('uid'),
      managedFields: atomicList(),
    },
  },
  Object: { fields: meta },
  LabelSelector: { fields: {}, atomic: true },
  AtomicMap: { fields: {}, atomic: true },
  Conditions: { fields: { conditions: byType } },

  // core/v1
  Pod: { fields: withStatus('PodSpec', 'PodStatus') },
  PodTemplate: { fields: { ...meta, template: { type: 'PodTemplateSpec' } } },
  PodTemplateSpec: { fields: withStatus('PodSpec') },
  PodSpec: {
    fields: {
      volumes: {
        type: 'Volume',
        list: {
          patchStrategy: 'merge,retainKeys',
          patchMergeKey: 'name',
          listType: 'map',
          listMapKeys: ['name'],
        },
      },
      initContainers: mergeBy('name', 'Container'),
      containers: mergeBy('name', 'Container'),
      ephemeralContainers: mergeBy('name', 'Container'),
      imagePullSecrets: mergeBy('name'),
      hostAliases: mergeBy('ip'),
      tolerations: atomicList(),
      topologySpreadConstraints: mergeBy('topologyKey', 'TopologySpreadConstraint', [
        'topologyKey',
        'whenUnsatisfiable',
      ]),
      resourceClaims: {
        list: {
          patchStrategy: 'merge,retainKeys',
          patchMergeKey: 'name',
          listType: 'map',
          listMapKeys: ['name'],
        },
      },
      schedulingGates: mergeBy('name'),
      readinessGates: atomicList(),
    },
  },
  Container: {
    fields: {
      ports: mergeBy('containerPort', undefined, ['containerPort', 'protocol'], TCP),
      env: mergeBy('name'),
      envFrom: atomicList(),
      volumeMounts: mergeBy('mountPath'),
      volumeDevices: mergeBy('devicePath'),
      resizePolicy: atomicList(),
      command: atomicList(),
      args: atomicList(),
      resources: { type: 'ResourceRequirements' },
    },
  },
  ResourceRequirements: { fields: { claims: { list: { listType: 'map', listMapKeys: ['name'] } } } },
  Volume: { fields: {} },
  TopologySpreadConstraint: { fields: { labelSelector: { type: 'LabelSelector' } } },
  PodStatus: {
    fields: {
      conditions: byType,
      podIPs: mergeBy('ip'),
      hostIPs: mergeBy('ip'),
    },
  },
  ReplicationController: { fields: withStatus('ReplicationControllerSpec', 'Conditions') },
  ReplicationControllerSpec: {
    fields: { selector: { type: 'AtomicMap' }, template: { type: 'PodTemplateSpec' } },
  },
  Service: { fields: withStatus('ServiceSpec', 'Conditions') },
  ServiceSpec: {
    fields: {
      ports: mergeBy('port', undefined, ['port', 'protocol'], TCP),
      selector: { type: 'AtomicMap' },
    },
  },
  Node: { fields: withStatus('NodeSpec', 'NodeStatus') },
  NodeSpec: { fields: { podCIDRs: mergeSet, taints: atomicList() } },
  NodeStatus: { fields: { conditions: byType, addresses: byType } },
  Namespace: { fields: withStatus('Object', 'Conditions') },
  PersistentVolumeClaim: { fields: withStatus('PersistentVolumeClaimSpec', 'Conditions') },
  PersistentVolumeClaimSpec: { fields: { selector: { type: 'LabelSelector' } } },
  ServiceAccount: { fields: { ...meta, secrets: mergeBy('name') } },

  // apps/v1
  Deployment: { fields: withStatus('DeploymentSpec', 'Conditions') },
  DeploymentSpec: {
    fields: {
      selector: { type: 'LabelSelector' },
      template: { type: 'PodTemplateSpec' },
      strategy: { patchStrategy: 'retainKeys' },
    },
  },
  ReplicaSet: { fields: withStatus('WorkloadSpec', 'Conditions') },
  DaemonSet: { fields: withStatus('WorkloadSpec', 'Conditions') },
  StatefulSet: { fields: withStatus('StatefulSetSpec', 'Conditions') },
  WorkloadSpec: { fields: { selector: { type: 'LabelSelector' }, template: { type: 'PodTemplateSpec' } } },
  StatefulSetSpec: {
    fields: {
      selector: { type: 'LabelSelector' },
      template: { type: 'PodTemplateSpec' },
      volumeClaimTemplates: atomicList(),
    },
  },

  // batch/v1
  Job: { fields: withStatus('WorkloadSpec', 'JobStatus') },
  JobStatus: {
    fields: { conditions: { list: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' } } },
  },
  CronJob: { fields: withStatus('CronJobSpec') },
  CronJobSpec: { fields: { jobTemplate: { type: 'JobTemplateSpec' } } },
  JobTemplateSpec: { fields: withStatus('WorkloadSpec') },

  // others
  HorizontalPodAutoscaler: { fields: withStatus('Object', 'Conditions') },
  PodDisruptionBudget: { fields: withStatus('PodDisruptionBudgetSpec', 'Conditions') },
  PodDisruptionBudgetSpec: { fields: { selector: { type: 'LabelSelector', patchStrategy: 'replace' } } },
  NetworkPolicy: { fields: withStatus('NetworkPolicySpec') },
  NetworkPolicySpec: { fields: { podSelector: { type: 'LabelSelector' } } },
  WebhookConfiguration: { fields: { ...meta, webhooks: mergeBy('name', 'Webhook') } },
  Webhook: {
    fields: { namespaceSelector: { type: 'LabelSelector' }, objectSelector: { type: 'LabelSelector' } },
  },
  WithConditions: { fields: withStatus('Object', 'Conditions') },
};

/** Kinds served by Kubernetes itself, per group (all of their versions), and their type in TYPES. */
const BUILTIN: Record<string, Record<string, string>> = {
  '': {
    Pod: 'Pod',
    PodTemplate: 'PodTemplate',
    ReplicationController: 'ReplicationController',
    Service: 'Service',
    Node: 'Node',
    Namespace: 'Namespace',
    PersistentVolumeClaim: 'PersistentVolumeClaim',
    PersistentVolume: 'Object',
    ServiceAccount: 'ServiceAccount',
    ConfigMap: 'Object',
    Secret: 'Object',
    Endpoints: 'Object',
    Event: 'Object',
    LimitRange: 'Object',
    ResourceQuota: 'Object',
    Binding: 'Object',
    ComponentStatus: 'Object',
  },
  apps: {
    Deployment: 'Deployment',
    ReplicaSet: 'ReplicaSet',
    StatefulSet: 'StatefulSet',
    DaemonSet: 'DaemonSet',
    ControllerRevision: 'Object',
  },
  batch: { Job: 'Job', CronJob: 'CronJob' },
  autoscaling: { HorizontalPodAutoscaler: 'HorizontalPodAutoscaler', Scale: 'Object' },
  policy: { PodDisruptionBudget: 'PodDisruptionBudget', Eviction: 'Object' },
  'networking.k8s.io': {
    NetworkPolicy: 'NetworkPolicy',
    Ingress: 'Object',
    IngressClass: 'Object',
    IPAddress: 'Object',
    ServiceCIDR: 'WithConditions',
  },
  'admissionregistration.k8s.io': {
    MutatingWebhookConfiguration: 'WebhookConfiguration',
    ValidatingWebhookConfiguration: 'WebhookConfiguration',
    ValidatingAdmissionPolicy: 'WithConditions',
    ValidatingAdmissionPolicyBinding: 'Object',
  },
  'apiextensions.k8s.io': { CustomResourceDefinition: 'WithConditions' },
  'apiregistration.k8s.io': { APIService: 'WithConditions' },
  'certificates.k8s.io': { CertificateSigningRequest: 'WithConditions', ClusterTrustBundle: 'Object' },
  'rbac.authorization.k8s.io': {
    Role: 'Object',
    ClusterRole: 'Object',
    RoleBinding: 'Object',
    ClusterRoleBinding: 'Object',
  },
  'storage.k8s.io': {
    StorageClass: 'Object',
    CSIDriver: 'Object',
    CSINode: 'Object',
    CSIStorageCapacity: 'Object',
    VolumeAttachment: 'Object',
    VolumeAttributesClass: 'Object',
  },
  'scheduling.k8s.io': { PriorityClass: 'Object' },
  'coordination.k8s.io': { Lease: 'Object', LeaseCandidate: 'Object' },
  'discovery.k8s.io': { EndpointSlice: 'Object' },
  'events.k8s.io': { Event: 'Object' },
  'node.k8s.io': { RuntimeClass: 'Object' },
  'flowcontrol.apiserver.k8s.io': {
    FlowSchema: 'WithConditions',
    PriorityLevelConfiguration: 'WithConditions',
  },
};

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** A node of the schema tree: knows its child fields, their list strategies, and whether it is atomic. */
export interface SchemaNode {
  /** The type name ('' when nothing is known about it). */
  readonly name: string;
  /** Owned as a whole by server-side apply (+structType=atomic / +mapType=atomic). */
  readonly atomic: boolean;
  /** The schema of a field of this map/struct. Never undefined: unknown fields are untyped. */
  field(name: string): FieldSchema;
}

export interface FieldSchema {
  /** The field's value type; for a list, the type of each element. */
  readonly schema: SchemaNode;
  /** The list strategy, when the field is a list with one (otherwise lists are atomic / replaced). */
  readonly list?: ListStrategy;
  /** SMP strategy of a non-list field. */
  readonly patchStrategy?: 'retainKeys' | 'replace';
}

const nodes = new Map<string, SchemaNode>();

function node(name: string): SchemaNode {
  let n = nodes.get(name);
  if (n) return n;
  const def = Object.hasOwn(TYPES, name) ? TYPES[name] : undefined;
  n = {
    name: def ? name : '',
    atomic: def?.atomic ?? false,
    field(field: string): FieldSchema {
      const f = def && Object.hasOwn(def.fields, field) ? def.fields[field] : undefined;
      if (!f) return UNTYPED_FIELD;
      return {
        schema: node(f.type ?? ''),
        ...(f.list ? { list: f.list } : {}),
        ...(f.patchStrategy ? { patchStrategy: f.patchStrategy } : {}),
      };
    },
  };
  nodes.set(name, n);
  return n;
}

const UNTYPED: SchemaNode = node('');
const UNTYPED_FIELD: FieldSchema = { schema: UNTYPED };

/** The untyped schema (what CRDs and unknown kinds get). */
export function untypedSchema(): SchemaNode {
  return UNTYPED;
}

/** The root schema of a kind. Unknown kinds get an object whose metadata is ObjectMeta. */
export function schemaFor(apiVersion: string, kind: string): SchemaNode {
  const { group } = splitApiVersion(apiVersion);
  const kinds = Object.hasOwn(BUILTIN, group) ? BUILTIN[group] : undefined;
  const type = kinds && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
  return node(type ?? 'Object');
}

/** Whether the kind is built into Kubernetes (and so supports strategic merge patch). */
export function isBuiltinKind(apiVersion: string, kind: string): boolean {
  const { group, version } = splitApiVersion(apiVersion);
  const kinds = Object.hasOwn(BUILTIN, group) ? BUILTIN[group] : undefined;
  return version !== '' && !!kinds && Object.hasOwn(kinds, kind);
}

/** Whether a group is served by Kubernetes itself (kinds of these groups are never CRDs). */
export function isBuiltinGroup(group: string): boolean {
  return Object.hasOwn(BUILTIN, group);
}
