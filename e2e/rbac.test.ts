/**
 * Issue 7 (RBAC) with real kubectl 1.27 and 1.33 against `berth up --nodes 0`: the seed scenario through
 * --as=system:serviceaccount:foo:default, a table of `kubectl auth can-i` cases (e2e/rbac-cases.ts),
 * `can-i --list`, escalation prevention with `bind`, and `berth user create|revoke`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { CAN_I_CASES, type CanICase } from './rbac-cases.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const policy = readFileSync(fileURLToPath(new URL('./fixtures/rbac-policy.yaml', import.meta.url)), 'utf8');

let b: BerthProcess;
before(async () => {
  b = await startBerth();
});
after(async () => {
  await b?.stop();
  b?.cleanup();
});

function berthCli(...args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'berth.mjs'), ...args, '--data-dir', b.dataDir], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, HOME: b.home },
  });
  assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const asArgs = (c: { user: string; groups: string[] }): string[] => [
  `--as=${c.user}`,
  ...c.groups.map((g) => `--as-group=${g}`),
];

/** GET without credentials (system:anonymous, group system:unauthenticated). */
function anonymousGet(path: string): Promise<{ status: number; body: string }> {
  const u = new URL(path, b.url);
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          ca: readFileSync(join(b.dataDir, 'pki', 'ca.crt')),
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      )
      .on('error', reject);
  });
}

it('anonymous requests get only what system:public-info-viewer grants', async () => {
  assert.equal((await anonymousGet('/version')).status, 200);
  assert.equal((await anonymousGet('/healthz')).status, 200);
  const api = await anonymousGet('/api');
  assert.equal(api.status, 403);
  assert.match(api.body, /forbidden: User \\"system:anonymous\\" cannot get path \\"\/api\\"/);
  const pods = await anonymousGet('/api/v1/namespaces/default/pods');
  assert.equal(pods.status, 403);
  assert.match(
    pods.body,
    /User \\"system:anonymous\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"default\\"/,
  );
});

