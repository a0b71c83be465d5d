// Schema-driven protobuf → Kubernetes JSON decoder.
//
// Messages are described by our fact tables (facts.ts, types/*.ts). A handful of apimachinery
// types have a JSON form that is not "one key per field"; they are decoded here directly:
//   meta.v1.Time        {1 seconds int64, 2 nanos int32}  → RFC3339 to the second ("…Z"), empty → null
//   meta.v1.MicroTime   {1 seconds int64, 2 nanos int32}  → RFC3339 with 6 fractional digits, empty → null
//   meta.v1.Duration    {1 duration int64 (ns)}           → Go duration string ("1h0m0s")
//   meta.v1.FieldsV1    {1 Raw bytes (JSON)}              → parsed JSON, empty → null
//   resource.Quantity   {1 string}                        → the string
//   intstr.IntOrString  {1 type int64 (0 int, 1 string), 2 intVal int32, 3 strVal string} → number | string
//   runtime.RawExtension {1 raw bytes}                    → parsed JSON (or a nested k8s protobuf object), empty → null
//
// Unknown field numbers are an error naming the message and the field number: a missing fact must
// be loud, never a silently dropped field.

import { Reader } from 'protobufjs/minimal.js';
import {
  parseFieldSpec,
  type FieldFact,
  type PackageFacts,
  type ScalarKind,
  type ValueType,
} from './facts.ts';

export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

export interface CompiledMessage {
  readonly name: string;
  readonly fields: ReadonlyMap<number, FieldFact>;
  /** fields in field-number order */
  readonly ordered: readonly FieldFact[];
}

/** Decodes a nested Kubernetes protobuf object found inside a RawExtension (magic-prefixed bytes). */
export type NestedDecoder = (bytes: Uint8Array) => Record<string, unknown>;

export class Schema {
  readonly #messages = new Map<string, CompiledMessage>();
  readonly packages: readonly PackageFacts[];
  nested: NestedDecoder | undefined;

  constructor(packages: readonly PackageFacts[]) {
    this.packages = packages;
    for (const p of packages) {
      for (const [name, facts] of Object.entries(p.messages)) {
        const qname = `${p.pkg}.${name}`;
        if (this.#messages.has(qname) || WELL_KNOWN.has(qname)) throw new Error(`duplicate message ${qname}`);
        const fields = new Map<number, FieldFact>();
        for (const [no, spec] of Object.entries(facts)) {
          const n = Number(no);
          fields.set(n, parseFieldSpec(n, spec, qname));
        }
        const ordered = [...fields.values()].sort((a, b) => a.number - b.number);
        this.#messages.set(qname, { name: qname, fields, ordered });
      }
    }
  }

  message(name: string): CompiledMessage | undefined {
    return this.#messages.get(name);
  }

  has(name: string): boolean {
    return this.#messages.has(name) || WELL_KNOWN.has(name);
  }

  /** Every message type referenced by a field that is neither in the tables nor well known. */
  unresolved(): string[] {
    const missing = new Set<string>();
    for (const m of this.#messages.values()) {
      for (const f of m.ordered) {
        if ('message' in f.type && !this.has(f.type.message))
          missing.add(`${m.name}.${f.json} → ${f.type.message}`);
      }
    }
    return [...missing];
  }

  /** Decodes `bytes` as message `typeName` into its Kubernetes JSON form. */
  decode(bytes: Uint8Array, typeName: string): unknown {
    const r = Reader.create(bytes);
    try {
      return this.#message(r, r.len, typeName);
    } catch (e) {
      if (e instanceof ProtobufDecodeError) throw e;
      // protobufjs' own errors (truncated varints, reads past the end)
      throw new ProtobufDecodeError(
        `${typeName}: malformed protobuf at offset ${r.pos}: ${(e as Error).message}`,
      );
    }
  }

  /** Reads a message occupying r.pos..end. */
  #message(r: Reader, end: number, typeName: string): unknown {
    const wk = WELL_KNOWN.get(typeName);
    if (wk) return wk(r, end, this);
    const msg = this.#messages.get(typeName);
    if (!msg) throw new ProtobufDecodeError(`no protobuf facts for message ${typeName}`);
    const values = new Map<number, unknown>();
    while (r.pos < end) {
      const { no, wt } = readTag(r, typeName);
      const f = msg.fields.get(no);
      if (!f) throw new ProtobufDecodeError(`${typeName}: unknown field number ${no} (wire type ${wt})`);
      const where = `${typeName}.${f.json} (field ${no})`;
      if (f.mapKey) {
        expectWireType(wt, 2, where);
        const entryEnd = lengthDelimitedEnd(r, end, where);
        const [k, v] = this.#mapEntry(r, entryEnd, f, where);
        let obj = values.get(no) as Record<string, unknown> | undefined;
        if (!obj) values.set(no, (obj = {}));
        obj[k] = v;
      } else if (f.repeated) {
        let arr = values.get(no) as unknown[] | undefined;
        if (!arr) values.set(no, (arr = []));
        if ('scalar' in f.type && wt === 2 && packable(f.type.scalar)) {
          const packedEnd = lengthDelimitedEnd(r, end, where);
          while (r.pos < packedEnd) arr.push(readScalar(r, f.type.scalar));
          if (r.pos !== packedEnd)
            throw new ProtobufDecodeError(`${where}: packed field overruns its length`);
        } else {
          arr.push(this.#typed(r, wt, f.type, end, where));
        }
      } else {
        values.set(no, this.#typed(r, wt, f.type, end, where));
      }
    }
    if (r.pos !== end) throw new ProtobufDecodeError(`${typeName}: field overruns the message`);
    return this.#toJson(msg, values);
  }

  #toJson(msg: CompiledMessage, values: Map<number, unknown>): unknown {
    const out: Record<string, unknown> = {};
    for (const f of msg.ordered) {
      if (f.skip) continue;
      const has = values.has(f.number);
      const v = values.get(f.number);
      if (f.unwrap) return has ? v : f.repeated ? [] : null;
      if (!has) {
        if (f.nullWhenAbsent && !f.inline) out[f.json] = null;
        continue;
      }
      if (f.omitZero && isZero(v)) continue;
      if (f.inline) {
        if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
        continue;
      }
      out[f.json] = v;
    }
    return out;
  }

  #mapEntry(r: Reader, end: number, f: FieldFact, where: string): [string, unknown] {
    let key: unknown;
    let value: unknown;
    while (r.pos < end) {
      const { no, wt } = readTag(r, where);
      if (no === 1 && f.mapKey) key = this.#typed(r, wt, { scalar: f.mapKey }, end, `${where} map key`);
      else if (no === 2) value = this.#typed(r, wt, f.type, end, `${where} map value`);
      else throw new ProtobufDecodeError(`${where}: unknown map entry field number ${no}`);
    }
    if (r.pos !== end) throw new ProtobufDecodeError(`${where}: map entry overruns its length`);
    if (key === undefined) key = f.mapKey ? zeroScalar(f.mapKey) : '';
    if (value === undefined) {
      // An absent value is the zero value of its type (an empty message for message types).
      value =
        'scalar' in f.type
          ? zeroScalar(f.type.scalar)
          : this.#message(Reader.create(new Uint8Array(0)), 0, f.type.message);
    }
    return [String(key), value];
  }

