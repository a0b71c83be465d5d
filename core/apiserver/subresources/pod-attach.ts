/** pods/attach: exec's transports and relay, on the container's own process (no command). */
import type { NodeConnector } from '../node-connection.ts';
import { podRemoteCommand, type UpgradeHandler } from './pod-exec.ts';

export const podAttachHandler = (nodes: NodeConnector): UpgradeHandler => podRemoteCommand(nodes, 'attach');
