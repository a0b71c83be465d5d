import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import type { RequestContext } from '../../registry/types.ts';
import type { GenericRegistry } from '../generic-registry.ts';
import type { Served } from '../resources.ts';
import { podStrategy } from '../../registry/core/pods.ts';
import {
  admitPodPriority,
  defaultPriorityClass,
  priorityAdmission,
  type PriorityClassView,
  systemPriorityClassObjects,
  validatePriorityClass,
} from './priority.ts';

const high: PriorityClassView = {
  name: 'high',
  value: 1000,
  globalDefault: false,
  preemptionPolicy: 'PreemptLowerPriority',
};
const polite: PriorityClassView = {
  name: 'polite',
  value: 500,
  globalDefault: false,
  preemptionPolicy: 'Never',
};
const dflt: PriorityClassView = {
  name: 'dflt',
  value: 10,
  globalDefault: true,
  preemptionPolicy: 'PreemptLowerPriority',
};

/** A pod as the registry's prepareForCreate leaves it (priority 0 or a system value, PreemptLowerPriority). */
function pod(spec: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers: [{ name: 'c', image: 'i' }],
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      ...spec,
    },
  };
}
const specOf = (p: KObject) =>
  p['spec'] as { priority?: number; preemptionPolicy?: string; priorityClassName?: string };

function admit(p: KObject, classes: PriorityClassView[]): KObject {
  admitPodPriority(
    p,
    (n) => classes.find((c) => c.name === n),
    () => classes,
  );
  return p;
}

function forbidden(fn: () => void, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof StatusError && e.code === 403 && e.message === message);
}

test('a class name resolves to its value and preemptionPolicy', () => {
  assert.deepEqual(
    { ...specOf(admit(pod({ priorityClassName: 'high' }), [high, polite])) },
    {
      containers: [{ name: 'c', image: 'i' }],
      priorityClassName: 'high',
      priority: 1000,
      preemptionPolicy: 'PreemptLowerPriority',
    },
  );
  const p = admit(pod({ priorityClassName: 'polite' }), [high, polite]);
  assert.equal(specOf(p).priority, 500);
  assert.equal(specOf(p).preemptionPolicy, 'Never');
});

test('no class: the global default (its name too), else priority 0', () => {
  const p = admit(pod(), [high, dflt]);
  assert.equal(specOf(p).priorityClassName, 'dflt');
  assert.equal(specOf(p).priority, 10);
  const q = admit(pod(), [high]);
  assert.equal(specOf(q).priorityClassName, undefined);
  assert.equal(specOf(q).priority, 0);
  assert.equal(specOf(q).preemptionPolicy, 'PreemptLowerPriority');
  // Several defaults (possible through races upstream): the lowest value wins.
  assert.equal(defaultPriorityClass([dflt, { ...dflt, name: 'lower', value: 5 }])?.name, 'lower');
});

test('system classes resolve even before their objects exist', () => {
  const p = admit(pod({ priorityClassName: 'system-node-critical', priority: 2000001000 }), []);
  assert.equal(specOf(p).priority, 2000001000);
});

test('unknown classes and contradicting priority/preemptionPolicy are refused as upstream', () => {
  forbidden(
    () => admit(pod({ priorityClassName: 'nope' }), [high]),
    'pods "p" is forbidden: no PriorityClass with name nope was found',
  );
  forbidden(
    () => admit(pod({ priorityClassName: 'high', priority: 7 }), [high]),
    'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
  );
  forbidden(
    () => admit(pod({ priorityClassName: 'high', preemptionPolicy: 'Never' }), [high]),
    'pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name',
  );
  // The value the class gives is fine.
  assert.equal(specOf(admit(pod({ priorityClassName: 'high', priority: 1000 }), [high])).priority, 1000);
});

