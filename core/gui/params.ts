/**
 * Parameter checks of the GUI contract's requests: they come from a renderer, so shapes are validated,
 * never trusted. A failed check is a ContractViolation (the request fails, the session stays).
 */
import type { GroupVersionKind, Method, ResourceRef, Result } from './contract.ts';

export class ContractViolation extends Error {}

export function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ContractViolation(`${what} must be an object`);
  return v as Record<string, unknown>;
}
export function str(p: Record<string, unknown>, k: string): string {
  const v = p[k];
  if (typeof v !== 'string' || !v) throw new ContractViolation(`${k} must be a non-empty string`);
  return v;
}
export function optStr(p: Record<string, unknown>, k: string): string | undefined {
  const v = p[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ContractViolation(`${k} must be a string`);
  return v;
}
export function replicas(p: Record<string, unknown>): number {
  const v = p['replicas'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ContractViolation('replicas must be a non-negative integer');
  return v;
}
export function kinds(p: Record<string, unknown>): GroupVersionKind[] {
  const v = p['kinds'];
  if (!Array.isArray(v) || v.length > 100) throw new ContractViolation('kinds must be an array (≤ 100)');
  return v.map((k) => {
    const o = obj(k, 'kinds[]');
    return { apiVersion: str(o, 'apiVersion'), kind: str(o, 'kind') };
  });
}
export function int(p: Record<string, unknown>, k: string, min: number, max: number): number {
  const v = p[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new ContractViolation(`${k} must be a whole number from ${min} to ${max}`);
  return v;
}
export function bool(p: Record<string, unknown>, k: string): boolean {
  const v = p[k];
  if (typeof v !== 'boolean') throw new ContractViolation(`${k} must be a boolean`);
  return v;
}
export function optBool(p: Record<string, unknown>, k: string): boolean | undefined {
  const v = p[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ContractViolation(`${k} must be a boolean`);
  return v;
}
export const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export function ref(p: Record<string, unknown>): ResourceRef {
  const r = obj(p['ref'], 'ref');
  const group = typeof r['group'] === 'string' ? r['group'] : '';
  const version = str(r, 'version');
  const resource = str(r, 'resource');
  if ((group && !SEGMENT.test(group)) || !SEGMENT.test(version) || !SEGMENT.test(resource))
    throw new ContractViolation('ref has an invalid group, version or resource');
  return { group, version, resource };
}

/** One request handler per contract method (params still unchecked). */
export type Handlers<M extends Method = Method> = {
  [K in M]: (params: Record<string, unknown>) => Promise<Result<K>>;
};
