/**
 * The agent endpoint against containerd in a real node container: the server runs inside the node
 * (bundled, Node.js 18) over a pod made through the CRI, and the test drives /containerLogs, /exec,
 * /attach and /portForward from the host with the API server's client certificate, on the node's
 * bridge address. Without Docker the test FAILS under CI=true and skips elsewhere.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { DockerNodeDriver } from '../../nodes/docker/driver.ts';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../../nodes/docker/images.ts';
import { checkDockerPrerequisites, formatPrerequisites } from '../../nodes/docker/prereqs.ts';
import { createCa } from '../../pki/ca.ts';
import { issueClientCert, issueServingCert } from '../../pki/certs.ts';
import { messageBuffer } from '../../streams/ws-channels.ts';
import { cniConfList } from '../network/cni-config.ts';
import { addContainer, FIXTURE_POD, startFixture } from './node-fixture.ts';
import { collectCommand, get, openWebSocket, type EndpointTarget } from './test-client.ts';

const docker = new Docker();
const prereqs = await checkDockerPrerequisites({ docker });
const missing = prereqs.ok ? undefined : `Docker prerequisites missing:\n${formatPrerequisites(prereqs)}`;
const skip = missing && process.env.CI !== 'true' ? missing : false;
const log = (s: string): void => console.log(`  [agent-endpoint] ${s}`);

const { namespace: NS, name: POD, uid: UID } = FIXTURE_POD;
const q = (params: Record<string, string | string[]>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) u.append(k, x);
  return u.toString();
};

describe('agent endpoint in a real node', { skip }, () => {
  const cluster = `t-streams-${randomBytes(3).toString('hex')}`;
  const driver = new DockerNodeDriver({ cluster, docker, progress: log });
  const node = `${cluster}-n1`;
  let target: EndpointTarget;

  before(async () => {
    if (missing) assert.fail(`${missing}\n(CI=true: the agent endpoint must be testable here)`);
    await ensureNodeImages(docker, { progress: log });
    const rec = await driver.create({ name: node });
    const w = await driver.exec(
      node,
      ['sh', '-c', 'cat > /etc/cni/net.d/10-berth.conflist'],
      JSON.stringify(cniConfList('10.244.9.0/24')),
    );
    assert.equal(w.exitCode, 0, w.stderr);
    await driver.loadImage(node, BUSYBOX_IMAGE);
    const ca = await createCa();
    const serving = await issueServingCert(ca, {
      commonName: `system:node:${node}`,
      extraSANs: { dns: [node] },
    });
    const client = await issueClientCert(ca, {
      user: 'kube-apiserver-kubelet-client',
      groups: ['system:masters'],
    });
    const t0 = Date.now();
    const fx = await startFixture(driver, node, BUSYBOX_IMAGE, {
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      caPem: ca.certPem,
    });
    log(`fixture up in ${Date.now() - t0} ms`);
    const ip = rec.internalIP ?? (await driver.list()).find((n) => n.name === node)?.internalIP;
    assert.ok(ip, 'node address');
    target = {
      host: ip,
      port: fx.port,
      servername: node,
      caPem: ca.certPem,
      certPem: client.certPem,
      keyPem: client.keyPem,
    };
  });

  after(async () => {
    if (process.env.BERTH_KEEP_NODE !== '1') await driver.destroy();
  });

  test('healthz, and a caller without the client certificate is refused', async () => {
    assert.deepEqual(await get(target, '/healthz'), { status: 200, body: 'ok', type: 'text/plain' });
    const anon = await get({ ...target, certPem: undefined, keyPem: undefined }, '/healthz');
    assert.equal(anon.status, 401);
  });

  test('containerLogs: current, tail, timestamps, previous, limitBytes, errors', async () => {
    const path = (c: string, extra: Record<string, string> = {}): string =>
      `/containerLogs/${NS}/${POD}/${c}?${q({ podUID: UID, ...extra })}`;
    assert.equal((await get(target, path('main'))).body, 'main-started\n');
    assert.equal((await get(target, path('restarter'))).body, 'second-run\n');
    assert.equal((await get(target, path('restarter', { previous: 'true' }))).body, 'first-run\n');
    assert.equal((await get(target, path('restarter', { limitBytes: '3' }))).body, 'sec');
    assert.equal((await get(target, path('restarter', { tailLines: '0' }))).body, '');
    const ts = await get(target, path('restarter', { timestamps: 'true' }));
    assert.match(ts.body, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) second-run\n$/);
    const prev = await get(target, path('main', { previous: 'true' }));
    assert.equal(prev.status, 400);
    assert.equal(
      (JSON.parse(prev.body) as { message: string }).message,
      'previous terminated container "main" in pod "web" not found',
    );
    const unknownPod = await get(target, `/containerLogs/${NS}/nope/main`);
    assert.equal(unknownPod.status, 404);
    const waiting = await get(target, path('later'));
    assert.equal(waiting.status, 400);
    assert.equal(
      (JSON.parse(waiting.body) as { message: string }).message,
      'container "later" in pod "web" is waiting to start: ContainerCreating',
    );
    const wrongUid = await get(target, `/containerLogs/${NS}/${POD}/main?podUID=other`);
    assert.equal(wrongUid.status, 404);
  });

  test('containerLogs follow: lines arrive as written; the stream ends when the container exits', async () => {
    await addContainer(
      driver,
      node,
      BUSYBOX_IMAGE,
      'counter',
      'for i in 1 2 3 4 5; do echo count-$i; sleep 0.4; done',
    );
    const arrivals: number[] = [];
    const t0 = Date.now();
    const r = await get(target, `/containerLogs/${NS}/${POD}/counter?follow=true`, () =>
      arrivals.push(Date.now() - t0),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body, 'count-1\ncount-2\ncount-3\ncount-4\ncount-5\n');
    log(`follow: ${arrivals.length} chunks at ${arrivals.join(',')} ms, ended after ${Date.now() - t0} ms`);
    assert.ok(arrivals.length >= 3, 'lines were streamed, not sent at the end');
  });

  test('exec: output, stderr, exit codes, stdin EOF', async () => {
    const exec = async (cmd: string[], flags: Record<string, string>, input?: string) => {
      const ws = await openWebSocket(
        target,
        `/exec/${NS}/${POD}/main?${q({ command: cmd, podUID: UID, ...flags })}`,
        'v5.channel.k8s.io',
      );
      return collectCommand(ws, input !== undefined ? { input } : {});
    };
    const t0 = Date.now();
    const ok = await exec(['sh', '-c', 'echo out; echo err >&2'], { stdout: '1', stderr: '1' });
    log(`exec round trip ${Date.now() - t0} ms`);
    assert.deepEqual(
      { stdout: ok.stdout, stderr: ok.stderr, status: ok.status.status, code: ok.closeCode },
      { stdout: 'out\n', stderr: 'err\n', status: 'Success', code: 1000 },
    );
    const seven = await exec(['sh', '-c', 'exit 7'], { stdout: '1', stderr: '1' });
    assert.equal(seven.status.status, 'Failure');
    assert.equal(seven.status.reason, 'NonZeroExitCode');
    assert.deepEqual(seven.status.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
    // stdin EOF reaches the process: cat ends and its output comes back.
    const cat = await exec(['sh', '-c', 'cat; echo done'], { stdin: '1', stdout: '1' }, 'abc\n');
    assert.equal(cat.stdout, 'abc\ndone\n');
    assert.equal(cat.status.status, 'Success');
    // tty: one stream, resize accepted.
    const ws = await openWebSocket(
      target,
      `/exec/${NS}/${POD}/main?${q({
        command: [
          'sh',
          '-c',
          // The resize races the process start (as with kubectl): wait for it.
          'for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.2; done; echo "size $s"; exit 3',
        ],
        stdin: '1',
        stdout: '1',
        tty: '1',
      })}`,
      'v5.channel.k8s.io',
    );
    // A resize that reaches containerd before the process exists is dropped (as with the kubelet), so
    // send it again like a terminal's SIGWINCH would.
    const again = setTimeout(
      () => ws.send(Buffer.from([4, ...Buffer.from('{"Width":100,"Height":30}')])),
      500,
    );
    const tty = await collectCommand(ws, { resize: { Width: 100, Height: 30 } });
    clearTimeout(again);
    assert.match(tty.stdout, /size 30 100\r\n/);
    assert.deepEqual(tty.status.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
    const bad = await openWebSocket(
      target,
      `/exec/${NS}/${POD}/nope?command=true&stdout=1`,
      'v5.channel.k8s.io',
    ).then(
      () => 'opened',
      (e: Error) => e.message,
    );
    assert.match(bad, /^400 .*waiting to start/);
  });

  test('attach: stdin reaches the container, its output comes back', async () => {
    const ws = await openWebSocket(
      target,
      `/attach/${NS}/${POD}/reader?${q({ stdin: '1', stdout: '1', stderr: '1' })}`,
      'v5.channel.k8s.io',
    );
    let out = '';
    ws.on('message', (d: Buffer | ArrayBuffer | Buffer[]) => {
      const b = messageBuffer(d);
      if (b[0] === 1) out += b.subarray(1).toString();
    });
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello\n')]));
    for (let i = 0; i < 100 && !out.includes('got:hello'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /got:hello/);
    ws.close(1000);
  });

  test('exec output throughput: 64 MiB arrive whole', async () => {
    const size = 64 * 1024 * 1024;
    const ws = await openWebSocket(
      target,
      `/exec/${NS}/${POD}/main?${q({ command: ['head', '-c', String(size), '/dev/zero'], stdout: '1' })}`,
      'v5.channel.k8s.io',
    );
    const t0 = Date.now();
    let bytes = 0;
    let status = '';
    ws.on('message', (d: Buffer | ArrayBuffer | Buffer[]) => {
      const b = messageBuffer(d);
      if (b[0] === 1) bytes += b.length - 1;
      else if (b[0] === 3) status = b.subarray(1).toString();
    });
    await new Promise((r) => ws.once('close', r));
    const s = (Date.now() - t0) / 1000;
    log(`exec throughput: ${(size / 1048576 / s).toFixed(0)} MiB/s (${s.toFixed(2)} s for 64 MiB)`);
    assert.equal(bytes, size);
    assert.equal((JSON.parse(status) as { status: string }).status, 'Success');
  });

  test('40 exec sessions, half cut off by the client: no socket or process is left behind', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) {
      const cut = i % 2 === 1;
      const cmd = cut ? ['cat'] : ['echo', `n${i}`];
      const ws = await openWebSocket(
        target,
        `/exec/${NS}/${POD}/main?${q({ command: cmd, stdin: cut ? '1' : '0', stdout: '1' })}`,
        'v5.channel.k8s.io',
      );
      if (cut) {
        ws.send(Buffer.from([0, 0x61]));
        await new Promise((r) => setTimeout(r, 20));
        ws.terminate();
      } else assert.equal((await collectCommand(ws)).stdout, `n${i}\n`);
    }
    log(`40 sessions in ${Date.now() - t0} ms`);
    let left = '';
    for (let i = 0; i < 50; i++) {
      const r = await driver.exec(node, [
        'sh',
        '-c',
        'echo agent=$(ss -Htn state established "( sport = :10250 )" | wc -l) ' +
          'runtime=$(ss -Htnp state established | grep -c containerd) cat=$(ps -eo comm | grep -c "^cat$")',
      ]);
      left = r.stdout.trim();
      if (left === 'agent=0 runtime=0 cat=0') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(left, 'agent=0 runtime=0 cat=0');
  });

  test('portForward: bytes both ways with EOF, and a refused port reported', async () => {
    const ws = await openWebSocket(
      target,
      `/portForward/${NS}/${POD}?port=8080&podUID=${UID}`,
      'berth.portforward.v1',
    );
    let body = '';
    let eof = false;
    ws.on('message', (d: Buffer | ArrayBuffer | Buffer[], binary: boolean) => {
      const b = messageBuffer(d);
      if (binary) body += b.toString();
      else if (b.toString() === 'EOF') eof = true;
    });
    ws.send(Buffer.from('GET / HTTP/1.0\r\nHost: x\r\n\r\n'));
    ws.send('EOF');
    const code = await new Promise<number>((r) => ws.once('close', r));
    assert.match(body, /^HTTP\/1\.[01] 200/);
    assert.match(body, /hello-pf\n$/);
    assert.ok(eof);
    assert.equal(code, 1000);

    const refused = await openWebSocket(target, `/portForward/${NS}/${POD}?port=81`, 'berth.portforward.v1');
    const texts: string[] = [];
    refused.on('message', (d: Buffer | ArrayBuffer | Buffer[], binary: boolean) => {
      if (!binary) texts.push(messageBuffer(d).toString());
    });
    const rcode = await new Promise<number>((r) => refused.once('close', r));
    assert.equal(rcode, 1011);
    assert.equal(texts.length, 1);
    assert.match(texts[0] ?? '', /failed to connect to localhost:81 inside namespace .*connection refused/);
    log(`refused: ${texts[0] ?? ''}`);
  });
});
