import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../api/object.ts';
import { ContainerConfigError } from './env.ts';
import { isMountPoint } from './mount-util.ts';
import type { Container } from './types.ts';
import {
  containerMounts,
  emptyDirMemorySize,
  refreshVolumes,
  setupVolumes,
  teardownVolumes,
  VolumeError,
  type VolumeHost,
} from './volumes.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

let root: string;
const objects = new Map<string, KObject>();
const tokens: string[] = [];

function host(): VolumeHost {
  const get = (k: string): Promise<KObject | undefined> => Promise.resolve(objects.get(k));
  return {
    rootDir: join(root, 'kubelet'),
    nodeName: 'node-a',
    hostIP: '172.29.0.2',
    getSecret: (ns, n) => get(`secret/${ns}/${n}`),
    getConfigMap: (ns, n) => get(`configmap/${ns}/${n}`),
    getPersistentVolumeClaim: (ns, n) => get(`pvc/${ns}/${n}`),
    getPersistentVolume: (n) => get(`pv/${n}`),
    requestToken: (ns, sa, aud, exp) => {
      const t = `token-${tokens.length}:${ns}/${sa}/${aud}/${exp}`;
      tokens.push(t);
      return Promise.resolve(t);
    },
    allocatable: { cpu: '2', memory: '1Gi' },
  };
}

let uidSeq = 0;
function pod(volumes: unknown[], extra: Record<string, unknown> = {}): KObject {
  return {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: `uid-${++uidSeq}`,
      labels: { app: 'web' },
      annotations: { a: '1' },
    },
    spec: {
      nodeName: 'node-a',
      serviceAccountName: 'robot',
      containers: [{ name: 'c', resources: { limits: { cpu: '500m', memory: '64Mi' } } }],
      volumes,
      ...extra,
    },
  };
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN); decides what the tmpfs tests expect. */
function canMountTmpfs(): boolean {
  const d = mkdtempSync(join(tmpdir(), 'berth-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d], { stdio: 'ignore' });
    execFileSync('umount', [d], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const teardowns: string[] = [];
async function setup(p: KObject) {
  teardowns.push(p.metadata.uid ?? '');
  return setupVolumes(p, host());
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
  objects.set('configmap/ns/cfg', {
    metadata: { name: 'cfg', namespace: 'ns' },
    data: { 'app.conf': 'port=80', other: 'x' },
  });
  objects.set('secret/ns/sec', {
    metadata: { name: 'sec', namespace: 'ns' },
    data: { password: b64('hunter2') },
  });
});

after(async () => {
  for (const uid of teardowns) await teardownVolumes(uid, host()).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

test('emptyDir: a 0777 directory under pods/<uid>/volumes/kubernetes.io~empty-dir that survives a second setup', async () => {
  const p = pod([{ name: 'scratch', emptyDir: {} }]);
  const v = await setup(p);
  const dir = join(
    root,
    'kubelet',
    'pods',
    p.metadata.uid ?? '',
    'volumes',
    'kubernetes.io~empty-dir',
    'scratch',
  );
  assert.deepEqual(v.get('scratch'), { hostPath: dir, readOnly: false, kind: 'emptyDir' });
  assert.equal(statSync(dir).mode & 0o777, 0o777);
  writeFileSync(join(dir, 'keep'), 'data');
  await setup(p);
  assert.equal(readFileSync(join(dir, 'keep'), 'utf8'), 'data');
});

test('emptyDir medium Memory: a tmpfs sized by the pod limit, or a VolumeError where mounting is not allowed', async () => {
  const p = pod([{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }]);
  assert.equal(emptyDirMemorySize(p, '1Gi', { memory: '1Gi' }), 64 * 1024 * 1024);
  assert.equal(emptyDirMemorySize(p, '16Mi', undefined), 16 * 1024 * 1024);
  if (canMountTmpfs()) {
    const v = await setup(p);
    const dir = v.get('mem')?.hostPath ?? '';
    assert.ok(isMountPoint(dir), 'tmpfs mounted');
    const mount = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === dir);
    assert.match(mount ?? '', / - tmpfs tmpfs .*size=65536k/);
    await setup(p); // idempotent: no second mount on top
    assert.equal(
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.split(' ')[4] === dir).length,
      1,
    );
    await teardownVolumes(p.metadata.uid ?? '', host());
    assert.ok(!isMountPoint(dir));
    assert.ok(!existsSync(join(root, 'kubelet', 'pods', p.metadata.uid ?? '')));
  } else {
    await assert.rejects(
      setup(p),
      (e: unknown) =>
        e instanceof VolumeError &&
        e.volume === 'mem' &&
        /^MountVolume\.SetUp failed for volume "mem" : mount failed: /.test(e.message) &&
        e.message.includes('Mounting arguments: -t tmpfs -o size=67108864 tmpfs'),
    );
  }
});

test('configMap: atomic-writer layout, items with paths and modes, refresh swaps ..data', async () => {
  const p = pod([
    { name: 'all', configMap: { name: 'cfg', defaultMode: 0o640 } },
    {
      name: 'some',
      configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }] },
    },
  ]);
  const v = await setup(p);
  const all = v.get('all')?.hostPath ?? '';
  assert.equal(v.get('all')?.readOnly, true);
  assert.match(all, /kubernetes\.io~configmap\/all$/);
  assert.equal(readFileSync(join(all, 'app.conf'), 'utf8'), 'port=80');
  assert.equal(readlinkSync(join(all, 'app.conf')), '..data/app.conf');
  const version = readlinkSync(join(all, '..data'));
  assert.match(version, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\./);
  assert.equal(statSync(join(all, 'app.conf')).mode & 0o777, 0o640);
  const some = v.get('some')?.hostPath ?? '';
  assert.deepEqual(
    readdirSync(some).filter((n) => !n.startsWith('..')),
    ['conf'],
  );
  assert.equal(readFileSync(join(some, 'conf/app.conf'), 'utf8'), 'port=80');
  assert.equal(statSync(join(some, 'conf/app.conf')).mode & 0o777, 0o600);

  // Unchanged data: nothing rewritten.
  await refreshVolumes(p, host(), v);
  assert.equal(readlinkSync(join(all, '..data')), version);
  // Changed data: a new version, the old directory and removed keys gone.
  objects.set('configmap/ns/cfg', {
    metadata: { name: 'cfg', namespace: 'ns' },
    data: { 'app.conf': 'port=81' },
  });
  try {
    await refreshVolumes(p, host(), v);
    const next = readlinkSync(join(all, '..data'));
    assert.notEqual(next, version);
    assert.equal(readFileSync(join(all, 'app.conf'), 'utf8'), 'port=81');
    assert.ok(!existsSync(join(all, version)));
    assert.ok(!existsSync(join(all, 'other')));
    assert.deepEqual(readdirSync(all).sort(), ['..data', next, 'app.conf'].sort());
  } finally {
    objects.set('configmap/ns/cfg', {
      metadata: { name: 'cfg', namespace: 'ns' },
      data: { 'app.conf': 'port=80', other: 'x' },
    });
  }
});

