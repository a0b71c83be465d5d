/** core/v1 Node (pkg/registry/core/node/strategy.go, ValidateNode / ValidateNodeUpdate, printNode). */
import type { Node, NodeSpec, NodeStatus } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isQualifiedName, isValidLabelValue } from '../validation/names.ts';
import type { CoreStrategy } from './common.ts';
import { validateQuantityValue } from './pod-spec.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MNode = Mutable<Node> & { spec?: Mutable<NodeSpec>; status?: Mutable<NodeStatus> };
const asNode = (o: KObject): MNode => o as unknown as MNode;

export function isCIDR(s: string): boolean {
  const m = /^([0-9.]+|[0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const bits = Number(m[2]);
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(m[1]!);
  return v4 ? bits <= 32 : m[1]!.includes(':') && bits <= 128;
}

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function validateNodeSpec(obj: KObject): FieldError[] {
  const spec = asNode(obj).spec ?? {};
  const errs: FieldError[] = [];
  (spec.podCIDRs ?? []).forEach((c, i) => {
    if (!isCIDR(c)) errs.push(fieldErr.invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR'));
  });
  if (spec.podCIDR && !isCIDR(spec.podCIDR))
    errs.push(fieldErr.invalid('spec.podCIDR', spec.podCIDR, 'must be a valid CIDR'));
  if ((spec.podCIDRs ?? []).length > 2)
    errs.push(
      fieldErr.invalid(
        'spec.podCIDRs',
        spec.podCIDRs,
        'may specify no more than one CIDR for each IP family',
      ),
    );
  const seen = new Set<string>();
  (spec.taints ?? []).forEach((t, i) => {
    const p = `spec.taints[${i}]`;
    for (const m of isQualifiedName(t.key ?? '')) errs.push(fieldErr.invalid(`${p}.key`, t.key ?? '', m));
    if (t.value)
      for (const m of isValidLabelValue(t.value)) errs.push(fieldErr.invalid(`${p}.value`, t.value, m));
    if (!t.effect) errs.push(fieldErr.required(`${p}.effect`, ''));
    else if (!taintEffects.includes(t.effect))
      errs.push(fieldErr.notSupported(`${p}.effect`, t.effect, taintEffects));
    const k = `${t.key}/${t.effect}`;
    if (seen.has(k)) errs.push(fieldErr.duplicate(p, t));
    seen.add(k);
  });
  return errs;
}

function validateNodeStatus(obj: KObject): FieldError[] {
  const st = asNode(obj).status ?? {};
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(st.capacity ?? {}))
    errs.push(...validateQuantityValue(k, v, `status.capacity[${k}]`));
  for (const [k, v] of Object.entries(st.allocatable ?? {}))
    errs.push(...validateQuantityValue(k, v, `status.allocatable[${k}]`));
  return errs;
}

const nodeRolePrefix = 'node-role.kubernetes.io/';

/** findNodeRoles: node-role.kubernetes.io/<role> labels and the kubernetes.io/role label. */
export function nodeRoles(labels: Record<string, string> | undefined): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(nodeRolePrefix)) {
      const r = k.slice(nodeRolePrefix.length);
      if (r) roles.add(r);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

const columns: readonly TableColumn[] = [
  nameColumn,
  { name: 'Status', type: 'string', description: 'The status of the node' },
  { name: 'Roles', type: 'string', description: 'The roles of the node' },
  ageColumn,
  { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.' },
  {
    name: 'Internal-IP',
    type: 'string',
    priority: 1,
    description:
      "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
  },
  {
    name: 'External-IP',
    type: 'string',
    priority: 1,
    description:
      "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
  },
  {
    name: 'OS-Image',
    type: 'string',
    priority: 1,
    description: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
  },
  {
    name: 'Kernel-Version',
    type: 'string',
    priority: 1,
    description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
  },
  {
    name: 'Container-Runtime',
    type: 'string',
    priority: 1,
    description:
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
  },
];

export function nodeRow(obj: KObject, now: Date): (string | number)[] {
  const node = asNode(obj);
  const st = node.status ?? {};
  const status: string[] = [];
  const ready = (st.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  const roles = nodeRoles(obj.metadata.labels).join(',') || '<none>';
  const info = st.nodeInfo;
  const addr = (type: string): string =>
    (st.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';
  return [
    obj.metadata.name ?? '',
    status.join(','),
    roles,
    age(obj.metadata.creationTimestamp, now),
    info?.kubeletVersion ?? '',
    addr('InternalIP'),
    addr('ExternalIP'),
    info?.osImage || '<unknown>',
    info?.kernelVersion || '<unknown>',
    info?.containerRuntimeVersion || '<unknown>',
  ];
}

export const nodeStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    verbs: ALL_VERBS,
    shortNames: ['no'],
  },
  hasStatus: true,
  extraSubresources: [
    { name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  defaults(obj) {
    // SetDefaults_NodeStatus: allocatable defaults to capacity.
    const st = asNode(obj).status;
    if (st && st.capacity && !st.allocatable) st.allocatable = { ...st.capacity };
  },
  // Nodes may set everything, status included, on create (the kubelet registers with status).
  prepareForCreate() {},
  validate(obj) {
    return [...validateNodeSpec(obj), ...validateNodeStatus(obj)];
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    const n = asNode(obj).spec ?? {};
    const o = asNode(old).spec ?? {};
    const oldCIDRs = o.podCIDRs ?? [];
    if (oldCIDRs.length && JSON.stringify(oldCIDRs) !== JSON.stringify(n.podCIDRs ?? []))
      errs.push(
        fieldErr.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'),
      );
    if (o.providerID && o.providerID !== n.providerID)
      errs.push(
        fieldErr.forbidden(
          'spec.providerID',
          'node updates may not change providerID except from "" to valid',
        ),
      );
    return errs;
  },
  validateStatusUpdate: validateNodeStatus,
  columns,
  row: nodeRow,
  fieldSelectors(obj) {
    return { 'spec.unschedulable': asNode(obj).spec?.unschedulable ? 'true' : 'false' };
  },
};