test('after the pods strategy has filled its defaults, what the creator wrote is still what is checked', () => {
  /** A pod as a client sends it, prepared by the registry (priority 0, PreemptLowerPriority), then admitted. */
  const created = (spec: Record<string, unknown>, classes: PriorityClassView[]): KObject => {
    const p: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
    };
    podStrategy.prepareForCreate?.(p, {} as RequestContext);
    return admit(p, classes);
  };
  // Upstream refuses an explicit 0 or PreemptLowerPriority that contradicts the class, like any other value.
  forbidden(
    () => created({ priorityClassName: 'high', priority: 0 }, [high]),
    'pods "p" is forbidden: the integer value of priority (0) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
  );
  forbidden(
    () => created({ priorityClassName: 'polite', preemptionPolicy: 'PreemptLowerPriority' }, [polite]),
    'pods "p" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name',
  );
  forbidden(
    () => created({ priorityClassName: 'system-node-critical', priority: 5 }, []),
    'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 2000001000 from the given PriorityClass name',
  );
  // Nothing given: the class decides; the class's own values are accepted when given.
  assert.deepEqual(
    [
      specOf(created({ priorityClassName: 'polite' }, [polite])).priority,
      specOf(created({ priorityClassName: 'polite' }, [polite])).preemptionPolicy,
    ],
    [500, 'Never'],
  );
  assert.equal(specOf(created({ priorityClassName: 'high', priority: 1000 }, [high])).priority, 1000);
  assert.equal(
    specOf(created({ priority: 0 }, [])).priority,
    0,
    'no class, no default: 0 is what admission computes',
  );
});

test('only one globalDefault class', () => {
  const all = () => [high, dflt];
  forbidden(
    () => validatePriorityClass('CREATE', { ...high, name: 'other', globalDefault: true }, all),
    'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass dflt is already marked as default. Only one default can exist',
  );
  assert.doesNotThrow(() => validatePriorityClass('UPDATE', dflt, all));
  assert.doesNotThrow(() => validatePriorityClass('CREATE', { ...high, name: 'x' }, all));
  assert.doesNotThrow(() => validatePriorityClass('CREATE', { ...dflt, name: 'x' }, () => [high]));
});

test('system class objects carry upstream values', () => {
  const objs = systemPriorityClassObjects();
  assert.deepEqual(
    objs.map((o) => [o.metadata.name, o['value']]),
    [
      ['system-node-critical', 2000001000],
      ['system-cluster-critical', 2000000000],
    ],
  );
});

test('the plugin reads the classes once and again after a write to them', () => {
  const classes: KObject[] = [
    { metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'PreemptLowerPriority' },
  ];
  let lists = 0;
  const pcServed = { strategy: { info: { group: 'scheduling.k8s.io', resource: 'priorityclasses' } } };
  const podServed = { strategy: { info: { group: '', resource: 'pods' } } };
  const registry = {
    table: { lookup: () => pcServed },
    list: () => {
      lists++;
      return { items: classes };
    },
  } as unknown as GenericRegistry;
  const plugin = priorityAdmission(registry);
  const admitPod = (spec: Record<string, unknown>): KObject => {
    const p = pod(spec);
    plugin.admit?.('CREATE', podServed as unknown as Served, p, undefined, {} as RequestContext);
    return p;
  };
  assert.equal(specOf(admitPod({ priorityClassName: 'high' })).priority, 1000);
  assert.equal(specOf(admitPod({})).priority, 0);
  assert.equal(lists, 1);
  const dflt: KObject = { metadata: { name: 'dflt' }, value: 7, globalDefault: true };
  classes.push(dflt);
  plugin.committed?.('CREATE', pcServed as unknown as Served, dflt, undefined);
  assert.equal(specOf(admitPod({})).priority, 7);
  assert.equal(lists, 2);
  assert.throws(
    () =>
      plugin.validate?.(
        'DELETE',
        pcServed as unknown as Served,
        systemPriorityClassObjects()[0]!,
        undefined,
        {} as RequestContext,
      ),
    /this is a system priority class and cannot be deleted/,
  );
});
