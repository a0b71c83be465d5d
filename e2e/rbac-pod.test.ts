/**
 * Issue "Identity and RBAC", the seed scenario on a real node: a pod in namespace foo running as the
 * default ServiceAccount reads its projected token (/var/run/secrets/kubernetes.io/serviceaccount) and
 * calls the API server through the `kubernetes` Service (cluster DNS + service proxy): listing services in
 * foo is refused until `kubectl create rolebinding … --serviceaccount=foo:default`, and stays refused in
 * bar until a binding there allows it. kubectl 1.27 and 1.33.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerAvailable,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { CURL_IMAGE } from '../core/nodes/docker/images.ts';

const noDocker = await dockerAvailable();
let c: DockerCluster;

before(async () => {
  if (noDocker) return;
  c = await startDockerCluster({ name: uniqueClusterName('t-rbacpod'), nodes: 1 });
  const load = c.berth(['image', 'load', CURL_IMAGE]);
  assert.equal(load.status, 0, load.output);
});
after(async () => {
  await c?.destroy();
});

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Lists services of `ns` from inside the pod with its own token, verifying the API server with the
 * projected ca.crt, as the seed does; prints the body and the HTTP code. */
const listServices = (ns: string): string =>
  `curl -s --cacert ${SA_DIR}/ca.crt -H "Authorization: Bearer $(cat ${SA_DIR}/token)" ` +
  `-w ' code=%{http_code}' https://kubernetes.default.svc/api/v1/namespaces/${ns}/services`;

describe('a pod uses its service-account token against RBAC', { skip: noDocker }, () => {
  for (const version of E2E_VERSIONS) {
    describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
      let k: KubectlRunner;
      const v = version.replace('.', '');
      const foo = `foo-${v}`;
      const bar = `bar-${v}`;
      const inPod = async (script: string): Promise<string> =>
        k.ok(['-n', foo, 'exec', 'client', '--', 'sh', '-c', script]).catch((e: unknown) => String(e));

      before(async () => {
        k = kubectlRunner(version, c.kubeconfig, c.home);
        for (const ns of [foo, bar]) {
          await k.ok(['create', 'ns', ns]);
          await k.ok([
            '-n',
            ns,
            'create',
            'role',
            'service-reader',
            '--verb=get,list',
            '--resource=services',
          ]);
        }
        await k.ok([
          '-n',
          foo,
          'run',
          'client',
          `--image=${CURL_IMAGE}`,
          '--image-pull-policy=IfNotPresent',
          '--',
          'sleep',
          '3600',
        ]);
        await k.ok(['-n', foo, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=90s'], {
          timeoutMs: 100_000,
        });
      });

      it('the projected volume holds the token, the cluster CA and the namespace', async () => {
        const out = await inPod(`ls ${SA_DIR}; cat ${SA_DIR}/namespace; echo; head -1 ${SA_DIR}/ca.crt`);
        assert.match(out, /ca\.crt/);
        assert.match(out, /token/);
        assert.match(out, new RegExp(`^${foo}$`, 'm'));
        assert.match(out, /BEGIN CERTIFICATE/);
      });

      it('listing services in foo is Forbidden, then allowed by the rolebinding; bar stays Forbidden until bound', async () => {
        const before = await inPod(listServices(foo));
        assert.match(before, /code=403/, before);
        assert.match(
          before,
          /services is forbidden: User \\"system:serviceaccount:foo-\d+:default\\" cannot list resource \\"services\\"/,
        );
        await k.ok([
          '-n',
          foo,
          'create',
          'rolebinding',
          'test',
          '--role=service-reader',
          `--serviceaccount=${foo}:default`,
        ]);
        const allowed = await eventually(
          'the rolebinding to take effect',
          async () => {
            const out = await inPod(listServices(foo));
            return /"kind":\s*"ServiceList"/.test(out) && out;
          },
          30_000,
          500,
        );
        assert.match(allowed, /code=200/);
        assert.match(await inPod(listServices(bar)), /code=403/);
        await k.ok([
          '-n',
          bar,
          'create',
          'rolebinding',
          'test',
          '--role=service-reader',
          `--serviceaccount=${foo}:default`,
        ]);
        await eventually(
          'the binding in bar to take effect',
          async () => /"kind":\s*"ServiceList"/.test(await inPod(listServices(bar))),
          30_000,
          500,
        );
      });
    });
  }
});
