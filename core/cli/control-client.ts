/**
 * The client side of the control channel (core/cluster/control.ts): how `berth node …` and
 * `berth image load` reach the running `berth up` of a data dir.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { clusterFiles } from '../cluster/paths.ts';
import { runningPid } from '../cluster/lock.ts';
import { controlPaths, socketPathProblem } from '../cluster/control.ts';

export interface ControlCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  /** For streamed answers (image load): called with each `{ progress }` line. */
  onProgress?: (line: string) => void;
}

/** Where the running `berth up` of a data dir listens, with its token; throws when none runs. */
function endpoint(dataDir: string): { socket: string; token: string } {
  const notRunning = `no running cluster for data dir ${dataDir}: start it with \`berth up --data-dir ${dataDir}\``;
  const pid = runningPid(clusterFiles(dataDir).pidFile);
  if (pid === undefined) throw new Error(notRunning);
  const paths = controlPaths(dataDir);
  const problem = socketPathProblem(paths);
  if (problem) throw new Error(problem);
  let token: string;
  try {
    token = readFileSync(paths.token, 'utf8').trim();
  } catch {
    throw new Error(
      `the cluster running for data dir ${dataDir} (pid ${pid}) serves no control channel (it was started by a berth without one, or is still starting): restart it with \`berth down --data-dir ${dataDir}\` and \`berth up --data-dir ${dataDir}\``,
    );
  }
  return { socket: paths.socket, token };
}

/** One request to the control API; resolves with the JSON answer, rejects with the server's error. */
export async function controlRequest<T>(dataDir: string, call: ControlCall): Promise<T> {
  const { socket, token } = endpoint(dataDir);
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        agent: false,
        path: call.path,
        method: call.method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body !== undefined
            ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }
            : {}),
        },
      },
      (res) => {
        let buf = '';
        let last: unknown;
        const streamed = res.headers['content-type'] === 'application/x-ndjson';
        const takeLine = (line: string): void => {
          if (!line.trim()) return;
          const o = JSON.parse(line) as { progress?: string };
          if (typeof o.progress === 'string') call.onProgress?.(o.progress);
          else last = o;
        };
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          if (!streamed) return;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            takeLine(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
        res.on('end', () => {
          try {
            if (streamed) {
              takeLine(buf);
              const end = (last ?? {}) as { error?: string; done?: boolean };
              if (end.error !== undefined) return reject(new Error(end.error));
              if (!end.done)
                return reject(new Error('the control channel closed before the end of the answer'));
              return resolve(end as T);
            }
            const o = JSON.parse(buf) as { error?: string };
            if ((res.statusCode ?? 500) >= 400) return reject(new Error(o.error ?? `HTTP ${res.statusCode}`));
            resolve(o as T);
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `the cluster running for data dir ${dataDir} does not answer on its control channel ${socket} (${e.code ?? e.message})`,
        ),
      ),
    );
    req.end(body);
  });
}
