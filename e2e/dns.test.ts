/**
 * Issue 6, cluster DNS (real Docker nodes, kubectl 1.27 and 1.33, one 2-node cluster): every node's
 * agent answers at 10.96.0.10 for its own pods. Each check is a pod (restartPolicy Never) whose exit
 * code is the verdict: the FQDN and the short name of a ClusterIP Service, a headless Service's pod
 * IPs, SRV for a named port, ExternalName as a CNAME, a StatefulSet pod reached by
 * web-0.web.<ns>.svc.cluster.local, PTR and pod records, service environment variables, resolv.conf
 * per dnsPolicy. Names outside the cluster are only ever the nodes' own Docker names (answered by
 * Docker's embedded DNS on the cluster's bridge), never an internet name. kube-system/kube-dns is
 * shown by kubectl and is not proxied (node-local).
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

const noDocker = await dockerAvailable();
let c: DockerCluster;
const name = uniqueClusterName('t-dns');

before(async () => {
  if (noDocker) return;
  c = await startDockerCluster({ name, nodes: 2 });
});
after(async () => {
  await c?.destroy();
});

const dockerExec = (node: string, cmd: string[]): string => {
  const r = spawnSync('docker', ['exec', `berth-${name}.${node}`, ...cmd], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

const workloads = (ns: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: kubia, namespace: ${ns} }
spec:
  replicas: 2
  selector: { matchLabels: { app: kubia } }
  template:
    metadata: { labels: { app: kubia } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - { name: httpd, image: ${BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [httpd, -f, -p, "80", -h, /www], ports: [ { name: http, containerPort: 80 } ] }
---
apiVersion: v1
kind: Service
metadata: { name: kubia, namespace: ${ns} }
spec: { selector: { app: kubia }, ports: [ { name: http, port: 80, targetPort: http } ] }
---
apiVersion: v1
kind: Service
metadata: { name: kubia-headless, namespace: ${ns} }
spec: { clusterIP: None, selector: { app: kubia }, ports: [ { name: http, port: 80 } ] }
---
apiVersion: v1
kind: Service
metadata: { name: alias, namespace: ${ns} }
spec: { type: ExternalName, externalName: kubia.${ns}.svc.cluster.local }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec: { clusterIP: None, selector: { app: web }, ports: [ { name: http, port: 80 } ] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web, namespace: ${ns} }
spec:
  serviceName: web
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - { name: httpd, image: ${BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [httpd, -f, -p, "80", -h, /www], ports: [ { name: http, containerPort: 80 } ] }
`;

interface Check {
  /** Pod name (and the check's name in the report). */
  pod: string;
  script: string;
  extraSpec?: Record<string, unknown>;
}

