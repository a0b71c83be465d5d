/**
 * Sends what a readable stream yields as WebSocket messages with back-pressure: the stream pauses
 * while the WebSocket has more than HIGH_WATER queued, and the send callbacks resume it once the queue
 * is below LOW_WATER (or the socket is gone). Resolves when the stream ends.
 */
import type { Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * Messages that arrive already framed (headroom-pool.ts) go straight to the socket under the
 * WebSocket, in one write. Safe with ws because it never fragments or compresses here and writes each
 * of its own frames synchronously: whole frames cannot interleave.
 */
export interface DirectFrames {
  socket: Writable;
  /** The complete frame for `b`, or undefined to send `frame(b)` through ws. */
  frame(b: Buffer): Buffer | undefined;
  /** A directly written frame is out: its buffer may be reused. */
  written(f: Buffer): void;
}

export function pipeToWebSocket(
  s: Readable,
  ws: WebSocket,
  frame: (b: Buffer) => Buffer | string,
  direct?: DirectFrames,
): Promise<void> {
  return new Promise((resolve) => {
    const resume = (): void => {
      if (s.isPaused() && (ws.readyState !== ws.OPEN || ws.bufferedAmount < LOW_WATER)) s.resume();
    };
    s.on('data', (b: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      const f = direct?.frame(b);
      if (f && direct) {
        direct.socket.write(f, () => {
          direct.written(f);
          resume();
        });
      } else {
        const m = frame(b);
        ws.send(m, { binary: typeof m !== 'string' }, resume);
      }
      if (ws.bufferedAmount > HIGH_WATER) s.pause();
    });
    s.on('end', resolve);
    s.on('close', resolve);
  });
}
