/**
 * Container probes as the kubelet runs them (pkg/kubelet/prober): one worker per probe runs the check
 * every periodSeconds once initialDelaySeconds have passed, counts consecutive equal results and
 * reports a new result only when successThreshold / failureThreshold is reached.
 *
 * Checks: httpGet (HTTP/HTTPS without certificate verification, host default podIP, port by number or
 * named container port, headers, 200–399 success, redirects followed only to the same host, at most 10),
 * tcpSocket (connect), exec (exit code 0; a timeout is a failure), grpc (grpc.health.v1 Check; see
 * grpc-probe.ts).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { HTTPGetAction, Probe } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { grpcHealthCheck } from './grpc-probe.ts';
import { type Container, podSpec } from './types.ts';

export interface ProbeTarget {
  podIP: string;
  exec(cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; output: string }>;
  /** The probed container: resolves named ports (httpGet/tcpSocket port: "http"). */
  container?: Container;
}

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** One check's outcome: success, warning (counts as success), failure, or an error (result discarded). */
export type ProbeOutcome =
  { result: 'success' | 'warning' | 'failure'; output: string } | { result: 'error'; output: string };

/** The kubelet's User-Agent for probes (kube-probe/<major>.<minor>). */
export const PROBE_USER_AGENT = 'kube-probe/1.33';
/** How much of a response body or command output is kept (maxReadLength). */
const MAX_READ = 10 * 1024;
const MAX_REDIRECTS = 10;

/** The probe's settings with the API defaults applied. */
export function probeTiming(probe: Probe): {
  initialDelaySeconds: number;
  timeoutSeconds: number;
  periodSeconds: number;
  successThreshold: number;
  failureThreshold: number;
} {
  return {
    initialDelaySeconds: probe.initialDelaySeconds ?? 0,
    timeoutSeconds: probe.timeoutSeconds || 1,
    periodSeconds: probe.periodSeconds || 10,
    successThreshold: probe.successThreshold || 1,
    failureThreshold: probe.failureThreshold || 3,
  };
}

/** The grace period for a kill after a failed liveness/startup probe: the probe's own, else the pod's (30 s default). */
export function probeTerminationGracePeriod(pod: KObject, probe: Probe): number {
  return probe.terminationGracePeriodSeconds ?? podSpec(pod).terminationGracePeriodSeconds ?? 30;
}

/** util.ResolvePort: a number, a numeric string, or the name of one of the container's ports. */
export function resolvePort(port: number | string, container: Container | undefined): number {
  if (typeof port === 'number') return port;
  if (/^[0-9]+$/.test(port)) return Number(port);
  const p = container?.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${port} in ${container?.name ?? 'container'}`);
  return p.containerPort;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function capitalized(kind: ProbeKind): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

/** One HTTP GET with a deadline; resolves the response with up to MAX_READ bytes of body. */
function httpGetOnce(
  url: URL,
  headers: Record<string, string>,
  host: string | undefined,
  deadline: number,
): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers: host ? { ...headers, host } : headers,
      agent: false,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(
      () =>
        req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')),
      Math.max(0, deadline - Date.now()),
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_READ) chunks.push(c.subarray(0, MAX_READ - size));
        size += c.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ res, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    req.end();
  });
}

/** Go's net error text for a failed dial (connection refused, timeout…). */
function dialError(e: unknown, addr: string): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${addr}: connect: no route to host`;
  if (err.code === 'ENETUNREACH') return `dial tcp ${addr}: connect: network is unreachable`;
  if (err.code === 'ECONNRESET') return `read tcp ${addr}: read: connection reset by peer`;
  return err.message ?? String(e);
}

/** Runs a check on the resolved port; an unresolvable named port is a probe error. */
function withResolvedPort(
  port: number | string,
  target: ProbeTarget,
  run: (port: number) => Promise<ProbeOutcome>,
): Promise<ProbeOutcome> {
  let p: number;
  try {
    p = resolvePort(port, target.container);
  } catch (e) {
    return Promise.resolve({ result: 'error', output: (e as Error).message });
  }
  return run(p);
}

/** The httpGet check (probe/http); also the kubelet's httpGet lifecycle hooks. */
export function runHttpGet(
  action: HTTPGetAction,
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  return withResolvedPort(action.port, target, (port) => httpGetOnPort(action, port, target, timeoutSeconds));
}

async function httpGetOnPort(
  action: HTTPGetAction,
  port: number,
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || target.podIP;
  let url = new URL(action.path || '/', `${scheme}://${joinHostPort(host, port)}`);
  const headers: Record<string, string> = { 'user-agent': PROBE_USER_AGENT, accept: '*/*' };
  let hostHeader: string | undefined;
  for (const h of action.httpHeaders ?? []) {
    if (h.name.toLowerCase() === 'host') hostHeader = h.value;
    else headers[h.name.toLowerCase()] = h.value;
  }
  const deadline = Date.now() + timeoutSeconds * 1000;
  const first = url.hostname;
  const shown = `Get "${url.href}"`;
  for (let hops = 0; ; hops++) {
    let got: { res: IncomingMessage; body: string };
    try {
      got = await httpGetOnce(url, headers, hostHeader, deadline);
    } catch (e) {
      return { result: 'failure', output: `${shown}: ${dialError(e, joinHostPort(url.hostname, port))}` };
    }
    const code = got.res.statusCode ?? 0;
    const location = got.res.headers.location;
    if (code >= 300 && code < 400 && location && code !== 304) {
      const next = new URL(location, url);
      if (next.hostname === first) {
        if (hops + 1 >= MAX_REDIRECTS)
          return { result: 'failure', output: `${shown}: stopped after 10 redirects` };
        url = next;
        continue;
      }
      return { result: 'warning', output: `Probe terminated redirects, Response body: ${got.body}` };
    }
    if (code >= 200 && code < 400) return { result: 'success', output: got.body };
    return { result: 'failure', output: `HTTP probe failed with statuscode: ${code}` };
  }
}

