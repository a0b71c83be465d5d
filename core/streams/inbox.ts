/**
 * Keeps a WebSocket's messages from the moment it opens until a handler is ready (the bridges first
 * dial containerd, and ws drops messages nobody listens to: an early stdin line or resize would be
 * lost).
 */
import type WebSocket from 'ws';
import { messageBuffer } from './ws-channels.ts';

export type MessageHandler = (data: Buffer, isBinary: boolean) => void;
export type Inbox = (handler: MessageHandler) => void;

export function holdMessages(ws: WebSocket): Inbox {
  const held: [Buffer, boolean][] = [];
  let handler: MessageHandler | undefined;
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const b = messageBuffer(data);
    if (handler) handler(b, isBinary);
    else held.push([b, isBinary]);
  });
  return (h) => {
    handler = h;
    for (const [b, bin] of held.splice(0)) h(b, bin);
  };
}
