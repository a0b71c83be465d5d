/** The generic shape of every Kubernetes object as Berth stores and serves it (plain JSON). */
import type { ObjectMeta as ReadonlyObjectMeta } from 'kubernetes-types/meta/v1';

/** ObjectMeta as the server manipulates it (kubernetes-types marks server-set fields readonly). */
export type ObjectMeta = { -readonly [K in keyof ReadonlyObjectMeta]: ReadonlyObjectMeta[K] };

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A parsed JSON value (what JSON.parse can return). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy through JSON (objects in Berth are always JSON-safe). */
export function deepCopy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** RFC3339 timestamp to the second, as Kubernetes serializes metav1.Time. */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC3339 with microseconds, as Kubernetes serializes metav1.MicroTime. */
export function rfc3339Micro(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