/** The tcpSocket check (probe/tcp): a connection that opens within the timeout. */
export function runTcpSocket(
  action: { host?: string; port: number | string },
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  return withResolvedPort(action.port, target, (port) =>
    tcpOnPort(action.host, port, target, timeoutSeconds),
  );
}

function tcpOnPort(
  host: string | undefined,
  port: number,
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const addr = joinHostPort(host || target.podIP, port);
  return new Promise((resolve) => {
    const sock = connect({ host: host || target.podIP, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` });
    }, timeoutSeconds * 1000);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'success', output: '' });
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      resolve({ result: 'failure', output: dialError(e, addr) });
    });
  });
}

/** The exec check (probe/exec): exit code 0 is success; a timeout is a failure ("command … timed out"). */
export async function runExec(
  command: string[],
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const timedOut = `command ${JSON.stringify(command.join(' '))} timed out`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    // A little slack beyond the runtime's own deadline, which normally answers first.
    timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000 + 500);
  });
  try {
    const r = await Promise.race([target.exec(command, timeoutSeconds), timeout]);
    if (r === 'timeout') return { result: 'failure', output: timedOut };
    const output = r.output.length > MAX_READ ? r.output.slice(0, MAX_READ) : r.output;
    return { result: r.exitCode === 0 ? 'success' : 'failure', output };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    if (err.name === 'TimeoutError' || /deadline exceeded|timed out/i.test(err.message ?? ''))
      return { result: 'failure', output: timedOut };
    return { result: 'error', output: err.message ?? String(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one check of the probe. */
export function runProbeOnce(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const { timeoutSeconds } = probeTiming(probe);
  if (probe.exec) return runExec(probe.exec.command ?? [], target, timeoutSeconds);
  if (probe.httpGet) return runHttpGet(probe.httpGet, target, timeoutSeconds);
  if (probe.tcpSocket) return runTcpSocket(probe.tcpSocket, target, timeoutSeconds);
  if (probe.grpc)
    return grpcHealthCheck(probe.grpc.service ?? '', target.podIP, probe.grpc.port, timeoutSeconds);
  return Promise.resolve({ result: 'error', output: 'missing probe handler' });
}

export interface ProbeWorkerOptions {
  /** Called after every check: the kubelet records Unhealthy / ProbeWarning events from it. */
  onProbe?: (r: { outcome: ProbeOutcome['result']; message: string }) => void;
}

type Result = 'success' | 'failure' | 'unknown';

/**
 * Runs one probe per periodSeconds after initialDelaySeconds, applies success/failureThreshold, calls
 * onChange(result) when the aggregated result flips (readiness starts 'failure', liveness 'success';
 * startup starts unknown, so both its first success and its failure are reported), with the kubelet's
 * event message for failures ("Liveness probe failed: HTTP probe failed with statuscode: 500").
 * After a reported liveness/startup failure (the container will be restarted) and after startup
 * succeeded, it stops probing.
 */
export class ProbeWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private current: Result;
  private lastResult: Result = 'unknown';
  private resultRun = 0;

  constructor(
    private readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly target: ProbeTarget,
    private readonly onChange: (r: { ok: boolean; message: string }) => void,
    private readonly opts: ProbeWorkerOptions = {},
  ) {
    this.current = kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown';
  }

  /** The aggregated result so far. */
  get result(): Result {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(probeTiming(this.probe).initialDelaySeconds * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    const outcome = await runProbeOnce(this.probe, this.target);
    if (this.stopped) return;
    const name = capitalized(this.kind);
    const message =
      outcome.result === 'failure'
        ? `${name} probe failed: ${outcome.output}`
        : outcome.result === 'warning'
          ? `${name} probe warning: ${outcome.output}`
          : outcome.result === 'error'
            ? `${name} probe errored: ${outcome.output}`
            : '';
    this.opts.onProbe?.({ outcome: outcome.result, message });
    if (outcome.result !== 'error')
      this.record(outcome.result === 'failure' ? 'failure' : 'success', message);
    if (this.stopped) return;
    const period = probeTiming(this.probe).periodSeconds * 1000;
    this.schedule(Math.max(0, period - (Date.now() - started)));
  }

  private record(result: 'success' | 'failure', message: string): void {
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    const t = probeTiming(this.probe);
    if (result === 'failure' && this.resultRun < t.failureThreshold) return;
    if (result === 'success' && this.resultRun < t.successThreshold) return;
    const hold =
      (this.kind !== 'readiness' && result === 'failure') ||
      (this.kind === 'startup' && result === 'success');
    if (hold) this.stop();
    if (result === this.current) return;
    this.current = result;
    this.onChange({ ok: result === 'success', message: result === 'failure' ? message : '' });
  }
}
