/**
 * Issue "Streams": kubectl logs, exec, attach, port-forward and cp, and @kubernetes/client-node's own
 * exec/attach/log/port-forward, through the API server to the node agents of a 2-node Docker cluster,
 * with kubectl 1.27 (SPDY) and 1.33 (WebSocket, tunnelled port-forward). Pods run on both nodes. The
 * last tests open and close 200 sessions and check that no socket or agent fd leaks, and that an
 * interactive exec session left idle for 90 s still answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import type WebSocket from 'ws';
import {
  E2E_VERSIONS,
  kubectlRunner,
  requireKubectl,
  type KubectlRunner,
  type KubectlVersion,
} from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import { ptyKubectl as ptyKubectlIn, type PtySession } from './harness/pty.ts';
import {
  dockerAvailable,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';

const noDocker = await dockerAvailable();
const name = uniqueClusterName('t-streams');
const IDLE_MS = 90_000;
let c: DockerCluster;
let tmp: string;
const nsOf = (v: string): string => `streams-${v.replace('.', '')}`;
const idle = new Map<string, PtySession>();
let idleSince = 0;

const manifests = (ns: string, node1: string, node2: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${ns}, labels: { app: web } }
spec:
  nodeName: ${node1}
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www && echo web-80 > /www/index.html && exec httpd -f -p 80 -h /www"]
  - name: alt
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command:
    - sh
    - -c
    - |
      mkdir -p /alt/cgi-bin && echo alt-8080 > /alt/index.html
      printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nno-length\\\\n"\\n' > /alt/cgi-bin/nolen
      chmod +x /alt/cgi-bin/nolen
      exec httpd -f -p 8080 -h /alt
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec:
  selector: { app: web }
  ports:
  - { name: http, port: 80, targetPort: 80 }
  - { name: alt, port: 8080, targetPort: 8080 }
---
apiVersion: v1
kind: Pod
metadata: { name: talk, namespace: ${ns} }
spec:
  nodeName: ${node2}
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh, -c, "i=0; while true; do echo a-$i; i=$((i+1)); sleep 1; done"]
  - name: b
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh, -c, "echo b-start; sleep 6; while true; do echo b-tick; sleep 1; done"]
---
apiVersion: v1
kind: Pod
metadata: { name: crash, namespace: ${ns} }
spec:
  nodeName: ${node2}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh, -c, "echo run-$(date +%s); sleep 2; exit 1"]
---
apiVersion: v1
kind: Pod
metadata: { name: tty, namespace: ${ns} }
spec:
  nodeName: ${node1}
  terminationGracePeriodSeconds: 1
  containers:
  - name: sh
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh]
    stdin: true
    tty: true
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: dlog, namespace: ${ns} }
spec:
  replicas: 1
  selector: { matchLabels: { app: dlog } }
  template:
    metadata: { labels: { app: dlog } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: Never
        command: [sh, -c, "echo deploy-hello; exec sleep 3600"]
`;

// --- helpers -------------------------------------------------------------------------------------

/** kubectl under a pty against this suite's cluster. */
const ptyKubectl = (version: KubectlVersion, args: string[]): PtySession => ptyKubectlIn(version, args, c);

/** Waits until the session's output after `from` matches `re`; returns the end of the match. */
async function expectOutput(s: PtySession, re: RegExp, from = 0, ms = 20_000): Promise<number> {
  return eventually(
    `${re} in pty output`,
    () => {
      const m = re.exec(s.output().slice(from));
      return m ? from + m.index + m[0].length : undefined;
    },
    ms,
    50,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n--- output ---\n${s.output().slice(from)}`);
  });
}

function fetchLocal(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, timeout: 15_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET 127.0.0.1:${port} timed out`)));
    req.on('error', reject);
  });
}

/** Starts `kubectl port-forward <target> :80 :8080` and returns remote→local ports. */
async function portForward(
  k: KubectlRunner,
  args: string[],
): Promise<{ ports: Map<number, number>; stop(): Promise<void> }> {
  const { child, output } = k.spawn(['port-forward', ...args, ':80', ':8080']);
  const ports = await eventually(
    'port-forward ready',
    () => {
      const m = new Map<number, number>();
      for (const x of output().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g))
        m.set(Number(x[2]), Number(x[1]));
      if (child.exitCode !== null) throw new Error(`port-forward exited:\n${output()}`);
      return m.size === 2 ? m : undefined;
    },
    30_000,
  );
  return {
    ports,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const kubeConfig = (): k8s.KubeConfig => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  return kc;
};

