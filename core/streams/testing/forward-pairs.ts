/**
 * Test support: the server side of SPDY port-forward as a streaming server sees it — the client's
 * error and data streams joined by `requestid`; `onPair` gets each complete pair (the error stream is
 * already flowing: the client never writes on it).
 */
import type { SpdySession, SpdyStream } from '../spdy/session.ts';

export function onForwardPairs(
  session: SpdySession,
  onPair: (error: SpdyStream, data: SpdyStream, requestId: string) => void,
): void {
  const open = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  session.on('stream', (s) => {
    s.on('error', () => undefined);
    const id = s.headers['requestid'] ?? '';
    const pair = open.get(id) ?? {};
    open.set(id, pair);
    if (s.headers['streamtype'] === 'error') {
      pair.error = s;
      s.resume();
    } else pair.data = s;
    const { error, data } = pair;
    if (!error || !data) return;
    open.delete(id);
    onPair(error, data, id);
  });
}
