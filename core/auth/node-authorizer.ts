/**
 * The Node authorizer and NodeRestriction admission (plugin/pkg/auth/authorizer/node and
 * plugin/pkg/admission/noderestriction), simplified, written anew.
 *
 * A node identity is a user named system:node:<name> in the group system:nodes. It may:
 * - read a Secret, ConfigMap or PersistentVolumeClaim (and the PersistentVolume bound to such a claim)
 *   only when a pod bound to that node references it (volumes, projected sources, env, envFrom,
 *   imagePullSecrets, ephemeral volumes), and create tokens only for the service accounts of its pods;
 * - use only its own Lease in kube-node-lease;
 * - everything the system:node role grants (and system:node-proxier's rules: Berth's node agent is also
 *   the node's kube-proxy), with NodeRestriction limiting writes to its own Node object and to the pods
 *   bound to it.
 * The pod → object graph is kept from a watch of pods. Anything else gets no opinion (RBAC decides).
 */
import type { KObject } from '../api/object.ts';
import { errors } from '../api/status.ts';
import type { AdmissionPlugin, GenericRegistry } from '../apiserver/generic-registry.ts';
import type { ResourceTable } from '../apiserver/resources.ts';
import type { Watcher } from '../store/types.ts';
import type { Attributes, Authorizer, AuthorizerResult, RulesResult, UserInfo } from './types.ts';
import { NODE_PROXIER_RULES, NODE_RULES } from './rbac/bootstrap-policy.ts';
import { rulesAllow } from './rbac/rules.ts';

export const NODES_GROUP = 'system:nodes';
const NODE_PREFIX = 'system:node:';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** The node name of a node identity, or undefined. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.username.startsWith(NODE_PREFIX)) return undefined;
  return user.username.slice(NODE_PREFIX.length) || undefined;
}

type RefKind = 'secret' | 'configmap' | 'pvc' | 'serviceaccount';

interface ContainerLike {
  env?: { valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }[];
  envFrom?: { secretRef?: { name?: string }; configMapRef?: { name?: string } }[];
}
interface PodSpecRefs {
  nodeName?: string;
  serviceAccountName?: string;
  imagePullSecrets?: { name?: string }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  ephemeralContainers?: ContainerLike[];
  volumes?: {
    name?: string;
    secret?: { secretName?: string };
    configMap?: { name?: string };
    persistentVolumeClaim?: { claimName?: string };
    ephemeral?: unknown;
    projected?: {
      sources?: {
        secret?: { name?: string };
        configMap?: { name?: string };
        serviceAccountToken?: unknown;
      }[];
    };
  }[];
}

