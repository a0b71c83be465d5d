import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { Container } from './types.ts';
import {
  ContainerConfigError,
  enableServiceLinks,
  expand,
  expandCommand,
  type ObjectSource,
  resolveEnv,
  serviceEnv,
} from './env.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function source(objs: { secrets?: KObject[]; configMaps?: KObject[] }): ObjectSource & { reads: string[] } {
  const reads: string[] = [];
  const find = (list: KObject[] | undefined, ns: string, name: string): KObject | undefined =>
    list?.find((o) => o.metadata.namespace === ns && o.metadata.name === name);
  return {
    reads,
    getSecret: (ns, name) => {
      reads.push(`secret ${ns}/${name}`);
      return Promise.resolve(find(objs.secrets, ns, name));
    },
    getConfigMap: (ns, name) => {
      reads.push(`configmap ${ns}/${name}`);
      return Promise.resolve(find(objs.configMaps, ns, name));
    },
  };
}

const secret: KObject = {
  metadata: { name: 's', namespace: 'ns' },
  data: { password: b64('hunter2'), 'with-dash': b64('d') },
};
const cm: KObject = {
  metadata: { name: 'c', namespace: 'ns' },
  data: { color: 'blue', 'bad=key': 'x', '1digit': 'y' },
  binaryData: { bin: b64('bytes') },
};

const pod: KObject = {
  metadata: {
    name: 'p',
    namespace: 'ns',
    uid: 'uid-1',
    labels: { app: 'web', tier: 'front"end' },
    annotations: { note: 'a\nb' },
  },
  spec: { nodeName: 'node-a', serviceAccountName: 'robot', containers: [] },
};

const ctx = {
  nodeName: 'node-a',
  hostIP: '172.29.0.2',
  podIP: '10.244.1.5',
  podIPs: ['10.244.1.5', 'fd00::5'],
  serviceEnv: { KUBERNETES_SERVICE_HOST: '10.96.0.1', SHADOWED: 'svc' },
};

async function envOf(c: Container, src = source({ secrets: [secret], configMaps: [cm] }), extra = {}) {
  const list = await resolveEnv(pod, c, src, { ...ctx, ...extra });
  return Object.fromEntries(list.map((e) => [e.key, e.value]));
}

test('expand: $(VAR), $$ escape, unknown and unclosed references stay', () => {
  const m = { A: 'x', B: 'y' };
  assert.equal(expand('$(A)-$(B)', m), 'x-y');
  assert.equal(expand('$$(A)', m), '$(A)');
  assert.equal(expand('$(C)', m), '$(C)');
  assert.equal(expand('cost $5 $', m), 'cost $5 $');
  assert.equal(expand('$(A', m), '$(A');
  assert.equal(expand('$$$(A)', m), '$x');
  assert.equal(expand('$(A)', {}, { A: 'second' }), 'second');
});

test('env values expand earlier variables and service env; envFrom then env, later wins', async () => {
  const env = await envOf({
    name: 'c',
    envFrom: [{ configMapRef: { name: 'c' }, prefix: 'CM_' }, { secretRef: { name: 's' } }],
    env: [
      { name: 'FIRST', value: 'one' },
      { name: 'SECOND', value: '$(FIRST)-$(KUBERNETES_SERVICE_HOST)-$(LATER)-$$(FIRST)' },
      { name: 'LATER', value: 'late' },
      { name: 'CM_color', value: 'override $(CM_color)' },
      { name: 'SHADOWED', value: 'mine' },
      { name: 'EMPTY' },
    ],
  });
  assert.equal(env['SECOND'], 'one-10.96.0.1-$(LATER)-$(FIRST)');
  assert.equal(env['CM_color'], 'override blue');
  assert.equal(env['CM_bin'], 'bytes');
  assert.equal(env['password'], 'hunter2');
  assert.equal(env['with-dash'], 'd');
  assert.equal(env['SHADOWED'], 'mine');
  assert.equal(env['EMPTY'], '');
  assert.equal(env['KUBERNETES_SERVICE_HOST'], '10.96.0.1');
});

