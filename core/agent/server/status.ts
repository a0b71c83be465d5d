/**
 * Kubernetes Status bodies of the agent endpoint: the HTTP error answers (as the kubelet words them)
 * and the remote-command results sent on channel 3 of an exec/attach WebSocket.
 */
import type { ServerResponse } from 'node:http';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** An error that becomes a Status answer with this HTTP code. */
export class AgentError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export function statusBody(code: number, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'InternalError',
    code,
  });
}

export function sendStatus(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = statusBody(code, message);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The Status of a finished remote command. */
export const SUCCESS_STATUS = JSON.stringify({ metadata: {}, status: 'Success' });

export function failureStatus(message: string): string {
  return JSON.stringify({ metadata: {}, status: 'Failure', message });
}

/**
 * Normalizes what a kubelet-style streaming server wrote on its v4 error stream (a Status JSON: Success,
 * NonZeroExitCode with an ExitCode cause, or another Failure) into the channel-3 Status; empty = Success.
 */
export function commandStatus(errorStreamText: string): string {
  const text = errorStreamText.trim();
  if (!text) return SUCCESS_STATUS;
  try {
    const s = JSON.parse(text) as { status?: unknown };
    if (s && typeof s === 'object' && (s.status === 'Success' || s.status === 'Failure'))
      return JSON.stringify(s);
  } catch {
    /* plain text (older protocols): a failure message */
  }
  return failureStatus(text);
}