  #typed(r: Reader, wt: number, t: ValueType, outerEnd: number, where: string): unknown {
    if ('scalar' in t) {
      expectWireType(wt, wireTypeOf(t.scalar), where);
      if (t.scalar === 'string' || t.scalar === 'bytes') {
        const e = lengthDelimitedEnd(r, outerEnd, where);
        const start = r.pos;
        r.pos = e;
        const raw = r.buf.subarray(start, e);
        return t.scalar === 'string'
          ? Buffer.from(raw).toString('utf8')
          : Buffer.from(raw).toString('base64');
      }
      const v = readScalar(r, t.scalar);
      if (r.pos > outerEnd) throw new ProtobufDecodeError(`${where}: value overruns the message`);
      return v;
    }
    expectWireType(wt, 2, where);
    return this.#message(r, lengthDelimitedEnd(r, outerEnd, where), t.message);
  }
}

// ---- wire helpers ----

function readTag(r: Reader, where: string): { no: number; wt: number } {
  const tag = r.uint32();
  const no = tag >>> 3;
  const wt = tag & 7;
  if (no === 0) throw new ProtobufDecodeError(`${where}: invalid field number 0`);
  return { no, wt };
}

function lengthDelimitedEnd(r: Reader, outerEnd: number, where: string): number {
  const len = r.uint32();
  const e = r.pos + len;
  if (e > outerEnd || e > r.len)
    throw new ProtobufDecodeError(`${where}: length ${len} overruns the message`);
  return e;
}

function wireTypeOf(k: ScalarKind): number {
  switch (k) {
    case 'string':
    case 'bytes':
      return 2;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return 1;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return 5;
    default:
      return 0;
  }
}

function packable(k: ScalarKind): boolean {
  return k !== 'string' && k !== 'bytes';
}

function expectWireType(got: number, want: number, where: string): void {
  if (got !== want) throw new ProtobufDecodeError(`${where}: wire type ${got}, expected ${want}`);
}

/** protobufjs returns 64-bit values as Long {low, high, unsigned} (or a number without the long package). */
function num(v: number | { low: number; high: number; unsigned: boolean }): number {
  if (typeof v === 'number') return v;
  return (v.unsigned ? v.high >>> 0 : v.high) * 0x1_0000_0000 + (v.low >>> 0);
}

function readScalar(r: Reader, k: ScalarKind): unknown {
  switch (k) {
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'sint32':
      return r.sint32();
    case 'int64':
      return num(r.int64());
    case 'uint64':
      return num(r.uint64());
    case 'sint64':
      return num(r.sint64());
    case 'fixed32':
      return r.fixed32();
    case 'sfixed32':
      return r.sfixed32();
    case 'fixed64':
      return num(r.fixed64());
    case 'sfixed64':
      return num(r.sfixed64());
    case 'float':
      return r.float();
    case 'double':
      return r.double();
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
  }
}

