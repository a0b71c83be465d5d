#!/usr/bin/env node
/**
 * Generates core/openapi/generated/definitions.json: Kubernetes-style OpenAPI definitions
 * (`io.k8s.api.core.v1.PodSpec`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`, …) built from the model
 * typings of our @kubernetes/client-node dependency (dist/gen/models/*.d.ts: descriptions, TS types,
 * required-ness; *.js: attributeTypeMap with JSON names and formats). Nothing is copied from another
 * repository: the schemas are derived from that maintained npm package plus the small tables below.
 *
 * Runs from `npm install` ("prepare") and whenever the generated file is missing. Plain Node ESM, no tsx.
 * The .d.ts files are read with the TypeScript compiler API when it is installed, else with a line-based
 * parser of those regular generated files; both produce the same output (`--check-parsers` compares them).
 *
 * Usage: node bin/build-schemas.mjs [--out <dir>] [--parser ts|lines] [--check-parsers] [--quiet]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const FIELDS_V1 = `${META}.FieldsV1`;
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
const JSON_ANY = `${APIEXT}.JSON`;

/** Types of the meta.k8s.io/v1 package (apimachinery), whatever API file imports them. */
const META_KINDS = new Set([
  'APIGroup',
  'APIGroupList',
  'APIResource',
  'APIResourceList',
  'APIVersions',
  'Condition',
  'DeleteOptions',
  'FieldSelectorRequirement',
  'GroupVersionForDiscovery',
  'LabelSelector',
  'LabelSelectorRequirement',
  'ListMeta',
  'ManagedFieldsEntry',
  'ObjectMeta',
  'OwnerReference',
  'Preconditions',
  'ServerAddressByClientCIDR',
  'Status',
  'StatusCause',
  'StatusDetails',
  'WatchEvent',
]);

/** Classes no versioned API file imports that the definitions still need (discovery and watch types). */
const EXTRA_CLASSES = ['V1WatchEvent', 'V1APIGroup', 'V1APIGroupList', 'V1APIVersions', 'VersionInfo'];

/** Class names whose API group is not the one of the API file that uses them. */
const GROUP_OVERRIDES = {
  V1Scale: 'autoscaling',
  V1Eviction: 'policy',
};

/** client-node name prefixes used to tell same-named types of different groups apart. */
const PREFIX_GROUPS = {
  Admissionregistration: 'admissionregistration.k8s.io',
  Apiextensions: 'apiextensions.k8s.io',
  Apiregistration: 'apiregistration.k8s.io',
  Apps: 'apps',
  Authentication: 'authentication.k8s.io',
  Core: '',
  Discovery: 'discovery.k8s.io',
  Events: 'events.k8s.io',
  Flowcontrol: 'flowcontrol.apiserver.k8s.io',
  Rbac: 'rbac.authorization.k8s.io',
  Resource: 'resource.k8s.io',
  Storage: 'storage.k8s.io',
};

/** API group → Go package prefix of its OpenAPI definition names. */
function packageOf(group) {
  if (group === 'meta') return 'io.k8s.apimachinery.pkg.apis.meta';
  if (group === '') return 'io.k8s.api.core';
  if (group === 'apiextensions.k8s.io') return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';
  if (group === 'apiregistration.k8s.io') return 'io.k8s.kube-aggregator.pkg.apis.apiregistration';
  if (group === 'internal.apiserver.k8s.io') return 'io.k8s.api.apiserverinternal';
  return `io.k8s.api.${group.split('.')[0]}`;
}

/**
 * Fields typed `string` (or maps/arrays of strings) by client-node that are resource.Quantity in the API
 * (client-node's generator flattens Quantity to string). Keys are class names without the version prefix.
 */
