import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultBehavior,
  normalizeLegacy,
  normalizeWithBehavior,
  recordScaleEvent,
  scaleDownLimit,
  scaleUpLimit,
  type Recommendation,
} from './hpa-normalize.ts';

const T0 = 1_000_000_000;

test('legacy: a scale-up is capped at max(2 × current, 4), then at maxReplicas', () => {
  const n = normalizeLegacy(2, 10, 1, 20, [], T0);
  assert.equal(n.replicas, 4);
  assert.deepEqual(n.limited, {
    status: true,
    reason: 'ScaleUpLimit',
    message: 'the desired replica count is increasing faster than the maximum scale rate',
  });
  const m = normalizeLegacy(4, 10, 1, 5, [], T0);
  assert.equal(m.replicas, 5);
  assert.equal(m.limited.reason, 'TooManyReplicas');
  const within = normalizeLegacy(2, 3, 1, 5, [], T0);
  assert.deepEqual(within.limited, {
    status: false,
    reason: 'DesiredWithinRange',
    message: 'the desired count is within the acceptable range',
  });
});

test('legacy: a scale-down waits for the highest recommendation of the last 5 minutes', () => {
  const recs: Recommendation[] = [];
  assert.equal(normalizeLegacy(5, 5, 1, 10, recs, T0).replicas, 5);
  const soon = normalizeLegacy(5, 2, 1, 10, recs, T0 + 60_000);
  assert.equal(soon.replicas, 5);
  assert.equal(soon.stabilization.reason, 'ScaleDownStabilized');
  const later = normalizeLegacy(5, 2, 1, 10, recs, T0 + 301_000);
  assert.equal(later.replicas, 2, 'the 5-replica recommendation left the window');
  assert.equal(later.stabilization.reason, 'ReadyForNewScale');
  assert.equal(normalizeLegacy(2, 0, 1, 10, [], T0).replicas, 1, 'minReplicas');
  assert.equal(normalizeLegacy(2, 0, 1, 10, [], T0).limited.reason, 'TooFewReplicas');
});

test("behavior defaults are upstream's", () => {
  assert.deepEqual(defaultBehavior({}), {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  });
});

test('rate policies: Max picks the larger step, Min the smaller, Disabled none; past events count', () => {
  const rules = defaultBehavior({}).scaleUp;
  // From 10: +4 pods → 14, +100 % → 20; Max → 20.
  assert.equal(scaleUpLimit(10, [], [], rules, T0), 20);
  assert.equal(scaleUpLimit(10, [], [], { ...rules, selectPolicy: 'Min' }, T0), 14);
  assert.equal(scaleUpLimit(10, [], [], { ...rules, selectPolicy: 'Disabled' }, T0), 10);
  // 5 of the 10 were added 10 s ago: the period started at 5 → +4 = 9, +100 % = 10.
  assert.equal(scaleUpLimit(10, [{ change: 5, timestamp: T0 - 10_000 }], [], rules, T0), 10);
  // ... but not if that was 20 s ago (outside the 15 s period).
  assert.equal(scaleUpLimit(10, [{ change: 5, timestamp: T0 - 20_000 }], [], rules, T0), 20);
  const down = { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] };
  assert.equal(scaleDownLimit(10, [], [], down, T0), 8);
  assert.equal(scaleDownLimit(10, [], [{ change: 2, timestamp: T0 - 30_000 }], down, T0), 10);
});

test('with behavior: stabilization both ways, limits with reasons, events recorded', () => {
  const b = defaultBehavior({
    scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 0 },
  });
  const h = { recommendations: [] as Recommendation[], ups: [], downs: [] };
  // First proposal 6 from 2: up-window holds only this → 6, limited by 1 pod per minute → 3.
  const first = normalizeWithBehavior(2, 6, 1, 10, b, h, T0);
  assert.equal(first.replicas, 3);
  assert.equal(first.limited.reason, 'ScaleUpLimit');
  recordScaleEvent(b, h, 2, 3, T0);
  // 30 s later: still within the period → no more growth allowed.
  const second = normalizeWithBehavior(3, 6, 1, 10, b, h, T0 + 30_000);
  assert.equal(second.replicas, 3);
  // A lower proposal inside the up-window stabilizes scale-ups at the lowest recent one.
  const h2 = { recommendations: [{ replicas: 4, timestamp: T0 - 10_000 }], ups: [], downs: [] };
  const s = normalizeWithBehavior(
    2,
    8,
    1,
    10,
    defaultBehavior({ scaleUp: { stabilizationWindowSeconds: 60 } }),
    h2,
    T0,
  );
  assert.equal(s.replicas, 4);
  assert.equal(s.stabilization.reason, 'ScaleUpStabilized');
  // Scale down with no window and 100 %/15 s: straight to the proposal, floored at minReplicas.
  const d = normalizeWithBehavior(5, 0, 2, 10, b, { recommendations: [], ups: [], downs: [] }, T0);
  assert.equal(d.replicas, 2);
  assert.equal(d.limited.reason, 'TooFewReplicas');
});
