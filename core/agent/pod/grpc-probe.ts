/**
 * The grpc probe (probe/grpc): grpc.health.v1.Health/Check over plaintext HTTP/2, SERVING is success.
 * The two tiny messages are encoded by hand (HealthCheckRequest{1: service string},
 * HealthCheckResponse{1: status enum}).
 */
import { Client, credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { ProbeOutcome } from './probes.ts';

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** HealthCheckRequest as protobuf bytes. */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const s = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]);
}

/** HealthCheckResponse.status (0 when absent); other fields are skipped. */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let i = 0;
  let status = 0;
  const readVarint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated HealthCheckResponse');
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (tag >>> 3 === 1) status = v;
    } else if (wire === 2) i += readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`bad wire type ${wire} in HealthCheckResponse`);
  }
  return status;
}

/** Go's time.Duration text for whole seconds ("1s", "1m30s"). */
function goDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m}m${s}s` : `${s}s`;
}

export function grpcHealthCheck(
  service: string,
  host: string,
  port: number,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const timeout = goDuration(timeoutSeconds);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const client = new Client(addr, credentials.createInsecure(), {
    'grpc.primary_user_agent': 'kube-probe/1.33',
  });
  return new Promise<ProbeOutcome>((resolve) => {
    client.waitForReady(deadline, (err) => {
      if (err) {
        resolve({
          result: 'failure',
          output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeout}: context deadline exceeded`,
        });
        return;
      }
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        encodeHealthCheckRequest,
        decodeHealthCheckResponse,
        service,
        new Metadata(),
        { deadline },
        (e: ServiceError | null, st?: number) => {
          if (e) {
            if (e.code === grpcStatus.UNIMPLEMENTED)
              resolve({
                result: 'failure',
                output: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}`,
              });
            else if (e.code === grpcStatus.DEADLINE_EXCEEDED)
              resolve({
                result: 'failure',
                output: `timeout: health rpc did not complete within ${timeout}`,
              });
            else resolve({ result: 'failure', output: `error: health rpc probe failed: ${e.message}` });
            return;
          }
          if (st !== 1)
            resolve({
              result: 'failure',
              output: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[st ?? 0] ?? String(st))})`,
            });
          else resolve({ result: 'success', output: 'service healthy' });
        },
      );
    });
  }).finally(() => client.close());
}