const QUANTITY_FIELDS = {
  ResourceRequirements: ['limits', 'requests'],
  VolumeResourceRequirements: ['limits', 'requests'],
  ContainerStatus: ['allocatedResources'],
  LimitRangeItem: ['default', 'defaultRequest', 'max', 'maxLimitRequestRatio', 'min'],
  NodeStatus: ['allocatable', 'capacity'],
  Overhead: ['podFixed'],
  PersistentVolumeClaimStatus: ['allocatedResources', 'capacity'],
  PersistentVolumeSpec: ['capacity'],
  PodSpec: ['overhead'],
  ResourceQuotaSpec: ['hard'],
  ResourceQuotaStatus: ['hard', 'used'],
  EmptyDirVolumeSource: ['sizeLimit'],
  ResourceFieldSelector: ['divisor'],
  CSIStorageCapacity: ['capacity', 'maximumVolumeSize'],
  MetricTarget: ['averageValue', 'value'],
  MetricValueStatus: ['averageValue', 'value'],
  CapacityRequirements: ['requests'],
  DeviceRequestAllocationResult: ['consumedCapacity'],
  CapacityRequestPolicy: ['default', 'validValues'],
  CapacityRequestPolicyRange: ['max', 'min', 'step'],
  Counter: ['value'],
  DeviceCapacity: ['value'],
  BasicDevice: ['capacity'],
  NamedResourcesAttribute: ['quantity'],
};

/** Fields client-node types as `any`: what the API has there. Default: a free-form object. */
const ANY_FIELDS = {
  'WatchEvent.object': RAW_EXTENSION,
  'ControllerRevision.data': RAW_EXTENSION,
  'ManagedFieldsEntry.fieldsV1': FIELDS_V1,
  'AllocatedDeviceStatus.data': RAW_EXTENSION,
  'OpaqueDeviceConfiguration.parameters': RAW_EXTENSION,
  'VendorParameters.parameters': RAW_EXTENSION,
  'DriverAllocationResult.vendorRequestParameters': RAW_EXTENSION,
  'DriverRequests.vendorParameters': RAW_EXTENSION,
  'ResourceRequest.vendorParameters': RAW_EXTENSION,
  'StructuredResourceHandle.vendorClaimParameters': RAW_EXTENSION,
  'StructuredResourceHandle.vendorClassParameters': RAW_EXTENSION,
  'JSONSchemaProps.additionalItems': `${APIEXT}.JSONSchemaPropsOrBool`,
  'JSONSchemaProps.additionalProperties': `${APIEXT}.JSONSchemaPropsOrBool`,
  'JSONSchemaProps.default': JSON_ANY,
  'JSONSchemaProps.example': JSON_ANY,
  'JSONSchemaProps.items': `${APIEXT}.JSONSchemaPropsOrArray`,
};

/** Definitions client-node has no class for (its generator inlines them). */
const SPECIAL_DEFS = {
  [QUANTITY]: {
    description:
      'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n<quantity>        ::= <signedNumber><suffix>\n\n(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<suffix> ::= <binarySI> | <decimalSI> | <decimalExponent>\n\n<binarySI> ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n<decimalSI> ::= m | "" | k | M | G | T | P | E\n\n<decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>\n\nA number given in YAML or JSON may be an integer or a string.',
    type: 'string',
    format: 'quantity',
  },
  [INT_OR_STRING]: {
    description:
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    type: 'string',
    format: 'int-or-string',
    'x-kubernetes-int-or-string': true,
  },
  [TIME]: {
    description:
      'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON. It is serialized as an RFC 3339 timestamp in UTC.',
    type: 'string',
    format: 'date-time',
  },
  [MICRO_TIME]: {
    description:
      'MicroTime is version of Time with microsecond level precision, serialized as an RFC 3339 timestamp with microseconds.',
    type: 'string',
    format: 'date-time',
  },
  [FIELDS_V1]: {
    description:
      "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item. The string will follow one of these four formats: 'f:<name>', where <name> is the name of a field in a struct, or key in a map; 'v:<value>', where <value> is the exact json formatted value of a list item; 'i:<index>', where <index> is position of a item in a list; 'k:<keys>', where <keys> is a map of a list item's key fields to their unique values. If a key maps to an empty Fields value, the field that key represents is part of the set.",
    type: 'object',
  },
  [RAW_EXTENSION]: {
    description:
      'RawExtension is used to hold extensions in external versions: an embedded object of any kind, as JSON.',
    type: 'object',
  },
  [JSON_ANY]: {
    description:
      'JSON represents any valid JSON value. These types are supported: bool, int64, float64, string, []interface{}, map[string]interface{} and nil.',
  },
  [`${APIEXT}.JSONSchemaPropsOrBool`]: {
    description:
      'JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value. Defaults to true for the boolean property.',
  },
  [`${APIEXT}.JSONSchemaPropsOrArray`]: {
    description:
      'JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array of JSONSchemaProps. Mainly here for serialization purposes.',
  },
  [`${APIEXT}.JSONSchemaPropsOrStringArray`]: {
    description: 'JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array.',
  },
};

