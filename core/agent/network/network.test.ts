import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cniConfList, writeCniConfig, CNI_CONF_FILE } from './cni-config.ts';
import { routeCommands, staleRoutes } from './routes.ts';

test('CNI config: bridge + host-local over the node pod CIDR, portmap, no masquerade in the bridge', () => {
  const c = cniConfList('10.244.3.0/24') as { plugins: Record<string, unknown>[] };
  const bridge = c.plugins[0] as { type: string; ipMasq: boolean; ipam: { ranges: { subnet: string }[][] } };
  assert.equal(bridge.type, 'bridge');
  assert.equal(bridge.ipMasq, false);
  assert.equal(bridge.ipam.ranges[0]?.[0]?.subnet, '10.244.3.0/24');
  assert.equal(c.plugins[1]?.['type'], 'portmap');
});

test('CNI config file: written once, rewritten only when the CIDR changes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cni-'));
  assert.equal(writeCniConfig('10.244.1.0/24', dir), true);
  assert.equal(writeCniConfig('10.244.1.0/24', dir), false);
  assert.equal(writeCniConfig('10.244.2.0/24', dir), true);
  assert.match(readFileSync(join(dir, CNI_CONF_FILE), 'utf8'), /10\.244\.2\.0\/24/);
});

test('routes: unreachable cluster and service ranges, one route per peer through its node IP', () => {
  const cmds = routeCommands(
    [{ podCIDR: '10.244.1.0/24', nodeIP: '172.29.0.3' }],
    '10.244.0.0/16',
    '10.96.0.0/12',
  );
  assert.deepEqual(cmds, [
    ['route', 'replace', 'unreachable', '10.244.0.0/16'],
    ['route', 'replace', 'unreachable', '10.96.0.0/12'],
    ['route', 'replace', '10.244.1.0/24', 'via', '172.29.0.3'],
  ]);
});

test('routes: a peer route whose node is gone is stale; others and non-pod routes are kept', () => {
  const current = [
    { dst: 'default', gateway: '172.29.0.1' },
    { dst: '10.244.1.0/24', gateway: '172.29.0.3' },
    { dst: '10.244.2.0/24', gateway: '172.29.0.4' },
    { dst: '10.244.0.0/16' },
  ];
  assert.deepEqual(
    staleRoutes(current, [{ podCIDR: '10.244.1.0/24', nodeIP: '172.29.0.3' }], '10.244.0.0/16'),
    ['10.244.2.0/24'],
  );
});