for (const version of E2E_VERSIONS) {
  describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
    let k: KubectlRunner;
    const v = version.replace('.', '');
    before(async () => {
      k = kubectlRunner(version, b.kubeconfig, b.home);
      await k.ok(['apply', '-f', '-'], { input: policy });
    });

    it('seed: a service account reads services only where a binding allows it', async () => {
      const sa = ['--as=system:serviceaccount:foo:default'];
      const bindTest = (ns: string) =>
        k.ok([
          'create',
          'rolebinding',
          'test',
          '--role=service-reader',
          '--serviceaccount=foo:default',
          '-n',
          ns,
        ]);
      for (const ns of ['foo', 'bar'])
        await k.ok(['delete', 'rolebinding', 'test', '-n', ns, '--ignore-not-found']);
      const denied = await k.run([...sa, 'get', 'services', '-n', 'foo']);
      assert.notEqual(denied.code, 0, `${denied.stdout}${denied.stderr}`);
      assert.match(
        denied.stderr,
        /Error from server \(Forbidden\): services is forbidden: User "system:serviceaccount:foo:default" cannot list resource "services" in API group "" in the namespace "foo"/,
      );
      await bindTest('foo');
      const listed = await k.run([...sa, 'get', 'services', '-n', 'foo']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout + listed.stderr, /No resources found in foo namespace/);
      assert.equal((await k.ok([...sa, 'auth', 'can-i', 'list', 'services', '-n', 'foo'])).trim(), 'yes');
      assert.equal(
        (await k.run([...sa, 'auth', 'can-i', 'list', 'services', '-n', 'bar'])).stdout.trim(),
        'no',
      );
      assert.notEqual((await k.run([...sa, 'get', 'services', '-n', 'bar'])).code, 0);
      await bindTest('bar');
      assert.equal((await k.ok([...sa, 'auth', 'can-i', 'list', 'services', '-n', 'bar'])).trim(), 'yes');
      assert.equal(
        (await k.run([...sa, 'auth', 'can-i', 'create', 'services', '-n', 'foo'])).stdout.trim(),
        'no',
      );
      assert.equal((await k.run([...sa, 'auth', 'can-i', 'list', 'pods', '-n', 'foo'])).stdout.trim(), 'no');
      await k.ok(['delete', 'rolebinding', 'test', '-n', 'foo']);
      await k.ok(['delete', 'rolebinding', 'test', '-n', 'bar']);
      assert.equal(
        (await k.run([...sa, 'auth', 'can-i', 'list', 'services', '-n', 'foo'])).stdout.trim(),
        'no',
      );
    });

    it(`auth can-i agrees with ${CAN_I_CASES.length} documented cases`, async () => {
      assert.ok(CAN_I_CASES.length >= 200);
      const started = Date.now();
      const results = await pool(CAN_I_CASES, 3, async (c: CanICase) => {
        const r = await k.run([...asArgs(c), 'auth', 'can-i', c.verb, ...c.args]);
        const got = r.stdout.trim().split(/\s/)[0];
        const codeOk = (c.expect === 'yes') === (r.code === 0);
        return got === c.expect && codeOk ? undefined : `${c.line} → ${r.stdout.trim() || r.stderr.trim()}`;
      });
      const wrong = results.filter((x): x is string => !!x);
      assert.deepEqual(wrong, [], `${wrong.length} cases disagree`);
      console.log(`kubectl ${version}: ${CAN_I_CASES.length} can-i cases in ${Date.now() - started} ms`);
    });

    it('auth can-i --list shows the rules of the subject (SelfSubjectRulesReview)', async () => {
      const cm = await k.ok(['--as=cm', 'auth', 'can-i', '--list', '-n', 'foo']);
      assert.match(cm, /Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
      assert.match(cm, /configmaps\s+\[\]\s+\[app-config\]\s+\[get update\]/);
      assert.match(cm, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
      assert.match(cm, /\s\[\/api\/\*\]\s+\[\]\s+\[get\]/);
      assert.doesNotMatch(cm, /^pods\s/m);
      const bar = await k.ok(['--as=cm', 'auth', 'can-i', '--list', '-n', 'bar']);
      assert.doesNotMatch(bar, /app-config/);
      const mon = await k.ok(['--as=mon', '--as-group=monitoring-team', 'auth', 'can-i', '--list']);
      assert.match(mon, /\[\/logs\/\*\]\s+\[\]\s+\[get\]/);
    });

    it('escalation: edit cannot bind admin, nor create a ClusterRoleBinding; `bind` allows it', async () => {
      const ed = ['--as=ed'];
      const rb = `ed-admin-${v}`;
      /** A Role in foo with the given `kubectl create role` flags, bound to ed. */
      const grantEd = async (role: string, ...flags: string[]): Promise<void> => {
        await k.ok(['create', 'role', role, ...flags, '-n', 'foo']);
        await k.ok(['create', 'rolebinding', `ed-${role}`, `--role=${role}`, '--user=ed', '-n', 'foo']);
      };
      const bindAdmin = () =>
        k.run([...ed, 'create', 'rolebinding', rb, '--clusterrole=admin', '--user=ed', '-n', 'foo']);
      const noCreate = await bindAdmin();
      assert.notEqual(noCreate.code, 0);
      assert.match(
        noCreate.stderr,
        /rolebindings\.rbac\.authorization\.k8s\.io is forbidden: User "ed" cannot create resource "rolebindings" in API group "rbac\.authorization\.k8s\.io" in the namespace "foo"/,
      );
      // Let ed write RoleBindings: binding admin is still an escalation.
      await grantEd(`rb-writer-${v}`, '--verb=create,get', '--resource=rolebindings');
      const esc = await bindAdmin();
      assert.notEqual(esc.code, 0);
      assert.match(
        esc.stderr,
        new RegExp(
          `rolebindings\\.rbac\\.authorization\\.k8s\\.io "${rb}" is forbidden: user "ed" \\(groups=\\["system:authenticated"\\]\\) is attempting to grant RBAC permissions not currently held:\\n` +
            '\\{APIGroups:\\["authorization\\.k8s\\.io"\\], Resources:\\["localsubjectaccessreviews"\\], Verbs:\\["create"\\]\\}\\n' +
            '\\{APIGroups:\\["rbac\\.authorization\\.k8s\\.io"\\], Resources:\\["rolebindings"\\], Verbs:\\["delete" "deletecollection" "list" "patch" "update" "watch"\\]\\}\\n' +
            '\\{APIGroups:\\["rbac\\.authorization\\.k8s\\.io"\\], Resources:\\["roles"\\], Verbs:\\["create" "delete" "deletecollection" "get" "list" "patch" "update" "watch"\\]\\}',
        ),
      );
      // Binding what ed holds (edit) is allowed.
      await k.ok([
        ...ed,
        'create',
        'rolebinding',
        `ed-gives-edit-${v}`,
        '--clusterrole=edit',
        '--user=someone-else',
        '-n',
        'foo',
      ]);
      const crb = await k.run([
        ...ed,
        'create',
        'clusterrolebinding',
        `ed-crb-${v}`,
        '--clusterrole=view',
        '--user=ed',
      ]);
      assert.notEqual(crb.code, 0);
      assert.match(
        crb.stderr,
        /clusterrolebindings\.rbac\.authorization\.k8s\.io is forbidden: User "ed" cannot create resource "clusterrolebindings"/,
      );
      // With `bind` on the admin ClusterRole, the RoleBinding is allowed.
      await grantEd(`bind-admin-${v}`, '--verb=bind', '--resource=clusterroles', '--resource-name=admin');
      assert.equal((await bindAdmin()).code, 0);
      assert.equal((await k.ok([...ed, 'auth', 'can-i', 'create', 'roles', '-n', 'foo'])).trim(), 'yes');
      for (const name of [rb, `ed-rb-writer-${v}`, `ed-bind-admin-${v}`, `ed-gives-edit-${v}`])
        await k.ok(['delete', 'rolebinding', name, '-n', 'foo']);
      await k.ok(['delete', 'role', `rb-writer-${v}`, `bind-admin-${v}`, '-n', 'foo']);
    });

    it('berth user create alice --group dev: her kubeconfig gets exactly her bindings; revoke → 401 at once', async () => {
      const path = berthCli('user', 'create', 'alice', '--group', 'dev');
      assert.equal(path, join(b.dataDir, 'users', 'alice.kubeconfig'));
      const alice = kubectlRunner(version, path, b.home);
      const who = await alice.ok(['auth', 'whoami']);
      assert.match(who, /Username\s+alice/);
      assert.match(who, /Groups\s+\[dev system:authenticated\]/);
      const can = async (...args: string[]): Promise<string> =>
        (await alice.run(['auth', 'can-i', ...args])).stdout.trim().split(/\s/)[0] ?? '';
      assert.equal(await can('list', 'pods', '-n', 'foo'), 'yes'); // dev → pod-reader
      assert.equal(await can('create', 'pods', '-n', 'bar'), 'yes'); // alice → edit in bar
      assert.equal(await can('create', 'pods', '-n', 'foo'), 'no');
      assert.equal(await can('get', 'secrets', '-n', 'foo'), 'no');
      assert.equal(await can('list', 'nodes'), 'no');
      await alice.ok(['get', 'pods', '-n', 'foo']);
      const forbidden = await alice.run(['get', 'secrets', '-n', 'foo']);
      assert.match(forbidden.stderr, /secrets is forbidden: User "alice" cannot list resource "secrets"/);
      assert.match(berthCli('user', 'revoke', 'alice'), /user "alice" revoked/);
      const gone = await alice.run(['get', 'pods', '-n', 'foo']);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /You must be logged in to the server|Unauthorized/);
    });
  });
}
