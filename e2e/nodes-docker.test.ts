/**
 * Issue "Real worker nodes": two Docker nodes running the node agent, driven by real kubectl 1.27 and
 * 1.33. Pods really run (containerd + CNI bridge); pod addresses come from each node's pod CIDR; a pod
 * on one node reaches a pod on the other by IP; side-loaded images run with IfNotPresent/Never; a
 * killed node goes NotReady and its pods come back on the other node. Everything the suite makes is
 * removed by label at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerAvailable,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';
import { cidrRange } from '../core/nodes/docker/driver.ts';

const noDocker = await dockerAvailable();
let c: DockerCluster;
const name = uniqueClusterName('t-nodes');

before(async () => {
  if (noDocker) return;
  c = await startDockerCluster({ name, nodes: 2 });
});
after(async () => {
  await c?.destroy();
});

const inCidr = (ip: string, cidr: string): boolean => {
  const [a, b] = cidrRange(cidr);
  const n = ip.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  return n >= a && n <= b;
};
const dockerExec = (node: string, cmd: string[]): string => {
  const r = spawnSync('docker', ['exec', `berth-${name}.${node}`, ...cmd], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

const httpDeployment = (ns: string, policy: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: ${policy}
        command: [httpd, -f, -p, "80", -h, /www]
        ports: [ { containerPort: 80 } ]
`;

describe('docker nodes', { skip: noDocker }, () => {
  it('two nodes are Ready with their own pod CIDRs, routes to each other and unreachable ranges', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    const rows = (
      await k.ok([
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      ])
    )
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    assert.deepEqual(
      rows.map((r) => r[0]),
      c.nodes,
    );
    for (const [, cidr, , ready] of rows) {
      assert.equal(ready, 'True');
      assert.ok(cidr && inCidr(cidr.split('/')[0]!, '10.244.0.0/16'), `pod CIDR ${cidr}`);
    }
    assert.notEqual(rows[0]?.[1], rows[1]?.[1]);
    const routes = dockerExec(c.nodes[0]!, ['ip', 'route']);
    assert.match(
      routes,
      new RegExp(`${rows[1]![1]!.replace(/\./g, '\\.')} via ${rows[1]![2]!.replace(/\./g, '\\.')}`),
    );
    assert.match(routes, /unreachable 10\.244\.0\.0\/16/);
    assert.match(routes, /unreachable 10\.96\.0\.0\/12/);
  });

  for (const version of E2E_VERSIONS) {
    describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
      let k: KubectlRunner;
      const ns = `nodes-${version.replace('.', '')}`;
      const n = ['-n', ns];
      before(async () => {
        k = kubectlRunner(version, c.kubeconfig, c.home);
        await k.ok(['create', 'ns', ns]);
      });

      it('a 3-replica Deployment spreads over both nodes, pod IPs in their node CIDR, cross-node fetch by IP', async () => {
        await k.ok(['apply', '-f', '-'], {
          input: httpDeployment(ns, version === '1.27' ? 'IfNotPresent' : 'Never'),
        });
        await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=120s'], { timeoutMs: 130_000 });
        const cidrs = Object.fromEntries(
          (
            await k.ok([
              'get',
              'nodes',
              '-o',
              'jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR}{"\\n"}{end}',
            ])
          )
            .trim()
            .split('\n')
            .map((l) => l.split('=')),
        ) as Record<string, string>;
        const pods = (
          await k.ok([
            ...n,
            'get',
            'pods',
            '-l',
            'app=web',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\\n"}{end}',
          ])
        )
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string, string]);
        assert.equal(pods.length, 3);
        assert.equal(new Set(pods.map((p) => p[1])).size, 2, `pods on both nodes: ${JSON.stringify(pods)}`);
        for (const [pod, node, ip] of pods)
          assert.ok(inCidr(ip, cidrs[node]!), `${pod} on ${node}: ${ip} not in ${cidrs[node]}`);

        // A pod on node A fetches the hostname page of a pod on node B; it succeeds only if the answer
        // names that pod (busybox wget: no -T, it crashes in Debian's static build).
        const [target] = pods;
        const other = c.nodes.find((x) => x !== target![1])!;
        await k.ok(['apply', '-f', '-'], {
          input: `
apiVersion: v1
kind: Pod
metadata: { name: fetch, namespace: ${ns} }
spec:
  restartPolicy: Never
  nodeName: ${other}
  containers:
  - name: c
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'timeout 10 wget -qO- http://${target![2]}/cgi-bin/hostname | grep -qx ${target![0]}']
`,
        });
        const phase = await eventually(
          'the fetch pod to finish',
          async () => {
            const p = (await k.ok([...n, 'get', 'pod', 'fetch', '-o', 'jsonpath={.status.phase}'])).trim();
            return (p === 'Succeeded' || p === 'Failed') && p;
          },
          60_000,
        );
        assert.equal(phase, 'Succeeded');
      });

      it('imagePullPolicy Never without the image: ErrImageNeverPull', async () => {
        await k.ok(['apply', '-f', '-'], {
          input: `
apiVersion: v1
kind: Pod
metadata: { name: never, namespace: ${ns} }
spec:
  containers: [ { name: c, image: "localhost/berth/not-loaded:1", imagePullPolicy: Never } ]
`,
        });
        const reason = await eventually(
          'the pod to wait with ErrImageNeverPull',
          async () =>
            (
              await k.ok([
                ...n,
                'get',
                'pod',
                'never',
                '-o',
                'jsonpath={.status.containerStatuses[0].state.waiting.reason}',
              ])
            ).trim() === 'ErrImageNeverPull' && 'ErrImageNeverPull',
          60_000,
        );
        assert.equal(reason, 'ErrImageNeverPull');
      });
    });
  }

  it('berth down and up on the same data dir bring the nodes and their workloads back', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    const n = ['-n', 'nodes-133'];
    const containerIDs = async (): Promise<string> =>
      (
        await k.ok([
          ...n,
          'get',
          'pods',
          '-l',
          'app=web',
          '-o',
          'jsonpath={.items[*].status.containerStatuses[0].containerID}',
        ])
      ).trim();
    const before = (
      await k.ok([...n, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])
    ).trim();
    assert.equal(before.split(' ').length, 3);
    const idsBefore = new Set((await containerIDs()).split(' '));
    await c.restart();
    const running = await eventually(
      'the same 3 pods Running and Ready again',
      async () => {
        const out = (
          await k.ok([
            ...n,
            'get',
            'pods',
            '-l',
            'app=web',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[0].ready}{"\\n"}{end}',
          ])
        ).trim();
        const rows = out.split('\n').map((l) => l.split(' '));
        // New containers (the node containers were stopped): none of the old container IDs remain.
        const fresh = (await containerIDs()).split(' ').every((id) => id && !idsBefore.has(id));
        return rows.length === 3 && rows.every((r) => r[1] === 'Running' && r[2] === 'true') && fresh && out;
      },
      120_000,
      1000,
    );
    assert.deepEqual(
      running
        .split('\n')
        .map((l) => l.split(' ')[0])
        .sort(),
      before.split(' ').sort(),
    );
  });

  it('berth node add gives a third Ready node that runs pods; berth node rm removes it and its container', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    const add = c.berth(['node', 'add', '--label', 'extra=yes']);
    assert.equal(add.status, 0, add.output);
    const name = `${c.name}-worker-3`;
    await eventually(
      `${name} Ready`,
      async () =>
        (
          await k.ok([
            'get',
            'nodes',
            '-l',
            'extra=yes',
            '-o',
            'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
          ])
        ).trim() === 'True',
      90_000,
      500,
    );
    await k.ok(['create', 'ns', 'extra']);
    await k.ok(['apply', '-f', '-'], {
      input: `
apiVersion: v1
kind: Pod
metadata: { name: on-extra, namespace: extra }
spec:
  nodeSelector: { extra: "yes" }
  restartPolicy: Never
  containers: [ { name: c, image: ${BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [sh, -c, 'test "$(hostname)" = on-extra'] } ]
`,
    });
    // The new node got the busybox image? `berth image load` ran before it existed: load it now.
    const load = c.berth(['image', 'load', BUSYBOX_IMAGE]);
    assert.equal(load.status, 0, load.output);
    await eventually(
      'the pod on the new node to succeed',
      async () =>
        (await k.ok(['-n', 'extra', 'get', 'pod', 'on-extra', '-o', 'jsonpath={.status.phase}'])).trim() ===
        'Succeeded',
      90_000,
      500,
    );
    await k.ok(['delete', 'ns', 'extra', '--wait=false']);
    const rm = c.berth(['node', 'rm', name]);
    assert.equal(rm.status, 0, rm.output);
    const gone = await k.run(['get', 'node', name]);
    assert.notEqual(gone.code, 0);
    const ps = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.berth.node=${name}`], {
      encoding: 'utf8',
    });
    assert.equal(ps.stdout.trim(), '');
  });

  it('a killed node goes NotReady within 40 s and its pods come back on the other node', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    await k.ok(['create', 'ns', 'kill']);
    await k.ok(['apply', '-f', '-'], {
      input: httpDeployment('kill', 'IfNotPresent').replace(
        '      terminationGracePeriodSeconds: 2',
        `      terminationGracePeriodSeconds: 2
      tolerations:
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }
      - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5 }`,
      ),
    });
    await k.ok(['-n', 'kill', 'rollout', 'status', 'deploy/web', '--timeout=120s'], { timeoutMs: 130_000 });
    const victim = c.nodes[1]!;
    const survivor = c.nodes[0]!;
    const t0 = Date.now();
    assert.equal(spawnSync('docker', ['kill', `berth-${name}.${victim}`]).status, 0);
    await eventually(
      `node ${victim} NotReady`,
      async () =>
        (
          await k.ok([
            'get',
            'node',
            victim,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ])
        ).trim() !== 'True',
      60_000,
      500,
    );
    const notReadyAfter = (Date.now() - t0) / 1000;
    console.log(`node ${victim} NotReady ${notReadyAfter.toFixed(1)} s after docker kill`);
    assert.ok(notReadyAfter <= 40, `NotReady after ${notReadyAfter} s`);
    // Pods of the dead node stay Terminating (no kubelet confirms their end), as in Kubernetes: count
    // the live replacements only.
    let last = '';
    const placement = await eventually(
      `3 pods Running on ${survivor}`,
      async () => {
        const rows = (
          await k.ok([
            '-n',
            'kill',
            'get',
            'pods',
            '-l',
            'app=web',
            '--field-selector=status.phase=Running',
            '-o',
            'jsonpath={range .items[*]}{.spec.nodeName} {.metadata.deletionTimestamp}{"\\n"}{end}',
          ])
        )
          .trim()
          .split('\n')
          .filter(Boolean);
        last = rows.join('; ');
        const nodes = rows.filter((r) => r.trim().split(' ').length === 1).map((r) => r.trim());
        return nodes.length === 3 && nodes.every((x) => x === survivor) && nodes;
      },
      90_000,
      1000,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; last seen (node deletionTimestamp): ${last}`, { cause: e });
    });
    assert.deepEqual(placement, [survivor, survivor, survivor]);
    console.log(
      `pods Running again on ${survivor} ${((Date.now() - t0) / 1000).toFixed(1)} s after docker kill`,
    );
  });
});
