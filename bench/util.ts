/** Small helpers shared by the benchmarks: percentiles, tables, a loopback HTTPS client from a kubeconfig. */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(samples: number[]): { n: number; p50: number; p99: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
  };
}

export const ms = (x: number): string => `${x.toFixed(2)} ms`;

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i]!)).join('  ')).join('\n');
}

export interface Client {
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: string }>;
  close(): void;
}

/** An HTTPS client with keep-alive using the admin credentials of a kubeconfig. */
export function clientFromKubeconfig(path: string, maxSockets = 16): Client {
  const kc = parse(readFileSync(path, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const server = new URL(kc.clusters[0]!.cluster.server);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets,
    ca: Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(kc.users[0]!.user['client-certificate-data'], 'base64'),
    key: Buffer.from(kc.users[0]!.user['client-key-data'], 'base64'),
  });
  return {
    request(method, p, body, contentType = 'application/json') {
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const req = https.request(
          {
            host: server.hostname,
            port: server.port,
            path: p,
            method,
            agent,
            headers: data ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) } : {},
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(data);
      });
    },
    close: () => agent.destroy(),
  };
}
