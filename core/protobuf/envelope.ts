// The envelope around every `application/vnd.kubernetes.protobuf` body:
//   magic 6b 38 73 00 ("k8s\0"), then a runtime.Unknown message:
//     1 typeMeta {1 apiVersion string, 2 kind string}
//     2 raw bytes               (the object, encoded with its generated.proto message)
//     3 contentEncoding string  (empty in practice)
//     4 contentType string      (empty in practice: raw is protobuf)

import { Reader } from 'protobufjs/minimal.js';
import { ProtobufDecodeError } from './wire.ts';

export const PROTOBUF_MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

export interface ProtobufEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

export function hasProtobufMagic(body: Uint8Array): boolean {
  return body.length >= 4 && PROTOBUF_MAGIC.every((b, i) => body[i] === b);
}

function fieldHeader(r: Reader, where: string): { no: number; wt: number } {
  const tag = r.uint32();
  if (tag >>> 3 === 0) fail(`${where}: invalid field number 0`);
  return { no: tag >>> 3, wt: tag & 7 };
}

function fail(msg: string): never {
  throw new ProtobufDecodeError(msg);
}

function lengthDelimited(r: Reader, wt: number, end: number, where: string): Uint8Array {
  if (wt !== 2) fail(`${where}: wire type ${wt}, expected 2`);
  const len = r.uint32();
  const e = r.pos + len;
  if (e > end) fail(`${where}: length ${len} overruns the message`);
  const out = r.buf.subarray(r.pos, e);
  r.pos = e;
  return out;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** Checks the magic and decodes runtime.Unknown. Throws ProtobufDecodeError on malformed input. */
export function decodeEnvelope(body: Uint8Array): ProtobufEnvelope {
  if (!hasProtobufMagic(body))
    fail('protobuf body does not start with the magic bytes 6b 38 73 00 ("k8s\\0")');
  const r = Reader.create(body.subarray(4));
  const env: ProtobufEnvelope = {
    apiVersion: '',
    kind: '',
    raw: new Uint8Array(0),
    contentEncoding: '',
    contentType: '',
  };
  try {
    while (r.pos < r.len) {
      const { no, wt } = fieldHeader(r, 'runtime.Unknown');
      if (no === 1) {
        const tm = Reader.create(lengthDelimited(r, wt, r.len, 'runtime.Unknown.typeMeta'));
        while (tm.pos < tm.len) {
          const f = fieldHeader(tm, 'runtime.TypeMeta');
          const v = text(lengthDelimited(tm, f.wt, tm.len, `runtime.TypeMeta field ${f.no}`));
          if (f.no === 1) env.apiVersion = v;
          else if (f.no === 2) env.kind = v;
          else fail(`runtime.TypeMeta: unknown field number ${f.no}`);
        }
      } else if (no === 2) env.raw = lengthDelimited(r, wt, r.len, 'runtime.Unknown.raw');
      else if (no === 3)
        env.contentEncoding = text(lengthDelimited(r, wt, r.len, 'runtime.Unknown.contentEncoding'));
      else if (no === 4) env.contentType = text(lengthDelimited(r, wt, r.len, 'runtime.Unknown.contentType'));
      else fail(`runtime.Unknown: unknown field number ${no} (wire type ${wt})`);
    }
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw e;
    throw new ProtobufDecodeError(`malformed protobuf envelope: ${(e as Error).message}`);
  }
  return env;
}
