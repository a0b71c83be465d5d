// The format of our protobuf fact tables (core/protobuf/types/*.ts) and its parser.
//
// A package's table maps message name → field number → field spec. A field spec is one string:
//
//     '<jsonName> <type> [flag...]'
//
// <type> is a scalar kind (string, bool, int32, int64, uint32, uint64, sint32, sint64, fixed32,
// fixed64, sfixed32, sfixed64, double, float, bytes), a qualified message name ('core.v1.PodSpec',
// 'meta.v1.ObjectMeta', 'resource.Quantity', 'intstr.IntOrString', ...), '[]<type>' for a repeated
// field, or 'map<<scalar>,<type>>' for a map (wire: repeated entry message, key = 1, value = 2).
//
// Flags describe how Go's encoding/json renders the field, so that a decoded protobuf body is the
// same JSON object kubectl ≤1.31 would have sent for the same Go value:
//   ?       omitted when zero ("", 0, false, empty bytes): a non-pointer scalar with `omitempty`
//           (gogo-protobuf always writes non-pointer scalars, zero or not)
//   !       null when absent: a pointer, slice, map or []byte without `omitempty`
//   inline  an embedded Go struct (`json:",inline"`): its fields are merged into the parent
//   unwrap  the message is a named-slice wrapper (e.g. ExtraValue): its JSON is this field's value
//   skip    not part of the JSON (`json:"-"`)

export const SCALAR_KINDS = [
  'string',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'double',
  'float',
  'bytes',
] as const;
export type ScalarKind = (typeof SCALAR_KINDS)[number];

/** field number → field spec (see the header of this file) */
export type MessageFacts = Readonly<Record<number, string>>;

export interface PackageFacts {
  /** short package name used in qualified type references, e.g. 'core.v1', 'rbac.v1', 'meta.v1' */
  readonly pkg: string;
  /** API group ('' for the core group) and version this package serves */
  readonly group: string;
  readonly version: string;
  /** message name (unqualified) → fields */
  readonly messages: Readonly<Record<string, MessageFacts>>;
}

export type ValueType = { readonly scalar: ScalarKind } | { readonly message: string };

export interface FieldFact {
  readonly number: number;
  readonly json: string;
  readonly type: ValueType;
  readonly repeated: boolean;
  /** set for map fields; `type` is then the map's value type */
  readonly mapKey?: ScalarKind;
  readonly omitZero: boolean;
  readonly nullWhenAbsent: boolean;
  readonly inline: boolean;
  readonly unwrap: boolean;
  readonly skip: boolean;
}

const FLAGS = new Set(['?', '!', 'inline', 'unwrap', 'skip']);

export function isScalarKind(s: string): s is ScalarKind {
  return (SCALAR_KINDS as readonly string[]).includes(s);
}

function valueType(s: string, where: string): ValueType {
  if (isScalarKind(s)) return { scalar: s };
  if (!/^[a-z][\w]*(\.[\w]+)+$/.test(s)) throw new Error(`${where}: bad type "${s}"`);
  return { message: s };
}

/** Parses one field spec; `where` names the message for error messages. */
export function parseFieldSpec(number: number, spec: string, where: string): FieldFact {
  const [json, type, ...flags] = spec.split(' ');
  if (!json || !type) throw new Error(`${where} field ${number}: bad spec "${spec}"`);
  for (const f of flags) if (!FLAGS.has(f)) throw new Error(`${where} field ${number}: unknown flag "${f}"`);
  let repeated = false;
  let mapKey: ScalarKind | undefined;
  let t = type;
  const map = /^map<(\w+),(.+)>$/.exec(t);
  if (map) {
    const k = map[1] ?? '';
    if (!isScalarKind(k)) throw new Error(`${where} field ${number}: bad map key "${k}"`);
    mapKey = k;
    t = map[2] ?? '';
  } else if (t.startsWith('[]')) {
    repeated = true;
    t = t.slice(2);
  }
  return {
    number,
    json,
    type: valueType(t, `${where} field ${number}`),
    repeated,
    ...(mapKey ? { mapKey } : {}),
    omitZero: flags.includes('?'),
    nullWhenAbsent: flags.includes('!'),
    inline: flags.includes('inline'),
    unwrap: flags.includes('unwrap'),
    skip: flags.includes('skip'),
  };
}