// ---------------------------------------------------------------------------------------------------------
// Reading the client-node model files

/** Turns the raw text of a `/** … *\/` comment into its description (same rules for both parsers). */
function commentText(raw) {
  const body = raw.replace(/^\/\*\*/, '').replace(/\*\/$/, '');
  const lines = body
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trimEnd())
    .filter((l, i, all) => l !== '' || (i > 0 && i < all.length - 1));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const text = lines.join('\n').replace(/\\(.)/g, '$1');
  return text === '' ? undefined : text;
}

/** Line-based reader of the generated model .d.ts files. */
function parseDtsLines(text) {
  const lines = text.split('\n');
  let comment;
  let pending;
  let cls;
  for (const line of lines) {
    const t = line.trim();
    if (pending !== undefined) {
      pending += '\n' + line;
      if (t.endsWith('*/')) {
        comment = pending;
        pending = undefined;
      }
      continue;
    }
    if (t.startsWith('/**')) {
      if (t.endsWith('*/') && t.length > 4) comment = t;
      else pending = t;
      continue;
    }
    const c = /^export declare class (\w+)/.exec(t);
    if (c) {
      cls = { name: c[1], description: comment ? commentText(comment) : undefined, props: [] };
      comment = undefined;
      continue;
    }
    if (!cls || !line.startsWith('    ') || line.startsWith('     ')) {
      if (t !== '') comment = undefined;
      continue;
    }
    const p = /^'([^']+)'(\?)?:\s*(.*?);?$/.exec(t);
    if (p) {
      cls.props.push({
        name: p[1],
        optional: p[2] === '?',
        description: comment ? commentText(comment) : undefined,
      });
    }
    comment = undefined;
  }
  return cls;
}

