import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryReport, procFields } from './memory-report.ts';

test('procFields reads the kB fields asked for and nothing else', () => {
  const status =
    'Name:\tnode\nVmRSS:\t   61234 kB\nRssAnon:\t   22000 kB\nThreads:\t8\nRssFile:\t   39234 kB\n';
  assert.deepEqual(procFields(status, ['VmRSS', 'RssFile', 'Pss']), { VmRSS: 61234, RssFile: 39234 });
});

test('a memory report carries /proc figures, USS and the V8 heap spaces', () => {
  const r = memoryReport();
  assert.ok((r.proc['VmRSS'] ?? 0) > 0, 'VmRSS from /proc/self/status');
  assert.equal(r.proc['USS'], (r.proc['Private_Clean'] ?? NaN) + (r.proc['Private_Dirty'] ?? NaN));
  assert.ok((r.usage['heapUsed'] ?? 0) > 0);
  assert.ok(r.spaces['old_space'] && r.spaces['old_space'][0] >= r.spaces['old_space'][1]);
});
