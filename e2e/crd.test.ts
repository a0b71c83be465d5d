/**
 * CustomResourceDefinitions with real kubectl 1.27 and 1.33 against `berth up --nodes 0`: a CronTab CRD
 * with a schema, short name, categories, printer columns and the status and scale subresources; its
 * instances validated, pruned, listed with their columns, explained, scaled and patched; and deleting
 * the CRD deletes them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest, startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: The desired schedule of the CronTab.
              required: [cronSpec]
              properties:
                cronSpec:
                  type: string
                  description: A cron expression for the schedule.
                  pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
                image:
                  type: string
                replicas:
                  type: integer
                  minimum: 1
                  maximum: 10
                  default: 1
            status:
              type: object
              properties:
                replicas:
                  type: integer
                labelSelector:
                  type: string
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
        - name: Spec
          type: string
          jsonPath: .spec.cronSpec
        - name: Replicas
          type: integer
          jsonPath: .spec.replicas
        - name: Image
          type: string
          priority: 1
          jsonPath: .spec.image
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
`;

const cronTab = (name: string, spec: string): string => `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
${spec}`;

let berth: BerthProcess;
let work: string;

before(async () => {
  berth = await startBerth();
  work = mkdtempSync(join(tmpdir(), 'berth-e2e-crd-'));
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `crd-${version.replace('.', '')}`;
    const n = ['-n', ns];

    const applyCRD = async (): Promise<string> => {
      const out = await k.ok(['apply', '-f', '-'], { input: CRD });
      await k.ok([
        'wait',
        '--for',
        'condition=Established',
        '--timeout=20s',
        'crd/crontabs.stable.example.com',
      ]);
      return out;
    };

    before(async () => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
      await k.ok(['create', 'ns', ns]);
    });

    it('applies the CRD; it becomes Established and is listed', async () => {
      assert.equal(
        (await applyCRD()).trim(),
        'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created',
      );
      assert.match(
        await k.ok(['get', 'crd']),
        /^NAME\s+CREATED AT\ncrontabs\.stable\.example\.com\s+\d{4}-\d\d-\d\dT/,
      );
      assert.match(
        await k.ok(['api-resources']),
        /^crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab$/m,
      );
      const groups = JSON.parse(await k.ok(['get', '--raw', '/apis/stable.example.com'])) as {
        preferredVersion: { groupVersion: string };
      };
      assert.equal(groups.preferredVersion.groupVersion, 'stable.example.com/v1');
    });

    it('creates instances and shows the printer columns', async () => {
      assert.equal(
        (
          await k.ok(['apply', ...n, '-f', '-'], {
            input: cronTab('my-cron', '  cronSpec: "* * * * */5"\n  image: my-cron-image\n'),
          })
        ).trim(),
        'crontab.stable.example.com/my-cron created',
      );
      const out = await k.ok(['get', 'ct', ...n]);
      assert.match(out, /^NAME\s+SPEC\s+REPLICAS\s+AGE\nmy-cron\s+\* \* \* \* \*\/5\s+1\s+\d+s\n$/);
      assert.match(
        await k.ok(['get', 'crontabs', ...n, '-o', 'wide']),
        /^NAME\s+SPEC\s+REPLICAS\s+IMAGE\s+AGE\nmy-cron\s+.*\s+1\s+my-cron-image\s+\d+s/,
      );
      assert.match(await k.ok(['get', 'all', ...n]), /^crontab\.stable\.example\.com\/my-cron\s+/m);
      const obj = JSON.parse(await k.ok(['get', 'crontab', 'my-cron', ...n, '-o', 'json'])) as {
        metadata: { generation: number };
        spec: { replicas: number };
      };
      assert.equal(obj.spec.replicas, 1, 'defaulted from the schema');
      assert.equal(obj.metadata.generation, 1);
    });

    it('refuses a schema violation with the upstream message', async () => {
      const r = await k.run(['apply', ...n, '-f', '-'], {
        input: cronTab('bad', '  cronSpec: "* * * * */5"\n  replicas: "three"\n'),
      });
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /The CronTab "bad" is invalid: spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer: "string"/,
      );
      const p = await k.run(['apply', ...n, '-f', '-'], {
        input: cronTab('bad', '  cronSpec: "every minute"\n'),
      });
      assert.match(
        p.stderr,
        /spec\.cronSpec: Invalid value: "every minute": spec\.cronSpec in body should match/,
      );
      const m = await k.run(['apply', ...n, '-f', '-'], { input: cronTab('bad', '  image: x\n') });
      assert.match(m.stderr, /The CronTab "bad" is invalid: spec\.cronSpec: Required value/);
    });

    it('prunes unknown fields: an error under strict validation, a warning under warn', async () => {
      const input = cronTab('extra', '  cronSpec: "* * * * */5"\n  colour: blue\n');
      const strict = await k.run(['create', ...n, '-f', '-'], { input });
      assert.notEqual(strict.code, 0);
      assert.match(
        strict.stderr,
        /CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec\.colour"/,
      );
      const warn = await k.run(['create', ...n, '--validate=warn', '-f', '-'], { input });
      assert.equal(warn.code, 0, warn.stderr);
      assert.match(warn.stderr, /Warning: unknown field "spec\.colour"/);
      assert.equal(
        await k.ok(['get', 'ct', 'extra', ...n, '-o', 'jsonpath={.spec}']),
        '{"cronSpec":"* * * * */5","replicas":1}',
      );
    });

    it('explains the custom resource from its schema', async () => {
      const out = await k.ok(['explain', 'crontab.spec']);
      assert.match(out, /KIND:\s+CronTab/);
      assert.match(out, /The desired schedule of the CronTab\./);
      assert.match(out, /cronSpec\s+<string>\s+-required-\n\s+A cron expression for the schedule\./);
      assert.match(out, /replicas\s+<integer>/);
    });

    it('scales through the scale subresource and patches with merge and JSON patches', async () => {
      assert.equal(
        (await k.ok(['scale', 'ct', 'my-cron', ...n, '--replicas=3'])).trim(),
        'crontab.stable.example.com/my-cron scaled',
      );
      assert.equal(
        await k.ok(['get', 'ct', 'my-cron', ...n, '-o', 'jsonpath={.spec.replicas} {.metadata.generation}']),
        '3 2',
      );
      assert.equal(
        (
          await k.ok(['patch', 'ct', 'my-cron', ...n, '--type', 'merge', '-p', '{"spec":{"image":"v2"}}'])
        ).trim(),
        'crontab.stable.example.com/my-cron patched',
      );
      await k.ok([
        'patch',
        'ct',
        'my-cron',
        ...n,
        '--type',
        'json',
        '-p',
        '[{"op":"replace","path":"/spec/replicas","value":4}]',
      ]);
      assert.equal(
        await k.ok(['get', 'ct', 'my-cron', ...n, '-o', 'jsonpath={.spec.image} {.spec.replicas}']),
        'v2 4',
      );
      // Status is written through its subresource only.
      await k.ok(['patch', 'ct', 'my-cron', ...n, '--type', 'merge', '-p', '{"status":{"replicas":9}}']);
      assert.equal(await k.ok(['get', 'ct', 'my-cron', ...n, '-o', 'jsonpath={.status}']), '');
      const smp = await k.run(['patch', 'ct', 'my-cron', ...n, '-p', '{"spec":{"image":"v3"}}']);
      assert.notEqual(smp.code, 0);
      assert.match(
        smp.stderr,
        /application\/strategic-merge-patch\+json is not supported by stable\.example\.com\/v1, Kind=CronTab/,
      );
    });

    it('deleting the CRD deletes its instances', async () => {
      assert.equal(
        (await k.ok(['delete', 'crd', 'crontabs.stable.example.com'], { timeoutMs: 30_000 })).trim(),
        'customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted',
      );
      assert.match((await k.run(['get', 'crd'])).stderr, /No resources found/);
      const r = await adminRequest(berth, 'GET', `/apis/stable.example.com/v1/namespaces/${ns}/crontabs`);
      assert.equal(r.status, 404);
      assert.doesNotMatch(await k.ok(['api-resources']), /crontabs/);
      // Defined again: none of the old instances survived.
      await applyCRD();
      assert.match((await k.run(['get', 'crontabs', '-A'])).stderr, /No resources found/);
      await k.ok(['delete', 'crd', 'crontabs.stable.example.com'], { timeoutMs: 30_000 });
    });
  });
}
