/**
 * The node agent's files, put into a node container before it starts (Docker's putArchive):
 * /etc/berth/agent.json and the node's client certificate, key and the cluster CA (the layout
 * core/agent/config.ts reads). The certificate is issued per node: CN system:node:<name>,
 * O system:nodes, like a kubelet's.
 */
import { pack } from 'tar-stream';
import { AGENT_CONFIG_DIR, AGENT_FILES, type AgentConfig } from '../../agent/config.ts';

export interface AgentPki {
  caPem: string;
  /** Client certificate: system:node:<name>, group system:nodes. */
  certPem: string;
  keyPem: string;
  /** The agent endpoint's serving certificate (DNS SAN <name>). */
  servingCertPem: string;
  servingKeyPem: string;
}

/** A tar archive (to extract at "/") holding the agent's files. */
export async function agentFilesArchive(config: AgentConfig, pki: AgentPki): Promise<Buffer> {
  const p = pack();
  const dir = AGENT_CONFIG_DIR.replace(/^\//, '');
  const add = (name: string, text: string, mode: number): void => {
    p.entry({ name: `${dir}/${name}`, mode, mtime: new Date() }, text);
  };
  p.entry({ name: `${dir}/`, type: 'directory', mode: 0o755 });
  p.entry({ name: `${dir}/pki/`, type: 'directory', mode: 0o700 });
  add(AGENT_FILES.config, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  add(AGENT_FILES.ca, pki.caPem, 0o644);
  add(AGENT_FILES.cert, pki.certPem, 0o644);
  add(AGENT_FILES.key, pki.keyPem, 0o600);
  add(AGENT_FILES.servingCert, pki.servingCertPem, 0o644);
  add(AGENT_FILES.servingKey, pki.servingKeyPem, 0o600);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
