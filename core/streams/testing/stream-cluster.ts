/**
 * Test fixture: an in-process ApiServer (SQLite in memory) whose one Node points at a FAKE agent,
 * with pods, an echo TCP server for port-forward, and kubeconfigs for an admin and for "reader"
 * (who may get pods and pods/log but not create pods/exec, pods/attach or pods/portforward).
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../api/object.ts';
import { ApiServer } from '../../apiserver/server.ts';
import { Authenticator } from '../../apiserver/authn.ts';
import { KUBERNETES_VERSION } from '../../cluster/cluster.ts';
import { loadOrCreatePki } from '../../pki/store.ts';
import { writeKubeconfig } from '../../pki/kubeconfig.ts';
import { allStrategies } from '../../registry/index.ts';
import { openStore } from '../../store/sqlite-store.ts';
import type { Attributes, Authorizer } from '../../auth/types.ts';
import { startFakeAgent, type FakeAgent } from './fake-agent.ts';

export interface StreamCluster {
  dir: string;
  server: ApiServer;
  url: string;
  agent: FakeAgent;
  sandbox: string;
  adminKubeconfig: string;
  readerKubeconfig: string;
  /** The admin's TLS options for hand-made requests (ca, cert, key). */
  adminTls: { ca: string; cert: string; key: string };
  /** Sockets currently open on the echo server. */
  echoConnections(): number;
  close(): Promise<void>;
}

const allowAll = { decision: 'allow' as const, reason: '' };
const testAuthorizer: Authorizer = {
  authorize(a: Attributes) {
    if (a.user.groups.includes('berth:cluster-admins')) return allowAll;
    if (a.user.username !== 'reader') return { decision: 'noOpinion', reason: '' };
    if (!a.resourceRequest) return allowAll;
    const ok =
      a.resource === 'pods' && (a.subresource === '' || a.subresource === 'log') && a.verb !== 'create';
    return ok ? allowAll : { decision: 'noOpinion', reason: '' };
  },
  rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
};

function pod(name: string, containers: string[], phase: string, nodeName = 'node-a'): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      nodeName: nodeName || undefined,
      containers: containers.map((c) => ({ name: c, image: 'busybox' })),
    },
    status: { phase },
  } as unknown as KObject;
}

export async function startStreamCluster(): Promise<StreamCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-streams-'));
  const sandbox = join(dir, 'sandbox');
  mkdirSync(join(sandbox, 'tmp'), { recursive: true });
  const pki = await loadOrCreatePki(dir);
  const nodeClient = await pki.issueClientCert('kube-apiserver-kubelet-client', ['system:masters']);
  const serving = await pki.issueNodeServingCert('node-a');

  const echoSockets = new Set<Socket>();
  const echo: Server = createServer((s) => {
    echoSockets.add(s);
    s.on('close', () => echoSockets.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as AddressInfo).port;
  const agent = await startFakeAgent({
    caPem: pki.ca.certPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    sandbox,
    ports: { 80: echoPort, 8080: echoPort },
  });

  const store = openStore({ path: ':memory:' });
  const server = new ApiServer({
    store,
    strategies: allStrategies(),
    tls: { key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem },
    authenticator: new Authenticator([]),
    authorizer: testAuthorizer,
    version: KUBERNETES_VERSION,
    nodeClient: { caPem: pki.ca.certPem, certPem: nodeClient.certPem, keyPem: nodeClient.keyPem },
  });
  const ctx = server.context({ username: 'test', groups: ['berth:cluster-admins'] });
  const served = (r: string) => server.table.lookup('', 'v1', r)!;
  const create = (resource: string, ns: string, obj: KObject): void => {
    const created = server.registry.create(served(resource), ns, obj, ctx);
    if (!(obj as { status?: unknown }).status) return;
    const withStatus = { ...created, status: (obj as { status?: unknown }).status } as KObject;
    server.registry.update(served(resource), ns, created.metadata.name!, withStatus, ctx, {
      subresource: 'status',
    });
  };
  create('namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as KObject);
  create('nodes', '', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: {
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: 'node-a' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
    },
  } as unknown as KObject);
  create('pods', 'default', pod('web', ['main'], 'Running'));
  create('pods', 'default', pod('two', ['main', 'side', 'waiting'], 'Running'));
  create('pods', 'default', pod('done', ['main'], 'Succeeded'));
  create('pods', 'default', pod('pending', ['main'], 'Pending', ''));

  const port = await server.listen(0);
  const url = `https://127.0.0.1:${port}`;
  const adminKubeconfig = join(dir, 'admin.kubeconfig');
  writeKubeconfig(adminKubeconfig, {
    clusterName: 'streams',
    server: url,
    caPem: pki.ca.certPem,
    userName: 'streams-admin',
    certPem: pki.admin.certPem,
    keyPem: pki.admin.keyPem,
  });
  const reader = await pki.issueClientCert('reader', []);
  const readerKubeconfig = join(dir, 'reader.kubeconfig');
  writeKubeconfig(readerKubeconfig, {
    clusterName: 'streams',
    server: url,
    caPem: pki.ca.certPem,
    userName: 'streams-reader',
    certPem: reader.certPem,
    keyPem: reader.keyPem,
  });
  return {
    dir,
    server,
    url,
    agent,
    sandbox,
    adminKubeconfig,
    readerKubeconfig,
    adminTls: { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem },
    echoConnections: () => echoSockets.size,
    close: async () => {
      await server.close();
      await agent.close();
      for (const s of echoSockets) s.destroy();
      await new Promise<void>((r) => echo.close(() => r()));
      store.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