test('envFrom skips invalid names with the kubelet warning and allows a prefix to make names valid', async () => {
  const warnings: string[] = [];
  const list = await resolveEnv(
    pod,
    { name: 'c', envFrom: [{ configMapRef: { name: 'c' } }] },
    source({ configMaps: [cm] }),
    { ...ctx, serviceEnv: {}, onWarning: (r, m) => warnings.push(`${r}: ${m}`) },
  );
  assert.deepEqual(list.map((e) => e.key).sort(), ['bin', 'color']);
  assert.deepEqual(warnings, [
    'InvalidEnvironmentVariableNames: Keys [1digit, bad=key] from the EnvFrom configMap ns/c were skipped since they are considered invalid environment variable names.',
  ]);
  const prefixed = await envOf({ name: 'c', envFrom: [{ configMapRef: { name: 'c' }, prefix: 'P_' }] });
  assert.equal(prefixed['P_1digit'], 'y');
  assert.equal(prefixed['P_bad=key'], undefined);
});

test('secretKeyRef / configMapKeyRef: values, kubelet errors, optional skips', async () => {
  const env = await envOf({
    name: 'c',
    env: [
      { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'password' } } },
      { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'c', key: 'color' } } },
      { name: 'BIN', valueFrom: { configMapKeyRef: { name: 'c', key: 'bin' } } },
      { name: 'OPT1', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
      { name: 'OPT2', valueFrom: { configMapKeyRef: { name: 'c', key: 'nokey', optional: true } } },
    ],
  });
  assert.equal(env['PW'], 'hunter2');
  assert.equal(env['COLOR'], 'blue');
  assert.equal(env['BIN'], 'bytes');
  assert.ok(!('OPT1' in env) && !('OPT2' in env));

  const fails: [Container, string][] = [
    [
      { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] },
      'secret "nope" not found',
    ],
    [
      { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      "couldn't find key k in Secret ns/s",
    ],
    [
      { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] },
      'configmap "nope" not found',
    ],
    [
      { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] },
      "couldn't find key k in ConfigMap ns/c",
    ],
    [{ name: 'c', envFrom: [{ secretRef: { name: 'gone' } }] }, 'secret "gone" not found'],
  ];
  for (const [c, msg] of fails) {
    await assert.rejects(
      envOf(c),
      (e: unknown) => e instanceof ContainerConfigError && e.message === msg,
      msg,
    );
  }
  const ok = await envOf({ name: 'c', envFrom: [{ secretRef: { name: 'gone', optional: true } }] });
  assert.equal(ok['PW'], undefined);
});

test('each secret is read once per resolution', async () => {
  const src = source({ secrets: [secret] });
  await envOf(
    {
      name: 'c',
      envFrom: [{ secretRef: { name: 's' } }],
      env: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'password' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'with-dash' } } },
      ],
    },
    src,
  );
  assert.deepEqual(src.reads, ['secret ns/s']);
});

test('fieldRef: metadata, labels/annotations (whole maps and subscripts), spec and status fields', async () => {
  const f = (fieldPath: string) => ({ name: fieldPath, valueFrom: { fieldRef: { fieldPath } } });
  const env = await envOf({
    name: 'c',
    env: [
      f('metadata.name'),
      f('metadata.namespace'),
      f('metadata.uid'),
      f("metadata.labels['app']"),
      f("metadata.annotations['note']"),
      f("metadata.labels['missing']"),
      f('metadata.labels'),
      f('metadata.annotations'),
      f('spec.nodeName'),
      f('spec.serviceAccountName'),
      f('status.hostIP'),
      f('status.hostIPs'),
      f('status.podIP'),
      f('status.podIPs'),
    ],
  });
  assert.equal(env['metadata.name'], 'p');
  assert.equal(env['metadata.namespace'], 'ns');
  assert.equal(env['metadata.uid'], 'uid-1');
  assert.equal(env["metadata.labels['app']"], 'web');
  assert.equal(env["metadata.annotations['note']"], 'a\nb');
  assert.equal(env["metadata.labels['missing']"], '');
  assert.equal(env['metadata.labels'], 'app="web"\ntier="front\\"end"');
  assert.equal(env['metadata.annotations'], 'note="a\\nb"');
  assert.equal(env['spec.nodeName'], 'node-a');
  assert.equal(env['spec.serviceAccountName'], 'robot');
  assert.equal(env['status.hostIP'], '172.29.0.2');
  assert.equal(env['status.hostIPs'], '172.29.0.2');
  assert.equal(env['status.podIP'], '10.244.1.5');
  assert.equal(env['status.podIPs'], '10.244.1.5,fd00::5');
  await assert.rejects(envOf({ name: 'c', env: [f('spec.bogus')] }), /unsupported fieldPath: spec.bogus/);
});