test('configMap/secret errors as the kubelet reports them; optional sources give empty volumes', async () => {
  const cases: [unknown, string][] = [
    [
      { name: 'v', configMap: { name: 'missing' } },
      'MountVolume.SetUp failed for volume "v" : configmap "missing" not found',
    ],
    [
      { name: 'v', configMap: { name: 'cfg', items: [{ key: 'nokey', path: 'x' }] } },
      'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: nokey',
    ],
    [
      { name: 'v', secret: { secretName: 'sec', items: [{ key: 'nokey', path: 'x' }] } },
      'MountVolume.SetUp failed for volume "v" : secret references non-existent secret key: nokey',
    ],
  ];
  for (const [vol, msg] of cases) {
    await assert.rejects(
      setup(pod([vol])),
      (e: unknown) => e instanceof VolumeError && e.message === msg,
      msg,
    );
  }
  const v = await setup(pod([{ name: 'opt', configMap: { name: 'missing', optional: true } }]));
  const dir = v.get('opt')?.hostPath ?? '';
  assert.deepEqual(
    readdirSync(dir).filter((n) => !n.startsWith('..')),
    [],
  );
  assert.ok(lstatSync(join(dir, '..data')).isSymbolicLink());
});

test('secret: decoded files on a tmpfs, or a VolumeError where mounting is not allowed', async () => {
  const p = pod([{ name: 'creds', secret: { secretName: 'sec', defaultMode: 0o400 } }]);
  if (canMountTmpfs()) {
    const v = await setup(p);
    const dir = v.get('creds')?.hostPath ?? '';
    assert.ok(isMountPoint(dir));
    assert.equal(readFileSync(join(dir, 'password'), 'utf8'), 'hunter2');
    assert.equal(statSync(join(dir, 'password')).mode & 0o777, 0o400);
  } else {
    await assert.rejects(
      setup(p),
      /^VolumeError: MountVolume\.SetUp failed for volume "creds" : mount failed: /,
    );
  }
});

