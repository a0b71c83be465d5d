import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { fieldErrorString } from '../../api/field-errors.ts';
import type { RequestContext } from '../types.ts';
import { serviceStrategy } from './services.ts';
import { ServiceAllocator } from './service-allocator.ts';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now, dryRun: false, user: { username: 'admin', groups: [] } } as unknown as RequestContext;

function svc(name: string, spec: Record<string, unknown>): KObject {
  const obj: KObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' },
    spec,
  };
  serviceStrategy.defaults!(obj);
  serviceStrategy.prepareForCreate!(obj, ctx);
  return obj;
}

test('service defaults match a stored ClusterIP service', () => {
  const s = svc('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
  assert.deepEqual(s['spec'], {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(s['status'], { loadBalancer: {} });
  assert.deepEqual(serviceStrategy.validate!(s, ctx), []);
  const np = svc('np', { type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] });
  assert.equal((np['spec'] as { externalTrafficPolicy: string }).externalTrafficPolicy, 'Cluster');
});

test('service validation messages', () => {
  const msgs = (spec: Record<string, unknown>): string[] =>
    serviceStrategy.validate!(svc('x', spec), ctx).map(fieldErrorString);
  assert.deepEqual(msgs({}), ['spec.ports: Required value']);
  assert.deepEqual(msgs({ clusterIP: 'None' }), []);
  assert.ok(
    msgs({ type: 'Bogus', ports: [{ port: 80 }] }).includes(
      'spec.type: Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ),
  );
  assert.deepEqual(msgs({ ports: [{ port: 0 }] }), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]);
  assert.ok(
    msgs({ ports: [{ port: 80, nodePort: 30080 }] }).includes(
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ),
  );
  assert.ok(msgs({ ports: [{ port: 80 }, { port: 81 }] }).includes('spec.ports[0].name: Required value'));
  assert.ok(
    msgs({ ports: [{ port: 80, protocol: 'ICMP' }] }).includes(
      'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ),
  );
});

test('clusterIP may not change once set', () => {
  const old = svc('web', { ports: [{ port: 80 }], clusterIP: '10.96.0.50' });
  const next = JSON.parse(JSON.stringify(old)) as KObject;
  (next['spec'] as Record<string, unknown>)['clusterIP'] = 'None';
  (next['spec'] as Record<string, unknown>)['clusterIPs'] = ['None'];
  serviceStrategy.prepareForUpdate!(next, old, ctx);
  assert.deepEqual(serviceStrategy.validateUpdate!(next, old, ctx).map(fieldErrorString), [
    'spec.clusterIPs[0]: Invalid value: ["None"]: may not change once set',
  ]);
  // An omitted clusterIP keeps the allocated one.
  const omitted = JSON.parse(JSON.stringify(old)) as KObject;
  delete (omitted['spec'] as Record<string, unknown>)['clusterIP'];
  delete (omitted['spec'] as Record<string, unknown>)['clusterIPs'];
  serviceStrategy.prepareForUpdate!(omitted, old, ctx);
  assert.deepEqual(serviceStrategy.validateUpdate!(omitted, old, ctx), []);
  assert.equal((omitted['spec'] as { clusterIP: string }).clusterIP, '10.96.0.50');
});

test('service printer', () => {
  const s = svc('web', {
    selector: { app: 'web', tier: 'fe' },
    ports: [{ port: 80 }, { port: 443, name: 'https' }],
    clusterIP: '10.96.0.20',
  });
  assert.deepEqual(serviceStrategy.row!(s, now), [
    'web',
    'ClusterIP',
    '10.96.0.20',
    '<none>',
    '80/TCP,443/TCP',
    '60m',
    'app=web,tier=fe',
  ]);
  const lb = svc('lb', {
    type: 'LoadBalancer',
    ports: [{ port: 443, nodePort: 30443 }],
    clusterIP: '10.96.0.21',
  });
  assert.deepEqual(serviceStrategy.row!(lb, now).slice(1, 5), [
    'LoadBalancer',
    '10.96.0.21',
    '<pending>',
    '443:30443/TCP',
  ]);
  const en = svc('ext', { type: 'ExternalName', externalName: 'berth.test' });
  assert.deepEqual(serviceStrategy.row!(en, now).slice(1, 5), [
    'ExternalName',
    '<none>',
    'berth.test',
    '<none>',
  ]);
  assert.deepEqual(serviceStrategy.validate!(en, ctx), []);
});

test('allocator: unique IPs, reserved addresses, requested conflicts, release', () => {
  const alloc = new ServiceAllocator({ serviceCIDR: '10.96.0.0/24' });
  const k = svc('kubernetes', { ports: [{ port: 443 }], clusterIP: '10.96.0.1' });
  assert.deepEqual(alloc.allocate(k, undefined), []);
  const seen = new Set<string>(['10.96.0.1']);
  for (let i = 0; i < 200; i++) {
    const s = svc(`s${i}`, { ports: [{ port: 80 }] });
    assert.deepEqual(alloc.allocate(s, undefined), []);
    const ip = (s['spec'] as { clusterIP: string }).clusterIP;
    assert.ok(!seen.has(ip), `duplicate ${ip}`);
    assert.notEqual(ip, '10.96.0.10');
    assert.deepEqual((s['spec'] as { clusterIPs: string[] }).clusterIPs, [ip]);
    seen.add(ip);
  }
  const dns = svc('kube-dns', { ports: [{ port: 53, protocol: 'UDP' }], clusterIP: '10.96.0.10' });
  assert.deepEqual(alloc.allocate(dns, undefined), []);
  const dup = svc('dup', { ports: [{ port: 53 }], clusterIP: '10.96.0.10' });
  assert.deepEqual(alloc.allocate(dup, undefined).map(fieldErrorString), [
    'spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated',
  ]);
  const out = svc('out', { ports: [{ port: 53 }], clusterIP: '10.97.0.10' });
  assert.deepEqual(alloc.allocate(out, undefined).map(fieldErrorString), [
    'spec.clusterIPs: Invalid value: ["10.97.0.10"]: failed to allocate IP 10.97.0.10: the provided IP (10.97.0.10) is not in the valid range. The range of valid IPs is 10.96.0.0/24',
  ]);
  alloc.release(dns);
  assert.deepEqual(alloc.allocate(dup, undefined), []);
  // Updates keep their own address.
  const again = JSON.parse(JSON.stringify(dup)) as KObject;
  assert.deepEqual(alloc.allocate(again, dup), []);
  // Headless and ExternalName get none.
  const headless = svc('h', { clusterIP: 'None', selector: { a: 'b' } });
  assert.deepEqual(alloc.allocate(headless, undefined), []);
  assert.deepEqual((headless['spec'] as { clusterIPs: string[] }).clusterIPs, ['None']);
  const ext = svc('e', { type: 'ExternalName', externalName: 'x.example' });
  assert.deepEqual(alloc.allocate(ext, undefined), []);
  assert.equal((ext['spec'] as { clusterIP?: string }).clusterIP, undefined);
});

test('allocator: node ports', () => {
  const alloc = new ServiceAllocator({ serviceCIDR: '10.96.0.0/12' });
  const a = svc('a', {
    type: 'NodePort',
    ports: [{ port: 80 }, { port: 443, name: 'https', nodePort: 30443 }],
  });
  (a['spec'] as { ports: { name?: string }[] }).ports[0]!.name = 'http';
  assert.deepEqual(alloc.allocate(a, undefined), []);
  const ports = (a['spec'] as { ports: { nodePort: number }[] }).ports;
  assert.ok(ports[0]!.nodePort >= 30000 && ports[0]!.nodePort <= 32767);
  assert.equal(ports[1]!.nodePort, 30443);
  const b = svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30443 }] });
  assert.deepEqual(alloc.allocate(b, undefined).map(fieldErrorString), [
    'spec.ports[0].nodePort: Invalid value: 30443: provided port is already allocated',
  ]);
  const c = svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] });
  assert.deepEqual(alloc.allocate(c, undefined).map(fieldErrorString), [
    'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
  ]);
  // Rebuild from stored objects reproduces ownership.
  const fresh = new ServiceAllocator({ serviceCIDR: '10.96.0.0/12' });
  fresh.rebuild([a]);
  assert.equal(fresh.isPortAllocated(30443), true);
  assert.equal(fresh.isIPAllocated((a['spec'] as { clusterIP: string }).clusterIP), true);
  // Update omitting nodePorts keeps them.
  const upd = JSON.parse(JSON.stringify(a)) as KObject;
  for (const p of (upd['spec'] as { ports: { nodePort?: number }[] }).ports) delete p.nodePort;
  assert.deepEqual(fresh.allocate(upd, a), []);
  assert.deepEqual(
    (upd['spec'] as { ports: { nodePort: number }[] }).ports.map((p) => p.nodePort),
    ports.map((p) => p.nodePort),
  );
});