/** TypeScript-compiler-API reader: same result shape as parseDtsLines. */
function makeTsParser(ts) {
  return (text) => {
    const sf = ts.createSourceFile('m.d.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const doc = (node) => {
      const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
      const last = ranges.filter((r) => text.startsWith('/**', r.pos)).pop();
      return last ? commentText(text.slice(last.pos, last.end)) : undefined;
    };
    let out;
    for (const st of sf.statements) {
      if (!ts.isClassDeclaration(st) || !st.name) continue;
      out = { name: st.name.text, description: doc(st), props: [] };
      for (const m of st.members) {
        if (!ts.isPropertyDeclaration(m)) continue;
        if (m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
        if (!ts.isStringLiteral(m.name)) continue;
        out.props.push({ name: m.name.text, optional: !!m.questionToken, description: doc(m) });
      }
    }
    return out;
  };
}

function readAttributeTypeMap(jsText, cls) {
  const marker = `${cls}.attributeTypeMap = `;
  const at = jsText.indexOf(marker);
  if (at < 0) return [];
  const start = at + marker.length;
  const end = jsText.indexOf('\n];', start);
  return JSON.parse(jsText.slice(start, end + 2));
}

function loadTs() {
  try {
    return require('typescript');
  } catch {
    return undefined;
  }
}

function modelsDir() {
  const pkgJson = require.resolve('@kubernetes/client-node/package.json');
  return {
    dir: join(dirname(pkgJson), 'dist', 'gen'),
    version: JSON.parse(readFileSync(pkgJson, 'utf8')).version,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Building the definitions

const CLASS_RE = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)$/;

export function buildDefinitions({ parser = 'auto', log = () => {} } = {}) {
  const { dir, version: clientNodeVersion } = modelsDir();
  const ts = parser === 'lines' ? undefined : loadTs();
  if (parser === 'ts' && !ts) throw new Error('typescript is not installed');
  const parse = ts ? makeTsParser(ts) : parseDtsLines;
  const modelDir = join(dir, 'models');

  // 1. Which API group-versions import which model classes.
  const importedBy = new Map();
  const groupVersions = [];
  for (const f of readdirSync(join(dir, 'apis')).sort()) {
    if (!/V\d\w*Api\.js$/.test(f)) continue;
    const js = readFileSync(join(dir, 'apis', f), 'utf8');
    const m = /localVarPath = '\/(api|apis)\/([^'{]*)/.exec(js);
    if (!m) continue;
    const parts = m[2].split('/');
    const [group, version] = m[1] === 'api' ? ['', 'v1'] : [parts[0] ?? '', parts[1] ?? ''];
    groupVersions.push({ group, version });
    const dts = readFileSync(join(dir, 'apis', f.replace(/\.js$/, '.d.ts')), 'utf8');
    for (const x of dts.matchAll(/import \{ (\w+) \} from '\.\.\/models\/\w+\.js'/g)) {
      const list = importedBy.get(x[1]) ?? [];
      list.push({ group, version });
      importedBy.set(x[1], list);
    }
  }

  // 2. Read every model class that API files reach.
  const classes = new Map();
  const readClass = (name) => {
    if (classes.has(name)) return classes.get(name);
    const dtsPath = join(modelDir, `${name}.d.ts`);
    if (!existsSync(dtsPath)) return undefined;
    const parsed = parse(readFileSync(dtsPath, 'utf8'));
    if (!parsed || parsed.name !== name) throw new Error(`cannot parse ${dtsPath}`);
    const attrs = readAttributeTypeMap(readFileSync(join(modelDir, `${name}.js`), 'utf8'), name);
    const byName = new Map(attrs.map((a) => [a.name, a]));
    const props = parsed.props.map((p) => {
      const a = byName.get(p.name);
      if (!a) throw new Error(`${name}.${p.name}: not in attributeTypeMap`);
      return { ...p, json: a.baseName, type: a.type, format: a.format };
    });
    const c = { name, description: parsed.description, props };
    classes.set(name, c);
    for (const p of props) for (const ref of classRefs(p.type)) readClass(ref);
    return c;
  };
  for (const name of [...importedBy.keys()].sort()) readClass(name);
  for (const name of EXTRA_CLASSES) readClass(name);

  // 3. Group of each class: explicit tables, name prefix, importing API, else the groups reaching it.
  const groupOf = new Map();
  const split = (name) => {
    const m = CLASS_RE.exec(name);
    if (!m) return undefined;
    return { prefix: m[1], version: m[2].toLowerCase(), kind: m[3] };
  };
  for (const name of classes.keys()) {
    const s = split(name);
    if (!s) continue;
    if (s.prefix === undefined && s.version === 'v1' && META_KINDS.has(s.kind)) groupOf.set(name, 'meta');
    else if (GROUP_OVERRIDES[name] !== undefined) groupOf.set(name, GROUP_OVERRIDES[name]);
    else if (s.prefix !== undefined && PREFIX_GROUPS[s.prefix] !== undefined)
      groupOf.set(name, PREFIX_GROUPS[s.prefix]);
    else {
      const gs = new Set((importedBy.get(name) ?? []).map((g) => g.group));
      if (gs.size === 1) groupOf.set(name, [...gs][0]);
    }
  }
  const reachers = new Map();
  const visit = (name, group, seen) => {
    if (seen.has(name)) return;
    seen.add(name);
    const c = classes.get(name);
    if (!c) return;
    for (const p of c.props)
      for (const ref of classRefs(p.type)) {
        if (groupOf.has(ref)) continue;
        const set = reachers.get(ref) ?? new Set();
        set.add(group);
        reachers.set(ref, set);
        visit(ref, group, seen);
      }
  };
  for (const [name, g] of groupOf) if (g !== 'meta') visit(name, g, new Set());
  const ambiguous = [];
  for (const [name, set] of reachers) {
    if (set.size === 1) groupOf.set(name, [...set][0]);
    else if (set.has('')) groupOf.set(name, '');
    else ambiguous.push(`${name}: ${[...set].join(', ')}`);
  }
  if (ambiguous.length)
    throw new Error(`cannot tell the API group of: ${ambiguous.join('; ')} (add them to GROUP_OVERRIDES)`);

  const defName = (cls) => {
    if (cls === 'VersionInfo') return 'io.k8s.apimachinery.pkg.version.Info';
    const s = split(cls);
    const g = groupOf.get(cls);
    if (!s || g === undefined) throw new Error(`no definition name for ${cls}`);
    return `${packageOf(g)}.${s.version}.${s.kind}`;
  };

  // 4. Schemas.
  const defs = {};
  const gvkOf = new Map();
  for (const [name, c] of classes) {
    if (!split(name) && name !== 'VersionInfo') continue;
    const s = split(name);
    const g = groupOf.get(name);
    const jsonNames = new Set(c.props.map((p) => p.json));
    const isObject =
      jsonNames.has('apiVersion') && jsonNames.has('kind') && s && g !== undefined && g !== 'meta';
    if (isObject) gvkOf.set(name, [{ group: g, version: s.version, kind: s.kind }]);
  }
  // meta kinds with a GVK in every group-version (as kube-apiserver publishes them)
  const allGV = [{ group: '', version: 'v1' }, ...groupVersions.filter((gv) => gv.group !== '')];
  const metaGVK = (kind, gvs) => gvs.map((gv) => ({ group: gv.group, version: gv.version, kind }));
  gvkOf.set('V1DeleteOptions', metaGVK('DeleteOptions', allGV));
  gvkOf.set('V1WatchEvent', metaGVK('WatchEvent', allGV));
  for (const k of ['Status', 'APIGroup', 'APIGroupList', 'APIResourceList', 'APIVersions'])
    gvkOf.set(`V1${k}`, metaGVK(k, [{ group: '', version: 'v1' }]));

  const ctx = { defName, classes };
  for (const [name, c] of [...classes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!split(name) && name !== 'VersionInfo') continue;
    const s = split(name);
    const kindName = s ? s.kind : name;
    const schema = {};
    if (c.description) schema.description = c.description;
    schema.type = 'object';
    const properties = {};
    const required = [];
    for (const p of [...c.props].sort((a, b) => (a.json < b.json ? -1 : a.json > b.json ? 1 : 0))) {
      // only `string` typed fields become Quantity: e.g. v1beta1 BasicDevice.capacity is a map of DeviceCapacity
      const quantity = (QUANTITY_FIELDS[kindName] ?? []).includes(p.json);
      const anyRef = ANY_FIELDS[`${kindName}.${p.json}`];
      const prop = propertySchema(p.type, p.format, { ...ctx, quantity, anyRef, where: `${name}.${p.json}` });
      // client-node drops the description of a property whose type is a class: use the class description
      const desc = p.description ?? (prop.$ref ? refDescription(prop.$ref, ctx) : undefined);
      properties[p.json] = desc ? { description: desc, ...prop } : prop;
      if (!p.optional) required.push(p.json);
    }
    if (Object.keys(properties).length) schema.properties = properties;
    if (required.length) schema.required = required;
    const gvk = gvkOf.get(name);
    if (gvk) schema['x-kubernetes-group-version-kind'] = gvk;
    const dn = defName(name);
    if (defs[dn]) throw new Error(`two client-node classes map to ${dn}`);
    defs[dn] = schema;
  }
  for (const [n, s] of Object.entries(SPECIAL_DEFS)) defs[n] = s;

  // 5. Every $ref must resolve.
  const missing = new Set();
  const check = (node) => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string' && !defs[node.$ref.replace('#/definitions/', '')])
      missing.add(node.$ref);
    for (const v of Object.values(node)) if (typeof v === 'object') check(v);
  };
  check(defs);
  if (missing.size) throw new Error(`unresolved references: ${[...missing].join(', ')}`);

  const sorted = Object.fromEntries(
    Object.keys(defs)
      .sort()
      .map((k) => [k, defs[k]]),
  );
  log(
    `${Object.keys(sorted).length} definitions from @kubernetes/client-node@${clientNodeVersion} (${ts ? 'typescript' : 'line'} parser)`,
  );
  return { definitions: sorted, clientNodeVersion, parser: ts ? 'typescript' : 'lines' };
}

