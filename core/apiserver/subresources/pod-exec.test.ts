// exec, attach and cp through the API server with REAL kubectl 1.27 and 1.33 (SPDY and WebSocket)
// against an in-process ApiServer whose node is a fake agent (core/streams/testing/fake-agent.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_VERSIONS, kubectlPath, requireKubectl } from '../../../e2e/harness/kubectl.ts';
import { startStreamCluster, type StreamCluster } from '../../streams/testing/stream-cluster.ts';

let c: StreamCluster;
before(async () => {
  c = await startStreamCluster();
});
after(async () => c.close());

export function runKubectl(
  version: string,
  kubeconfig: string,
  args: string[],
  opts: { input?: Buffer; env?: Record<string, string>; timeoutMs?: number; home: string },
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const bin = kubectlPath(version as (typeof E2E_VERSIONS)[number])!;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: opts.home,
        KUBECONFIG: kubeconfig,
        ...opts.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} timed out; stderr: ${err}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  // 1.33 speaks WebSocket by default; the env var forces its SPDY path too.
  const modes: { name: string; env: Record<string, string> }[] =
    version === '1.27'
      ? [{ name: 'spdy', env: {} }]
      : [
          { name: 'websocket', env: {} },
          { name: 'spdy', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
        ];
  for (const mode of modes)
    describe(`kubectl ${version} exec/attach/cp over ${mode.name}`, { skip }, () => {
      const home = (): string => {
        const h = join(c.dir, `home-${version}-${mode.name}`);
        mkdirSync(h, { recursive: true });
        return h;
      };
      const k = (args: string[], input?: Buffer, kubeconfig = c.adminKubeconfig) =>
        runKubectl(version, kubeconfig, args, { home: home(), env: mode.env, ...(input ? { input } : {}) });

      test('non-tty output and exit code 7', async () => {
        const r = await k(['exec', 'web', '--', 'echo', 'hello', 'world']);
        assert.equal(r.stdout.toString(), 'hello world\n', r.stderr);
        assert.equal(r.code, 0, r.stderr);
        const x = await k(['exec', 'web', '--', 'sh', '-c', 'exit 7']);
        assert.equal(x.code, 7, x.stderr);
        assert.match(x.stderr, /command terminated with exit code 7/);
      });

      test('exec -i: 1 MiB of stdin comes back byte-identical', async () => {
        const data = randomBytes(1024 * 1024);
        const r = await k(['exec', '-i', 'web', '--', 'cat'], data);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.length, data.length);
        assert.ok(r.stdout.equals(data), 'stdout differs from stdin');
      });

      test('attach -i relays stdin to the container process', async () => {
        const r = await k(['attach', '-i', 'web'], Buffer.from('attached\n'));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), 'attached\n');
      });

      test('cp into the pod and back is byte-identical', async () => {
        const src = join(c.dir, `src-${version}-${mode.name}.bin`);
        const back = join(c.dir, `back-${version}-${mode.name}.bin`);
        const data = randomBytes(1024 * 1024);
        writeFileSync(src, data);
        const name = `f-${version}-${mode.name}.bin`;
        const up = await k(['cp', src, `web:/tmp/${name}`]);
        assert.equal(up.code, 0, up.stderr);
        assert.ok(readFileSync(join(c.sandbox, 'tmp', name)).equals(data), 'file in the pod differs');
        const down = await k(['cp', `web:/tmp/${name}`, back]);
        assert.equal(down.code, 0, down.stderr);
        assert.ok(readFileSync(back).equals(data), 'file copied back differs');
      });

      test('errors are Status replies: completed pod, unknown container, unscheduled pod, forbidden', async () => {
        const done = await k(['exec', 'done', '--', 'echo', 'x']);
        assert.notEqual(done.code, 0);
        assert.match(
          done.stderr,
          /cannot exec into a container in a completed pod; current phase is Succeeded/,
        );
        const bad = await k(['exec', 'two', '-c', 'nope', '--', 'echo', 'x']);
        assert.notEqual(bad.code, 0);
        assert.match(
          bad.stderr,
          /container nope is not valid for pod two|container nope not found in pod two/,
        );
        const forbidden = await k(['exec', 'web', '--', 'echo', 'x'], undefined, c.readerKubeconfig);
        assert.notEqual(forbidden.code, 0);
        assert.match(forbidden.stderr, /Forbidden|forbidden/);
        assert.match(forbidden.stderr, /pods\/exec/);
      });
    });
}

