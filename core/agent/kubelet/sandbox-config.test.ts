import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/object.ts';
import {
  managedHostsFile,
  type NodeDNS,
  parseResolvConf,
  podDNSConfig,
  portMappings,
  sandboxConfig,
} from './sandbox-config.ts';

const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KObject => ({
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, ...meta },
  spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
});

const node: NodeDNS = {
  clusterDomain: 'cluster.local',
  clusterDNS: ['10.96.0.10'],
  host: parseResolvConf('# docker\nnameserver 192.0.2.1\nsearch corp.example\noptions edns0\n'),
};

describe('pod DNS (dnsPolicy)', () => {
  test('ClusterFirst: cluster DNS, namespace search path, ndots:5', () => {
    assert.deepEqual(podDNSConfig(pod({}), node), {
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      options: ['ndots:5'],
    });
  });

  test('host network: Default unless ClusterFirstWithHostNet', () => {
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true }), node).servers, ['192.0.2.1']);
    assert.deepEqual(
      podDNSConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), node).servers,
      ['10.96.0.10'],
    );
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default' }), node), {
      servers: ['192.0.2.1'],
      searches: ['corp.example'],
      options: ['edns0'],
    });
  });

  test('None plus dnsConfig, options merged by name', () => {
    const p = pod({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['192.0.2.53'],
        searches: ['a.example'],
        options: [{ name: 'ndots', value: '2' }],
      },
    });
    assert.deepEqual(podDNSConfig(p, node), {
      servers: ['192.0.2.53'],
      searches: ['a.example'],
      options: ['ndots:2'],
    });
    const merged = podDNSConfig(
      pod({ dnsConfig: { options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }] } }),
      node,
    );
    assert.deepEqual(merged.options, ['ndots:1', 'edns0']);
  });
});

describe('sandbox config', () => {
  test('hosts file with the subdomain FQDN and host aliases', () => {
    const p = pod({
      hostname: 'h',
      subdomain: 'sub',
      hostAliases: [{ ip: '1.1.1.1', hostnames: ['a', 'b'] }],
    });
    const text = managedHostsFile(p, ['10.244.1.7'], 'cluster.local');
    assert.match(text, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(text, /\n10\.244\.1\.7\th\.sub\.shop\.svc\.cluster\.local\th\n/);
    assert.match(text, /# Entries added by HostAliases\.\n1\.1\.1\.1\ta\tb\n$/);
  });

  test('host ports become port mappings', () => {
    const p = pod({
      containers: [
        {
          name: 'c',
          ports: [
            { containerPort: 80, hostPort: 8080 },
            { containerPort: 53, protocol: 'UDP' },
          ],
        },
      ],
    });
    assert.deepEqual(portMappings(p), [{ protocol: 'TCP', containerPort: 80, hostPort: 8080 }]);
  });

  test('metadata, labels, log directory and host namespaces', () => {
    const cfg = sandboxConfig(pod({ hostPID: true }), 2, node);
    assert.deepEqual(cfg.metadata, { name: 'web-0', namespace: 'shop', uid: 'u-1', attempt: 2 });
    assert.equal(cfg.hostname, 'web-0');
    assert.equal(cfg.logDirectory, '/var/log/pods/shop_web-0_u-1');
    assert.equal(cfg.labels?.['io.kubernetes.pod.uid'], 'u-1');
    assert.equal(cfg.labels?.['app'], 'web');
    assert.equal(cfg.linux?.securityContext?.namespaceOptions?.pid, 'NODE');
    assert.equal(cfg.linux?.securityContext?.namespaceOptions?.network, 'POD');
    assert.match(cfg.linux?.cgroupParent ?? '', /\/podu-1$/);
  });
});
