/**
 * Fetches a node agent's resource summary (GET /stats/summary on its :10250 endpoint) as the API server
 * reaches agents: mutual TLS with the kubelet-client certificate, the agent's serving certificate checked
 * against the cluster CA for the node's name, at its InternalIP and kubelet endpoint port.
 */
import { request } from 'node:https';
import type { KObject } from '../api/object.ts';
import { SUMMARY_PATH, type Summary } from './summary.ts';

export interface AgentCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface NodeEndpoint {
  nodeName: string;
  address: string;
  port: number;
}

export type SummaryFetcher = (t: NodeEndpoint, signal: AbortSignal) => Promise<Summary>;

const MAX_SUMMARY_BYTES = 16 * 1024 * 1024;

interface NodeShape {
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

/** Where a Node's agent listens; undefined without an InternalIP. */
export function nodeEndpoint(node: KObject): NodeEndpoint | undefined {
  const st = (node as NodeShape).status;
  const address = st?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!address) return undefined;
  return {
    nodeName: node.metadata.name ?? '',
    address,
    port: st?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250,
  };
}

export function httpsSummaryFetcher(creds: AgentCredentials): SummaryFetcher {
  return (t, signal) =>
    new Promise<Summary>((resolve, reject) => {
      const host = t.address.includes(':') ? `[${t.address}]` : t.address;
      const req = request(
        `https://${host}:${t.port}${SUMMARY_PATH}`,
        {
          method: 'GET',
          ca: creds.caPem,
          cert: creds.certPem,
          key: creds.keyPem,
          servername: t.nodeName,
          signal,
          headers: { Accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_SUMMARY_BYTES) res.destroy(new Error('summary too large'));
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200)
              return reject(new Error(`agent answered ${res.statusCode ?? '?'}: ${body.slice(0, 200)}`));
            try {
              resolve(JSON.parse(body) as Summary);
            } catch (e) {
              reject(e as Error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
}