test('200 sessions (exec and port-forward WebSockets) opened and closed leak no sockets or handles', async () => {
  const { default: WebSocket } = await import('ws');
  const tls = c.adminTls;
  const handles = (): number =>
    (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const base = { handles: handles(), fds: fds() };
  const pods = `${c.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/web`;
  const session = async (n: number): Promise<void> => {
    const exec = n % 2 === 0;
    const ws = exec
      ? new WebSocket(`${pods}/exec?command=cat&stdin=true&stdout=true`, 'v5.channel.k8s.io', tls)
      : new WebSocket(`${pods}/portforward?ports=80`, 'v4.channel.k8s.io', tls);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    const text = `n${n}`;
    // exec answers on channel 1; port-forward on channel 0 after the 2-byte port prefix.
    const answer = exec ? 1 : 0;
    const got = new Promise<void>((res) => {
      let s = '';
      let prefixSeen = exec;
      ws.on('message', (d: Buffer) => {
        if (d[0] !== answer) return;
        if (!prefixSeen) {
          prefixSeen = true;
          assert.equal(d.readUInt16LE(1), 80);
          return;
        }
        s += d.subarray(1).toString();
        if (s === text) res();
      });
    });
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(text)]));
    await got;
    if (n % 4 < 2) ws.close(1000);
    else ws.terminate(); // an abrupt end for half of them
    await new Promise((r) => ws.once('close', r));
  };
  for (let batch = 0; batch < 10; batch++)
    await Promise.all(Array.from({ length: 20 }, (_, i) => session(batch * 20 + i)));
  const settled = (): boolean =>
    c.agent.openSockets() === 0 &&
    c.echoConnections() === 0 &&
    handles() <= base.handles + 2 &&
    fds() <= base.fds + 2;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !settled()) await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.agent.openSockets(), 0, 'agent WebSockets left open');
  assert.equal(c.echoConnections(), 0, 'pod-side TCP connections left open');
  assert.ok(handles() <= base.handles + 2, `handles grew from ${base.handles} to ${handles()}`);
  assert.ok(fds() <= base.fds + 2, `file descriptors grew from ${base.fds} to ${fds()}`);
});

/** Runs `kubectl exec -it` under a real pseudo-terminal (util-linux `script`) of 100x40. */
function underTty(version: string, args: string[], typed: string): Promise<string> {
  const bin = kubectlPath(version as (typeof E2E_VERSIONS)[number])!;
  const home = join(c.dir, `home-tty-${version}`);
  mkdirSync(home, { recursive: true });
  const quoted = [bin, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `stty cols 100 rows 40; ${quoted}`, '/dev/null'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home, KUBECONFIG: c.adminKubeconfig, TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tty exec timed out: ${out}`));
    }, 30_000);
    setTimeout(() => child.stdin.write(typed), 1500);
    child.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`tty exec exited ${code}: ${out}`));
      else resolve(out);
    });
  });
}

for (const version of E2E_VERSIONS) {
  test(
    `kubectl ${version} exec -it under a pty: input, resize, no stderr channel`,
    { skip: requireKubectl(version) },
    async () => {
      const before = c.agent.resizes.length;
      const out = await underTty(version, ['exec', '-it', 'web', '--', 'readline'], 'hello\r');
      assert.match(out, /got:hello/);
      assert.doesNotMatch(out, /side-note|Unknown stream/);
      const sizes = c.agent.resizes
        .slice(before)
        .map((r) => JSON.parse(r) as { Width: number; Height: number });
      assert.ok(
        sizes.some((s) => s.Width === 100 && s.Height === 40),
        `resizes seen: ${JSON.stringify(sizes)}`,
      );
    },
  );
}

/** `kubectl exec -i … cat`: one line, `idleMs` of silence, another line, EOF. */
function idleSession(version: string, idleMs: number, env: Record<string, string>): Promise<string> {
  const bin = kubectlPath(version as (typeof E2E_VERSIONS)[number])!;
  const home = join(c.dir, `home-idle-${version}-${Object.keys(env).length}`);
  mkdirSync(home, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['exec', '-i', 'web', '--', 'cat'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home, KUBECONFIG: c.adminKubeconfig, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.write('before\n');
    setTimeout(() => child.stdin.end('after\n'), idleMs);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

test("exec sessions idle for 70 s (beyond client-go's 61 s WebSocket read deadline) still work", async (t) => {
  const versions = E2E_VERSIONS.filter((v) => !requireKubectl(v));
  if (!versions.length) return t.skip('no kubectl');
  const runs = versions.flatMap((v) =>
    v === '1.27'
      ? [idleSession(v, 70_000, {})]
      : [idleSession(v, 70_000, {}), idleSession(v, 70_000, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' })],
  );
  for (const out of await Promise.all(runs)) assert.equal(out, 'before\nafter\n');
});

test('no upgrade → 400 "Upgrade request required"; an unsupported WebSocket protocol → 400', async () => {
  const { request } = await import('node:https');
  const tls = c.adminTls;
  const call = (method: string, headers: Record<string, string>) =>
    new Promise<{ code: number; body: { message?: string } }>((resolve, reject) => {
      const req = request(
        `${c.url}/api/v1/namespaces/default/pods/web/exec?command=echo&stdout=true`,
        { method, headers, ...tls },
        (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () =>
            resolve({ code: res.statusCode ?? 0, body: JSON.parse(b) as { message?: string } }),
          );
        },
      );
      req.on('upgrade', () => reject(new Error('unexpected upgrade')));
      req.on('error', reject);
      req.end();
    });
  const plain = await call('POST', {});
  assert.equal(plain.code, 400);
  assert.equal(plain.body.message, 'Upgrade request required');
  const ws = await call('GET', {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol': 'v3.channel.k8s.io',
  });
  assert.equal(ws.code, 400);
  assert.match(ws.body.message ?? '', /unable to negotiate protocol/);
});
