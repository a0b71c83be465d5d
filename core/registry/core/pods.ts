/** core/v1 Pod (pkg/registry/core/pod/strategy.go, ValidatePod/ValidatePodUpdate, printPod). */
import type {
  Container,
  ContainerStatus,
  Pod,
  PodSpec,
  PodStatus,
  Toleration,
} from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn, type TableCell } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isDNS1123Subdomain } from '../validation/names.ts';
import type { CoreStrategy } from './common.ts';
import { defaultPodSpec, validatePodSpec } from './pod-spec.ts';
import { compareQuantities, tryParseQuantity } from './quantity.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MPod = Mutable<Pod> & { spec: Mutable<PodSpec>; status?: Mutable<PodStatus> };
const asPod = (o: KObject): MPod => o as unknown as MPod;
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// QoS (pkg/apis/core/helper/qos.GetPodQOS)
// ---------------------------------------------------------------------------------------------

export function computePodQOS(spec: PodSpec | undefined): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  const all: Container[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  for (const c of all) {
    for (const [name, q] of Object.entries(c.resources?.requests ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const n = tryParseQuantity(String(q))?.nanos ?? 0n;
      if (n > 0n) requests.set(name, (requests.get(name) ?? 0n) + n);
    }
    const found = new Set<string>();
    for (const [name, q] of Object.entries(c.resources?.limits ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const n = tryParseQuantity(String(q))?.nanos ?? 0n;
      if (n > 0n) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0n) + n);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, r] of requests) if (limits.get(name) !== r) return 'Burstable';
    if (requests.size === limits.size) return 'Guaranteed';
  }
  return 'Burstable';
}

// ---------------------------------------------------------------------------------------------
// Defaults and admission-like mutations
// ---------------------------------------------------------------------------------------------

/** SetDefaults_Pod on top of the PodSpec defaults: requests from limits, enableServiceLinks, host-network ports. */
export function defaultPod(obj: KObject): void {
  const pod = asPod(obj);
  if (!isObj(pod.spec)) pod.spec = { containers: [] };
  const spec = pod.spec;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])] as Mutable<Container>[]) {
    const lim = c.resources?.limits;
    if (lim && Object.keys(lim).length) {
      const res = (c.resources ??= {}) as Mutable<NonNullable<Container['resources']>>;
      const req = (res.requests ??= {}) as Record<string, string>;
      for (const [k, v] of Object.entries(lim)) if (!(k in req)) req[k] = v as string;
    }
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null)
    spec.enableServiceLinks = true;
  if (spec.hostNetwork) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])])
      for (const p of (c.ports ?? []) as { hostPort?: number; containerPort: number }[])
        if (!p.hostPort) p.hostPort = p.containerPort;
  }
  defaultPodSpec(spec);
  // v1 conversion keeps podIP/podIPs and hostIP/hostIPs in step.
  const st = pod.status;
  if (st && typeof st === 'object') {
    if (st.podIP && !(st.podIPs ?? []).length) st.podIPs = [{ ip: st.podIP }];
    else if (!st.podIP && st.podIPs?.[0]?.ip) st.podIP = st.podIPs[0].ip;
    if (st.hostIP && !(st.hostIPs ?? []).length) st.hostIPs = [{ ip: st.hostIP }];
    else if (!st.hostIP && st.hostIPs?.[0]?.ip) st.hostIP = st.hostIPs[0].ip;
  }
}

const notReadyToleration: Toleration = {
  key: 'node.kubernetes.io/not-ready',
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: 300,
};
const unreachableToleration: Toleration = {
  key: 'node.kubernetes.io/unreachable',
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: 300,
};

/** The DefaultTolerationSeconds admission plugin. */
export function addDefaultTolerations(spec: Mutable<PodSpec>): void {
  const tols = spec.tolerations ?? [];
  const covers = (key: string): boolean =>
    tols.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const add: Toleration[] = [];
  if (!covers(notReadyToleration.key!)) add.push({ ...notReadyToleration });
  if (!covers(unreachableToleration.key!)) add.push({ ...unreachableToleration });
  if (add.length) spec.tolerations = [...tols, ...add];
}