/** The objects a pod references, as `kind/namespace/name` keys. */
export function podReferences(pod: KObject): string[] {
  const ns = pod.metadata.namespace ?? '';
  const spec = (pod['spec'] ?? {}) as PodSpecRefs;
  const out = new Set<string>();
  const add = (k: RefKind, name: string | undefined): void => {
    if (name) out.add(`${k}/${ns}/${name}`);
  };
  add('serviceaccount', spec.serviceAccountName || 'default');
  for (const s of spec.imagePullSecrets ?? []) add('secret', s.name);
  for (const c of [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ]) {
    for (const e of c.env ?? []) {
      add('secret', e.valueFrom?.secretKeyRef?.name);
      add('configmap', e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      add('secret', e.secretRef?.name);
      add('configmap', e.configMapRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add('secret', v.secret?.secretName);
    add('configmap', v.configMap?.name);
    add('pvc', v.persistentVolumeClaim?.claimName);
    if (v.ephemeral && v.name) add('pvc', `${pod.metadata.name ?? ''}-${v.name}`);
    for (const src of v.projected?.sources ?? []) {
      add('secret', src.secret?.name);
      add('configmap', src.configMap?.name);
    }
  }
  return [...out];
}

const NO_RELATION = (node: string): string => `no relationship found between node '${node}' and this object`;

export class NodeAuthorizer implements Authorizer {
  /** pod key → the node it is bound to and what it references. */
  private readonly pods = new Map<string, { node: string; refs: string[] }>();
  /** `ref@node` → how many pods of that node reference it. */
  private readonly edges = new Map<string, number>();
  private readonly rules = [
    ...NODE_RULES,
    ...NODE_PROXIER_RULES,
    // The agent enforces NetworkPolicy too (core/agent/netpol), as a network plugin's own role allows.
    { verbs: ['list', 'watch'], apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'] },
    { verbs: ['list', 'watch'], apiGroups: [''], resources: ['namespaces'] },
  ];

  /** The PV a claim is bound to (spec.volumeName), looked up live. */
  constructor(
    private readonly claimVolume: (namespace: string, name: string) => string | undefined = () => undefined,
  ) {}

  // ---- the graph ----

  private link(node: string, refs: readonly string[], delta: 1 | -1): void {
    for (const r of refs) {
      const k = `${r}@${node}`;
      const n = (this.edges.get(k) ?? 0) + delta;
      if (n > 0) this.edges.set(k, n);
      else this.edges.delete(k);
    }
  }

  /** Applies a pod watch event. */
  applyPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: KObject): void {
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    const node = ((pod['spec'] ?? {}) as PodSpecRefs).nodeName ?? '';
    const cur = this.pods.get(key);
    if (type !== 'DELETED' && cur && cur.node === node) return; // pod specs do not change what they reference
    if (cur) {
      this.link(cur.node, cur.refs, -1);
      this.pods.delete(key);
    }
    if (type === 'DELETED' || !node) return;
    const refs = podReferences(pod);
    this.pods.set(key, { node, refs });
    this.link(node, refs, 1);
  }

  private related(node: string, kind: RefKind, ns: string, name: string): boolean {
    return this.edges.has(`${kind}/${ns}/${name}@${node}`);
  }

  private pvRelated(node: string, pv: string): boolean {
    const suffix = `@${node}`;
    for (const k of this.edges.keys()) {
      if (!k.startsWith('pvc/') || !k.endsWith(suffix)) continue;
      const [, ns = '', name = ''] = k.slice(0, -suffix.length).split('/');
      if (this.claimVolume(ns, name) === pv) return true;
    }
    return false;
  }

  // ---- decisions ----

  authorize(a: Attributes): AuthorizerResult {
    const node = nodeNameOf(a.user);
    if (!node || !a.resourceRequest) return { decision: 'noOpinion', reason: '' };
    const no = (reason: string): AuthorizerResult => ({ decision: 'noOpinion', reason });
    const yes: AuthorizerResult = { decision: 'allow', reason: '' };
    if (a.apiGroup === '') {
      switch (a.resource) {
        case 'secrets':
        case 'configmaps': {
          if (!['get', 'list', 'watch'].includes(a.verb)) return no('can only read resources of this type');
          if (a.subresource) return no('cannot read subresource');
          if (!a.namespace) return no('can only read namespaced object of this type');
          if (!a.name) return no('No Object name found');
          const kind = a.resource === 'secrets' ? 'secret' : 'configmap';
          return this.related(node, kind, a.namespace, a.name) ? yes : no(NO_RELATION(node));
        }
        case 'persistentvolumeclaims': {
          if (a.subresource === 'status') {
            if (!['get', 'update', 'patch'].includes(a.verb))
              return no('can only get, update or patch a status');
          } else {
            if (a.verb !== 'get') return no('can only get individual resources of this type');
            if (a.subresource) return no('cannot get subresource');
          }
          if (!a.name) return no('No Object name found');
          return this.related(node, 'pvc', a.namespace, a.name) ? yes : no(NO_RELATION(node));
        }
        case 'persistentvolumes':
          if (a.verb !== 'get') return no('can only get individual resources of this type');
          if (a.subresource) return no('cannot get subresource');
          if (!a.name) return no('No Object name found');
          return this.pvRelated(node, a.name) ? yes : no(NO_RELATION(node));
        case 'serviceaccounts':
          if (a.subresource !== 'token') break;
          if (a.verb !== 'create') return no('can only create tokens for individual service accounts');
          if (!a.name) return no('No Object name found');
          return this.related(node, 'serviceaccount', a.namespace, a.name) ? yes : no(NO_RELATION(node));
      }
    } else if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') {
      if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb))
        return no('can only get, create, update, patch, or delete a node lease');
      if (a.namespace !== NODE_LEASE_NAMESPACE)
        return no(`can only access leases in the ${NODE_LEASE_NAMESPACE} namespace`);
      if (a.verb !== 'create' && a.name !== node)
        return no('can only access node lease with the same name as the requesting node');
      return yes;
    }
    return rulesAllow(a, this.rules) ? yes : no('');
  }

  rulesFor(user: UserInfo): RulesResult {
    const node = nodeNameOf(user);
    return node
      ? {
          resourceRules: [],
          nonResourceRules: [],
          incomplete: true,
          evaluationError: 'node authorizer does not support user rule resolution',
        }
      : { resourceRules: [], nonResourceRules: [], incomplete: false };
  }

  /** Feeds the graph from a watch of every pod; returns the watch. */
  watchPods(registry: GenericRegistry, table: ResourceTable): Watcher {
    const pods = table.lookup('', 'v1', 'pods');
    if (!pods) throw new Error('pods are not served');
    return registry.watch(pods, '', {}, (type, obj) => this.applyPod(type, obj));
  }
}

/** NodeRestriction: a node writes only its own Node and Lease, and only the pods bound to it. */
export function nodeRestriction(): AdmissionPlugin {
  return {
    name: 'NodeRestriction',
    validate(op, s, obj, old, ctx) {
      const node = nodeNameOf(ctx.user);
      if (!node) return;
      const { group, resource } = s.strategy.info;
      const gr = { group, resource };
      const name = obj.metadata.name ?? '';
      if (group === '' && resource === 'nodes') {
        if (name !== node)
          throw errors.forbidden(gr, name, `node "${node}" is not allowed to modify node "${name}"`);
        return;
      }
      if (group === 'coordination.k8s.io' && resource === 'leases') {
        if (obj.metadata.namespace === NODE_LEASE_NAMESPACE && name !== node)
          throw errors.forbidden(
            gr,
            name,
            'can only access node lease with the same name as the requesting node',
          );
        return;
      }
      if (group !== '' || resource !== 'pods') return;
      const boundTo = ((obj['spec'] ?? {}) as PodSpecRefs).nodeName ?? '';
      if (op === 'CREATE') {
        if (!obj.metadata.annotations?.[MIRROR_ANNOTATION])
          throw errors.forbidden(
            gr,
            name,
            `pod does not have "${MIRROR_ANNOTATION}" annotation, node "${node}" can only create mirror pods`,
          );
        if (boundTo !== node)
          throw errors.forbidden(
            gr,
            name,
            `node "${node}" can only create pods with spec.nodeName set to itself`,
          );
        return;
      }
      if (op === 'DELETE') {
        if (boundTo !== node)
          throw errors.forbidden(
            gr,
            name,
            `node "${node}" can only delete pods with spec.nodeName set to itself`,
          );
        return;
      }
      if (ctx.subresource === 'status') {
        const oldNode = ((old?.['spec'] ?? {}) as PodSpecRefs).nodeName ?? '';
        if (oldNode !== node)
          throw errors.forbidden(
            gr,
            name,
            `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
          );
        return;
      }
      throw errors.forbidden(gr, name, `node "${node}" can only update pod status`);
    },
  };
}
