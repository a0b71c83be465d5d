import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import type { InformerHandlers } from '../client/informer.ts';
import type { NodeEndpoint } from './fetch-summary.ts';
import { MetricsScraper } from './scraper.ts';
import { MetricsStore } from './store.ts';
import type { Summary } from './summary.ts';

function readyNode(name: string, ready: boolean, labels: Record<string, string> = {}): KObject {
  return {
    metadata: { name, labels },
    status: {
      addresses: [{ type: 'InternalIP', address: `10.0.0.${name.length}` }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

function fakeNodes(list: KObject[]): {
  list(): KObject[];
  addHandlers(h: InformerHandlers): void;
  h: InformerHandlers[];
} {
  const h: InformerHandlers[] = [];
  return { list: () => list, addHandlers: (x) => h.push(x), h };
}

/** A node-only summary read at `ms` with the cumulative cpu `cpuNs`. */
const nodeSummary = (nodeName: string, ms: number, cpuNs: number, memory = 4096): Promise<Summary> => {
  const time = new Date(ms).toISOString();
  return Promise.resolve({
    node: { nodeName, cpu: { time, usageCoreNanoSeconds: cpuNs }, memory: { time, workingSetBytes: memory } },
    pods: [],
  });
};

test('scrapes Ready real nodes, skips simulated and NotReady ones, rates after two scrapes', async () => {
  let clockMs = Date.parse('2026-01-01T00:00:00Z');
  const cpu = new Map<string, number>();
  const asked: string[] = [];
  const fetch = (t: NodeEndpoint): Promise<Summary> => {
    asked.push(t.nodeName);
    const used = (cpu.get(t.nodeName) ?? 0) + 1.5e9; // 1.5 s of cpu per 10 s step: 150m
    cpu.set(t.nodeName, used);
    return nodeSummary(t.nodeName, clockMs, used);
  };
  const nodes = fakeNodes([
    readyNode('a', true),
    readyNode('bb', true),
    readyNode('sim', true, { 'berth.dev/simulated': 'true' }),
    readyNode('down', false),
  ]);
  const store = new MetricsStore({ nodes: nodes.list, pods: () => [] }, { now: () => new Date(clockMs) });
  const scraper = new MetricsScraper({
    nodes,
    store,
    fetch,
    now: () => clockMs,
    concurrency: 1,
    intervalMs: 3_600_000,
  });
  scraper.start();
  try {
    await scraper.scrapeAll();
    assert.deepEqual(asked.sort(), ['a', 'bb']);
    assert.deepEqual(store.nodeMetrics(), []); // one sample: no rate yet
    clockMs += 10_000;
    await scraper.scrapeAll();
    const got = store
      .nodeMetrics()
      .map((o) => [o.metadata.name, (o['usage'] as { cpu: string }).cpu, o['window']]);
    assert.deepEqual(got, [
      ['a', '150m', '10s'],
      ['bb', '150m', '10s'],
    ]);
  } finally {
    scraper.stop();
  }
});

test('a node turning Ready is scraped at once; failures and timeouts are contained', async () => {
  const asked: string[] = [];
  const logs: string[] = [];
  const fetch = (t: NodeEndpoint, signal: AbortSignal): Promise<Summary> => {
    asked.push(t.nodeName);
    if (t.nodeName === 'slow')
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    return Promise.reject(new Error('connection refused'));
  };
  const slow = readyNode('slow', true);
  const nodes = fakeNodes([slow, readyNode('bad', true)]);
  const store = new MetricsStore({ nodes: nodes.list, pods: () => [] });
  const scraper = new MetricsScraper({
    nodes,
    store,
    fetch,
    log: (m) => logs.push(m),
    timeoutMs: 50,
    followUpsMs: [],
    intervalMs: 3_600_000,
  });
  scraper.start();
  try {
    nodes.h[0]?.update?.(readyNode('slow', false), slow);
    assert.deepEqual(asked, ['slow']);
    await scraper.scrapeAll(); // joins the scrape of "slow" under way
    assert.deepEqual(asked.sort(), ['bad', 'slow']);
    assert.deepEqual(logs, [], 'a single failure is not logged');
    await scraper.scrapeAll();
    assert.ok(
      logs.some((l) => /slow failed: timed out after 50 ms/.test(l)),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((l) => /bad failed: connection refused/.test(l)),
      logs.join('\n'),
    );
    const before = logs.length;
    await scraper.scrapeAll();
    assert.equal(asked.length, 6);
    assert.equal(logs.length, before, 'the same failure is logged once');
  } finally {
    scraper.stop();
  }
});

test('a node going NotReady or deleted loses its usage at once', async () => {
  let clockMs = Date.parse('2026-01-01T00:00:00Z');
  let used = 0;
  const fetch = (t: NodeEndpoint): Promise<Summary> => {
    used += 1e9;
    return nodeSummary(t.nodeName, clockMs, used, 1);
  };
  const n = readyNode('n', true);
  const nodes = fakeNodes([n]);
  const store = new MetricsStore({ nodes: nodes.list, pods: () => [] }, { now: () => new Date(clockMs) });
  const scraper = new MetricsScraper({ nodes, store, fetch, now: () => clockMs, intervalMs: 3_600_000 });
  scraper.start();
  try {
    await scraper.scrapeAll();
    clockMs += 10_000;
    await scraper.scrapeAll();
    assert.equal(store.nodeMetrics().length, 1);
    nodes.h[0]?.update?.(n, n); // a heartbeat changes nothing
    assert.equal(store.nodeMetrics().length, 1);
    nodes.h[0]?.update?.(n, readyNode('n', false));
    assert.deepEqual(store.nodeMetrics(), []);
    await scraper.scrapeAll();
    clockMs += 10_000;
    await scraper.scrapeAll();
    assert.equal(store.nodeMetrics().length, 1);
    nodes.h[0]?.delete?.(n);
    assert.deepEqual(store.nodeMetrics(), []);
  } finally {
    scraper.stop();
  }
});

test('after turning Ready a node is scraped again at the follow-up delays', async () => {
  const asked: number[] = [];
  const start = Date.now();
  const n = readyNode('n', true);
  const nodes = fakeNodes([n]);
  const store = new MetricsStore({ nodes: nodes.list, pods: () => [] });
  const scraper = new MetricsScraper({
    nodes,
    store,
    fetch: () => {
      asked.push(Date.now() - start);
      return Promise.reject(new Error('not yet'));
    },
    followUpsMs: [30, 80],
    intervalMs: 3_600_000,
  });
  scraper.start();
  try {
    nodes.h[0]?.add?.(n);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(asked.length, 3, JSON.stringify(asked));
    assert.ok(asked[1]! >= 25 && asked[2]! >= 75, JSON.stringify(asked));
  } finally {
    scraper.stop();
  }
});