/** Well-known priority classes (scheduling.k8s.io system classes). */
export const systemPriorityClasses: Readonly<Record<string, number>> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/**
 * The Priority admission plugin for pods without a store lookup: no class → priority 0; system classes →
 * their value; preemptionPolicy defaults to PreemptLowerPriority. (A PriorityClass lookup, when wired,
 * should call `applyPriority(spec, value, policy)` instead.)
 */
/** What a pod's creator wrote in spec.priority / preemptionPolicy, before prepareForCreate filled them. */
export interface CreatorPriority {
  priority?: number;
  preemptionPolicy?: string;
}
const creatorPriorities = new WeakMap<object, CreatorPriority>();

/**
 * For Priority admission, which runs after prepareForCreate on the same object: the values the creator
 * gave (upstream refuses any that contradicts the class, even 0 or PreemptLowerPriority); undefined for a
 * spec that did not come through prepareForCreate.
 */
export function creatorPriority(spec: object): CreatorPriority | undefined {
  return creatorPriorities.get(spec);
}

function recordCreatorPriority(spec: Mutable<PodSpec>): void {
  const given: CreatorPriority = {};
  if (typeof spec.priority === 'number') given.priority = spec.priority;
  if (typeof spec.preemptionPolicy === 'string') given.preemptionPolicy = spec.preemptionPolicy;
  creatorPriorities.set(spec, given);
}

export function applyPriority(spec: Mutable<PodSpec>, value?: number, policy?: string): void {
  if (value !== undefined) spec.priority = value;
  else if (spec.priorityClassName && systemPriorityClasses[spec.priorityClassName] !== undefined)
    spec.priority = systemPriorityClasses[spec.priorityClassName];
  else if (spec.priority === undefined || spec.priority === null) spec.priority = 0;
  if (!spec.preemptionPolicy) spec.preemptionPolicy = policy ?? 'PreemptLowerPriority';
}

const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const randAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
const rand5 = (): string =>
  Array.from({ length: 5 }, () => randAlphabet[Math.floor(Math.random() * randAlphabet.length)]).join('');

/**
 * The ServiceAccount admission plugin (needs the ServiceAccount object, so the API server calls it):
 * defaults serviceAccountName to "default", and unless automount is off projects the token volume
 * `kube-api-access-xxxxx` into every container. Returns a Forbidden reason when the account is missing.
 */
export function serviceAccountAdmission(obj: KObject, sa: KObject | undefined): string | undefined {
  const pod = asPod(obj);
  const spec = pod.spec;
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return undefined;
  if (!spec.serviceAccountName) spec.serviceAccountName = 'default';
  spec.serviceAccount = spec.serviceAccountName;
  if (!sa)
    return `error looking up service account ${pod.metadata?.namespace ?? ''}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`;
  const automount =
    spec.automountServiceAccountToken ?? (sa['automountServiceAccountToken'] as boolean | undefined) ?? true;
  if (!automount) return undefined;
  const already = (spec.volumes ?? []).find((v) => v.name.startsWith('kube-api-access-') && v.projected);
  const name = already?.name ?? `kube-api-access-${rand5()}`;
  if (!already) {
    spec.volumes = [
      ...(spec.volumes ?? []),
      {
        name,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [
                  { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                ],
              },
            },
          ],
        },
      },
    ];
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Mutable<Container>[]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === SA_MOUNT)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: SA_MOUNT }];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Update validation
// ---------------------------------------------------------------------------------------------

/** JSON with sorted keys and empty lists dropped (Semantic.DeepEqual treats nil and empty slices alike). */
export function canonicalJSON(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (isObj(x)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const val = x[k];
        if (val === undefined || val === null || (Array.isArray(val) && val.length === 0)) continue;
        out[k] = norm(val);
      }
      return out;
    }
    return x;
  };
  return JSON.stringify(norm(v));
}