/** The checks of one namespace, as shell scripts that exit 0 only when the answer is right. */
function checks(
  ns: string,
  ip: { kubia: string; kubiaPods: string[]; web: Record<string, string>; nodes: string[] },
): Check[] {
  const svc = `${ns}.svc.cluster.local`;
  const has = (text: string): string => `grep -q '${text}' /tmp/o`;
  const web0 = ip.web['web-0']!;
  return [
    {
      pod: 'fqdn',
      script: `nslookup kubia.${svc} >/tmp/o 2>&1 && ${has(`^Address: ${ip.kubia}$`)}`,
    },
    {
      // busybox nslookup exits 1 when any search-list try fails: the answer for the first try counts.
      pod: 'short-name',
      script: `nslookup kubia >/tmp/o 2>&1; grep -A1 '^Name:.*kubia.${svc}$' /tmp/o | grep -q '^Address: ${ip.kubia}$'`,
    },
    {
      pod: 'headless',
      script:
        `nslookup kubia-headless.${svc} >/tmp/o 2>&1 && ` +
        ip.kubiaPods.map((p) => has(`^Address: ${p}$`)).join(' && ') +
        ` && [ "$(grep -c '^Address: ' /tmp/o)" = ${ip.kubiaPods.length} ]`,
    },
    {
      pod: 'srv',
      script:
        `nslookup -type=SRV _http._tcp.kubia.${svc} >/tmp/o 2>&1 && ${has(`service = 0 100 80 kubia.${svc}`)} && ` +
        `nslookup -type=SRV _http._tcp.web.${svc} >/tmp/o 2>&1 && ` +
        `${has(`service = 0 50 80 web-0.web.${svc}`)} && ${has(`service = 0 50 80 web-1.web.${svc}`)}`,
    },
    {
      pod: 'externalname',
      script:
        `nslookup -type=CNAME alias.${svc} >/tmp/o 2>&1 && ${has(`canonical name = kubia.${svc}`)} && ` +
        `nslookup alias.${svc} >/tmp/o 2>&1 && ${has(`^Address: ${ip.kubia}$`)}`,
    },
    {
      // The StatefulSet pod by its stable name (FQDN, and web-1.web through the search list).
      pod: 'statefulset',
      script:
        `timeout 5 wget -qO- http://web-0.web.${svc}/cgi-bin/hostname | grep -qx web-0 && ` +
        `timeout 5 wget -qO- http://web-1.web/cgi-bin/hostname | grep -qx web-1`,
    },
    {
      pod: 'ptr-and-pod-records',
      script:
        `nslookup ${web0} >/tmp/o 2>&1 && ${has(`name = web-0.web.${svc}`)} && ` +
        `nslookup ${ip.kubia} >/tmp/o 2>&1 && ${has(`name = kubia.${svc}`)} && ` +
        `nslookup ${web0.replace(/\./g, '-')}.${ns}.pod.cluster.local >/tmp/o 2>&1 && ${has(`^Address: ${web0}$`)} && ` +
        `! nslookup nope.${svc} >/tmp/o 2>&1 && ${has('NXDOMAIN')}`,
    },
    {
      pod: 'service-env',
      script:
        `[ "$KUBIA_SERVICE_HOST" = ${ip.kubia} ] && [ "$KUBIA_SERVICE_PORT" = 80 ] && ` +
        `[ "$KUBIA_SERVICE_PORT_HTTP" = 80 ] && [ "$KUBIA_PORT" = tcp://${ip.kubia}:80 ] && ` +
        `[ "$KUBIA_PORT_80_TCP_ADDR" = ${ip.kubia} ]`,
    },
    {
      pod: 'resolv-clusterfirst',
      script:
        `grep -qx 'search ${svc} svc.cluster.local cluster.local' /etc/resolv.conf && ` +
        `grep -qx 'nameserver 10.96.0.10' /etc/resolv.conf && grep -qx 'options ndots:5' /etc/resolv.conf && ` +
        `[ "$(grep -c nameserver /etc/resolv.conf)" = 1 ]`,
    },
    {
      pod: 'resolv-none',
      extraSpec: {
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['10.96.0.10'],
          searches: [svc, 'example.test'],
          options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
        },
      },
      script:
        `grep -qx 'search ${svc} example.test' /etc/resolv.conf && grep -qx 'nameserver 10.96.0.10' /etc/resolv.conf && ` +
        `grep -q 'ndots:2' /etc/resolv.conf && grep -q edns0 /etc/resolv.conf && ` +
        `nslookup kubia.${svc} >/tmp/o 2>&1 && ${has(`^Address: ${ip.kubia}$`)}`,
    },
    {
      // Host network + ClusterFirstWithHostNet: the node's own netns reaches its local 10.96.0.10.
      pod: 'resolv-hostnet',
      extraSpec: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' },
      script:
        `grep -qx 'nameserver 10.96.0.10' /etc/resolv.conf && grep -q '^search ${svc} ' /etc/resolv.conf && ` +
        `nslookup kubia.${svc} >/tmp/o 2>&1 && ${has(`^Address: ${ip.kubia}$`)}`,
    },
    {
      // dnsPolicy Default: the node's resolution, not the cluster DNS — a nameserver the pod can reach
      // (not Docker's 127.0.0.11, which only exists inside the node), answering what the node's resolver
      // answers: here a node name, which Docker's DNS knows (no query leaves the machine).
      pod: 'resolv-default',
      extraSpec: { dnsPolicy: 'Default' },
      script:
        `! grep -q 10.96.0.10 /etc/resolv.conf && ! grep -q '^nameserver 127\\.' /etc/resolv.conf && ` +
        `nslookup ${ip.nodes[0]}. >/tmp/o 2>&1 && grep -q '^Address: ' /tmp/o`,
    },
  ];
}

const checkPod = (ns: string, node: string, ch: Check): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: ch.pod, namespace: ns, labels: { role: 'dns-check' } },
  spec: {
    restartPolicy: 'Never',
    nodeName: node,
    terminationGracePeriodSeconds: 1,
    containers: [
      { name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', ch.script] },
    ],
    ...ch.extraSpec,
  },
});

/** The container log of a finished check pod (kubectl logs is not there yet: read it on the node). */
function podLog(node: string, ns: string, pod: string): string {
  const r = spawnSync(
    'docker',
    ['exec', `berth-${name}.${node}`, 'sh', '-c', `cat /var/log/pods/${ns}_${pod}_*/c/*.log 2>&1`],
    { encoding: 'utf8' },
  );
  return r.stdout + r.stderr;
}

