/**
 * Who may use the agent endpoint: only the API server's kubelet-client certificate (CN
 * kube-apiserver-kubelet-client) signed by the cluster CA. TLS asks for a client certificate but does
 * not refuse the handshake, so a bad caller gets a Status (401 without a valid certificate, 403 for
 * another identity) rather than a TLS alert.
 */
import type { TLSSocket } from 'node:tls';
import { AgentError } from './status.ts';

export const API_SERVER_CLIENT_CN = 'kube-apiserver-kubelet-client';

/** Throws an AgentError unless the peer is the API server. */
export function authenticatePeer(socket: TLSSocket): void {
  const cert = socket.getPeerCertificate();
  if (!socket.authorized || !cert || !cert.subject) throw new AgentError(401, 'Unauthorized');
  const cn = cert.subject.CN;
  if (cn !== API_SERVER_CLIENT_CN)
    throw new AgentError(403, `Forbidden (user=${String(cn)}, verb=get, resource=nodes, subresource=proxy)`);
}