function refDescription(ref, ctx) {
  const n = ref.replace('#/definitions/', '');
  const special = SPECIAL_DEFS[n];
  if (special) return undefined; // primitives: the type name says it
  for (const [cls, c] of ctx.classes) {
    try {
      if (ctx.defName(cls) === n) return c.description;
    } catch {
      /* not a definition */
    }
  }
  return undefined;
}

/** Class names mentioned in a client-node attribute type string. */
function classRefs(type) {
  return [...type.matchAll(/\b([A-Z][A-Za-z0-9]*V\d\w*|V\d\w*|VersionInfo)\b/g)]
    .map((m) => m[1])
    .filter((n) => n !== 'IntOrString');
}

const ref = (n) => ({ $ref: `#/definitions/${n}` });

/** JSON schema of one property, from client-node's attribute type and format. */
function propertySchema(type, format, ctx) {
  const t = type.trim();
  const arr = /^Array<(.*)>$/.exec(t);
  if (arr) return { type: 'array', items: propertySchema(arr[1], format, ctx) };
  const map = /^\{ \[key: string\]: (.*); \}$/.exec(t);
  if (map) return { type: 'object', additionalProperties: propertySchema(map[1], format, ctx) };
  switch (t) {
    case 'string':
      if (ctx.quantity) return ref(QUANTITY);
      return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      if (format === 'double' || format === 'float') return { type: 'number', format };
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return ref(TIME);
    case 'V1MicroTime':
      return ref(MICRO_TIME);
    case 'IntOrString':
      return ref(INT_OR_STRING);
    case 'any':
      return ctx.anyRef ? ref(ctx.anyRef) : { type: 'object' };
    default:
      if (ctx.classes.has(t)) return ref(ctx.defName(t));
      throw new Error(`${ctx.where}: unknown client-node type ${t}`);
  }
}