test('downwardAPI: metadata fields and container resources as files', async () => {
  const p = pod([
    {
      name: 'info',
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
          { path: 'sub//dir/./ns', fieldRef: { fieldPath: 'metadata.namespace' } },
          { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } },
          { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'requests.memory' } },
        ],
      },
    },
  ]);
  const dir = (await setup(p)).get('info')?.hostPath ?? '';
  assert.equal(readFileSync(join(dir, 'labels'), 'utf8'), 'app="web"');
  assert.equal(readFileSync(join(dir, 'name'), 'utf8'), 'p');
  assert.equal(readFileSync(join(dir, 'sub/dir/ns'), 'utf8'), 'ns');
  assert.equal(readFileSync(join(dir, 'cpu'), 'utf8'), '500');
  assert.equal(readFileSync(join(dir, 'mem'), 'utf8'), '0');
  await assert.rejects(
    setup(
      pod([{ name: 'bad', downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'spec.nope' } }] } }]),
    ),
    /volume "bad" : unsupported fieldPath: spec.nope/,
  );
});

test('projected: secret, configMap, downwardAPI and a service account token, refreshed only when due', async () => {
  const p = pod([
    {
      name: 'kube-api-access',
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607, audience: 'api' } },
          { configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'ca.crt' }] } },
          { secret: { name: 'sec' } },
          { secret: { name: 'absent', optional: true } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
  ]);
  const v = await setup(p);
  const dir = v.get('kube-api-access')?.hostPath ?? '';
  const token = readFileSync(join(dir, 'token'), 'utf8');
  assert.match(token, /^token-\d+:ns\/robot\/api\/3607$/);
  assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), 'port=80');
  assert.equal(readFileSync(join(dir, 'password'), 'utf8'), 'hunter2');
  assert.equal(readFileSync(join(dir, 'namespace'), 'utf8'), 'ns');
  const issued = tokens.length;
  await refreshVolumes(p, host(), v);
  assert.equal(tokens.length, issued, 'a fresh token is reused');
  assert.equal(readFileSync(join(dir, 'token'), 'utf8'), token);
  const noTokens = { ...host(), requestToken: undefined };
  await assert.rejects(
    setupVolumes(
      pod([{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }]),
      noTokens,
    ),
    /needs a token requester/,
  );
});

test('hostPath: every type check with the kubelet messages', async () => {
  const base = join(root, 'host');
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'file'), '');
  const sock: Server = createServer();
  await new Promise<void>((r) => sock.listen(join(base, 'sock'), r));
  try {
    const ok = await setup(
      pod([
        { name: 'a', hostPath: { path: join(base, 'made/deep'), type: 'DirectoryOrCreate' } },
        { name: 'b', hostPath: { path: join(base, 'made'), type: 'Directory' } },
        { name: 'c', hostPath: { path: join(base, 'newfile'), type: 'FileOrCreate' } },
        { name: 'd', hostPath: { path: join(base, 'file'), type: 'File' } },
        { name: 'e', hostPath: { path: join(base, 'sock'), type: 'Socket' } },
        { name: 'f', hostPath: { path: '/dev/null', type: 'CharDevice' } },
        { name: 'g', hostPath: { path: join(base, 'whatever') } },
      ]),
    );
    assert.deepEqual(ok.get('a'), { hostPath: join(base, 'made/deep'), readOnly: false, kind: 'hostPath' });
    assert.ok(statSync(join(base, 'made/deep')).isDirectory());
    assert.ok(statSync(join(base, 'newfile')).isFile());
    const bad: [string, string, string][] = [
      [join(base, 'file'), 'Directory', 'is not a directory'],
      [join(base, 'file'), 'DirectoryOrCreate', 'is not a directory'],
      [join(base, 'made'), 'File', 'is not a file'],
      [join(base, 'made'), 'FileOrCreate', 'is not a file'],
      [join(base, 'file'), 'Socket', 'is not a socket file'],
      [join(base, 'file'), 'CharDevice', 'is not a character device'],
      ['/dev/null', 'BlockDevice', 'is not a block device'],
      [join(base, 'missing'), 'Directory', 'is not a directory'],
    ];
    for (const [path, type, what] of bad) {
      await assert.rejects(
        setup(pod([{ name: 'h', hostPath: { path, type } }])),
        (e: unknown) =>
          e instanceof VolumeError &&
          e.message ===
            `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${path} ${what}`,
        `${type} ${path}`,
      );
    }
    await assert.rejects(
      setup(pod([{ name: 'h', hostPath: { path: join(base, 'no/parent'), type: 'FileOrCreate' } }])),
      /open .*no\/parent: no such file or directory/,
    );
    await assert.rejects(
      setup(pod([{ name: 'h', hostPath: { path: base, type: 'Weird' } }])),
      /Weird is an invalid volume type/,
    );
  } finally {
    sock.close();
  }
});

