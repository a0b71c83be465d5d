import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeConditions } from './node-status.ts';
import { loadAgentSettings } from './config.ts';

test('node conditions: Ready follows the agent; transition times move only when a status changes', () => {
  const first = nodeConditions([], { ok: false, message: 'network not ready' }, 't1');
  assert.deepEqual(
    first.map((c) => [c.type, c.status]),
    [
      ['MemoryPressure', 'False'],
      ['DiskPressure', 'False'],
      ['PIDPressure', 'False'],
      ['Ready', 'False'],
    ],
  );
  const second = nodeConditions(first, { ok: true, message: 'kubelet is posting ready status' }, 't2');
  const ready = second.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.reason, 'KubeletReady');
  assert.equal(ready?.lastTransitionTime, 't2');
  assert.equal(second.find((c) => c.type === 'DiskPressure')?.lastTransitionTime, 't1');
  assert.equal(second.find((c) => c.type === 'DiskPressure')?.lastHeartbeatTime, 't2');
});

test('agent settings: defaults filled, a missing field or file named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-agent-'));
  mkdirSync(join(dir, 'pki'));
  for (const f of ['ca.crt', 'node.crt', 'node.key', 'serving.crt', 'serving.key'])
    writeFileSync(join(dir, 'pki', f), `${f}\n`);
  writeFileSync(
    join(dir, 'agent.json'),
    JSON.stringify({
      nodeName: 'n1',
      server: 'https://x:1',
      clusterCIDR: '10.244.0.0/16',
      serviceCIDR: '10.96.0.0/12',
    }),
  );
  const s = loadAgentSettings(dir);
  assert.equal(s.config.clusterDomain, 'cluster.local');
  assert.equal(s.config.pods, 110);
  assert.equal(s.keyPem, 'node.key\n');
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ nodeName: 'n1' }));
  assert.throws(() => loadAgentSettings(dir), /server is missing/);
  assert.throws(() => loadAgentSettings(join(dir, 'nope')), /cannot read .*agent\.json/);
});