const collect = (): { stream: PassThrough; text(): string } => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
};

/** ESTABLISHED TCP connections from this host to the agents' port on our nodes. */
function agentConnections(ips: string[]): number {
  let n = 0;
  for (const ip of ips) {
    const r = spawnSync('ss', ['-tnH', 'state', 'established', 'dst', `${ip}:10250`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    n += r.stdout.split('\n').filter((l) => l.trim()).length;
  }
  return n;
}

const dockerExec = (node: string, script: string): string => {
  const r = spawnSync('docker', ['exec', `berth-${name}.${node}`, 'sh', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

/** The agent's pid inside a node: the node process whose command line names the agent bundle. */
const agentPid = (node: string): string => {
  const pid = dockerExec(
    node,
    'for p in /proc/[0-9]*; do if tr "\\0" " " < $p/cmdline 2>/dev/null | grep -q "^node .*agent"; then echo ${p#/proc/}; fi; done',
  )
    .trim()
    .split('\n')[0];
  assert.ok(pid, `no agent process in ${node}`);
  return pid;
};
const agentFds = (node: string, pid: string): number =>
  Number(dockerExec(node, `ls /proc/${pid}/fd | wc -l`).trim());

// --- suite ---------------------------------------------------------------------------------------

before(async () => {
  if (noDocker) return;
  c = await startDockerCluster({ name, nodes: 2 });
  tmp = mkdtempSync(join(tmpdir(), 'berth-streams-'));
  const k = kubectlRunner('1.33', c.kubeconfig, c.home);
  for (const v of E2E_VERSIONS) {
    await k.ok(['create', 'ns', nsOf(v)]);
    await k.ok(['apply', '-f', '-'], { input: manifests(nsOf(v), c.nodes[0]!, c.nodes[1]!) });
  }
  for (const v of E2E_VERSIONS)
    await k.ok(
      ['-n', nsOf(v), 'wait', '--for=condition=Ready', 'pod/web', 'pod/talk', 'pod/tty', '--timeout=120s'],
      { timeoutMs: 130_000 },
    );
  // The idle sessions start now and are checked by the last test, so the 90 s overlap the others.
  for (const v of E2E_VERSIONS) {
    const s = ptyKubectl(v, ['-n', nsOf(v), 'exec', '-it', 'web', '-c', 'httpd', '--', 'sh']);
    s.write('echo idle-$((40+2))\r');
    await expectOutput(s, /idle-42/);
    idle.set(v, s);
  }
  idleSince = Date.now();
});
after(async () => {
  for (const s of idle.values()) s.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await c?.destroy();
});

describe('streams on docker nodes', { skip: noDocker }, () => {
  for (const version of E2E_VERSIONS) {
    describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
      let k: KubectlRunner;
      const ns = nsOf(version);
      const n = ['-n', ns];
      before(() => {
        k = kubectlRunner(version, c.kubeconfig, c.home);
      });

      it('logs -f streams new lines until stopped', async () => {
        const { child, output } = k.spawn([...n, 'logs', '-f', 'talk', '-c', 'a']);
        const lines = (): number[] => [...output().matchAll(/^a-(\d+)$/gm)].map((m) => Number(m[1]));
        const first = await eventually('first lines', () => (lines().length ? lines().length : undefined));
        await eventually('new lines while following', () => lines().length >= first + 2, 15_000);
        const nums = lines();
        assert.deepEqual(
          nums,
          nums.map((_, i) => nums[0]! + i),
          'consecutive lines',
        );
        const exit = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exit;
      });

      it('logs --tail, --since, --timestamps and -c in a two-container pod', async () => {
        const tail = (await k.ok([...n, 'logs', 'talk', '-c', 'a', '--tail=2'])).trim().split('\n');
        assert.equal(tail.length, 2, tail.join('|'));
        const [x, y] = tail.map((l) => Number(/^a-(\d+)$/.exec(l)?.[1]));
        assert.equal(y, x! + 1, tail.join('|'));
        await eventually('b ticks', async () =>
          (await k.ok([...n, 'logs', 'talk', '-c', 'b'])).includes('b-tick'),
        );
        const all = await k.ok([...n, 'logs', 'talk', '-c', 'b']);
        assert.match(all, /^b-start\n(b-tick\n)+$/);
        const recent = await k.ok([...n, 'logs', 'talk', '-c', 'b', '--since=3s']);
        assert.match(recent, /^(b-tick\n)+$/, 'b-start is older than 3 s');
        const stamped = await k.ok([...n, 'logs', 'talk', '-c', 'b', '--timestamps', '--tail=1']);
        assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) b-tick\n$/);
        const defaulted = await k.run([...n, 'logs', 'talk', '--tail=1']);
        assert.equal(defaulted.code, 0, defaulted.stderr);
        assert.match(defaulted.stdout, /^a-\d+\n$/, 'the first container by default');
      });

      it('logs --previous after a restart, and logs deploy/x', async () => {
        await eventually(
          'crash restarted',
          async () =>
            Number(
              await k.ok([
                ...n,
                'get',
                'pod',
                'crash',
                '-o',
                'jsonpath={.status.containerStatuses[0].restartCount}',
              ]),
            ) >= 1,
          60_000,
          500,
        );
        const prev = await k.ok([...n, 'logs', 'crash', '--previous']);
        const started = Number(/^run-(\d+)\n$/.exec(prev)?.[1]);
        assert.ok(started > 0 && started <= Date.now() / 1000, `previous log: ${JSON.stringify(prev)}`);
        assert.match(await k.ok([...n, 'logs', 'deploy/dlog']), /^deploy-hello\n$/);
      });

      it('exec returns output and propagates exit codes on both nodes', async () => {
        const out = await k.run([
          ...n,
          'exec',
          'talk',
          '-c',
          'a',
          '--',
          'sh',
          '-c',
          'echo out-$((6*7)); echo err >&2',
        ]);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, 'out-42\n');
        assert.match(out.stderr, /^err$/m);
        const piped = await k.run([...n, 'exec', '-i', 'web', '-c', 'httpd', '--', 'sh', '-c', 'wc -c'], {
          input: 'x'.repeat(100_000),
        });
        assert.equal(piped.stdout.trim(), '100000', piped.stderr);
        const seven = await k.run([...n, 'exec', 'web', '-c', 'httpd', '--', 'sh', '-c', 'exit 7']);
        assert.equal(seven.code, 7);
        assert.match(seven.stderr, /command terminated with exit code 7/);
      });

      it('exec -it under a pseudo-terminal: interactive shell, resize, clean exit', async () => {
        const s = ptyKubectl(version, [...n, 'exec', '-it', 'talk', '-c', 'a', '--', 'sh']);
        try {
          s.write('hostname\r');
          let at = await expectOutput(s, /\r\ntalk\r\n/);
          s.write('stty size\r');
          at = await expectOutput(s, /\r\n24 80\r\n/, at);
          s.resize(100, 30);
          await new Promise((r) => setTimeout(r, 300));
          s.write('stty size\r');
          await expectOutput(s, /\r\n30 100\r\n/, at);
          s.write('exit 0\r');
          assert.equal(
            await Promise.race([s.exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]),
            0,
          );
        } finally {
          s.kill();
        }
      });

      it('attach -it to a container started with stdin and tty', async () => {
        const s = ptyKubectl(version, [...n, 'attach', '-it', 'tty', '-c', 'sh']);
        try {
          await expectOutput(s, /try pressing enter/);
          s.write(`echo attached-${version}-$((6*7))\r`);
          await expectOutput(s, new RegExp(`attached-${version.replace('.', '\\.')}-42`));
        } finally {
          s.kill();
        }
      });

      for (const target of ['pod/web', 'svc/web'])
        it(`port-forward ${target} serves both ports on localhost`, async () => {
          const pf = await portForward(k, [...n, target]);
          try {
            for (let i = 0; i < 3; i++) {
              assert.equal(await fetchLocal(pf.ports.get(80)!), 'web-80\n');
              assert.equal(await fetchLocal(pf.ports.get(8080)!), 'alt-8080\n');
            }
            // A response without Content-Length ends when the pod closes the connection; containerd
            // passes that on after its 1 s grace for the user's side.
            const t0 = Date.now();
            assert.equal(await fetchLocal(pf.ports.get(8080)!, '/cgi-bin/nolen'), 'no-length\n');
            const ms = Date.now() - t0;
            console.log(`# ${version} ${target}: response without Content-Length in ${ms} ms`);
            assert.ok(ms < 4000, `the pod's close reached the client in ${ms} ms`);
          } finally {
            await pf.stop();
          }
        });

      it('port-forward to a port nothing listens on: the request fails and kubectl says why', async () => {
        const { child, output } = k.spawn([...n, 'port-forward', 'pod/web', ':8081']);
        try {
          const local = await eventually(
            'port-forward ready',
            () => {
              if (child.exitCode !== null) throw new Error(`port-forward exited:\n${output()}`);
              const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8081/.exec(output());
              return m ? Number(m[1]) : undefined;
            },
            30_000,
          );
          await assert.rejects(fetchLocal(local), 'no HTTP answer from a refused port');
          // kubectl prints the error stream's message: containerd's "connection refused" inside the pod.
          const said = await eventually(
            'the error on stderr',
            () =>
              /an error occurred forwarding \d+ -> 8081: .*connection refused/.test(output())
                ? output()
                : undefined,
            15_000,
          );
          console.log(
            `# ${version} refused port: ${said
              .split('\n')
              .find((l) => l.includes('8081:'))
              ?.slice(0, 160)}`,
          );
        } finally {
          if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await gone;
          }
        }
      });

      it('cp a 1 MiB random file into a pod and back, byte-identical', async () => {
        const src = join(tmp, `in-${ns}.bin`);
        const back = join(tmp, `out-${ns}.bin`);
        writeFileSync(src, randomBytes(1 << 20));
        await k.ok([...n, 'cp', src, 'talk:/tmp/blob', '-c', 'a'], { timeoutMs: 60_000 });
        await k.ok([...n, 'cp', 'talk:/tmp/blob', back, '-c', 'a'], { timeoutMs: 60_000 });
        assert.ok(readFileSync(src).equals(readFileSync(back)), 'the file came back byte-identical');
      });
    });
  }

  describe('@kubernetes/client-node', () => {
    const ns = nsOf('1.33');

    it('exec with output and exit status', async () => {
      const out = collect();
      const status = await new Promise<k8s.V1Status>((resolve, reject) => {
        new k8s.Exec(kubeConfig())
          .exec(ns, 'talk', 'a', ['sh', '-c', 'echo cn-exec; exit 3'], out.stream, null, null, false, resolve)
          .catch(reject);
      });
      assert.equal(out.text(), 'cn-exec\n');
      assert.equal(status.status, 'Failure');
      assert.equal(status.details?.causes?.[0]?.message, '3');
    });

    it('attach to the tty container', async () => {
      const out = collect();
      const stdin = new PassThrough();
      const ws = await new k8s.Attach(kubeConfig()).attach(ns, 'tty', 'sh', out.stream, null, stdin, true);
      try {
        stdin.write('echo cn-attach-$((6*7))\r');
        await eventually('attach output', () => out.text().includes('cn-attach-42'), 20_000, 50);
      } finally {
        ws.close();
      }
    });

    it('log with tailLines', async () => {
      const out = collect();
      await new Promise<void>((resolve, reject) => {
        out.stream.on('finish', resolve);
        new k8s.Log(kubeConfig()).log(ns, 'talk', 'a', out.stream, { tailLines: 3 }).catch(reject);
      });
      assert.match(out.text(), /^(a-\d+\n){3}$/);
    });

    it('port-forward to both ports', async () => {
      for (const [port, body] of [
        [80, 'web-80'],
        [8080, 'alt-8080'],
      ] as const) {
        const out = collect();
        const input = new PassThrough();
        const ws = (await new k8s.PortForward(kubeConfig()).portForward(
          ns,
          'web',
          [port],
          out.stream,
          null,
          input,
        )) as WebSocket;
        try {
          input.write('GET / HTTP/1.0\r\n\r\n');
          const closed = new Promise((r) => ws.once('close', r));
          await eventually(`answer on ${port}`, () => out.text().includes(`\r\n\r\n${body}\n`), 20_000, 50);
          assert.match(out.text(), /^HTTP\/1\.[01] 200/);
          // httpd closes the connection after the answer: the WebSocket ends with it.
          assert.equal(
            await Promise.race([closed, new Promise((r) => setTimeout(() => r('open'), 10_000))]),
            1000,
          );
        } finally {
          ws.close();
        }
      }
    });
  });

  it('200 sessions (exec and port-forward, half cut abruptly) leak no sockets, fds or processes', async () => {
    const ns = nsOf('1.33');
    const ips = (
      await kubectlRunner('1.33', c.kubeconfig, c.home).ok([
        'get',
        'nodes',
        '-o',
        'jsonpath={.items[*].status.addresses[?(@.type=="InternalIP")].address}',
      ])
    ).split(' ');
    const pids = c.nodes.map(agentPid);
    const fds = (): number[] => c.nodes.map((node, i) => agentFds(node, pids[i]!));
    const apiPid = c.child.pid;
    assert.ok(apiPid, 'berth up (the API server) is running');
    const apiFds = (): number => readdirSync(`/proc/${apiPid}/fd`).length;
    const connsBefore = agentConnections(ips);
    const fdsBefore = fds();
    const apiFdsBefore = apiFds();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, agentConnections(ips))), 250);

    const kc = kubeConfig();
    const session = async (i: number): Promise<void> => {
      const cut = i % 4 >= 2;
      const out = collect();
      if (i % 2 === 0) {
        const done = new Promise<void>((resolve) => out.stream.on('finish', resolve));
        const [pod, container] = (i >> 2) % 2 === 0 ? ['talk', 'a'] : ['web', 'httpd'];
        const stdin = cut ? new PassThrough() : null;
        const ws = await new k8s.Exec(kc).exec(
          ns,
          pod,
          container,
          cut ? ['cat'] : ['echo', `s${i}`],
          out.stream,
          null,
          stdin,
          false,
        );
        if (cut) {
          // cat runs until its stdin ends: cutting the session must end it.
          stdin?.write(`c${i}\n`);
          await eventually(`cat ${i}`, () => out.text() === `c${i}\n` || undefined, 20_000, 20);
          ws.terminate();
        } else {
          await eventually(`exec ${i}`, () => out.text() === `s${i}\n` || undefined, 20_000, 20);
          await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
        }
      } else {
        const input = new PassThrough();
        const ws = (await new k8s.PortForward(kc).portForward(
          ns,
          'web',
          [80],
          out.stream,
          null,
          input,
        )) as WebSocket;
        if (cut) {
          input.write('GET / HT');
          await new Promise((r) => setTimeout(r, 100));
          ws.terminate();
        } else {
          input.write('GET / HTTP/1.0\r\n\r\n');
          await eventually(`port-forward ${i}`, () => out.text().includes('web-80'), 20_000, 20);
          ws.close();
        }
      }
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 200) await session(next++);
    };
    const t0 = Date.now();
    try {
      await Promise.all(Array.from({ length: 8 }, worker));
    } finally {
      clearInterval(sampler);
    }
    const took = Date.now() - t0;
    assert.ok(peak > connsBefore, `the sessions were seen as agent connections (peak ${peak})`);

    const settled = await eventually(
      'connections to the agents back to their count before',
      () => {
        const now = agentConnections(ips);
        return now <= connsBefore + 2 ? now : undefined;
      },
      30_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: before ${connsBefore}, now ${agentConnections(ips)}`);
    });
    const fdsAfter = await eventually(
      'agent fds back to their count before',
      () => {
        const now = fds();
        return now.every((f, i) => f <= fdsBefore[i]! + 5) ? now : undefined;
      },
      30_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: before ${fdsBefore.join(',')}, now ${fds().join(',')}`);
    });
    const apiFdsAfter = await eventually(
      'API server fds back to their count before',
      () => {
        const now = apiFds();
        return now <= apiFdsBefore + 10 ? now : undefined;
      },
      30_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: before ${apiFdsBefore}, now ${apiFds()}`);
    });
    await eventually(
      'no cat left in the pods',
      () => c.nodes.every((node) => dockerExec(node, 'ps -eo comm | grep -c "^cat$" || true').trim() === '0'),
      30_000,
      500,
    );
    console.log(
      `# 200 sessions in ${took} ms; agent connections ${connsBefore} -> peak ${peak} -> ${settled}; agent fds ${fdsBefore.join(',')} -> ${fdsAfter.join(',')}; API server fds ${apiFdsBefore} -> ${apiFdsAfter}`,
    );
  });

  it('an exec -it session idle for 90 s still works (1.27 and 1.33)', async () => {
    const wait = idleSince + IDLE_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const [v, s] of idle) {
      const from = s.output().length;
      s.write(`echo alive-${v.replace('.', '')}-$((1+1))\r`);
      await expectOutput(s, new RegExp(`alive-${v.replace('.', '')}-2`), from);
      s.write('exit\r');
      assert.equal(await s.exited, 0, `kubectl ${v} exits cleanly after the idle period`);
    }
  });
});
