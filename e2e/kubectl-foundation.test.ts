/**
 * Issue "Foundation": real kubectl 1.27 and 1.33 against `berth up --nodes 0`.
 * Every command of the Done-when list, with the output a Kubernetes user expects.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';

const fixture = fileURLToPath(new URL('./fixtures/app.yaml', import.meta.url));

let berth: BerthProcess;
let work: string;

before(async () => {
  berth = await startBerth();
  work = mkdtempSync(join(tmpdir(), 'berth-e2e-work-'));
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
    const ns = `e2e-${version.replace('.', '')}`;
    const n = ['-n', ns];

    before(() => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
    });

    it('lists API resources', async () => {
      const out = await k.ok(['api-resources']);
      for (const line of [
        /^pods\s+po\s+v1\s+true\s+Pod$/m,
        /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m,
        /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m,
        /^roles\s+rbac.authorization.k8s.io\/v1\s+true\s+Role$/m,
      ])
        assert.match(out, line);
    });

    it('creates a namespace', async () => {
      assert.equal((await k.ok(['create', 'ns', ns])).trim(), `namespace/${ns} created`);
      const err = await k.run(['create', 'ns', ns]);
      assert.notEqual(err.code, 0);
      assert.match(
        err.stderr,
        new RegExp(`Error from server \\(AlreadyExists\\): namespaces "${ns}" already exists`),
      );
    });

    it('applies a multi-document file, again unchanged, then modified', async () => {
      const out = await k.ok(['apply', ...n, '-f', fixture]);
      assert.deepEqual(out.trim().split('\n'), [
        'deployment.apps/web created',
        'service/web created',
        'configmap/web-config created',
        'secret/web-secret created',
        'role.rbac.authorization.k8s.io/web-reader created',
        'rolebinding.rbac.authorization.k8s.io/web-reader created',
      ]);
      const again = await k.ok(['apply', ...n, '-f', fixture]);
      assert.deepEqual(again.trim().split('\n'), [
        'deployment.apps/web unchanged',
        'service/web unchanged',
        'configmap/web-config unchanged',
        // As on any cluster: stringData is folded into data server-side, so kubectl always sees a change
        // (kubernetes/kubernetes#87736).
        'secret/web-secret configured',
        'role.rbac.authorization.k8s.io/web-reader unchanged',
        'rolebinding.rbac.authorization.k8s.io/web-reader unchanged',
      ]);
      const modified = join(work, `modified-${version}.yaml`);
      writeFileSync(
        modified,
        readFileSync(fixture, 'utf8')
          .replace('replicas: 2', 'replicas: 3')
          .replace('greeting: hello', 'greeting: bonjour')
          .replace('value: blue', 'value: green'),
      );
      const mod = await k.ok(['apply', ...n, '-f', modified]);
      assert.match(mod, /deployment.apps\/web configured/);
      assert.match(mod, /configmap\/web-config configured/);
      assert.match(mod, /service\/web unchanged/);
      assert.equal(
        (await k.ok(['get', ...n, 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).trim(),
        '3',
      );
      assert.equal(
        (await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'jsonpath={.data.greeting}'])).trim(),
        'bonjour',
      );
      assert.equal(
        (
          await k.ok([
            'get',
            ...n,
            'deploy',
            'web',
            '-o',
            'jsonpath={.spec.template.spec.containers[0].env[0].value}',
          ])
        ).trim(),
        'green',
      );
      // The secret's stringData was folded into base64 data.
      assert.equal(
        Buffer.from(
          (await k.ok(['get', ...n, 'secret', 'web-secret', '-o', 'jsonpath={.data.password}'])).trim(),
          'base64',
        ).toString(),
        's3cret',
      );
    });

    it('diffs live objects against a file', async () => {
      const same = await k.run(['diff', ...n, '-f', join(work, `modified-${version}.yaml`)]);
      assert.equal(same.code, 0, same.stderr);
      const changed = join(work, `diff-${version}.yaml`);
      writeFileSync(
        changed,
        readFileSync(join(work, `modified-${version}.yaml`), 'utf8').replace(
          'greeting: bonjour',
          'greeting: hola',
        ),
      );
      const d = await k.run(['diff', ...n, '-f', changed]);
      assert.equal(d.code, 1, d.stderr);
      assert.match(d.stdout, /-\s+greeting: bonjour/);
      assert.match(d.stdout, /\+\s+greeting: hola/);
      // Nothing was changed by diff (server-side dry run).
      assert.equal(
        (await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'jsonpath={.data.greeting}'])).trim(),
        'bonjour',
      );
    });

    it('applies server-side with managed fields and conflicts', async () => {
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n`;
      const out = await k.ok(['apply', ...n, '--server-side', '-f', '-'], { input: cm });
      assert.equal(out.trim(), 'configmap/ssa serverside-applied');
      const mf = JSON.parse(
        await k.ok(['get', ...n, 'cm', 'ssa', '-o', 'json', '--show-managed-fields']),
      ) as {
        metadata: { managedFields: { manager: string; operation: string; fieldsV1: object }[] };
      };
      assert.ok(mf.metadata.managedFields.some((f) => f.manager === 'kubectl' && f.operation === 'Apply'));
      // Another manager applying a different value for the same field conflicts…
      const conflict = await k.run(['apply', ...n, '--server-side', '--field-manager=other', '-f', '-'], {
        input: cm.replace('"1"', '"2"'),
      });
      assert.notEqual(conflict.code, 0);
      assert.match(conflict.stderr, /conflict/i);
      assert.match(conflict.stderr, /\.data\.a/);
      // …unless forced.
      await k.ok(['apply', ...n, '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], {
        input: cm.replace('"1"', '"2"'),
      });
      assert.equal((await k.ok(['get', ...n, 'cm', 'ssa', '-o', 'jsonpath={.data.a}'])).trim(), '2');
      // Server-side apply on the client-side-applied deployment works too.
      const ss = await k.ok([
        'apply',
        ...n,
        '--server-side',
        '--force-conflicts',
        '-f',
        join(work, `modified-${version}.yaml`),
      ]);
      assert.match(ss, /deployment.apps\/web serverside-applied/);
    });

    it('gets in every output format', async () => {
      const table = await k.ok(['get', ...n, 'deploy']);
      assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
      assert.match(table, /^web\s+0\/3\s+\d+\s+0\s+\d+s$/m);
      const wide = await k.ok(['get', ...n, 'deploy', '-o', 'wide']);
      assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
      assert.match(wide, /web\s+berth-test\/http:1\s+app=web/);
      const y = await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'yaml']);
      assert.match(y, /^kind: ConfigMap$/m);
      assert.match(y, /^ {2}resourceVersion: "\d+"$/m);
      const j = JSON.parse(await k.ok(['get', ...n, 'svc', 'web', '-o', 'json'])) as {
        spec: { clusterIP: string; ports: { targetPort: number; protocol: string }[]; type: string };
      };
      assert.match(j.spec.clusterIP, /^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
      assert.equal(j.spec.type, 'ClusterIP');
      assert.equal(j.spec.ports[0]?.protocol, 'TCP');
      assert.equal(
        (await k.ok(['get', ...n, 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort}'])).trim(),
        '8080',
      );
      const cc = await k.ok([
        'get',
        ...n,
        'cm',
        '-o',
        'custom-columns=NAME:.metadata.name,GREETING:.data.greeting',
      ]);
      assert.match(cc, /^NAME\s+GREETING$/m);
      assert.match(cc, /^web-config\s+bonjour$/m);
      const svc = await k.ok(['get', ...n, 'svc']);
      assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
      assert.match(svc, /^web\s+ClusterIP\s+10\.\S+\s+<none>\s+80\/TCP\s+\d+s$/m);
    });

    it('shows labels, label columns, all namespaces and sorting', async () => {
      for (const [name, tier] of [
        ['c-b', 'back'],
        ['c-a', 'front'],
        ['c-c', 'none'],
      ] as const) {
        await k.ok(['create', ...n, 'configmap', name, `--from-literal=k=${name}`]);
        if (tier !== 'none') await k.ok(['label', ...n, 'cm', name, `tier=${tier}`, 'group=c']);
      }
      const sl = await k.ok(['get', ...n, 'cm', 'c-a', '--show-labels']);
      assert.match(sl, /^NAME\s+DATA\s+AGE\s+LABELS$/m);
      assert.match(sl, /^c-a\s+1\s+\S+\s+group=c,tier=front$/m);
      const L = await k.ok(['get', ...n, 'cm', '-L', 'tier']);
      assert.match(L, /^NAME\s+DATA\s+AGE\s+TIER$/m);
      assert.match(L, /^c-b\s+1\s+\S+\s+back$/m);
      const all = await k.ok(['get', 'cm', '-A']);
      assert.match(all, /^NAMESPACE\s+NAME\s+DATA\s+AGE$/m);
      assert.match(all, new RegExp(`^${ns}\\s+c-a\\s+1\\s+`, 'm'));
      const sorted = await k.ok([
        'get',
        ...n,
        'cm',
        '-l',
        'group=c',
        '--sort-by=.metadata.labels.tier',
        '-o',
        'name',
      ]);
      assert.deepEqual(sorted.trim().split('\n'), ['configmap/c-b', 'configmap/c-a']);
      const names = async (sel: string) =>
        (await k.ok(['get', ...n, 'cm', '-l', sel, '-o', 'name'])).trim().split('\n').filter(Boolean).sort();
      assert.deepEqual(await names('tier=front'), ['configmap/c-a']);
      assert.deepEqual(await names('tier!=front,group=c'), ['configmap/c-b']);
      assert.deepEqual(await names('tier in (front,back)'), ['configmap/c-a', 'configmap/c-b']);
      assert.deepEqual(await names('tier notin (front),group'), ['configmap/c-b']);
      assert.deepEqual(await names('tier'), ['configmap/c-a', 'configmap/c-b']);
      assert.deepEqual(await names('!tier,app'), ['configmap/web-config']);
    });

    it('watches and prints later changes', async () => {
      const w = k.spawn(['get', ...n, 'cm', '-w', '-l', 'watch=yes']);
      try {
        await waitFor(() => /No resources found|NAME/.test(w.output()) || w.output() === '', 2000).catch(
          () => undefined,
        );
        await delay(500);
        await k.ok(['create', ...n, 'configmap', 'watched', '--from-literal=a=b']);
        await k.ok(['label', ...n, 'cm', 'watched', 'watch=yes']);
        await k.ok(['patch', ...n, 'cm', 'watched', '-p', '{"data":{"c":"d"}}']);
        await waitFor(() => (w.output().match(/^watched\s+2\s+/gm) ?? []).length >= 1, 10_000);
        assert.match(w.output(), /^watched\s+1\s+\S+$/m);
        assert.match(w.output(), /^watched\s+2\s+\S+$/m);
      } finally {
        w.child.kill();
      }
    });

    it('labels, annotates and patches with all three patch types', async () => {
      assert.equal(
        (await k.ok(['label', ...n, 'cm', 'web-config', 'color=red'])).trim(),
        'configmap/web-config labeled',
      );
      const again = await k.run(['label', ...n, 'cm', 'web-config', 'color=blue']);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /'color' already has a value \(red\), and --overwrite is false/);
      await k.ok(['label', ...n, 'cm', 'web-config', 'color=blue', '--overwrite']);
      await k.ok(['annotate', ...n, 'cm', 'web-config', 'note=first']);
      await k.ok(['annotate', ...n, 'cm', 'web-config', 'note=second', '--overwrite']);
      const cm = JSON.parse(await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'json'])) as {
        metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      };
      assert.equal(cm.metadata.labels['color'], 'blue');
      assert.equal(cm.metadata.annotations['note'], 'second');
      await k.ok(['label', ...n, 'cm', 'web-config', 'color-']);
      assert.equal(
        (await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'jsonpath={.metadata.labels.color}'])).trim(),
        '',
      );

      // strategic merge: containers merge by name, so the image changes and env stays.
      await k.ok([
        'patch',
        ...n,
        'deploy',
        'web',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"berth-test/http:2"}]}}}}',
      ]);
      const d = JSON.parse(await k.ok(['get', ...n, 'deploy', 'web', '-o', 'json'])) as {
        spec: { template: { spec: { containers: { image: string; env: unknown[] }[] } } };
      };
      assert.equal(d.spec.template.spec.containers.length, 1);
      assert.equal(d.spec.template.spec.containers[0]?.image, 'berth-test/http:2');
      assert.equal(d.spec.template.spec.containers[0]?.env.length, 1);
      // merge patch replaces lists whole and deletes with null.
      await k.ok([
        'patch',
        ...n,
        'cm',
        'web-config',
        '--type=merge',
        '-p',
        '{"data":{"greeting":null,"x":"y"}}',
      ]);
      assert.equal(
        (await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'jsonpath={.data}'])).trim(),
        '{"x":"y"}',
      );
      // JSON patch, including a failing test op.
      await k.ok([
        'patch',
        ...n,
        'cm',
        'web-config',
        '--type=json',
        '-p',
        '[{"op":"add","path":"/data/z","value":"1"},{"op":"remove","path":"/data/x"}]',
      ]);
      assert.equal(
        (await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'jsonpath={.data}'])).trim(),
        '{"z":"1"}',
      );
      const bad = await k.run([
        'patch',
        ...n,
        'cm',
        'web-config',
        '--type=json',
        '-p',
        '[{"op":"test","path":"/data/z","value":"2"}]',
      ]);
      assert.notEqual(bad.code, 0);
    });

    it('edits with $EDITOR, replaces and scales', async () => {
      const editor = join(work, `editor-${version}.sh`);
      writeFileSync(editor, '#!/bin/sh\nsed -i "s/^  z: \\"1\\"/  z: \\"edited\\"/" "$1"\n');
      chmodSync(editor, 0o755);
      const e = await k.ok(['edit', ...n, 'cm', 'web-config'], {
        env: { EDITOR: editor, KUBE_EDITOR: editor },
      });
      assert.match(e, /configmap\/web-config edited/);
      assert.equal(
        (await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'jsonpath={.data.z}'])).trim(),
        'edited',
      );

      const live = JSON.parse(await k.ok(['get', ...n, 'cm', 'web-config', '-o', 'json'])) as {
        data: Record<string, string>;
        metadata: { resourceVersion: string };
      };
      live.data['r'] = 'replaced';
      const file = join(work, `replace-${version}.json`);
      writeFileSync(file, JSON.stringify(live));
      assert.match(await k.ok(['replace', ...n, '-f', file]), /configmap\/web-config replaced/);
      // The same (now stale) resourceVersion conflicts.
      const stale = await k.run(['replace', ...n, '-f', file]);
      assert.notEqual(stale.code, 0);
      assert.match(
        stale.stderr,
        /Error from server \(Conflict\): error when replacing ".*": Operation cannot be fulfilled on configmaps "web-config": the object has been modified; please apply your changes to the latest version and try again/,
      );

      assert.match(
        await k.ok(['scale', ...n, 'deploy', 'web', '--replicas=5']),
        /deployment.apps\/web scaled/,
      );
      assert.equal(
        (await k.ok(['get', ...n, 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).trim(),
        '5',
      );
      const sc = JSON.parse(
        await k.ok(['get', '--raw', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`]),
      ) as { kind: string; spec: { replicas: number }; status: { selector: string } };
      assert.equal(sc.kind, 'Scale');
      assert.equal(sc.spec.replicas, 5);
      assert.equal(sc.status.selector, 'app=web');
    });

    it('creates objects with the generators (protobuf bodies on 1.33)', async () => {
      const gen: [string[], string][] = [
        [['create', 'configmap', 'gen-cm', '--from-literal=a=1'], 'configmap/gen-cm created'],
        [['create', 'secret', 'generic', 'gen-secret', '--from-literal=p=q'], 'secret/gen-secret created'],
        [
          ['create', 'deployment', 'gen-deploy', '--image=berth-test/http:1', '--replicas=2', '--port=8080'],
          'deployment.apps/gen-deploy created',
        ],
        [['create', 'serviceaccount', 'gen-sa'], 'serviceaccount/gen-sa created'],
        [
          ['create', 'role', 'gen-role', '--verb=get', '--verb=list', '--resource=pods'],
          'role.rbac.authorization.k8s.io/gen-role created',
        ],
        [
          [
            'create',
            'rolebinding',
            'gen-rb',
            '--role=gen-role',
            '--user=bob',
            '--serviceaccount',
            `${ns}:gen-sa`,
          ],
          'rolebinding.rbac.authorization.k8s.io/gen-rb created',
        ],
      ];
      for (const [args, want] of gen) assert.equal((await k.ok([...args, ...n])).trim(), want);
      assert.equal((await k.ok(['create', 'namespace', `${ns}-gen`])).trim(), `namespace/${ns}-gen created`);
      const dep = JSON.parse(await k.ok(['get', ...n, 'deploy', 'gen-deploy', '-o', 'json'])) as {
        spec: {
          replicas: number;
          selector: { matchLabels: Record<string, string> };
          template: { spec: { containers: { image: string; ports: { containerPort: number }[] }[] } };
        };
      };
      assert.equal(dep.spec.replicas, 2);
      assert.deepEqual(dep.spec.selector.matchLabels, { app: 'gen-deploy' });
      assert.equal(dep.spec.template.spec.containers[0]?.ports[0]?.containerPort, 8080);
      const role = JSON.parse(await k.ok(['get', ...n, 'role', 'gen-role', '-o', 'json'])) as {
        rules: { verbs: string[]; resources: string[] }[];
      };
      assert.deepEqual(role.rules[0]?.verbs, ['get', 'list']);
      const rb = await k.ok(['get', ...n, 'rolebinding', 'gen-rb', '-o', 'wide']);
      assert.match(rb, /gen-rb\s+Role\/gen-role\s+\S+\s+bob\s+\S*\s+e2e-\d+\/gen-sa/);
      assert.equal(
        Buffer.from(
          (await k.ok(['get', ...n, 'secret', 'gen-secret', '-o', 'jsonpath={.data.p}'])).trim(),
          'base64',
        ).toString(),
        'q',
      );
    });

    it('explains fields from the OpenAPI schema', async () => {
      const out = await k.ok(['explain', 'pod.spec.containers']);
      assert.match(out, /KIND:\s+Pod/);
      assert.match(out, /FIELD:\s+containers/);
      assert.match(out, /image\s/);
      assert.match(out, /name\s.*-required-|name\s+<string> -required-/);
    });

    it('tells who am I', async () => {
      const out = await k.ok(['auth', 'whoami']);
      assert.match(out, /Username\s+berth-admin/);
      assert.match(out, /Groups\s+\[berth:cluster-admins system:authenticated\]/);
    });

    it('runs server-side dry runs without persisting', async () => {
      const out = await k.ok([
        'create',
        ...n,
        'configmap',
        'dry',
        '--from-literal=a=b',
        '--dry-run=server',
        '-o',
        'json',
      ]);
      const obj = JSON.parse(out) as { metadata: { name: string; uid: string } };
      assert.equal(obj.metadata.name, 'dry');
      const get = await k.run(['get', ...n, 'cm', 'dry']);
      assert.notEqual(get.code, 0);
      assert.match(get.stderr, /Error from server \(NotFound\): configmaps "dry" not found/);
      await k.ok(['delete', ...n, 'cm', 'web-config', '--dry-run=server']);
      await k.ok(['get', ...n, 'cm', 'web-config']);
    });

    it('prints Kubernetes errors: NotFound, AlreadyExists, Invalid with causes', async () => {
      const nf = await k.run(['get', ...n, 'deploy', 'nope']);
      assert.match(nf.stderr, /Error from server \(NotFound\): deployments.apps "nope" not found/);
      const ae = await k.run(['create', ...n, 'configmap', 'gen-cm']);
      assert.match(
        ae.stderr,
        /error: failed to create configmap: configmaps "gen-cm" already exists|Error from server \(AlreadyExists\): configmaps "gen-cm" already exists/,
      );
      const invalid = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  labels:\n    "-x": "y"\n`;
      const inv = await k.run(['apply', ...n, '-f', '-'], { input: invalid });
      assert.notEqual(inv.code, 0);
      assert.match(inv.stderr, /The ConfigMap "Bad_Name" is invalid: /);
      assert.match(
        inv.stderr,
        /\* metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/,
      );
      assert.match(inv.stderr, /metadata.labels: Invalid value: "-x"/);
      const badDeploy = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  selector:\n    matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: b}\n    spec:\n      containers: [{name: c, image: x}]\n`;
      const bd = await k.run(['apply', ...n, '-f', '-'], { input: badDeploy });
      assert.match(
        bd.stderr,
        /The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"b"\}: `selector` does not match template `labels`/,
      );
      const unknown = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\nspecial: 1\n`;
      const st = await k.run(['apply', ...n, '-f', '-', '--validate=strict'], { input: unknown });
      assert.notEqual(st.code, 0);
      assert.match(st.stderr, /unknown field "special"/);
    });

    it('deletes and returns once the object is gone', async () => {
      assert.equal((await k.ok(['delete', ...n, 'cm', 'gen-cm'])).trim(), 'configmap "gen-cm" deleted');
      assert.match((await k.run(['get', ...n, 'cm', 'gen-cm'])).stderr, /NotFound/);
      const out = await k.ok(['delete', 'ns', `${ns}-gen`], { timeoutMs: 60_000 });
      assert.equal(out.trim(), `namespace "${ns}-gen" deleted`);
      assert.match((await k.run(['get', 'ns', `${ns}-gen`])).stderr, /NotFound/);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await delay(100);
  }
}
