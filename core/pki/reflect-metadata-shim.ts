/**
 * A minimal Reflect metadata API (defineMetadata / getMetadata / getOwnMetadata / hasMetadata /
 * hasOwnMetadata / metadata). @peculiar/x509 uses tsyringe, which refuses to load unless
 * `Reflect.getMetadata` exists; the project does not depend on a reflect polyfill package, and tsyringe
 * only stores and reads a few decorator annotations, so this small WeakMap-backed version is enough.
 * Import this module before '@peculiar/x509' (core/pki/x509.ts does). It installs nothing when a
 * Reflect metadata implementation is already present.
 */

type MetadataKey = unknown;
type PropertyKeyOrUndefined = string | symbol | undefined;

const store = new WeakMap<object, Map<PropertyKeyOrUndefined, Map<MetadataKey, unknown>>>();

function ownMap(
  target: object,
  property: PropertyKeyOrUndefined,
  create: boolean,
): Map<MetadataKey, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries) {
    if (!create) return undefined;
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function asObject(target: unknown): object {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    throw new TypeError('Reflect metadata target must be an object');
  }
  return target;
}

const api = {
  defineMetadata(key: MetadataKey, value: unknown, target: unknown, property?: string | symbol): void {
    ownMap(asObject(target), property, true)?.set(key, value);
  },
  hasOwnMetadata(key: MetadataKey, target: unknown, property?: string | symbol): boolean {
    return ownMap(asObject(target), property, false)?.has(key) ?? false;
  },
  getOwnMetadata(key: MetadataKey, target: unknown, property?: string | symbol): unknown {
    return ownMap(asObject(target), property, false)?.get(key);
  },
  hasMetadata(key: MetadataKey, target: unknown, property?: string | symbol): boolean {
    for (let t: object | null = asObject(target); t; t = Object.getPrototypeOf(t) as object | null) {
      if (ownMap(t, property, false)?.has(key)) return true;
    }
    return false;
  },
  getMetadata(key: MetadataKey, target: unknown, property?: string | symbol): unknown {
    for (let t: object | null = asObject(target); t; t = Object.getPrototypeOf(t) as object | null) {
      const entries = ownMap(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  },
  metadata(key: MetadataKey, value: unknown) {
    return (target: unknown, property?: string | symbol): void =>
      api.defineMetadata(key, value, target, property);
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  for (const [name, fn] of Object.entries(api)) reflect[name] = fn;
}

export {};
