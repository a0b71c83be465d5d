/**
 * The composition root's entry point: the Ingress controller of a cluster with real nodes, reaching pods
 * through the API server's connection to their node agents, on the ports of cluster.json
 * (`ingressHTTPPort`, `ingressHTTPSPort`; defaults 8080 and 8443 on 127.0.0.1).
 */
import type { ApiServer } from '../apiserver/server.ts';
import { NodeConnector, type NodeClientCredentials } from '../apiserver/node-connection.ts';
import type { InProcessClient } from '../client/in-process.ts';
import type { SharedInformerFactory } from '../client/informer.ts';
import {
  DEFAULT_HTTP_PORT,
  DEFAULT_HTTPS_PORT,
  startIngressController,
  type IngressController,
} from './controller.ts';
import { defaultIngressCertificate } from './tls.ts';
import { agentDialer } from './tunnel.ts';

export interface ClusterIngressOptions {
  server: ApiServer;
  client: InProcessClient;
  informers: SharedInformerFactory;
  /** The API server's kubelet-client credentials (CN kube-apiserver-kubelet-client) and the cluster CA. */
  nodeClient: NodeClientCredentials;
  caKeyPem: string;
  /** From cluster.json; undefined → the defaults. */
  httpPort?: number;
  httpsPort?: number;
  log?: (line: string) => void;
}

export async function startClusterIngress(opts: ClusterIngressOptions): Promise<IngressController> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const c = await startIngressController({
    client: opts.client,
    informers: opts.informers,
    dial: agentDialer(new NodeConnector(opts.server.registry, opts.server.table, opts.nodeClient)),
    defaultCertificate: await defaultIngressCertificate(opts.nodeClient.caPem, opts.caKeyPem),
    httpPort: opts.httpPort ?? DEFAULT_HTTP_PORT,
    httpsPort: opts.httpsPort ?? DEFAULT_HTTPS_PORT,
    log,
  });
  const { http, https } = c.ports();
  if (http !== undefined || https !== undefined)
    log(
      `Ingress: ${[http !== undefined ? `http://127.0.0.1:${http}` : '', https !== undefined ? `https://127.0.0.1:${https}` : ''].filter(Boolean).join(', ')}`,
    );
  return c;
}