function zeroScalar(k: ScalarKind): unknown {
  if (k === 'string' || k === 'bytes') return '';
  if (k === 'bool') return false;
  return 0;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

// ---- well-known apimachinery types ----

type WellKnown = (r: Reader, end: number, schema: Schema) => unknown;

/** Reads the fields of a small wrapper message; unknown field numbers are an error. */
function readFields(
  r: Reader,
  end: number,
  typeName: string,
  kinds: Record<number, ScalarKind>,
): Map<number, unknown> {
  const out = new Map<number, unknown>();
  while (r.pos < end) {
    const { no, wt } = readTag(r, typeName);
    const k = kinds[no];
    if (!k) throw new ProtobufDecodeError(`${typeName}: unknown field number ${no} (wire type ${wt})`);
    expectWireType(wt, wireTypeOf(k), `${typeName} field ${no}`);
    if (k === 'bytes') {
      const e = lengthDelimitedEnd(r, end, typeName);
      out.set(no, r.buf.subarray(r.pos, e));
      r.pos = e;
    } else {
      out.set(no, readScalar(r, k));
    }
  }
  if (r.pos !== end) throw new ProtobufDecodeError(`${typeName}: field overruns the message`);
  return out;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** RFC3339 in UTC; `micros` adds six fractional digits (metav1.RFC3339Micro). */
export function formatTime(seconds: number, micros?: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new ProtobufDecodeError(`timestamp ${seconds} out of range`);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return micros === undefined ? `${base}Z` : `${base}.${pad(micros, 6)}Z`;
}

function decodeTime(typeName: string, micro: boolean): WellKnown {
  return (r, end) => {
    // Go: an empty Time message is the zero time, which encoding/json renders as null.
    if (r.pos === end) return null;
    const f = readFields(r, end, typeName, { 1: 'int64', 2: 'int32' });
    const seconds = (f.get(1) as number | undefined) ?? 0;
    // metav1.Time drops nanos on decode; MicroTime truncates them to microseconds.
    if (!micro) return formatTime(seconds);
    const nanos = (f.get(2) as number | undefined) ?? 0;
    return formatTime(seconds, Math.floor(nanos / 1000));
  };
}

/** Go's time.Duration.String(). */
export function formatDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  const frac = (v: bigint, digits: number): string => {
    // v has `digits` implied fractional digits; trailing zeros (and a bare ".") are dropped.
    const s = v.toString().padStart(digits + 1, '0');
    const int = s.slice(0, s.length - digits);
    const f = s.slice(s.length - digits).replace(/0+$/, '');
    return f ? `${int}.${f}` : int;
  };
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${frac(u, 3)}µs`;
    else out = `${frac(u, 6)}ms`;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    const s = `${frac(u, 9)}s`;
    out = h > 0n ? `${h}h${m}m${s}` : m > 0n ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

function parseJsonBytes(bytes: Uint8Array, typeName: string, schema: Schema): unknown {
  if (bytes.length === 0) return null;
  if (schema.nested && MAGIC.every((b, i) => bytes[i] === b)) return schema.nested(bytes);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch (e) {
    throw new ProtobufDecodeError(`${typeName}: raw bytes are not JSON (${(e as Error).message})`);
  }
}

export const WELL_KNOWN: ReadonlyMap<string, WellKnown> = new Map<string, WellKnown>([
  ['meta.v1.Time', decodeTime('meta.v1.Time', false)],
  ['meta.v1.MicroTime', decodeTime('meta.v1.MicroTime', true)],
  [
    'meta.v1.Duration',
    (r, end) => {
      const f = readFields(r, end, 'meta.v1.Duration', { 1: 'int64' });
      return formatDuration(BigInt((f.get(1) as number | undefined) ?? 0));
    },
  ],
  [
    'meta.v1.FieldsV1',
    (r, end, s) => {
      const f = readFields(r, end, 'meta.v1.FieldsV1', { 1: 'bytes' });
      return parseJsonBytes((f.get(1) as Uint8Array | undefined) ?? new Uint8Array(0), 'meta.v1.FieldsV1', s);
    },
  ],
  [
    'runtime.RawExtension',
    (r, end, s) => {
      const f = readFields(r, end, 'runtime.RawExtension', { 1: 'bytes' });
      return parseJsonBytes(
        (f.get(1) as Uint8Array | undefined) ?? new Uint8Array(0),
        'runtime.RawExtension',
        s,
      );
    },
  ],
  [
    'resource.Quantity',
    (r, end) => {
      const f = readFields(r, end, 'resource.Quantity', { 1: 'string' });
      // Go's zero Quantity marshals as "0".
      return (f.get(1) as string | undefined) || '0';
    },
  ],
  [
    'intstr.IntOrString',
    (r, end) => {
      const f = readFields(r, end, 'intstr.IntOrString', { 1: 'int64', 2: 'int32', 3: 'string' });
      const type = (f.get(1) as number | undefined) ?? 0;
      if (type === 1) return (f.get(3) as string | undefined) ?? '';
      if (type === 0) return (f.get(2) as number | undefined) ?? 0;
      throw new ProtobufDecodeError(`intstr.IntOrString: unknown type ${type}`);
    },
  ],
]);
