import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { SharedInformerFactory } from '../client/informer.ts';
import { startCluster, type RunningCluster } from './cluster.ts';
import { LoadBalancerController } from './load-balancer.ts';
import { waitFor } from '../testing/wait.ts';

const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let informers: SharedInformerFactory;
let lb: LoadBalancerController;
/** Stand-ins for two nodes' node ports: 127.0.0.2 and 127.0.0.3 answer with their name. */
const backends: Server[] = [];

async function serveNodePort(port: number): Promise<void> {
  for (const [i, ip] of ['127.0.0.2', '127.0.0.3'].entries()) {
    const s = createServer((sock) => sock.end(`node-${i + 1}`));
    await new Promise<void>((r) => s.listen(port, ip, r));
    backends.push(s);
  }
}

/** Creates the Service and fake node ports for its allocated node port. */
async function createLB(svc: KObject): Promise<void> {
  const created = client.create(SVC, 'default', svc);
  const np = (created['spec'] as { ports: { nodePort?: number }[] }).ports[0]?.nodePort;
  assert.ok(np, 'a node port was allocated');
  await serveNodePort(np);
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

/** Connects to 127.0.0.1:port and returns what the far end says (or "" when refused/closed). */
const ask = (port: number): Promise<string> =>
  new Promise((resolve) => {
    let got = '';
    const s = connect({ host: '127.0.0.1', port });
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', () => resolve(''));
  });

async function node(name: string, ip: string, ready: boolean): Promise<void> {
  let cur: KObject;
  try {
    cur = client.get(NODES, '', name);
  } catch {
    cur = client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  }
  client.update(
    NODES,
    '',
    {
      ...cur,
      status: {
        addresses: [{ type: 'InternalIP', address: ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Test', message: '' }],
      },
    },
    'status',
  );
}

const lbService = (name: string, port: number, protocol = 'TCP'): KObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: {
    type: 'LoadBalancer',
    selector: { app: name },
    ports: [{ name: 'p', port, protocol }],
  },
});

const ingress = (name: string): { ip?: string; ports?: { port: number; error?: string }[] }[] | undefined =>
  (
    client.get(SVC, 'default', name)['status'] as {
      loadBalancer?: { ingress?: { ip?: string; ports?: { port: number; error?: string }[] }[] };
    }
  )?.loadBalancer?.ingress;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-lb-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'none',
    disableControllers: ['nodelifecycle'],
  });
  client = cluster.controllerClient;
  await node('n1', '127.0.0.2', true);
  await node('n2', '127.0.0.3', true);
  informers = new SharedInformerFactory(client);
  lb = new LoadBalancerController({ client, informers, retryMs: 200 });
  lb.start();
  informers.start();
});

after(async () => {
  await lb.stop();
  informers.stop();
  for (const s of backends) s.close();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a LoadBalancer service gets ingress 127.0.0.1 and forwards round-robin to Ready nodes; NotReady ones are skipped', async () => {
  const port = await freePort();
  await createLB(lbService('web', port));
  await waitFor('ingress', () => ingress('web')?.[0]?.ip === '127.0.0.1', 10_000);
  assert.deepEqual(ingress('web'), [{ ip: '127.0.0.1', ports: [{ port, protocol: 'TCP' }] }]);
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await ask(port));
  assert.deepEqual([...answers].sort(), ['node-1', 'node-2']);

  await node('n2', '127.0.0.3', false);
  await waitFor(
    'n2 NotReady in the cache',
    async () => {
      for (let i = 0; i < 4; i++) if ((await ask(port)) !== 'node-1') return false;
      return true;
    },
    10_000,
  );
  await node('n2', '127.0.0.3', true);
});

test('a taken port: error PortInUse in the status and a Warning event; freed later, it is retried', async () => {
  const port = await freePort();
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
  await createLB(lbService('busy', port));
  await waitFor('PortInUse', () => ingress('busy')?.[0]?.ports?.[0]?.error === 'PortInUse', 10_000);
  const events = client
    .list(EVENTS, 'default')
    .items.filter(
      (e) =>
        (e['involvedObject'] as { name?: string }).name === 'busy' &&
        e['reason'] === 'SyncLoadBalancerFailed',
    );
  assert.equal(events.length, 1);
  assert.match(String(events[0]?.['message']), /127\.0\.0\.1:\d+ is in use/);
  await new Promise<void>((r) => squatter.close(() => r()));
  await waitFor('listener after the port was freed', () => !ingress('busy')?.[0]?.ports?.[0]?.error, 10_000);
  assert.match(await ask(port), /^node-/);
});

test('UDP ports are reported unsupported; deleting or retyping the service closes its listener', async () => {
  const port = await freePort();
  client.create(SVC, 'default', lbService('dns', port, 'UDP'));
  await waitFor(
    'UDP status',
    () => ingress('dns')?.[0]?.ports?.[0]?.error === 'ProtocolNotSupported',
    10_000,
  );

  const p2 = await freePort();
  await createLB(lbService('gone', p2));
  await waitFor('listening', async () => (await ask(p2)).startsWith('node-'), 10_000);
  client.delete(SVC, 'default', 'gone');
  await waitFor('closed after delete', async () => (await ask(p2)) === '', 10_000);

  const p3 = await freePort();
  await createLB(lbService('retype', p3));
  await waitFor('listening', async () => (await ask(p3)).startsWith('node-'), 10_000);
  const cur = client.get(SVC, 'default', 'retype');
  const spec = cur['spec'] as Record<string, unknown>;
  client.update(SVC, 'default', {
    ...cur,
    spec: { ...spec, type: 'ClusterIP', ports: [{ name: 'p', port: p3, protocol: 'TCP' }] },
  });
  await waitFor('closed after retype', async () => (await ask(p3)) === '', 10_000);
  await waitFor('status cleared', () => !ingress('retype')?.length, 10_000);
});
