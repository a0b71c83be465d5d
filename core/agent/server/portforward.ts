/**
 * /portForward: one internal WebSocket (berth.portforward.v1) = one TCP connection to a pod port,
 * relayed through containerd's CRI streaming server with SPDY `portforward.k8s.io` (an error and a
 * data stream sharing a requestid, as client-go opens them). Binary messages are the bytes; a text
 * "EOF" ends a direction (FIN on the data stream, and back); a pod-side failure (e.g. connection
 * refused) is the streaming server's error text, sent as one text message before close 1011.
 */
import type WebSocket from 'ws';
import { dialSpdy } from '../../streams/spdy/client.ts';
import type { Inbox } from '../../streams/inbox.ts';
import { pipeToWebSocket } from '../../streams/ws-pipe.ts';

const PROTOCOL = 'portforward.k8s.io';

export async function bridgePortForward(
  ws: WebSocket,
  inbox: Inbox,
  url: string,
  port: number,
): Promise<void> {
  const fail = (text: string): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(text, { binary: false });
    ws.close(1011, 'port-forward failed');
  };
  let session;
  try {
    ({ session } = await dialSpdy(url, [PROTOCOL]));
  } catch (e) {
    fail(`unable to upgrade streaming connection: ${(e as Error).message}`);
    return;
  }
  const headers = { port: String(port), requestid: '0' };
  const error = session.openStream({ streamtype: 'error', ...headers });
  error.on('error', () => undefined);
  error.end(); // the client never writes on the error stream
  const data = session.openStream({ streamtype: 'data', ...headers });
  data.on('error', () => undefined);

  let errorText = '';
  let podEnded = false;
  let userEnded = false;
  const errorDone = new Promise<void>((resolve) => {
    error.on('data', (b: Buffer) => (errorText += b.toString('utf8')));
    error.on('end', resolve);
    error.on('close', resolve);
    session.onClose(resolve);
  });
  const maybeDone = (): void => {
    if (podEnded && userEnded && ws.readyState === ws.OPEN) ws.close(1000);
  };

  inbox((b, isBinary) => {
    if (isBinary) {
      if (!data.writableEnded) data.write(b);
    } else if (b.toString('utf8') === 'EOF') {
      userEnded = true;
      if (!data.writableEnded) data.end();
      maybeDone();
    }
  });
  ws.on('close', () => session.close());

  void pipeToWebSocket(data, ws, (b) => b);
  data.on('end', () => {
    // The server ends the data stream both on a normal end and on a failure; the error stream tells.
    void Promise.race([errorDone, new Promise((r) => setTimeout(r, 500))]).then(() => {
      if (errorText.trim()) return fail(errorText.trim());
      podEnded = true;
      if (ws.readyState === ws.OPEN) ws.send('EOF', { binary: false });
      maybeDone();
    });
  });
  await errorDone;
  if (errorText.trim()) fail(errorText.trim());
  await new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    ws.once('close', () => resolve());
  });
  session.close();
}
