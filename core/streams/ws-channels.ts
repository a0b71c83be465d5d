/**
 * Kubernetes' WebSocket channel framing (v4/v5.channel.k8s.io): each binary message starts with a
 * channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize. v5 adds [0xFF, ch]: "channel
 * ch is closed" (stdin EOF). The port-forward variant numbers channels 2i (data) and 2i+1 (error) for
 * the i-th port and starts each channel with the port as a little-endian uint16.
 */
export const Channel = { STDIN: 0, STDOUT: 1, STDERR: 2, ERROR: 3, RESIZE: 4 } as const;
export const CLOSE_CHANNEL = 0xff;

export const V5_PROTOCOL = 'v5.channel.k8s.io';
export const V4_PROTOCOL = 'v4.channel.k8s.io';

export function channelMessage(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

export function closeChannelMessage(channel: number): Buffer {
  return Buffer.from([CLOSE_CHANNEL, channel]);
}

export type ChannelMessage =
  { kind: 'data'; channel: number; data: Buffer } | { kind: 'close'; channel: number };

/** Parses one message; `v5` decides whether [0xFF, ch] is a close signal. Empty messages are undefined. */
export function parseChannelMessage(msg: Buffer, v5: boolean): ChannelMessage | undefined {
  if (msg.length === 0) return undefined;
  const ch = msg[0]!;
  if (v5 && ch === CLOSE_CHANNEL) return msg.length >= 2 ? { kind: 'close', channel: msg[1]! } : undefined;
  return { kind: 'data', channel: ch, data: msg.subarray(1) };
}

/** The port prefix that opens each port-forward channel. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/** Turns a ws `message` payload into one Buffer. */
export function messageBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}