describe('cluster DNS', { skip: noDocker }, () => {
  it('kube-dns is listed in kube-system, node-local, and every node holds 10.96.0.10 and serves port 53', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    const out = await k.ok([
      '-n',
      'kube-system',
      'get',
      'svc',
      'kube-dns',
      '-o',
      'jsonpath={.spec.clusterIP} {.metadata.labels.berth\\.dev/node-local} {range .spec.ports[*]}{.name}/{.port}/{.protocol} {end}',
    ]);
    assert.equal(out.trim(), '10.96.0.10 true dns/53/UDP dns-tcp/53/TCP');
    for (const node of c.nodes) {
      await eventually(
        `DNS listening on ${node}`,
        () => /10\.96\.0\.10:53\b/.test(dockerExec(node, ['ss', '-lnu'])),
        60_000,
        500,
      );
      assert.match(dockerExec(node, ['ip', '-4', 'addr']), /inet 10\.96\.0\.10\/32/);
      assert.match(dockerExec(node, ['ip', 'route', 'get', '10.96.0.10']), /^local 10\.96\.0\.10 /);
    }
  });

  for (const version of E2E_VERSIONS) {
    describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
      let k: KubectlRunner;
      const ns = `dns-${version.replace('.', '')}`;
      const n = ['-n', ns];
      let list: Check[] = [];
      const placed = new Map<string, string>();
      const phases = new Map<string, string>();

      before(async () => {
        k = kubectlRunner(version, c.kubeconfig, c.home);
        await k.ok(['create', 'ns', ns]);
        await k.ok(['apply', '-f', '-'], { input: workloads(ns) });
        await k.ok([...n, 'rollout', 'status', 'deploy/kubia', '--timeout=120s'], { timeoutMs: 130_000 });
        await k.ok([...n, 'rollout', 'status', 'sts/web', '--timeout=120s'], { timeoutMs: 130_000 });
        const kubia = (await k.ok([...n, 'get', 'svc', 'kubia', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
        const rows = (
          await k.ok([
            ...n,
            'get',
            'pods',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.app} {.status.podIP}{"\\n"}{end}',
          ])
        )
          .trim()
          .split('\n')
          .map((l) => l.split(' '));
        const kubiaPods = rows.filter((r) => r[1] === 'kubia').map((r) => r[2]!);
        const web = Object.fromEntries(rows.filter((r) => r[1] === 'web').map((r) => [r[0]!, r[2]!]));
        assert.equal(kubiaPods.length, 2);
        assert.deepEqual(Object.keys(web).sort(), ['web-0', 'web-1']);
        list = checks(ns, { kubia, kubiaPods, web, nodes: c.nodes });
        // Spread the checks over both nodes: each node's DNS answers its own pods.
        const pods = list.map((ch, i) => {
          const node = c.nodes[i % c.nodes.length]!;
          placed.set(ch.pod, node);
          return checkPod(ns, node, ch);
        });
        await k.ok(['apply', '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }),
        });
        await eventually(
          'every DNS check pod to finish',
          async () => {
            const out = await k.ok([
              ...n,
              'get',
              'pods',
              '-l',
              'role=dns-check',
              '-o',
              'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}',
            ]);
            for (const [pod, phase] of out
              .trim()
              .split('\n')
              .map((l) => l.split(' ')))
              if (pod && phase) phases.set(pod, phase);
            return list.every((ch) => ['Succeeded', 'Failed'].includes(phases.get(ch.pod) ?? ''));
          },
          120_000,
          1000,
        );
      });

      const verdict = (pod: string): void => {
        const phase = phases.get(pod);
        const node = placed.get(pod) ?? c.nodes[0]!;
        assert.equal(phase, 'Succeeded', `check ${pod} on ${node}: ${phase}\n${podLog(node, ns, pod)}`);
      };

      it('kubia.<ns>.svc.cluster.local and the short name kubia resolve to the ClusterIP', () => {
        verdict('fqdn');
        verdict('short-name');
      });
      it('a headless service resolves to its pod IPs', () => verdict('headless'));
      it('an SRV query lists the named port (ClusterIP and headless)', () => verdict('srv'));
      it('an ExternalName service returns a CNAME (followed to the target inside the cluster)', () =>
        verdict('externalname'));
      it('a StatefulSet pod is reachable as web-0.web.<ns>.svc.cluster.local', () => verdict('statefulset'));
      it('PTR for service and pod IPs, a-b-c-d.<ns>.pod records, NXDOMAIN for unknown names', () =>
        verdict('ptr-and-pod-records'));
      it('service environment variables are injected', () => verdict('service-env'));
      it('resolv.conf per dnsPolicy: ClusterFirst, None + dnsConfig, ClusterFirstWithHostNet, Default', () => {
        for (const p of ['resolv-clusterfirst', 'resolv-none', 'resolv-hostnet', 'resolv-default'])
          verdict(p);
      });
    });
  }

  it('names outside the cluster are forwarded to the node resolver (a node name Docker answers)', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    const [self, peer] = c.nodes as [string, string];
    const peerIP = (
      await k.ok(['get', 'node', peer, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])
    ).trim();
    const ch: Check = {
      pod: 'forward',
      // The trailing dot: no search list, the name goes straight to the forwarder.
      script: `nslookup ${peer}. >/tmp/o 2>&1 && grep -q '^Address: ${peerIP}$' /tmp/o`,
    };
    await k.ok(['apply', '-f', '-'], { input: JSON.stringify(checkPod('default', self, ch)) });
    const phase = await eventually(
      'the forward check to finish',
      async () => {
        const p = (await k.ok(['get', 'pod', 'forward', '-o', 'jsonpath={.status.phase}'])).trim();
        return (p === 'Succeeded' || p === 'Failed') && p;
      },
      60_000,
      1000,
    );
    assert.equal(phase, 'Succeeded', podLog(self, 'default', 'forward'));
  });
});