test('resourceFieldRef: divisors round up, limits default to node allocatable', async () => {
  const r = (name: string, resource: string, divisor?: string) => ({
    name,
    valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } },
  });
  const c: Container = {
    name: 'c',
    resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1500m' } },
    env: [
      r('LCPU', 'limits.cpu'),
      r('LCPU_M', 'limits.cpu', '1m'),
      r('RCPU', 'requests.cpu'),
      r('RCPU_M', 'requests.cpu', '1m'),
      r('RMEM', 'requests.memory'),
      r('RMEM_MI', 'requests.memory', '1Mi'),
      r('LMEM', 'limits.memory'),
      r('LMEM_GI', 'limits.memory', '1Gi'),
      r('LEPH', 'limits.ephemeral-storage', '1G'),
    ],
  };
  const env = await envOf(c, undefined, {
    allocatable: { cpu: '2', memory: '3Gi', 'ephemeral-storage': '10G' },
  });
  assert.equal(env['LCPU'], '2');
  assert.equal(env['LCPU_M'], '1500');
  assert.equal(env['RCPU'], '1');
  assert.equal(env['RCPU_M'], '250');
  assert.equal(env['RMEM'], String(64 * 1024 * 1024));
  assert.equal(env['RMEM_MI'], '64');
  assert.equal(env['LMEM'], String(3 * 1024 ** 3));
  assert.equal(env['LMEM_GI'], '3');
  assert.equal(env['LEPH'], '10');
  await assert.rejects(
    envOf({ name: 'c', env: [r('X', 'limits.gpu')] }),
    /unsupported container resource : limits.gpu/,
  );
});

test('serviceEnv: Docker link variables, master service always, enableServiceLinks, headless skipped', () => {
  const svc = (ns: string, name: string, clusterIP: string, ports: unknown[]): KObject => ({
    metadata: { name, namespace: ns },
    spec: { clusterIP, ports },
  });
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
    svc('ns', 'my-db', '10.96.5.5', [{ port: 5432 }, { name: 'metrics-port', port: 9187, protocol: 'UDP' }]),
    svc('ns', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'elsewhere', '10.96.9.9', [{ port: 80 }]),
  ];
  const env = serviceEnv(services, 'default', { podNamespace: 'ns' });
  assert.deepEqual(env, {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    MY_DB_SERVICE_HOST: '10.96.5.5',
    MY_DB_SERVICE_PORT: '5432',
    MY_DB_SERVICE_PORT_METRICS_PORT: '9187',
    MY_DB_PORT: 'tcp://10.96.5.5:5432',
    MY_DB_PORT_5432_TCP: 'tcp://10.96.5.5:5432',
    MY_DB_PORT_5432_TCP_PROTO: 'tcp',
    MY_DB_PORT_5432_TCP_PORT: '5432',
    MY_DB_PORT_5432_TCP_ADDR: '10.96.5.5',
    MY_DB_PORT_9187_UDP: 'udp://10.96.5.5:9187',
    MY_DB_PORT_9187_UDP_PROTO: 'udp',
    MY_DB_PORT_9187_UDP_PORT: '9187',
    MY_DB_PORT_9187_UDP_ADDR: '10.96.5.5',
  });
  const noLinks = serviceEnv(services, 'default', { podNamespace: 'ns', enableServiceLinks: false });
  assert.deepEqual(
    Object.keys(noLinks).filter((k) => !k.startsWith('KUBERNETES_')),
    [],
  );
  assert.equal(noLinks['KUBERNETES_SERVICE_HOST'], '10.96.0.1');
  // A "kubernetes" service in the pod's namespace wins over the master service.
  const shadow = serviceEnv([...services, svc('ns', 'kubernetes', '10.96.7.7', [{ port: 80 }])], 'default', {
    podNamespace: 'ns',
  });
  assert.equal(shadow['KUBERNETES_SERVICE_HOST'], '10.96.7.7');
  const v6 = serviceEnv([svc('ns', 'v6', 'fd00::1', [{ port: 80 }])], 'default');
  assert.equal(v6['V6_PORT'], 'tcp://[fd00::1]:80');
  assert.equal(enableServiceLinks(pod), true);
  assert.equal(enableServiceLinks({ ...pod, spec: { containers: [], enableServiceLinks: false } }), false);
});

test('expandCommand expands command and args with the resolved env', () => {
  const r = expandCommand({ name: 'c', command: ['sh', '-c', 'echo $(MSG) $$(MSG)'], args: ['$(NONE)'] }, [
    { key: 'MSG', value: 'hi' },
  ]);
  assert.deepEqual(r, { command: ['sh', '-c', 'echo hi $(MSG)'], args: ['$(NONE)'] });
});
