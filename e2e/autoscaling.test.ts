/**
 * HorizontalPodAutoscaler end to end on a real Docker node: the node agent's cgroup usage → the
 * resource metrics API → the autoscaler. A Deployment whose container burns cpu (limit 200m, request
 * 100m) is autoscaled with `kubectl autoscale --cpu-percent=50 --min=1 --max=3` (kubectl 1.27 creates
 * it); the autoscaler scales it to 3 (the 4 its usage asks for, limited by maxReplicas), `kubectl get
 * hpa` (1.33) shows the utilization against the target, `kubectl describe hpa` shows the conditions
 * and the SuccessfulRescale event. A second Deployment that idles stays at 1 with ScalingActive True.
 * Bounded: three busy containers at 200m for about a minute; everything is removed afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlRunner, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerSuiteSkip,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';

const skip = await dockerSuiteSkip();
const name = uniqueClusterName('t-hpa');
const ns = 'hpa';
let c: DockerCluster | undefined;
let k27: KubectlRunner;
let k33: KubectlRunner;

const deployment = (app: string, command: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}, namespace: ${ns} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: Never
        command: ['sh', '-c', '${command}']
        resources: { requests: { cpu: 100m }, limits: { cpu: 200m } }
`;

before(async () => {
  if (skip) return;
  c = await startDockerCluster({ name, nodes: 1 });
  k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
  k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
  await k33.ok(['create', 'ns', ns]);
});
after(async () => {
  await c?.destroy();
});

describe('HorizontalPodAutoscaler on a Docker node', { skip: skip ?? false, timeout: 600_000 }, () => {
  it('a cpu-bound Deployment is scaled to maxReplicas from measured usage; an idle one stays', async () => {
    await k33.ok(['apply', '-f', '-'], {
      input: deployment('burn', 'while :; do :; done') + '---' + deployment('idle', 'sleep 3600'),
    });
    await k33.ok(['-n', ns, 'rollout', 'status', 'deploy/burn', 'deploy/idle', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    for (const app of ['burn', 'idle'])
      await k27.ok(['-n', ns, 'autoscale', `deployment/${app}`, '--cpu-percent=50', '--min=1', '--max=3']);

    // Usage needs two samples (15 s apart) and one autoscaler round after them.
    await eventually(
      'burn scaled to 3',
      async () => (await k33.ok(['-n', ns, 'get', 'deploy/burn', '-o', 'jsonpath={.spec.replicas}'])) === '3',
      150_000,
      2000,
    );
    const row = await k33.ok(['-n', ns, 'get', 'hpa', 'burn', '--no-headers']);
    // burn   Deployment/burn   cpu: 180%/50%   1   3   3   70s   (1.33; older servers print "180%/50%")
    const pct = /(\d+)%\/50%/.exec(row);
    assert.ok(pct, row);
    assert.ok(Number(pct[1]) >= 120, `measured utilization of a busy 200m-limited container: ${row}`);
    assert.match(row, /Deployment\/burn/);

    const describe = await k33.ok(['-n', ns, 'describe', 'hpa', 'burn']);
    assert.match(describe, /ScalingActive\s+True\s+ValidMetricFound/);
    assert.match(describe, /ScalingLimited\s+True\s+TooManyReplicas/);
    assert.match(
      describe,
      /SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/,
    );

    const idle = await eventually(
      'idle has a measurement',
      async () => {
        const r = await k33.ok(['-n', ns, 'get', 'hpa', 'idle', '--no-headers']);
        return /\d+%\/50%/.test(r) ? r : undefined;
      },
      90_000,
      2000,
    );
    assert.match(idle, /\b[0-9]%\/50%/, `an idle shell uses ~0 % of its request: ${idle}`);
    assert.equal(await k33.ok(['-n', ns, 'get', 'deploy/idle', '-o', 'jsonpath={.spec.replicas}']), '1');
    // Stop burning cpu on the node.
    await k33.ok(['-n', ns, 'delete', 'deploy/burn', '--wait=false']);
  });
});