export const podUpdatableFields = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function specDiff(oldSpec: Record<string, unknown>, newSpec: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  const lines = ['  core.PodSpec{'];
  for (const k of keys) {
    const a = canonicalJSON(oldSpec[k]);
    const b = canonicalJSON(newSpec[k]);
    if (a === b) continue;
    const field = k.charAt(0).toUpperCase() + k.slice(1);
    if (oldSpec[k] !== undefined) lines.push(`- \t${field}: ${a},`);
    if (newSpec[k] !== undefined) lines.push(`+ \t${field}: ${b},`);
  }
  lines.push('  }');
  return lines.join('\n') + '\n';
}

function tolerationKey(t: Toleration): string {
  return canonicalJSON({ ...t, tolerationSeconds: undefined });
}

export function validatePodUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = asPod(obj).spec ?? ({} as PodSpec);
  const oldSpec = asPod(old).spec ?? ({} as PodSpec);
  if ((spec.containers ?? []).length !== (oldSpec.containers ?? []).length)
    return [fieldErr.forbidden('spec.containers', 'pod updates may not add or remove containers')];
  if ((spec.initContainers ?? []).length !== (oldSpec.initContainers ?? []).length)
    return [fieldErr.forbidden('spec.initContainers', 'pod updates may not add or remove containers')];
  const munged = JSON.parse(JSON.stringify(spec)) as Mutable<PodSpec> & Record<string, unknown>;
  (munged.containers ?? []).forEach((c, i) => {
    (c as Mutable<Container>).image = oldSpec.containers?.[i]?.image;
  });
  (munged.initContainers ?? []).forEach((c, i) => {
    (c as Mutable<Container>).image = oldSpec.initContainers?.[i]?.image;
  });
  // activeDeadlineSeconds: may be set, or lowered, but not unset or raised.
  const oldADS = oldSpec.activeDeadlineSeconds;
  const newADS = spec.activeDeadlineSeconds;
  if (oldADS !== undefined && oldADS !== null) {
    if (newADS === undefined || newADS === null || newADS === 0)
      errs.push(
        fieldErr.invalid(
          'spec.activeDeadlineSeconds',
          newADS ?? null,
          'must not update from a positive integer to nil value',
        ),
      );
    else if (newADS > oldADS)
      errs.push(
        fieldErr.invalid(
          'spec.activeDeadlineSeconds',
          newADS,
          'must be less than or equal to previous value',
        ),
      );
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  // Tolerations: only additions (NoExecute tolerationSeconds may shrink).
  const newTols = spec.tolerations ?? [];
  for (const t of oldSpec.tolerations ?? []) {
    const match = newTols.find((n) => tolerationKey(n) === tolerationKey(t));
    const ok =
      match !== undefined &&
      (match.tolerationSeconds === t.tolerationSeconds ||
        (t.effect === 'NoExecute' &&
          typeof t.tolerationSeconds === 'number' &&
          typeof match.tolerationSeconds === 'number' &&
          match.tolerationSeconds <= t.tolerationSeconds));
    if (!ok) {
      errs.push(
        fieldErr.forbidden(
          'spec.tolerations',
          'existing toleration can not be modified except its tolerationSeconds',
        ),
      );
      break;
    }
  }
  munged.tolerations = oldSpec.tolerations;
  // terminationGracePeriodSeconds: negative → 1 allowed.
  const oldTGPS = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldTGPS === 'number' && oldTGPS < 0 && spec.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = oldTGPS;
  // schedulingGates: only removals.
  const oldGates = new Set((oldSpec.schedulingGates ?? []).map((g) => g.name));
  for (const g of spec.schedulingGates ?? [])
    if (!oldGates.has(g.name)) {
      errs.push(
        fieldErr.forbidden(
          'spec.schedulingGates',
          `only deletion is allowed, but found new scheduling gate '${g.name}'`,
        ),
      );
      break;
    }
  munged.schedulingGates = oldSpec.schedulingGates;
  if (canonicalJSON(munged) !== canonicalJSON(oldSpec)) {
    errs.push(
      fieldErr.forbidden(
        'spec',
        `pod updates may not change fields other than ${podUpdatableFields.join(',')}\n${specDiff(
          oldSpec as unknown as Record<string, unknown>,
          munged,
        )}`,
      ),
    );
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Printer (printPod)
// ---------------------------------------------------------------------------------------------

export const podColumns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Ready',
    type: 'string',
    description: 'The aggregate readiness state of this pod for accepting traffic.',
  },
  { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
  {
    name: 'Restarts',
    type: 'string',
    description:
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  },
  ageColumn,
  {
    name: 'IP',
    type: 'string',
    priority: 1,
    description:
      'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
  },
  {
    name: 'Node',
    type: 'string',
    priority: 1,
    description:
      'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
  },
  {
    name: 'Nominated Node',
    type: 'string',
    priority: 1,
    description:
      'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
  },
  {
    name: 'Readiness Gates',
    type: 'string',
    priority: 1,
    description:
      'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
  },
];

const isRestartableInit = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** The cells of printPod (with Wide columns: the server always prints them). */
export function podRow(obj: KObject, now: Date): TableCell[] {
  const pod = asPod(obj);
  const spec = pod.spec ?? ({} as PodSpec);
  const status = pod.status ?? ({} as PodStatus);
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart: string | undefined;
  let lastRestartableInitRestart: string | undefined;
  const phase = status.phase ?? '';
  let reason: string = status.reason ? status.reason : phase;
  for (const c of status.conditions ?? [])
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const inits = new Map<string, Container>();
  for (const c of spec.initContainers ?? []) {
    inits.set(c.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }
  let initializing = false;
  const initStatuses: ContainerStatus[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    restarts += cs.restartCount ?? 0;
    const lt = cs.lastState?.terminated;
    if (lt) lastRestart = later(lastRestart, lt.finishedAt);
    const restartable = isRestartableInit(inits.get(cs.name));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      if (lt) lastRestartableInitRestart = later(lastRestartableInitRestart, lt.finishedAt);
    }
    const term = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (restartable && cs.started) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term) {
      if (!term.reason)
        reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting && waiting.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = (status.conditions ?? []).some(
    (c) => c.type === 'Initialized' && c.status === 'True',
  );
  if (!initializing || initializedTrue) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const css = status.containerStatuses ?? [];
    for (let i = css.length - 1; i >= 0; i--) {
      const cs = css[i]!;
      restarts += cs.restartCount ?? 0;
      const lt = cs.lastState?.terminated;
      if (lt) lastRestart = later(lastRestart, lt.finishedAt);
      const st = cs.state ?? {};
      if (st.waiting && st.waiting.reason) reason = st.waiting.reason;
      else if (st.terminated && st.terminated.reason) reason = st.terminated.reason;
      else if (st.terminated && !st.terminated.reason)
        reason = st.terminated.signal
          ? `Signal:${st.terminated.signal}`
          : `ExitCode:${st.terminated.exitCode}`;
      else if (cs.ready && st.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed')
    reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart) restartsStr = `${restarts} (${age(lastRestart, now)} ago)`;

  const podIP = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const nodeName = spec.nodeName || '<none>';
  const nominated = status.nominatedNodeName || '<none>';
  let readinessGates = '<none>';
  const gates = spec.readinessGates ?? [];
  if (gates.length) {
    let t = 0;
    for (const g of gates) {
      const c = (status.conditions ?? []).find((x) => x.type === g.conditionType);
      if (c?.status === 'True') t++;
    }
    readinessGates = `${t}/${gates.length}`;
  }
  return [
    pod.metadata?.name ?? '',
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsStr,
    age(pod.metadata?.creationTimestamp, now),
    podIP,
    nodeName,
    nominated,
    readinessGates,
  ];
}

// ---------------------------------------------------------------------------------------------
// Strategy
// ---------------------------------------------------------------------------------------------

function schedulingGatedCondition(pod: MPod): void {
  if (!(pod.spec.schedulingGates ?? []).length) return;
  const st = (pod.status ??= {});
  const conds = st.conditions ?? [];
  if (conds.some((c) => c.type === 'PodScheduled')) return;
  st.conditions = [
    ...conds,
    {
      type: 'PodScheduled',
      status: 'False',
      reason: 'SchedulingGated',
      message: 'Scheduling is blocked due to non-empty scheduling gates',
      lastProbeTime: null as unknown as string,
      lastTransitionTime: null as unknown as string,
    },
  ];
}

export const podStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['po'],
    categories: ['all'],
  },
  hasStatus: true,
  extraSubresources: [
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'binding', kind: 'Binding', verbs: ['create'] },
    { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  defaults: defaultPod,
  prepareForCreate(obj) {
    const pod = asPod(obj);
    pod.status = { phase: 'Pending', qosClass: computePodQOS(pod.spec) };
    schedulingGatedCondition(pod);
    addDefaultTolerations(pod.spec);
    recordCreatorPriority(pod.spec);
    applyPriority(pod.spec);
  },
  prepareForUpdate(obj, old) {
    const pod = asPod(obj);
    addDefaultTolerations(pod.spec);
    const oldSpec = asPod(old).spec;
    // Priority fields are set at admission and never change; carry them over when omitted.
    if (pod.spec.priority === undefined && oldSpec?.priority !== undefined)
      pod.spec.priority = oldSpec.priority;
    if (pod.spec.preemptionPolicy === undefined && oldSpec?.preemptionPolicy !== undefined)
      pod.spec.preemptionPolicy = oldSpec.preemptionPolicy;
  },
  prepareForStatusUpdate(obj, old) {
    const pod = asPod(obj);
    obj.metadata.ownerReferences = old.metadata.ownerReferences;
    const st = (pod.status ??= {});
    const oldQos = asPod(old).status?.qosClass;
    if (!st.qosClass && oldQos) st.qosClass = oldQos;
    if (st.podIP && !(st.podIPs ?? []).length) st.podIPs = [{ ip: st.podIP }];
    else if (!st.podIP && st.podIPs?.[0]?.ip) st.podIP = st.podIPs[0].ip;
  },
  validate(obj) {
    return validatePodSpec(asPod(obj).spec, 'spec');
  },
  validateUpdate(obj, old) {
    return validatePodUpdate(obj, old);
  },
  validateStatusUpdate(obj) {
    const st = asPod(obj).status ?? {};
    const errs: FieldError[] = [];
    if (st.nominatedNodeName)
      for (const m of isDNS1123Subdomain(st.nominatedNodeName))
        errs.push(fieldErr.invalid('status.nominatedNodeName', st.nominatedNodeName, m));
    const podIPs = st.podIPs ?? [];
    if (podIPs.length && st.podIP && podIPs[0]?.ip !== st.podIP)
      errs.push(
        fieldErr.invalid('status.podIPs[0].ip', podIPs[0]?.ip ?? '', 'must be equal to status.podIP'),
      );
    return errs;
  },
  columns: podColumns,
  row: podRow,
  fieldSelectors(obj) {
    const pod = asPod(obj);
    const spec = pod.spec ?? ({} as PodSpec);
    const st = pod.status ?? {};
    return {
      'spec.nodeName': spec.nodeName ?? '',
      'spec.restartPolicy': spec.restartPolicy ?? '',
      'spec.schedulerName': spec.schedulerName ?? '',
      'spec.serviceAccountName': spec.serviceAccountName ?? '',
      'spec.hostNetwork': spec.hostNetwork ? 'true' : 'false',
      'status.phase': st.phase ?? '',
      'status.podIP': st.podIPs?.[0]?.ip ?? st.podIP ?? '',
      'status.nominatedNodeName': st.nominatedNodeName ?? '',
    };
  },
  gracePeriod(obj, requested) {
    const pod = asPod(obj);
    let period = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 0;
    if (!pod.spec?.nodeName) period = 0;
    const phase = pod.status?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') period = 0;
    if (period < 0) period = 1;
    return period;
  },
};

/** Whether a quantity string is larger than another (exported for LimitRange/quota code). */
export const quantityGreater = (a: string, b: string): boolean => compareQuantities(a, b) > 0;