// ---------------------------------------------------------------------------------------------------------

function main(argv) {
  const arg = (n) => {
    const i = argv.indexOf(n);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quiet = argv.includes('--quiet');
  const log = quiet ? () => {} : (m) => console.log(`build-schemas: ${m}`);
  const outDir = resolve(arg('--out') ?? join(ROOT, 'core', 'openapi', 'generated'));
  const started = Date.now();
  const result = buildDefinitions({ parser: arg('--parser') ?? 'auto', log });
  if (argv.includes('--check-parsers')) {
    const other = buildDefinitions({ parser: result.parser === 'typescript' ? 'lines' : 'ts' });
    if (JSON.stringify(other.definitions) !== JSON.stringify(result.definitions))
      throw new Error('the TypeScript and line parsers disagree');
    log('TypeScript and line parsers agree');
  }
  const json = JSON.stringify(result.definitions, null, 1) + '\n';
  const hash = createHash('sha256').update(json).digest('hex');
  mkdirSync(outDir, { recursive: true });
  const write = (file, content) => {
    const tmp = join(outDir, `.${file}.${process.pid}.tmp`);
    writeFileSync(tmp, content);
    renameSync(tmp, join(outDir, file));
  };
  write('definitions.json', json);
  write(
    'definitions.hash.json',
    JSON.stringify(
      {
        sha256: hash,
        source: `@kubernetes/client-node@${result.clientNodeVersion}`,
        count: Object.keys(result.definitions).length,
      },
      null,
      2,
    ) + '\n',
  );
  log(
    `wrote ${join(outDir, 'definitions.json')} (sha256 ${hash.slice(0, 16)}…) in ${Date.now() - started} ms`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`build-schemas: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
