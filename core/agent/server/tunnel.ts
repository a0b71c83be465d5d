/**
 * The kubelet's way to serve exec, attach and port-forward: the API server's SPDY/3.1 upgrade request
 * is handed to containerd's CRI streaming server (its URL from the CRI Exec/Attach/PortForward call)
 * and the two connections are spliced. The agent only decrypts and copies bytes: framing, flow,
 * stdin EOF, exit status and the multiplexing of port-forward connections (one error/data stream pair
 * per requestID on the one connection) are the streaming server's, as with a kubelet.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BorrowedReads } from '../../streams/borrowed-reads.ts';
import { splice } from '../../streams/splice.ts';
import { spdyUpgradeHeaders } from '../../streams/spdy/client.ts';
import { upgradeRequestHead } from '../../streams/upgrade-dial.ts';
import { keepSocketOpen } from '../../streams/upgrade.ts';
import { AgentError } from './status.ts';

/** How long the streaming server gets to accept the TCP connection. */
const CONNECT_TIMEOUT_MS = 10_000;

function connectTo(url: URL, reads: BorrowedReads): Promise<Socket> {
  if (url.protocol !== 'http:') throw new AgentError(500, `unsupported streaming server URL ${url.href}`);
  return new Promise((resolve, reject) => {
    const s = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      onread: reads.onread,
    });
    reads.attach(s);
    s.setTimeout(CONNECT_TIMEOUT_MS, () =>
      s.destroy(new Error(`no connection to the streaming server within ${CONNECT_TIMEOUT_MS} ms`)),
    );
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * Connects to the streaming server and splices it with `client` (the API server's upgraded socket;
 * `head` = bytes it sent after its request). The streaming server's answer (101 with the chosen
 * protocol, or an error) reaches the client unchanged. Returns a handle to cut the tunnel.
 */
export async function tunnelToStreamingServer(
  client: Duplex,
  head: Buffer,
  streamingUrl: string,
  protocols: readonly string[],
): Promise<{ close(): void; closed: Promise<void> }> {
  let backend: Socket;
  // The streaming server's output (the bulk of exec and port-forward) is read without an allocation
  // per read (borrowed-reads.ts).
  const reads = new BorrowedReads();
  try {
    backend = await connectTo(new URL(streamingUrl), reads);
  } catch (e) {
    throw e instanceof AgentError
      ? e
      : new AgentError(500, `unable to reach the streaming server: ${(e as Error).message}`);
  }
  if (client.destroyed) {
    backend.destroy();
    throw new AgentError(500, 'the client went away');
  }
  keepSocketOpen(client);
  keepSocketOpen(backend);
  const url = new URL(streamingUrl);
  backend.write(
    upgradeRequestHead('POST', `${url.pathname}${url.search}`, url.host, spdyUpgradeHeaders(protocols)),
  );
  const s = splice(client, backend, { headForB: head, bReads: reads });
  return { close: s.destroy, closed: s.closed };
}
