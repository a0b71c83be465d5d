/**
 * exec/attach protocol facts shared by the API server (protocol choice) and the test doubles of a
 * streaming server: the SPDY subprotocols served and the streams a client opens for a set of options.
 * The data path itself is the agent's tunnel (spliced for SPDY clients) or remotecommand-bridge.ts
 * (WebSocket clients).
 */
import { V4_PROTOCOL } from './ws-channels.ts';

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** SPDY subprotocols served, best first (v5 over SPDY is not offered: v4 is what kubectl 1.27–1.33 accept). */
export const SPDY_EXEC_PROTOCOLS = [
  V4_PROTOCOL,
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;

/** The stream types an exec/attach SPDY client opens for these options and protocol version. */
export function expectedSpdyStreams(opts: StreamOptions, protocol: string): string[] {
  const types = ['error'];
  if (opts.stdin) types.push('stdin');
  if (opts.stdout) types.push('stdout');
  if (opts.stderr && !opts.tty) types.push('stderr');
  if (opts.tty && protocol !== 'channel.k8s.io' && protocol !== 'v2.channel.k8s.io') types.push('resize');
  return types;
}