test('persistentVolumeClaim: the bound PV path (hostPath or local); unbound or missing claims fail', async () => {
  const pvPath = join(root, 'pv1');
  const bound = (claim: string, uid: string, pv: string, source: Record<string, unknown>): void => {
    objects.set(`pvc/ns/${claim}`, {
      metadata: { name: claim, namespace: 'ns', uid },
      spec: { volumeName: pv },
      status: { phase: 'Bound' },
    });
    objects.set(`pv/${pv}`, { metadata: { name: pv }, spec: { ...source, claimRef: { uid } } });
  };
  bound('data', 'claim-uid', 'pv1', { hostPath: { path: pvPath, type: 'DirectoryOrCreate' } });
  bound('local', 'local-uid', 'pv2', { local: { path: root } });
  objects.set('pvc/ns/pending', {
    metadata: { name: 'pending', namespace: 'ns', uid: 'x' },
    spec: {},
    status: { phase: 'Pending' },
  });
  const v = await setup(
    pod([
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'ro', persistentVolumeClaim: { claimName: 'local', readOnly: true } },
    ]),
  );
  assert.deepEqual(v.get('data'), { hostPath: pvPath, readOnly: false, kind: 'persistentVolumeClaim' });
  assert.ok(statSync(pvPath).isDirectory());
  assert.deepEqual(v.get('ro'), { hostPath: root, readOnly: true, kind: 'persistentVolumeClaim' });
  await assert.rejects(
    setup(pod([{ name: 'x', persistentVolumeClaim: { claimName: 'nope' } }])),
    (e: unknown) =>
      e instanceof VolumeError &&
      e.message ===
        'MountVolume.SetUp failed for volume "x" : error processing PVC ns/nope: failed to fetch PVC from API server: persistentvolumeclaims "nope" not found',
  );
  await assert.rejects(
    setup(pod([{ name: 'x', persistentVolumeClaim: { claimName: 'pending' } }])),
    /error processing PVC ns\/pending: PVC is not bound/,
  );
});

test('fsGroup: emptyDir and configMap files get the group, group bits and setgid directories', async () => {
  const p = pod(
    [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 0o400 } },
    ],
    { securityContext: { fsGroup: 4242 } },
  );
  const v = await setup(p);
  const scratch = statSync(v.get('scratch')?.hostPath ?? '');
  assert.equal(scratch.gid, 4242);
  assert.ok(scratch.mode & 0o2000, 'setgid');
  const file = statSync(join(v.get('cfg')?.hostPath ?? '', 'app.conf'));
  assert.equal(file.gid, 4242);
  assert.equal(file.mode & 0o777, 0o440);
  // The whole volume is the group's: its root (setgid, 0777 from the wrapped emptyDir) and its links.
  const cfg = v.get('cfg')?.hostPath ?? '';
  const cfgRoot = statSync(cfg);
  assert.equal(cfgRoot.gid, 4242);
  assert.equal(cfgRoot.mode & 0o7777, 0o2777);
  assert.equal(lstatSync(join(cfg, '..data')).gid, 4242);
  assert.equal(lstatSync(join(cfg, 'app.conf')).gid, 4242);
  assert.equal(statSync(join(cfg, '..data')).gid, 4242, 'the version directory');
});

