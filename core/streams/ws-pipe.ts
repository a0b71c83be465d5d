/**
 * Sends what a readable stream yields as WebSocket messages with back-pressure: the stream pauses
 * while the WebSocket has more than HIGH_WATER queued, and the send callbacks resume it once the queue
 * is below LOW_WATER (or the socket is gone). Resolves when the stream ends.
 */
import type { Readable } from 'node:stream';
import type WebSocket from 'ws';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

export function pipeToWebSocket(
  s: Readable,
  ws: WebSocket,
  frame: (b: Buffer) => Buffer | string,
): Promise<void> {
  return new Promise((resolve) => {
    const sent = (): void => {
      if (s.isPaused() && (ws.readyState !== ws.OPEN || ws.bufferedAmount < LOW_WATER)) s.resume();
    };
    s.on('data', (b: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      const m = frame(b);
      ws.send(m, { binary: typeof m !== 'string' }, sent);
      if (ws.bufferedAmount > HIGH_WATER) s.pause();
    });
    s.on('end', resolve);
    s.on('close', resolve);
  });
}
