/**
 * GET pods/{name}/log: validates the options as upstream's PodLogOptions, then streams the agent's
 * `/containerLogs/{ns}/{pod}/{container}` answer (200 text/plain, each chunk written as it arrives;
 * the agent's errors are passed on as the Status it sent).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../../api/status.ts';
import { boolParam, type RequestInfo } from '../request-info.ts';
import { statusFromBody, type NodeConnector } from '../node-connection.ts';

function positiveInt(q: URLSearchParams, name: string, allowZero: boolean): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n))
    throw errors.badRequest(`unable to parse "${v}" for ${name}: invalid integer`);
  if (n < 0 || (!allowZero && n === 0))
    throw errors.invalid('', 'PodLogOptions', '', [
      {
        type: 'FieldValueInvalid',
        field: name,
        value: n,
        detail: allowZero ? 'must be greater than or equal to 0' : 'must be greater than 0',
      },
    ]);
  return String(n);
}

/** The agent query for these user options (throws 400/422 for malformed ones). */
export function agentLogQuery(q: URLSearchParams, podUID: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const b of ['follow', 'previous', 'timestamps'] as const) if (boolParam(q, b)) out.set(b, 'true');
  const tail = positiveInt(q, 'tailLines', true);
  if (tail !== undefined) out.set('tailLines', tail);
  const since = positiveInt(q, 'sinceSeconds', false);
  const limit = positiveInt(q, 'limitBytes', false);
  const sinceTime = q.get('sinceTime');
  if (since !== undefined && sinceTime)
    throw errors.invalid('', 'PodLogOptions', '', [
      {
        type: 'FieldValueForbidden',
        field: 'sinceSeconds',
        detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified',
      },
    ]);
  if (since !== undefined) out.set('sinceSeconds', since);
  if (sinceTime) {
    if (Number.isNaN(Date.parse(sinceTime)))
      throw errors.badRequest(`parsing time "${sinceTime}" as RFC3339: cannot parse`);
    out.set('sinceTime', sinceTime);
  }
  if (limit !== undefined) out.set('limitBytes', limit);
  if (podUID) out.set('podUID', podUID);
  return out;
}

export function podLogHandler(nodes: NodeConnector) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    _s: unknown,
    _ctx: unknown,
    q: URLSearchParams,
  ): Promise<void> => {
    if (info.verb !== 'get') throw errors.methodNotSupported({ group: '', resource: 'pods/log' }, info.verb);
    const p = nodes.getPod(info.namespace, info.name);
    const container = nodes.container(p, q.get('container'));
    const query = agentLogQuery(q, p.metadata.uid ?? '');
    const target = nodes.target(p);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    req.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const path = `/containerLogs/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}?${query.toString()}`;
    const up = await nodes.get(target, path, abort.signal);
    if (up.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of up) chunks.push(c as Buffer);
      throw statusFromBody(up.statusCode ?? 500, Buffer.concat(chunks).toString('utf8'));
    }
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Cache-Control': 'no-cache, private',
      'X-Content-Type-Options': 'nosniff',
    });
    res.flushHeaders();
    await new Promise<void>((resolve) => {
      up.on('data', (c: Buffer) => {
        if (!res.write(c)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => {
        res.end();
        resolve();
      });
      up.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        up.destroy();
        resolve();
      });
    });
  };
}
