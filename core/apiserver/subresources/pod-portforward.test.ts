// port-forward through the API server with REAL kubectl 1.27 (SPDY) and 1.33 (SPDY in a WebSocket),
// and client-node's WebSocket framing, against a fake agent forwarding to a local echo server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import {
  E2E_VERSIONS,
  kubectlPath,
  requireKubectl,
  type KubectlVersion,
} from '../../../e2e/harness/kubectl.ts';
import { startStreamCluster, type StreamCluster } from '../../streams/testing/stream-cluster.ts';

let c: StreamCluster;
before(async () => {
  c = await startStreamCluster();
});
after(async () => c.close());

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** One TCP round trip through the forwarded port: what comes back, or the error. */
function roundTrip(port: number, payload: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      if (got.length >= payload.length) sock.end();
    });
    sock.on('close', () => resolve(got));
    sock.on('error', () => resolve(got));
    sock.write(payload);
  });
}

for (const version of E2E_VERSIONS) {
  describe(`kubectl ${version} port-forward`, { skip: requireKubectl(version) }, () => {
    test('two ports echo, a refused port is reported, connections are cleaned up', async () => {
      const [a, b, refused] = [await freePort(), await freePort(), await freePort()];
      const home = join(c.dir, `home-pf-${version}`);
      mkdirSync(home, { recursive: true });
      const child = spawn(
        kubectlPath(version as KubectlVersion)!,
        ['port-forward', 'pod/web', `${a}:80`, `${b}:8080`, `${refused}:81`],
        {
          env: { PATH: process.env['PATH'] ?? '', HOME: home, KUBECONFIG: c.adminKubeconfig },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const deadline = Date.now() + 20_000;
        while (!out.includes(`:${refused} ->`) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        assert.match(out, new RegExp(`Forwarding from 127.0.0.1:${a} -> 80`), out);
        for (let i = 0; i < 5; i++) {
          assert.equal(await roundTrip(a, `hello-${i}`), `hello-${i}`);
          assert.equal(await roundTrip(b, 'x'.repeat(200_000)), 'x'.repeat(200_000));
        }
        assert.equal(await roundTrip(refused, 'nobody'), '');
        const d2 = Date.now() + 10_000;
        while (!/an error occurred forwarding \d+ -> 81/.test(out) && Date.now() < d2)
          await new Promise((r) => setTimeout(r, 50));
        assert.match(
          out,
          new RegExp(`an error occurred forwarding ${refused} -> 81: .*connection refused`),
          out,
        );
        const d3 = Date.now() + 10_000;
        while ((c.echoConnections() > 0 || c.agent.openSockets() > 0) && Date.now() < d3)
          await new Promise((r) => setTimeout(r, 50));
        assert.equal(c.echoConnections(), 0, 'pod-side connections left open');
        assert.equal(c.agent.openSockets(), 0, 'agent WebSockets left open');
      } finally {
        child.kill('SIGTERM');
      }
    });
  });
}

test('client-node: port-forward, exec and logs through its own API', async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c.adminKubeconfig);
  const output = new PassThrough();
  const input = new PassThrough();
  const received = new Promise<string>((resolve) => {
    let s = '';
    output.on('data', (d: Buffer) => {
      s += d.toString();
      if (s === 'ping-pong') resolve(s);
    });
  });
  const ws = await new k8s.PortForward(kc).portForward('default', 'web', [80], output, null, input);
  input.write('ping-pong');
  assert.equal(await received, 'ping-pong');
  (ws as { close(): void }).close();

  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(kc)
      .exec('default', 'web', 'main', ['sh', '-c', 'exit 3'], stdout, null, null, false, (s) => resolve(s))
      .catch(reject);
  });
  assert.equal(status.status, 'Failure');
  assert.equal(status.details?.causes?.[0]?.message, '3');

  const logs = await kc
    .makeApiClient(k8s.CoreV1Api)
    .readNamespacedPodLog({ name: 'web', namespace: 'default', tailLines: 5 });
  assert.equal(logs, 'line 1\nline 2\n');
  assert.match(c.agent.requests.at(-1) ?? '', /^\/containerLogs\/default\/web\/main\?tailLines=5&podUID=/);
});
