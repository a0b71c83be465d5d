/**
 * Pod Security Admission through real kubectl 1.27 and 1.33 against `berth up --driver simulated
 * --nodes 1`: a namespace labelled enforce=baseline + warn=restricted refuses a privileged pod with
 * upstream's message, admits a plain pod with kubectl's `Warning: would violate PodSecurity …`, admits a
 * fully restricted pod silently, accepts a Deployment with a privileged template (a warning) whose
 * ReplicaSet then reports FailedCreate, warns about existing pods when the enforce label gets stricter,
 * and refuses an invalid level.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';

let berth: BerthProcess;

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '1'] });
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

const pod = (name: string, securityContext?: Record<string, unknown>): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: [
        { name: 'c', image: 'registry.berth.test/app:1', ...(securityContext ? { securityContext } : {}) },
      ],
    },
  });

const RESTRICTED_PLAIN =
  'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
  'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
  'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
  'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';
const PRIVILEGED = 'privileged (container "c" must not set securityContext.privileged=true)';

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `psa-${version.replace('.', '')}`;
    const n = ['-n', ns];

    before(() => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
    });

    it('labels a namespace enforce=baseline, warn=restricted', async () => {
      await k.ok(['create', 'ns', ns]);
      const r = await k.run([
        'label',
        'ns',
        ns,
        'pod-security.kubernetes.io/enforce=baseline',
        'pod-security.kubernetes.io/warn=restricted',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `namespace/${ns} labeled`);
      assert.equal(r.stderr, '');
      await eventually('default service account', () => k.ok(['get', ...n, 'sa', 'default']));
    });

    it('refuses a privileged pod with the exact message', async () => {
      const r = await k.run(['create', ...n, '-f', '-'], { input: pod('priv', { privileged: true }) });
      assert.notEqual(r.code, 0);
      assert.equal(
        r.stderr.trim(),
        `Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "baseline:latest": ${PRIVILEGED}`,
      );
    });

    it('admits a plain pod with the restricted warning', async () => {
      const r = await k.run(['create', ...n, '-f', '-'], { input: pod('plain') });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'pod/plain created');
      assert.equal(
        r.stderr.trim(),
        `Warning: would violate PodSecurity "restricted:latest": ${RESTRICTED_PLAIN}`,
      );
    });

    it('admits a fully restricted pod silently', async () => {
      const r = await k.run(['create', ...n, '-f', '-'], {
        input: pod('locked', {
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          runAsUser: 1000,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        }),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'pod/locked created');
      assert.equal(r.stderr, '');
    });

    it('accepts a privileged Deployment with a warning; its ReplicaSet reports FailedCreate', async () => {
      const deployment = JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'priv-web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'priv-web' } },
          template: {
            metadata: { labels: { app: 'priv-web' } },
            spec: {
              containers: [
                { name: 'c', image: 'registry.berth.test/app:1', securityContext: { privileged: true } },
              ],
            },
          },
        },
      });
      const r = await k.run(['apply', ...n, '-f', '-'], { input: deployment });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'deployment.apps/priv-web created');
      assert.equal(
        r.stderr.trim(),
        `Warning: would violate PodSecurity "restricted:latest": ${PRIVILEGED}, ${RESTRICTED_PLAIN}`,
      );
      const message = await eventually('FailedCreate event', async () => {
        const out = await k.ok([
          'get',
          ...n,
          'events',
          '--field-selector',
          'reason=FailedCreate,involvedObject.kind=ReplicaSet',
          '-o',
          'jsonpath={.items[0].message}',
        ]);
        return out.trim();
      });
      assert.match(
        message,
        /^Error creating: pods "priv-web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "baseline:latest": /,
      );
      assert.ok(message.endsWith(`: ${PRIVILEGED}`), message);
      const condition = await eventually('ReplicaFailure condition', async () =>
        (
          await k.ok([
            'get',
            ...n,
            'rs',
            '-l',
            'app=priv-web',
            '-o',
            'jsonpath={.items[0].status.conditions[?(@.type=="ReplicaFailure")].reason}',
          ])
        ).trim(),
      );
      assert.equal(condition, 'FailedCreate');
      assert.equal((await k.ok(['get', ...n, 'pods', '-l', 'app=priv-web', '-o', 'name'])).trim(), '');
    });

    it('warns about existing pods when the enforce level gets stricter', async () => {
      const r = await k.run([
        'label',
        '--overwrite',
        'ns',
        ns,
        'pod-security.kubernetes.io/enforce=restricted',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `namespace/${ns} labeled`);
      assert.deepEqual(r.stderr.trim().split('\n'), [
        `Warning: existing pods in namespace "${ns}" violate the new PodSecurity enforce level "restricted:latest"`,
        'Warning: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
      ]);
      const refused = await k.run(['create', ...n, '-f', '-'], { input: pod('plain2') });
      assert.notEqual(refused.code, 0);
      assert.equal(
        refused.stderr.trim(),
        `Error from server (Forbidden): error when creating "STDIN": pods "plain2" is forbidden: violates PodSecurity "restricted:latest": ${RESTRICTED_PLAIN}`,
      );
    });

    it('refuses an invalid level', async () => {
      const r = await k.run(['label', '--overwrite', 'ns', ns, 'pod-security.kubernetes.io/enforce=strict']);
      assert.notEqual(r.code, 0);
      assert.equal(
        r.stderr.trim(),
        `The Namespace "${ns}" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`,
      );
      assert.equal(
        (
          await k.ok([
            'get',
            'ns',
            ns,
            '-o',
            'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}',
          ])
        ).trim(),
        'restricted',
      );
    });
  });
}
