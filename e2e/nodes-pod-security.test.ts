/**
 * Issue "Real worker nodes", scope item 3 on real containers (a Docker node, containerd, kubectl 1.27
 * and 1.33): the pod and container securityContext (runAsNonRoot refusal, runAsUser/Group,
 * supplementalGroups, fsGroup with OnRootMismatch, readOnlyRootFilesystem, capabilities,
 * allowPrivilegeEscalation, privileged), hostPID/hostIPC, resources as cgroup limits and the QoS class,
 * volumes (memory emptyDir with a size, secret on tmpfs, downwardAPI, hostPath DirectoryOrCreate, a PVC
 * of StorageClass "standard" outliving its first pod, configMap items and modes) and env (fieldRef,
 * resourceFieldRef, envFrom with a prefix, $(VAR) in command and args). One cluster for the file;
 * everything labelled with it is removed at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Pod } from 'kubernetes-types/core/v1';
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
const name = uniqueClusterName('t-podsec');
const ns = 'security';
const HOST_DIR = '/var/lib/berth-e2e-security/a/b';
let c: DockerCluster;
let k27: KubectlRunner;
let k33: KubectlRunner;

const docker = (args: string[]): string => {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** Runs a shell script on the (only) node. */
const onNode = (script: string): string =>
  docker(['exec', `berth-${name}.${c.nodes[0] ?? ''}`, 'sh', '-c', script]);

const getPod = async (k: KubectlRunner, p: string): Promise<Pod> =>
  JSON.parse(await k.ok(['-n', ns, 'get', 'pod', p, '-o', 'json'])) as Pod;

/** Waits until every container of the pod runs; returns the pod. */
const running = (k: KubectlRunner, p: string): Promise<Pod> =>
  eventually(
    `every container of ${p} running`,
    async () => {
      const x = await getPod(k, p);
      const st = x.status?.containerStatuses ?? [];
      return st.length === x.spec?.containers.length && st.every((s) => s.state?.running) && x;
    },
    90_000,
  );