test('configMap, downwardAPI and projected volumes have a 0777 root without fsGroup (readable by any user)', async () => {
  const v = await setup(
    pod([
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 0o400 } },
      { name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'proj', projected: { sources: [{ configMap: { name: 'cfg' } }] } },
    ]),
  );
  for (const name of ['cfg', 'info', 'proj']) {
    const st = statSync(v.get(name)?.hostPath ?? '');
    assert.equal(st.mode & 0o7777, 0o777, name);
    assert.equal(st.gid, process.getgid?.(), name);
  }
});

test('containerMounts: readOnly, subPath (created, symlinks resolved, no escape), subPathExpr, propagation', async () => {
  const p = pod([
    { name: 'scratch', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'cfg' } },
  ]);
  const v = await setup(p);
  const scratch = v.get('scratch')?.hostPath ?? '';
  const cfg = v.get('cfg')?.hostPath ?? '';
  const c: Container = {
    name: 'c',
    volumeMounts: [
      { name: 'scratch', mountPath: '/data' },
      { name: 'scratch', mountPath: '/ro', readOnly: true, mountPropagation: 'HostToContainer' },
      { name: 'scratch', mountPath: '/sub', subPath: 'a/b' },
      { name: 'scratch', mountPath: '/expr', subPathExpr: 'logs/$(POD_NAME)' },
      { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
    ],
  };
  const mounts = containerMounts(c, v, [{ key: 'POD_NAME', value: 'p' }]);
  const version = readlinkSync(join(cfg, '..data'));
  assert.deepEqual(mounts, [
    { containerPath: '/data', hostPath: scratch, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/ro', hostPath: scratch, readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    {
      containerPath: '/sub',
      hostPath: join(scratch, 'a/b'),
      readonly: false,
      propagation: 'PROPAGATION_PRIVATE',
    },
    {
      containerPath: '/expr',
      hostPath: join(scratch, 'logs/p'),
      readonly: false,
      propagation: 'PROPAGATION_PRIVATE',
    },
    {
      containerPath: '/etc/app.conf',
      hostPath: join(cfg, version, 'app.conf'),
      readonly: true,
      propagation: 'PROPAGATION_PRIVATE',
    },
  ]);
  assert.ok(statSync(join(scratch, 'a/b')).isDirectory());
  symlinkSync('/etc', join(scratch, 'escape'));
  const fails: [Container['volumeMounts'], RegExp][] = [
    [[{ name: 'scratch', mountPath: '/x', subPath: 'escape' }], /not within volume path/],
    [[{ name: 'scratch', mountPath: '/x', subPath: '../up' }], /must not contain '\.\.'/],
    [[{ name: 'scratch', mountPath: '/x', subPath: '/abs' }], /must not be an absolute path/],
    [[{ name: 'scratch', mountPath: '/x', subPathExpr: '$(NOPE)/$(POD_NAME)' }], /^missing value for NOPE$/],
    [[{ name: 'other', mountPath: '/x' }], /cannot find volume "other" to mount into container "c"/],
  ];
  for (const [volumeMounts, re] of fails) {
    assert.throws(
      () => containerMounts({ name: 'c', volumeMounts }, v, [{ key: 'POD_NAME', value: 'p' }]),
      (e: unknown) => e instanceof ContainerConfigError && re.test(e.message),
      String(re),
    );
  }
});

test('teardownVolumes removes the pod directory but never hostPath or PV data', async () => {
  const keep = join(root, 'keep');
  mkdirSync(keep, { recursive: true });
  writeFileSync(join(keep, 'f'), 'x');
  const p = pod([
    { name: 'scratch', emptyDir: {} },
    { name: 'h', hostPath: { path: keep } },
    { name: 'cfg', configMap: { name: 'cfg' } },
  ]);
  await setup(p);
  await teardownVolumes(p.metadata.uid ?? '', host());
  assert.ok(!existsSync(join(root, 'kubelet', 'pods', p.metadata.uid ?? '')));
  assert.equal(readFileSync(join(keep, 'f'), 'utf8'), 'x');
  await teardownVolumes('never-existed', host());
});
