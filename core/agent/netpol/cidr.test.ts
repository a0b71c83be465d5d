import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockContains, ipBlockCIDRs, ipInBlock, parseCIDR, parseIPv4 } from './cidr.ts';

test('parses IPv4 addresses and CIDRs, normalising to the network address', () => {
  assert.equal(parseIPv4('10.244.1.5'), 0x0af40105);
  assert.equal(parseIPv4('256.0.0.1'), undefined);
  assert.equal(parseIPv4('fe80::1'), undefined);
  assert.deepEqual(parseCIDR('10.244.1.77/24'), { base: 0x0af40100, bits: 24 });
  assert.deepEqual(parseCIDR('0.0.0.0/0'), { base: 0, bits: 0 });
  assert.deepEqual(parseCIDR('192.168.0.9'), { base: 0xc0a80009, bits: 32 });
  assert.equal(parseCIDR('10.0.0.0/33'), undefined);
});

test('containment', () => {
  const b = parseCIDR('172.17.0.0/16')!;
  assert.ok(blockContains(b, parseCIDR('172.17.1.0/24')!));
  assert.ok(!blockContains(b, parseCIDR('172.0.0.0/8')!));
  assert.ok(ipInBlock('172.17.255.255', b));
  assert.ok(!ipInBlock('172.18.0.1', b));
  assert.ok(ipInBlock('198.51.100.8', parseCIDR('0.0.0.0/0')!));
});

test('an ipBlock minus its excepts is the fewest CIDRs covering exactly the rest', () => {
  assert.deepEqual(ipBlockCIDRs('10.0.0.0/8'), ['10.0.0.0/8']);
  assert.deepEqual(ipBlockCIDRs('10.0.0.0/30', ['10.0.0.1/32']), ['10.0.0.0/32', '10.0.0.2/31']);
  assert.deepEqual(ipBlockCIDRs('172.17.0.0/16', ['172.17.1.0/24']), [
    '172.17.0.0/24',
    '172.17.2.0/23',
    '172.17.4.0/22',
    '172.17.8.0/21',
    '172.17.16.0/20',
    '172.17.32.0/19',
    '172.17.64.0/18',
    '172.17.128.0/17',
  ]);
  // Two excepts, one of them outside the block (ignored), and an except covering the whole block.
  assert.deepEqual(ipBlockCIDRs('10.0.0.0/24', ['10.0.0.0/25', '192.168.0.0/16']), ['10.0.0.128/25']);
  assert.deepEqual(ipBlockCIDRs('10.0.0.0/24', ['10.0.0.0/16']), []);
  // 0.0.0.0/0 except the pod range: everything outside the cluster, 16 blocks.
  const outside = ipBlockCIDRs('0.0.0.0/0', ['10.244.0.0/16']);
  assert.equal(outside.length, 16);
  assert.ok(outside.includes('128.0.0.0/1') && outside.includes('10.245.0.0/16'));
  assert.ok(!outside.some((c) => ipInBlock('10.244.3.4', parseCIDR(c)!)));
  // IPv6 blocks match nothing on IPv4 nodes; garbage matches nothing.
  assert.deepEqual(ipBlockCIDRs('fd00::/64'), []);
  assert.deepEqual(ipBlockCIDRs('not-a-cidr'), []);
});
