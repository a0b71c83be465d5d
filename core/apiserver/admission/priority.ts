/**
 * Priority admission (plugin/pkg/admission/priority): on pod create, resolve spec.priorityClassName to
 * spec.priority and spec.preemptionPolicy. A pod without a class gets the globalDefault class (the one
 * with the lowest value if several) and its name, or priority 0 and PreemptLowerPriority without one; an
 * unknown class is refused (403 "no PriorityClass with name x was found"), as is a pod whose own
 * priority or preemptionPolicy contradicts its class. On PriorityClass create/update, a second
 * globalDefault class is refused; the system classes (system-node-critical, system-cluster-critical,
 * created at cluster start by bootstrapSystemPriorityClasses) cannot be deleted.
 *
 * The pods registry's prepareForCreate already filled in priority 0 (or a system class's value) and
 * PreemptLowerPriority before admission runs; it records what the creator wrote (creatorPriority), and
 * that is what is checked against the class. A spec that did not come through prepareForCreate (direct
 * calls) has its prepared values counted as "not given".
 */
import type { KObject } from '../../api/object.ts';
import { errors, StatusError } from '../../api/status.ts';
import type { InProcessClient, ResourceRef } from '../../client/in-process.ts';
import { creatorPriority, systemPriorityClasses } from '../../registry/core/pods.ts';
import type { AdmissionPlugin, GenericRegistry } from '../generic-registry.ts';

const PREEMPT_LOWER = 'PreemptLowerPriority';
const PRIORITY_CLASSES: ResourceRef = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  resource: 'priorityclasses',
};

/** What admission reads of a PriorityClass. */
export interface PriorityClassView {
  name: string;
  value: number;
  globalDefault: boolean;
  preemptionPolicy?: string;
}

export function priorityClassView(o: KObject): PriorityClassView {
  const policy = o['preemptionPolicy'];
  return {
    name: o.metadata.name ?? '',
    value: typeof o['value'] === 'number' ? o['value'] : 0,
    globalDefault: o['globalDefault'] === true,
    ...(typeof policy === 'string' ? { preemptionPolicy: policy } : {}),
  };
}

/** The globalDefault class with the lowest value (upstream's getDefaultPriorityClass). */
export function defaultPriorityClass(classes: PriorityClassView[]): PriorityClassView | undefined {
  let best: PriorityClassView | undefined;
  for (const c of classes) if (c.globalDefault && (!best || c.value < best.value)) best = c;
  return best;
}

interface PodSpecView {
  priorityClassName?: string;
  priority?: number;
  preemptionPolicy?: string;
}

const podsGR = { group: '', resource: 'pods' };
const classesGR = { group: 'scheduling.k8s.io', resource: 'priorityclasses' };

/**
 * Resolves the pod's priority in place. `get` finds a class by name; `all` lists them (for the
 * default). Throws 403 as upstream.
 */
export function admitPodPriority(
  pod: KObject,
  get: (name: string) => PriorityClassView | undefined,
  all: () => PriorityClassView[],
): void {
  const spec = (pod['spec'] ??= {}) as PodSpecView;
  const name = pod.metadata.name ?? pod.metadata.generateName ?? '';
  // What prepareForCreate filled in before admission (see the file comment).
  const prepared = systemPriorityClasses[spec.priorityClassName ?? ''] ?? 0;
  let priority = 0;
  let policy: string | undefined = PREEMPT_LOWER;
  if (!spec.priorityClassName) {
    const dflt = defaultPriorityClass(all());
    if (dflt) {
      spec.priorityClassName = dflt.name;
      priority = dflt.value;
      policy = dflt.preemptionPolicy;
    }
  } else {
    const pc =
      get(spec.priorityClassName) ??
      (systemPriorityClasses[spec.priorityClassName] !== undefined
        ? {
            name: spec.priorityClassName,
            value: prepared,
            globalDefault: false,
            preemptionPolicy: PREEMPT_LOWER,
          }
        : undefined);
    if (!pc)
      throw errors.forbidden(podsGR, name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    priority = pc.value;
    policy = pc.preemptionPolicy;
  }
  const creator = creatorPriority(spec);
  const given = creator ? creator.priority : spec.priority === prepared ? undefined : spec.priority;
  if (typeof given === 'number' && given !== priority)
    throw errors.forbidden(
      podsGR,
      name,
      `the integer value of priority (${given}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  spec.priority = priority;
  if (policy) {
    const own = creator
      ? creator.preemptionPolicy
      : spec.preemptionPolicy === PREEMPT_LOWER
        ? undefined
        : spec.preemptionPolicy;
    if (own && own !== policy)
      throw errors.forbidden(
        podsGR,
        name,
        `the string value of PreemptionPolicy (${own}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
      );
    spec.preemptionPolicy = policy;
  }
}

/** Refuses a second globalDefault class (create, or an update marking another class default). */
export function validatePriorityClass(
  op: 'CREATE' | 'UPDATE',
  pc: PriorityClassView,
  all: () => PriorityClassView[],
): void {
  if (!pc.globalDefault) return;
  const dflt = defaultPriorityClass(all());
  if (!dflt || (op === 'UPDATE' && dflt.name === pc.name)) return;
  throw errors.forbidden(
    classesGR,
    pc.name,
    `PriorityClass ${dflt.name} is already marked as default. Only one default can exist`,
  );
}

export function priorityAdmission(registry: GenericRegistry): AdmissionPlugin {
  const isClasses = (s: { strategy: { info: { group: string; resource: string } } }): boolean =>
    s.strategy.info.group === 'scheduling.k8s.io' && s.strategy.info.resource === 'priorityclasses';
  // The classes, read again after any committed write to them (a pod create must not list them).
  let cached: PriorityClassView[] | undefined;
  const all = (): PriorityClassView[] => {
    if (cached) return cached;
    const s = registry.table.lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
    return (cached = s ? registry.list(s, '', {}).items.map(priorityClassView) : []);
  };
  const get = (name: string): PriorityClassView | undefined => all().find((c) => c.name === name);
  return {
    name: 'Priority',
    admit(op, s, obj) {
      const info = s.strategy.info;
      if (op !== 'CREATE' || info.group !== '' || info.resource !== 'pods') return;
      if (obj.kind && obj.kind !== 'Pod') return;
      admitPodPriority(obj, get, all);
    },
    validate(op, s, obj) {
      if (!isClasses(s)) return;
      const pc = priorityClassView(obj);
      if (op === 'DELETE') {
        if (systemPriorityClasses[pc.name] === pc.value)
          throw errors.forbidden(classesGR, pc.name, 'this is a system priority class and cannot be deleted');
        return;
      }
      validatePriorityClass(op, pc, all);
    },
    committed(_op, s) {
      if (isClasses(s)) cached = undefined;
    },
  };
}

/** The system classes every cluster has (the apiserver's bootstrap-system-priority-classes hook). */
export function systemPriorityClassObjects(): KObject[] {
  const description: Record<string, string> = {
    'system-node-critical': 'Used for system critical pods that must not be moved from their current node.',
    'system-cluster-critical':
      'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  };
  return Object.entries(systemPriorityClasses).map(([name, value]) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name },
    value,
    description: description[name] ?? '',
    preemptionPolicy: PREEMPT_LOWER,
  }));
}

/** Creates the system classes unless they exist. */
export function bootstrapSystemPriorityClasses(client: InProcessClient): void {
  for (const obj of systemPriorityClassObjects())
    try {
      client.create(PRIORITY_CLASSES, '', obj);
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409)) throw e;
    }
}
