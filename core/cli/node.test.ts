/**
 * `berth node …` and `berth image load` against a cluster started in-process with the simulated
 * driver and its control channel, driven through the CLI functions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { startControlServer, type ControlServer } from '../cluster/control.ts';
import { parseTaint, runNode } from './node.ts';
import { runImage } from './image.ts';
import { UsageError } from './usage-error.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const name = `t-node-${randomBytes(3).toString('hex')}`;
let dir: string;
let cluster: RunningCluster | undefined;
let control: ControlServer | undefined;

/** Runs a CLI function and returns what it printed. */
async function cli(fn: typeof runNode, ...args: string[]): Promise<string> {
  const lines: string[] = [];
  await fn([...args, '--data-dir', dir], (l) => lines.push(l));
  return lines.join('\n');
}
const node = (n: string) => cluster!.controllerClient.get(NODES, '', n);
const hasNode = (n: string): boolean =>
  cluster!.controllerClient.list(NODES, '', {}).items.some((o) => o.metadata.name === n);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-nodecli-'));
});
after(async () => {
  await control?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('without a running cluster every subcommand says how to start one', async () => {
  const want = `no running cluster for data dir ${dir}: start it with \`berth up --data-dir ${dir}\``;
  await assert.rejects(cli(runNode, 'ls'), { message: want });
  await assert.rejects(cli(runNode, 'stop', 'w1'), { message: want });
  await assert.rejects(cli(runImage, 'load', 'busybox:1'), { message: want });
});

test('node ls, add, stop, start, rm through the control channel', async () => {
  cluster = await startCluster({ dataDir: dir, name, apiPort: 0, driver: 'simulated', nodes: 2 });
  control = await startControlServer(dir, cluster);

  const ls = await cli(runNode, 'ls');
  assert.match(ls, /^NAME\s+STATUS\s+STATE\s+DRIVER\s+INTERNAL-IP\s+POD-CIDR$/m);
  for (const i of [1, 2])
    assert.match(ls, new RegExp(`^${name}-worker-${i}\\s+Ready\\s+running\\s+simulated\\s+10\\.255\\.`, 'm'));

  // add: the next worker name, with capacity, labels and taints.
  assert.equal(
    await cli(
      runNode,
      'add',
      '--cpu',
      '2',
      '--memory',
      '3Gi',
      '--label',
      'disk=ssd',
      '--taint',
      'dedicated=db:NoSchedule',
    ),
    `node "${name}-worker-3" added (simulated: no containers run)`,
  );
  const w3 = node(`${name}-worker-3`);
  assert.deepEqual((w3['status'] as { capacity: Record<string, string> }).capacity.cpu, '2');
  assert.equal((w3['status'] as { capacity: Record<string, string> }).capacity.memory, '3Gi');
  assert.equal(w3.metadata.labels?.['disk'], 'ssd');
  assert.deepEqual((w3['spec'] as { taints: unknown[] }).taints, [
    { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
  ]);
  assert.equal(await cli(runNode, 'add', 'extra'), 'node "extra" added (simulated: no containers run)');
  await assert.rejects(cli(runNode, 'add', 'extra'), { message: 'node "extra" already exists' });
  await assert.rejects(cli(runNode, 'add', 'Bad_Name'), /invalid node name "Bad_Name"/);
  await assert.rejects(
    cli(runNode, 'add', '--cpu', 'lots'),
    /invalid cpu "lots": must be a positive quantity/,
  );
  await assert.rejects(cli(runNode, 'add', '--label', 'a/b/c=x'), /labels: Invalid value: "a\/b\/c"/);
  await assert.rejects(cli(runNode, 'add', '--taint', 'k=v'), UsageError);

  // stop and start: the driver's state follows, the node is still listed.
  assert.match(await cli(runNode, 'stop', `${name}-worker-1`), /stopped: its heartbeats stopped/);
  assert.match(await cli(runNode, 'ls'), new RegExp(`^${name}-worker-1\\s+Ready\\s+stopped\\s`, 'm'));
  assert.equal(await cli(runNode, 'start', `${name}-worker-1`), `node "${name}-worker-1" started`);
  assert.match(await cli(runNode, 'ls'), new RegExp(`^${name}-worker-1\\s+Ready\\s+running\\s`, 'm'));

  // rm: the Node object goes; the next add does not reuse a lower number.
  assert.equal(await cli(runNode, 'rm', 'extra'), 'node "extra" removed');
  assert.equal(hasNode('extra'), false);
  assert.equal(await cli(runNode, 'rm', `${name}-worker-2`), `node "${name}-worker-2" removed`);
  assert.equal(await cli(runNode, 'add'), `node "${name}-worker-4" added (simulated: no containers run)`);

  // Unknown nodes: a clear error naming the cluster's nodes.
  for (const verb of ['rm', 'stop', 'start'])
    await assert.rejects(cli(runNode, verb, 'nope'), {
      message: `node "nope" not found in cluster "${name}" (its nodes: ${name}-worker-1, ${name}-worker-3, ${name}-worker-4)`,
    });
  await assert.rejects(cli(runNode, 'stop'), UsageError);
  await assert.rejects(cli(runNode, 'frobnicate'), UsageError);

  // Simulated nodes run no containers: image load says so.
  await assert.rejects(cli(runImage, 'load', 'busybox:1'), {
    message: 'the simulated node driver runs no containers: there is nothing to load images into',
  });
  await assert.rejects(cli(runImage, 'load'), UsageError);
});

test('taint syntax is kubectl taint', () => {
  assert.deepEqual(parseTaint('a=b:NoExecute'), { key: 'a', value: 'b', effect: 'NoExecute' });
  assert.deepEqual(parseTaint('example.com/a:PreferNoSchedule'), {
    key: 'example.com/a',
    effect: 'PreferNoSchedule',
  });
  assert.throws(() => parseTaint('a=b'), UsageError);
  assert.throws(() => parseTaint(':NoSchedule'), UsageError);
});
