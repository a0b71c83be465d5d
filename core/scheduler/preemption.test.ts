import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { failedSchedulingMessage, filterNode, type NodeInfo, podState } from './plugins.ts';
import {
  type Candidate,
  type DisruptionBudget,
  disruptionBudget,
  moreImportant,
  notEligible,
  numCandidates,
  pickCandidate,
  preempt,
  type PreemptionInput,
  selectVictims,
  splitByBudget,
  withNominated,
} from './preemption.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function node(name: string, cpu = '2', extra: Partial<Node> = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: { allocatable: { cpu, memory: '4Gi', pods: '110' } },
    ...extra,
  } as Node;
}

interface PodOpts {
  cpu?: string;
  priority?: number;
  started?: string;
  labels?: Record<string, string>;
  spec?: Partial<Pod['spec']>;
  status?: Pod['status'];
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T11:59:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'x', ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}) }],
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...o.spec,
    },
    status: { ...(o.started ? { startTime: o.started } : {}), ...o.status },
  } as Pod;
}

const info = (n: Node, pods: Pod[] = []): NodeInfo => ({ node: n, pods });
const names = (ps: Pod[]): string[] => ps.map((p) => p.metadata?.name ?? '');

function input(
  p: Pod,
  infos: NodeInfo[],
  pdbs: DisruptionBudget[] = [],
  extra: Partial<PreemptionInput> = {},
) {
  const st = podState(p);
  return {
    pod: p,
    st,
    infos,
    verdicts: infos.map((i) => filterNode(p, i, st)),
    pdbs: () => pdbs,
    now: NOW,
    ...extra,
  };
}

test('moreImportant: priority first, then the earlier start (unstarted pods count as now)', () => {
  const a = pod('a', { priority: 10, started: '2026-01-01T10:00:00Z' });
  const b = pod('b', { priority: 10, started: '2026-01-01T11:00:00Z' });
  const c = pod('c', { priority: 20 });
  assert.equal(moreImportant(c, a, NOW), true);
  assert.equal(moreImportant(a, b, NOW), true);
  assert.equal(moreImportant(b, a, NOW), false);
  assert.equal(moreImportant(b, pod('d', { priority: 10 }), NOW), true);
});

test('selectVictims: only lower priority, fewest needed, higher-priority victims reprieved first', () => {
  const n = info(node('n1', '4'), [
    pod('low-old', { cpu: '1', priority: 1, started: '2026-01-01T09:00:00Z' }),
    pod('low-new', { cpu: '1', priority: 1, started: '2026-01-01T11:00:00Z' }),
    pod('mid', { cpu: '1', priority: 50 }),
    pod('same', { cpu: '1', priority: 100 }),
  ]);
  const high = pod('high', { cpu: '2', priority: 100 });
  const r = selectVictims(high, n, podState(high), [], NOW);
  assert.ok('victims' in r);
  // mid (most important of the lower ones) and then low-old are reprieved in turn: mid fits back,
  // low-old does not, low-new does not either.
  assert.deepEqual(names(r.victims), ['low-old', 'low-new']);
  assert.equal(r.pdbViolations, 0);
  // Nothing of lower priority: no victims.
  assert.deepEqual(selectVictims(pod('p', { cpu: '2', priority: 1 }), n, podState(pod('p')), [], NOW), {
    reasons: ['No preemption victims found for incoming pod'],
  });
  // Too big even on an emptied node: the filter's reasons.
  const huge = pod('huge', { cpu: '8', priority: 1000 });
  assert.deepEqual(selectVictims(huge, n, podState(huge), [], NOW), { reasons: ['Insufficient cpu'] });
});

test('PodDisruptionBudgets: violating pods are reprieved first and counted', () => {
  const budget = disruptionBudget({
    metadata: { namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'db' } } },
    status: { disruptionsAllowed: 1 },
  });
  const a = pod('db-a', { cpu: '1', priority: 1, labels: { app: 'db' } });
  const b = pod('db-b', { cpu: '1', priority: 1, labels: { app: 'db' } });
  const c = pod('web', { cpu: '1', priority: 1, labels: { app: 'web' } });
  const split = splitByBudget([a, b, c], [budget]);
  assert.deepEqual([names(split.violating), names(split.other)], [['db-b'], ['db-a', 'web']]);
  // An empty selector selects nothing; pods already in disruptedPods do not spend the budget.
  const empty = { ...budget, selector: {} };
  assert.deepEqual(names(splitByBudget([a, b], [empty]).violating), []);
  const disrupted = { ...budget, disruptionsAllowed: 0, disruptedPods: { 'db-a': '2026-01-01T00:00:00Z' } };
  assert.deepEqual(names(splitByBudget([a, b], [disrupted]).violating), ['db-b']);

  const n = info(node('n1', '3'), [a, b, c]);
  const high = pod('high', { cpu: '2', priority: 10 });
  const r = selectVictims(high, n, podState(high), [budget], NOW);
  assert.ok('victims' in r);
  // db-b (violating) is reprieved first and stays; two of the others go.
  assert.deepEqual(names(r.victims).sort(), ['db-a', 'web']);
  assert.equal(r.pdbViolations, 0);
  const tight = selectVictims(
    pod('h', { cpu: '3', priority: 10 }),
    n,
    podState(pod('h', { cpu: '3' })),
    [budget],
    NOW,
  );
  assert.ok('victims' in tight);
  assert.equal(tight.pdbViolations, 1);
});

