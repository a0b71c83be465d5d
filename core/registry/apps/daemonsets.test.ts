import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../store/sqlite-store.ts';
import { GenericRegistry } from '../../apiserver/generic-registry.ts';
import { ResourceTable } from '../../apiserver/resources.ts';
import { allStrategies } from '../index.ts';
import type { KObject } from '../../api/object.ts';
import type { RequestContext } from '../types.ts';
import { TEMPLATE_GENERATION_ANNOTATION } from './daemonsets.ts';

const ctx: RequestContext = {
  user: { username: 'test', groups: [] },
  now: new Date('2026-11-23T10:00:00Z'),
  dryRun: false,
  authorizer: {
    authorize: () => ({ decision: 'allow', reason: '' }),
    rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
  },
};

function setup() {
  const table = new ResourceTable(allStrategies());
  const reg = new GenericRegistry(openStore({ path: ':memory:' }), table);
  const ds = table.lookup('apps', 'v1', 'daemonsets')!;
  return { reg, ds };
}

const daemonSet = (annotations?: Record<string, string>): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', ...(annotations ? { annotations } : {}) },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: { containers: [{ name: 'a', image: 'agent:1' }] },
    },
  },
});

const templateGeneration = (o: KObject): string | undefined =>
  o.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
const spec = (o: KObject): Record<string, unknown> => o['spec'] as Record<string, unknown>;
const containers = (o: KObject): { image: string }[] =>
  (spec(o)['template'] as { spec: { containers: { image: string }[] } }).spec.containers;

test('create sets deprecated.daemonset.template.generation to "1" (a given value ≥ 1 is kept)', () => {
  const { reg, ds } = setup();
  const a = reg.create(ds, 'default', daemonSet(), ctx);
  assert.equal(a.metadata.generation, 1);
  assert.equal(templateGeneration(a), '1');
  const zero = reg.create(ds, 'ns2', daemonSet({ [TEMPLATE_GENERATION_ANNOTATION]: '0' }), ctx);
  assert.equal(templateGeneration(zero), '1');
  const five = reg.create(ds, 'ns3', daemonSet({ [TEMPLATE_GENERATION_ANNOTATION]: '5' }), ctx);
  assert.equal(templateGeneration(five), '5');
});

test('update: a template change bumps the template generation, other spec changes do not', () => {
  const { reg, ds } = setup();
  let cur = reg.create(ds, 'default', daemonSet(), ctx);

  containers(cur)[0]!.image = 'agent:2';
  cur = reg.update(ds, 'default', 'agent', cur, ctx).object;
  assert.equal(cur.metadata.generation, 2);
  assert.equal(templateGeneration(cur), '2');

  // A spec change outside the template: generation follows, the template generation does not.
  spec(cur)['minReadySeconds'] = 5;
  cur = reg.update(ds, 'default', 'agent', cur, ctx).object;
  assert.equal(cur.metadata.generation, 3);
  assert.equal(templateGeneration(cur), '2');

  // Clients cannot set it: a value they send (or its removal) is replaced by the stored one.
  cur.metadata.annotations = { ...cur.metadata.annotations, [TEMPLATE_GENERATION_ANNOTATION]: '42' };
  cur = reg.update(ds, 'default', 'agent', cur, ctx).object;
  assert.equal(templateGeneration(cur), '2');
  assert.equal(cur.metadata.generation, 3, 'a metadata-only change keeps the generation');
  delete cur.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  containers(cur)[0]!.image = 'agent:3';
  cur = reg.update(ds, 'default', 'agent', cur, ctx).object;
  assert.equal(templateGeneration(cur), '3');
  assert.equal(cur.metadata.generation, 4);
});
