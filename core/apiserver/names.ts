/** Helpers for object naming and storage keys. */
import { randomBytes } from 'node:crypto';
import type { ResourceInfo } from '../registry/types.ts';

// The alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no confusable characters).
const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName suffix: 5 random characters, as names.SimpleNameGenerator does. */
export function randomSuffix(n = 5): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphanums[b[i]! % alphanums.length];
  return s;
}

/** Prefix is truncated so that prefix+suffix stays within 63 characters. */
export function generateName(prefix: string): string {
  const max = 63 - 5;
  return (prefix.length > max ? prefix.slice(0, max) : prefix) + randomSuffix();
}

export function storageKey(group: string, resource: string, namespace: string, name: string): string {
  return `/${group || 'core'}/${resource}/${namespace}/${name}`;
}

export function collectionPrefix(group: string, resource: string, namespace: string): string {
  return namespace ? `/${group || 'core'}/${resource}/${namespace}/` : `/${group || 'core'}/${resource}/`;
}

export function groupVersion(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}