test('pickCandidate: PDB violations, highest victim priority, sum, count, latest start', () => {
  const v = (name: string, priority: number, started?: string) =>
    pod(name, { priority, ...(started ? { started } : {}) });
  const c = (node: string, victims: Pod[], pdbViolations = 0): Candidate => ({
    node,
    victims,
    pdbViolations,
  });
  const pick = (...cs: Candidate[]) => pickCandidate(cs, NOW)?.node;
  assert.equal(pick(c('a', [v('x', 1)], 1), c('b', [v('y', 5)], 0)), 'b');
  assert.equal(pick(c('a', [v('x', 5)]), c('b', [v('y', 3), v('z', 3)])), 'b');
  assert.equal(pick(c('a', [v('x', 5), v('w', 4)]), c('b', [v('y', 5), v('z', 1)])), 'b');
  assert.equal(pick(c('a', [v('x', 5), v('w', -3), v('u', -3)]), c('b', [v('y', 5), v('z', -3)])), 'b');
  assert.equal(
    pick(c('a', [v('x', 5), v('w', 1)]), c('b', [v('y', 5), v('z', 1)])),
    'a',
    'full tie: the first',
  );
  assert.equal(
    pick(c('a', [v('x', 5, '2026-01-01T08:00:00Z')]), c('b', [v('y', 5, '2026-01-01T10:00:00Z')])),
    'b',
    'the node whose most important victims started latest',
  );
  assert.equal(pickCandidate([], NOW), undefined);
  assert.equal(numCandidates(3), 3);
  assert.equal(numCandidates(5000), 500);
});

test('preempt: nominates the cheapest node; the message is what happened', () => {
  const n1 = info(node('n1'), [pod('a1', { cpu: '1', priority: 5 }), pod('a2', { cpu: '1', priority: 5 })]);
  const n2 = info(node('n2'), [pod('b1', { cpu: '1', priority: 1 }), pod('b2', { cpu: '1', priority: 1 })]);
  const n3 = info(node('n3', '2', { spec: { unschedulable: true } }), []);
  const high = pod('high', { cpu: '1', priority: 100 });
  const out = preempt(input(high, [n1, n2, n3]));
  assert.equal(out.kind, 'nominated');
  assert.ok(out.kind === 'nominated');
  assert.equal(out.node, 'n2');
  // b1 and b2 tie (same priority, not started): b1 is reprieved first and stays.
  assert.deepEqual(names(out.victims), ['b2']);
  assert.equal(
    failedSchedulingMessage(high, input(high, [n1, n2, n3]).verdicts, undefined, out.message),
    '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.',
  );

  // Same priority everywhere: no victims on the resolvable nodes, not helpful on the cordoned one.
  const peer = pod('peer', { cpu: '1', priority: 1 });
  const failed = preempt(input(peer, [n1, n2, n3]));
  assert.deepEqual(failed, {
    kind: 'failed',
    message:
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, ' +
      '2 No preemption victims found for incoming pod.',
  });
  // Too big for any node even when emptied: the filter's reason.
  const huge = pod('huge', { cpu: '3', priority: 100 });
  assert.equal(
    preempt(input(huge, [n1, n2, n3])).message,
    'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 Insufficient cpu.',
  );
});

test('eligibility: preemptionPolicy Never; waiting for victims terminating on the nominated node', () => {
  const victim = pod('v', {
    cpu: '2',
    priority: 1,
    deleting: true,
    status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] },
  });
  const n1 = info(node('n1'), [victim]);
  const never = pod('never', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'Never' } });
  assert.deepEqual(preempt(input(never, [n1])), {
    kind: 'ineligible',
    message: 'preemption: not eligible due to preemptionPolicy=Never.',
  });
  const waiting = pod('w', { cpu: '1', priority: 100, status: { nominatedNodeName: 'n1' } });
  assert.equal(
    notEligible(waiting, input(waiting, [n1])),
    'preemption: not eligible due to a terminating pod on the nominated node.',
  );
  // A pod deleted for another reason does not hold the preemptor back.
  const other = info(node('n1'), [pod('x', { cpu: '2', priority: 1, deleting: true })]);
  assert.equal(notEligible(waiting, input(waiting, [other])), undefined);
});

test('nominated pods of higher priority hold their space', () => {
  const n1 = info(node('n1'), [pod('a', { cpu: '1', priority: 1 })]);
  const nominee = pod('nominee', { cpu: '1', priority: 100, status: { nominatedNodeName: 'n1' } });
  const [view] = withNominated([n1], [nominee]);
  assert.deepEqual(names(view!.pods), ['a', 'nominee']);
  assert.equal(view!.requested?.['cpu'], 2000);
  assert.equal(withNominated([n1], [])[0], n1);
  // A lower-priority pod does not fit beside the nominee, and cannot evict it.
  const low = pod('low', { cpu: '1', priority: 50 });
  const out = preempt(
    input(low, [n1], [], { nominated: () => [nominee], verdicts: [filterNode(low, view!, podState(low))] }),
  );
  assert.ok(out.kind === 'nominated');
  assert.deepEqual(names(out.victims), ['a']);
  const lowest = pod('lowest', { cpu: '1', priority: 1 });
  assert.equal(
    preempt(
      input(lowest, [n1], [], {
        nominated: () => [nominee],
        verdicts: [filterNode(lowest, view!, podState(lowest))],
      }),
    ).kind,
    'failed',
  );
});