/** Waits until the pod has finished (Succeeded or Failed). */
const finished = (k: KubectlRunner, p: string): Promise<Pod> =>
  eventually(
    `${p} to finish`,
    async () => {
      const x = await getPod(k, p);
      return (x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed') && x;
    },
    90_000,
  );

/** `sh -c script` in a container; stdout, or throws with the exit code and stderr. */
const sh = (k: KubectlRunner, p: string, container: string, script: string): Promise<string> =>
  k.ok(['-n', ns, 'exec', p, '-c', container, '--', 'sh', '-c', script]);

/** The same, returning the exit code and both streams (for commands that must fail). */
const shRun = async (
  k: KubectlRunner,
  p: string,
  container: string,
  script: string,
): Promise<{ code: number; out: string }> => {
  const r = await k.run(['-n', ns, 'exec', p, '-c', container, '--', 'sh', '-c', script]);
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
};

/** The messages of a pod's events with one reason, space-separated. */
/** The messages of the pod's events with that reason, once there is one (events follow the status). */
const eventMessages = (k: KubectlRunner, p: string, reason: string): Promise<string> =>
  eventually(`a ${reason} event for ${p}`, async () =>
    (
      await k.ok([
        '-n',
        ns,
        'get',
        'events',
        '--field-selector',
        `involvedObject.name=${p},reason=${reason}`,
        '-o',
        'jsonpath={.items[*].message}',
      ])
    ).trim(),
  );

/** A /proc/<pid>/status field ("CapEff", "NoNewPrivs"…). */
const statusField = (status: string, field: string): string =>
  new RegExp(`^${field}:\\s*(\\S+)$`, 'm').exec(status)?.[1] ?? `(no ${field})`;

const B = BUSYBOX_IMAGE;
const img = `image: ${B}
    imagePullPolicy: IfNotPresent`;
const sleeper = `${img}
    command: [sleep, '3600']`;
const meta = (n: string, labels = '', more = ''): string =>
  `metadata: { name: ${n}, namespace: ${ns}, labels: { suite: podsec${labels} }${more} }`;
/** A pod's first lines, up to its spec's grace period (the test pods stop within a second). */
const podHead = (n: string, labels = '', more = ''): string => `apiVersion: v1
kind: Pod
${meta(n, labels, more)}
spec:
  terminationGracePeriodSeconds: 1`;

const manifests = `
apiVersion: v1
kind: ConfigMap
${meta('cfg')}
data: { a: one, b: two }
---
apiVersion: v1
kind: Secret
${meta('sec')}
stringData: { token: s3cr3t }
---
${podHead('rootimage')}
  securityContext: { runAsNonRoot: true }
  containers:
  - name: c
    ${sleeper}
---
${podHead('rootuser')}
  securityContext: { runAsNonRoot: true }
  containers:
  - name: c
    ${sleeper}
    securityContext: { runAsUser: 0 }
---
${podHead('user')}
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    runAsGroup: 3000
    supplementalGroups: [4000, 5000]
    fsGroup: 2000
    fsGroupChangePolicy: OnRootMismatch
  containers:
  - name: c
    ${sleeper}
    volumeMounts:
    - { name: scratch, mountPath: /scratch }
    - { name: cfg, mountPath: /cfg }
    - { name: sec, mountPath: /sec }
  volumes:
  - { name: scratch, emptyDir: {} }
  - { name: cfg, configMap: { name: cfg } }
  - { name: sec, secret: { secretName: sec } }
---
${podHead('caps')}
  containers:
  - name: locked
    ${sleeper}
    securityContext:
      capabilities: { drop: [ALL] }
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
    volumeMounts: [ { name: scratch, mountPath: /scratch } ]
  - name: netadmin
    ${sleeper}
    securityContext: { capabilities: { add: [NET_ADMIN] } }
  - name: privileged
    ${sleeper}
    securityContext: { privileged: true }
  - name: plain
    ${sleeper}
  volumes: [ { name: scratch, emptyDir: {} } ]
---
${podHead('hostns')}
  hostPID: true
  hostIPC: true
  containers:
  - name: c
    ${sleeper}
---
${podHead('guaranteed')}
  securityContext:
    sysctls:
    - { name: kernel.shm_rmid_forced, value: '1' }
    - { name: net.ipv4.ip_unprivileged_port_start, value: '80' }
  containers:
  - name: c
    ${sleeper}
    resources: { limits: { cpu: 250m, memory: 64Mi } }
---
${podHead('burstable', ', app: vols', ', annotations: { note: hello }')}
  containers:
  - name: c
    ${sleeper}
    resources: { requests: { cpu: 100m, memory: 32Mi }, limits: { memory: 128Mi } }
    volumeMounts:
    - { name: mem, mountPath: /mem }
    - { name: sec, mountPath: /sec }
    - { name: info, mountPath: /info }
    - { name: host, mountPath: /host }
    - { name: items, mountPath: /items }
    - { name: all, mountPath: /all }
  volumes:
  - { name: mem, emptyDir: { medium: Memory, sizeLimit: 16Mi } }
  - { name: sec, secret: { secretName: sec } }
  - name: info
    downwardAPI:
      items:
      - { path: labels, fieldRef: { fieldPath: metadata.labels } }
      - { path: annotations, fieldRef: { fieldPath: metadata.annotations } }
      - { path: memory_limit, resourceFieldRef: { containerName: c, resource: limits.memory, divisor: 1Mi } }
  - { name: host, hostPath: { path: ${HOST_DIR}, type: DirectoryOrCreate } }
  - name: items
    configMap:
      name: cfg
      defaultMode: 0440
      items: [ { key: a, path: sub/first }, { key: b, path: second, mode: 0600 } ]
  - { name: all, configMap: { name: cfg, defaultMode: 0400 } }
---
${podHead('unsafesysctl')}
  securityContext: { sysctls: [ { name: kernel.msgmax, value: '65536' } ] }
  containers:
  - name: c
    ${sleeper}
---
${podHead('besteffort')}
  containers:
  - name: c
    ${sleeper}
---
${podHead('env')}
  restartPolicy: Never
  containers:
  - name: c
    ${img}
    command: [sh, -c, 'echo "$0|$1|$2|$3"; env | sort', '$(GREETING)']
    args: ['$(MY_NAME)', '$$(MY_NAME)', '$(NOT_DEFINED)']
    resources: { requests: { cpu: 250m }, limits: { memory: 64Mi } }
    env:
    - { name: MY_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
    - { name: MY_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
    - { name: MY_NODE, valueFrom: { fieldRef: { fieldPath: spec.nodeName } } }
    - { name: HOST_IP, valueFrom: { fieldRef: { fieldPath: status.hostIP } } }
    - { name: CPU_REQUEST, valueFrom: { resourceFieldRef: { resource: requests.cpu, divisor: 1m } } }
    - { name: MEMORY_LIMIT, valueFrom: { resourceFieldRef: { resource: limits.memory, divisor: 1Mi } } }
    - { name: GREETING, value: 'hi-$(MY_NAME)' }
    envFrom: [ { configMapRef: { name: cfg }, prefix: CFG_ }, { secretRef: { name: sec }, prefix: SEC_ } ]
---
apiVersion: v1
kind: PersistentVolumeClaim
${meta('data')}
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
${podHead('writer')}
  restartPolicy: Never
  containers:
  - name: c
    ${img}
    command: [sh, -c, 'echo written-by-$(hostname) > /data/file']
    volumeMounts: [ { name: data, mountPath: /data } ]
  volumes: [ { name: data, persistentVolumeClaim: { claimName: data } } ]
`;

const reader = `
${podHead('reader')}
  restartPolicy: Never
  containers:
  - name: c
    ${img}
    command: [cat, /data/file]
    volumeMounts: [ { name: data, mountPath: /data } ]
  volumes: [ { name: data, persistentVolumeClaim: { claimName: data } } ]
`;

/** The container's CPU and memory cgroup settings, cgroup v1 or v2 (read inside the container). */
const CGROUP_SCRIPT = `if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "v2 $(cat /sys/fs/cgroup/cpu.max) $(cat /sys/fs/cgroup/cpu.weight) $(cat /sys/fs/cgroup/memory.max)"
else
  echo "v1 $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us) $(cat /sys/fs/cgroup/cpu/cpu.shares) $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
fi`;

/**
 * What CGROUP_SCRIPT must print for a CFS quota (µs per 100 ms period, -1 for none), CPU shares and a
 * memory limit (undefined: none). cgroup v2 gets the runtime's conversions (cpu.max, cpu.weight).
 */
function expectCgroup(out: string, quota: number, shares: number, memory: number | undefined): void {
  const f = out.trim().split(/\s+/);
  if (f[0] === 'v2') {
    const weight = 1 + Math.floor(((shares - 2) * 9999) / 262142);
    assert.deepEqual(f.slice(1), [
      quota < 0 ? 'max' : String(quota),
      '100000',
      String(weight),
      memory === undefined ? 'max' : String(memory),
    ]);
    return;
  }
  assert.equal(f[0], 'v1', out);
  assert.deepEqual(f.slice(1, 4), [String(quota), '100000', String(shares)], out);
  if (memory === undefined) assert.ok(Number(f[4]) > 2 ** 62, `no memory limit: ${out}`);
  else assert.equal(f[4], String(memory), out);
}

describe('pod security, resources, volumes and env on a Docker node', { skip }, () => {
  before(async () => {
    c = await startDockerCluster({ name, nodes: 1 });
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    await k33.ok(['create', 'namespace', ns]);
    await eventually(
      'the default service account',
      async () => (await k33.run(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
    // create (not apply): no last-applied annotation, so the downward API annotations file is exact.
    await k27.ok(['create', '-f', '-'], { input: manifests });
  });

  after(async () => {
    if (c) {
      await k33?.run(['-n', ns, 'delete', 'pods', '-l', 'suite=podsec', '--wait=false']);
      await c.destroy();
      for (const kind of ['ps -a', 'network ls', 'volume ls']) {
        const left = docker([...kind.split(' '), '-q', '--filter', `label=dev.berth.cluster=${name}`]);
        assert.equal(left.trim(), '', `docker ${kind}: left behind`);
      }
    }
  });

  it('runAsNonRoot refuses an image running as root: CreateContainerConfigError, nothing started', async () => {
    const p = await eventually('CreateContainerConfigError', async () => {
      const x = await getPod(k27, 'rootimage');
      const w = x.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' && x;
    });
    const uid = p.metadata?.uid ?? '';
    const st = p.status?.containerStatuses?.[0];
    assert.equal(
      st?.state?.waiting?.message,
      `container has runAsNonRoot and image will run as root (pod: "rootimage_${ns}(${uid})", container: c)`,
    );
    assert.equal(st?.containerID, undefined, 'no container was created');
    assert.equal(st?.restartCount, 0);
    assert.match(
      (await k27.ok(['-n', ns, 'get', 'pod', 'rootimage', '--no-headers'])).trim(),
      /^rootimage\s+0\/1\s+CreateContainerConfigError\s+0\s/,
    );
    const events = await eventMessages(k33, 'rootimage', 'Failed');
    assert.match(events, /Error: container has runAsNonRoot and image will run as root/);
    // An explicit runAsUser: 0 breaks the policy too, with its own message.
    const q = await eventually('runAsUser 0 refused', async () => {
      const x = await getPod(k33, 'rootuser');
      return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && x;
    });
    assert.equal(
      q.status?.containerStatuses?.[0]?.state?.waiting?.message,
      `container's runAsUser breaks non-root policy (pod: "rootuser_${ns}(${q.metadata?.uid ?? ''})", container: c)`,
    );
  });

  it('runAsUser, runAsGroup, supplementalGroups and fsGroup (OnRootMismatch) on emptyDir, configMap and secret volumes', async () => {
    await running(k33, 'user');
    const id = (await sh(k33, 'user', 'c', 'id')).trim();
    const m = /^uid=(\d+)\S* gid=(\d+)\S* groups=(\S+)$/.exec(id);
    assert.ok(m, id);
    assert.equal(m[1], '1000');
    assert.equal(m[2], '3000');
    const groups = (m[3] ?? '').split(',').map((g) => g.replace(/\(.*\)$/, ''));
    for (const g of ['2000', '4000', '5000']) assert.ok(groups.includes(g), `group ${g} in ${id}`);
    // The emptyDir: group 2000, setgid, so new files inherit the group.
    const scratch = await sh(
      k27,
      'user',
      'c',
      'stat -c "%a %g" /scratch; echo x > /scratch/f && stat -c "%u %g" /scratch/f',
    );
    assert.equal(scratch, '2777 2000\n1000 2000\n');
    // configMap and secret: readable by uid 1000 through fsGroup; roots setgid and group 2000.
    const cfg = await sh(
      k33,
      'user',
      'c',
      'cat /cfg/a; echo; cat /sec/token; echo; stat -c "%a %g" /cfg /sec; stat -L -c "%a %g" /cfg/a /sec/token; ls -ln /cfg/..data/',
    );
    const lines = cfg.split('\n');
    // The secret's root is a tmpfs (1777) with the setgid bit added.
    assert.deepEqual(lines.slice(0, 6), ['one', 's3cr3t', '2777 2000', '3777 2000', '644 2000', '644 2000']);
    assert.match(cfg, /^-rw-r--r--\s+1\s+0\s+2000\s+3\s.*\ba$/m, cfg);
  });

  it('readOnlyRootFilesystem, capabilities drop ALL / add NET_ADMIN, allowPrivilegeEscalation false', async () => {
    await running(k27, 'caps');
    const locked = await shRun(k27, 'caps', 'locked', 'touch /rootfile');
    assert.notEqual(locked.code, 0);
    assert.match(locked.out, /Read-only file system/);
    assert.equal(await sh(k27, 'caps', 'locked', 'echo ok > /scratch/f && cat /scratch/f'), 'ok\n');
    const status = (k: KubectlRunner, ctr: string): Promise<string> =>
      sh(k, 'caps', ctr, 'cat /proc/1/status');
    const lockedStatus = await status(k33, 'locked');
    assert.equal(statusField(lockedStatus, 'CapEff'), '0000000000000000');
    assert.equal(statusField(lockedStatus, 'CapBnd'), '0000000000000000');
    assert.equal(statusField(lockedStatus, 'NoNewPrivs'), '1');
    const plain = await status(k27, 'plain');
    const netadmin = await status(k33, 'netadmin');
    assert.equal(statusField(plain, 'NoNewPrivs'), '0');
    const NET_ADMIN = 1n << 12n;
    const eff = (s: string): bigint => BigInt(`0x${statusField(s, 'CapEff')}`);
    assert.equal(eff(plain) & NET_ADMIN, 0n, 'the default set has no NET_ADMIN');
    assert.equal(eff(netadmin), eff(plain) | NET_ADMIN, 'NET_ADMIN added to the default set');
    // The effect: changing a link needs NET_ADMIN (same MTU, so nothing changes for the pod).
    const mtu = (await sh(k27, 'caps', 'plain', 'cat /sys/class/net/lo/mtu')).trim();
    const denied = await shRun(k27, 'caps', 'plain', `ip link set lo mtu ${mtu}`);
    assert.notEqual(denied.code, 0);
    assert.match(denied.out, /Operation not permitted/);
    assert.equal((await shRun(k33, 'caps', 'netadmin', `ip link set lo mtu ${mtu}`)).code, 0);
  });

  it('privileged: every capability of the node, all devices, /proc unmasked', async () => {
    await running(k33, 'caps');
    const nodeBounding = statusField(onNode('cat /proc/1/status'), 'CapBnd');
    const priv = await sh(k33, 'caps', 'privileged', 'cat /proc/1/status');
    assert.equal(statusField(priv, 'CapEff'), nodeBounding);
    assert.equal(statusField(priv, 'CapBnd'), nodeBounding);
    // The node's device nodes are all visible in the privileged container.
    const devices = (list: string): string[] =>
      list
        .split('\n')
        .filter((l) => /^[cb]/.test(l))
        .map((l) => l.split(/\s+/).pop() ?? '')
        .sort();
    const nodeDevs = devices(onNode('ls -l /dev'));
    const privDevs = devices(await sh(k33, 'caps', 'privileged', 'ls -l /dev'));
    for (const d of nodeDevs) assert.ok(privDevs.includes(d), `/dev/${d} visible: ${privDevs.join(' ')}`);
    // cgroup v1: the device cgroup allows everything; a plain container's does not.
    const deviceList = 'cat /sys/fs/cgroup/devices/devices.list 2>/dev/null || echo none';
    const privList = (await sh(k27, 'caps', 'privileged', deviceList)).trim();
    const plainList = (await sh(k27, 'caps', 'plain', deviceList)).trim();
    if (privList !== 'none') {
      assert.equal(privList, 'a *:* rwm');
      assert.notEqual(plainList, 'a *:* rwm');
    }
    // /proc/sys is read-only and /proc/kcore masked, unless privileged.
    const procMounts = "grep -E ' /proc/(sys|kcore) ' /proc/self/mounts | cut -d' ' -f2,4 | cut -d, -f1";
    assert.match(await sh(k33, 'caps', 'plain', procMounts), /^\/proc\/sys ro$/m);
    assert.equal(await sh(k33, 'caps', 'privileged', procMounts + ' || true'), '');
  });

  it("hostPID and hostIPC: the node's processes and IPC namespace; without them, the pod's own", async () => {
    await running(k27, 'hostns');
    const ps = await sh(k27, 'hostns', 'c', 'ps -o comm');
    assert.match(ps, /^containerd$/m, ps);
    assert.match(ps, /^node$/m, 'the node agent');
    const nodeIpc = onNode('readlink /proc/1/ns/ipc').trim();
    assert.equal((await sh(k33, 'hostns', 'c', 'readlink /proc/self/ns/ipc')).trim(), nodeIpc);
    const own = await sh(k33, 'besteffort', 'c', 'ps -o comm; readlink /proc/self/ns/ipc');
    assert.doesNotMatch(own, /^containerd$/m);
    assert.deepEqual(own.trim().split('\n').slice(1, -1), ['sleep', 'sh', 'ps']);
    assert.notEqual(own.trim().split('\n').pop(), nodeIpc);
  });

  it('sysctls: the safe ones set in the pod; an unsafe one rejects the pod (SysctlForbidden)', async () => {
    await running(k27, 'guaranteed');
    assert.equal(
      await sh(
        k27,
        'guaranteed',
        'c',
        'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start',
      ),
      '1\n80\n',
    );
    // The node (Docker sets 0 in its namespace) keeps its own value.
    assert.notEqual(onNode('cat /proc/sys/net/ipv4/ip_unprivileged_port_start').trim(), '80');
    const p = await finished(k33, 'unsafesysctl');
    assert.equal(p.status?.phase, 'Failed');
    assert.equal(p.status?.reason, 'SysctlForbidden');
    assert.equal(p.status?.message, 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted');
    assert.deepEqual(p.status?.containerStatuses ?? [], [], 'nothing ran, no container statuses');
    const events = await eventMessages(k33, 'unsafesysctl', 'SysctlForbidden');
    assert.equal(events, 'forbidden sysctl: "kernel.msgmax" not allowlisted');
    assert.match(
      (await k27.ok(['-n', ns, 'get', 'pod', 'unsafesysctl', '--no-headers'])).trim(),
      /^unsafesysctl\s+0\/1\s+SysctlForbidden\s/,
    );
  });

  it('resources: CPU quota and shares, memory limits in the cgroup; QoS class in the status', async () => {
    const g = await running(k33, 'guaranteed');
    const b = await running(k27, 'burstable');
    const e = await running(k33, 'besteffort');
    assert.deepEqual(
      [g, b, e].map((p) => p.status?.qosClass),
      ['Guaranteed', 'Burstable', 'BestEffort'],
    );
    const qos = await k27.ok([
      '-n',
      ns,
      'get',
      'pods',
      'guaranteed',
      'burstable',
      'besteffort',
      '-o',
      'custom-columns=QOS:.status.qosClass',
      '--no-headers',
    ]);
    assert.deepEqual(qos.trim().split('\n'), ['Guaranteed', 'Burstable', 'BestEffort']);
    expectCgroup(await sh(k33, 'guaranteed', 'c', CGROUP_SCRIPT), 25000, 256, 64 * 2 ** 20);
    expectCgroup(await sh(k27, 'burstable', 'c', CGROUP_SCRIPT), -1, 102, 128 * 2 ** 20);
    expectCgroup(await sh(k33, 'besteffort', 'c', CGROUP_SCRIPT), -1, 2, undefined);
    // Each pod's cgroup sits under its QoS class on the node.
    const where = (p: Pod, dir: string): string =>
      onNode(
        `for d in /sys/fs/cgroup/cpu/${dir}/pod${p.metadata?.uid ?? ''} /sys/fs/cgroup/${dir}/pod${p.metadata?.uid ?? ''}; do [ -d "$d" ] && echo yes; done; true`,
      ).trim();
    assert.equal(where(g, 'kubepods'), 'yes');
    assert.equal(where(b, 'kubepods/burstable'), 'yes');
    assert.equal(where(e, 'kubepods/besteffort'), 'yes');
  });

  it('volumes: memory emptyDir with sizeLimit, secret on tmpfs, downwardAPI, hostPath DirectoryOrCreate, configMap modes', async () => {
    await running(k27, 'burstable');
    const mounts = await sh(
      k27,
      'burstable',
      'c',
      "grep -E ' /(mem|sec) ' /proc/self/mounts | cut -d' ' -f1-4",
    );
    assert.match(mounts, /^tmpfs \/mem tmpfs rw,.*size=16384k/m, mounts);
    assert.match(mounts, /^tmpfs \/sec tmpfs ro,/m, mounts);
    const info = await sh(
      k33,
      'burstable',
      'c',
      'cat /info/labels; echo; cat /info/annotations; echo; cat /info/memory_limit',
    );
    assert.equal(info, 'app="vols"\nsuite="podsec"\nnote="hello"\n128');
    // hostPath: created on the node (0755), shared both ways.
    assert.equal(onNode(`stat -c %a ${HOST_DIR}`).trim(), '755');
    await sh(k27, 'burstable', 'c', 'echo from-pod > /host/f');
    assert.equal(onNode(`cat ${HOST_DIR}/f`), 'from-pod\n');
    // configMap items with paths, per-item mode and defaultMode.
    const modes = await sh(
      k33,
      'burstable',
      'c',
      'cat /items/sub/first; echo; stat -L -c "%a %n" /items/sub/first /items/second /all/a /all/b; ls /items',
    );
    assert.equal(
      modes,
      'one\n440 /items/sub/first\n600 /items/second\n400 /all/a\n400 /all/b\nsecond\nsub\n',
    );
  });

  it('a PVC of StorageClass "standard" binds; its data outlives the first pod and is read by a second', async () => {
    const w = await finished(k27, 'writer');
    assert.equal(w.status?.phase, 'Succeeded', JSON.stringify(w.status));
    const pvc = JSON.parse(await k33.ok(['-n', ns, 'get', 'pvc', 'data', '-o', 'json'])) as {
      spec: { storageClassName?: string; volumeName?: string };
      status: { phase?: string };
    };
    assert.equal(pvc.status.phase, 'Bound');
    assert.equal(pvc.spec.storageClassName, 'standard');
    const pv = JSON.parse(await k33.ok(['get', 'pv', pvc.spec.volumeName ?? '', '-o', 'json'])) as {
      spec: {
        hostPath?: { path?: string };
        nodeAffinity?: {
          required?: { nodeSelectorTerms?: { matchExpressions?: { values?: string[] }[] }[] };
        };
      };
    };
    assert.deepEqual(pv.spec.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, [
      c.nodes[0],
    ]);
    assert.equal(onNode(`cat ${pv.spec.hostPath?.path ?? '/nonexistent'}/file`), 'written-by-writer\n');
    await k27.ok(['-n', ns, 'delete', 'pod', 'writer', '--timeout=60s'], { timeoutMs: 70_000 });
    await k33.ok(['create', '-f', '-'], { input: reader });
    const r = await finished(k33, 'reader');
    assert.equal(r.status?.phase, 'Succeeded', JSON.stringify(r.status));
    assert.equal(r.spec?.nodeName, c.nodes[0]);
    assert.equal(await k27.ok(['-n', ns, 'logs', 'reader']), 'written-by-writer\n');
  });

  it('env: fieldRef, resourceFieldRef, envFrom with a prefix, $(VAR) in command and args', async () => {
    const p = await finished(k33, 'env');
    assert.equal(p.status?.phase, 'Succeeded', JSON.stringify(p.status));
    const out = await k27.ok(['-n', ns, 'logs', 'env']);
    const [first, ...rest] = out.trim().split('\n');
    assert.equal(first, 'hi-env|env|$(MY_NAME)|$(NOT_DEFINED)');
    const env = new Map(rest.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const want: Record<string, string> = {
      MY_NAME: 'env',
      MY_IP: p.status?.podIP ?? '(no podIP)',
      MY_NODE: c.nodes[0] ?? '',
      HOST_IP: p.status?.hostIP ?? '(no hostIP)',
      CPU_REQUEST: '250',
      MEMORY_LIMIT: '64',
      GREETING: 'hi-env',
      CFG_a: 'one',
      CFG_b: 'two',
      SEC_token: 's3cr3t',
    };
    for (const [k, v] of Object.entries(want)) assert.equal(env.get(k), v, k);
    assert.match(p.status?.podIP ?? '', /^10\.244\./);
  });

  it('configMap and downwardAPI volumes follow updates; a new version keeps the fsGroup ownership', async () => {
    await k33.ok(['-n', ns, 'label', 'pod', 'burstable', 'tier=updated']);
    await k27.ok(['-n', ns, 'patch', 'configmap', 'cfg', '--type=merge', '-p', '{"data":{"a":"uno"}}']);
    await eventually(
      'the new label and data in the files',
      async () =>
        (await sh(
          k33,
          'burstable',
          'c',
          'cat /info/labels; echo; cat /all/a; echo; cat /items/sub/first',
        )) === 'app="vols"\nsuite="podsec"\ntier="updated"\nuno\nuno',
      60_000,
      1000,
    );
    // uid 1000 reads the new version through its group, which the whole new version carries.
    const user = await eventually(
      'the user pod to see the new data',
      async () => {
        const out = await sh(k27, 'user', 'c', 'cat /cfg/a; echo; stat -L -c "%a %g" /cfg/..data /cfg/a');
        return out.startsWith('uno\n') && out;
      },
      60_000,
      1000,
    );
    assert.equal(user, 'uno\n2755 2000\n644 2000\n');
  });
});
