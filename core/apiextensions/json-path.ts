/**
 * The JSONPath subset CRDs use in additionalPrinterColumns and the scale subresource paths:
 * `.spec.replicas`, `.items[0].name`, `.status.conditions[?(@.type=="Ready")].status`.
 */
import { isPlainObject } from '../api/object.ts';

type Step = { key: string } | { index: number } | { filterKey: string; filterValue: string };

/** Parses a path; undefined when it is not in the supported subset. */
export function parseJSONPath(path: string): Step[] | undefined {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  if (!p.startsWith('.')) return undefined;
  const steps: Step[] = [];
  const re =
    /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_-]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]/y;
  let i = 0;
  while (i < p.length) {
    re.lastIndex = i;
    const m = re.exec(p);
    if (!m) return undefined;
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) steps.push({ filterKey: m[3], filterValue: m[4] ?? '' });
    else steps.push({ key: m[5]! });
    i = re.lastIndex;
  }
  return steps;
}

/** The value at `path` in `obj`, or undefined when absent. */
export function readJSONPath(obj: unknown, path: string): unknown {
  const steps = parseJSONPath(path);
  if (!steps) return undefined;
  let cur: unknown = obj;
  for (const s of steps) {
    if ('key' in s) cur = isPlainObject(cur) ? cur[s.key] : undefined;
    else if ('index' in s) cur = Array.isArray(cur) ? cur[s.index] : undefined;
    else
      cur = Array.isArray(cur)
        ? cur.find((e) => isPlainObject(e) && String(e[s.filterKey]) === s.filterValue)
        : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Sets the value at a plain dotted path (`.spec.replicas`), creating objects on the way. */
export function writeJSONPath(obj: Record<string, unknown>, path: string, value: unknown): boolean {
  const steps = parseJSONPath(path);
  if (!steps?.length || !steps.every((s) => 'key' in s)) return false;
  const keys = steps.map((s) => (s as { key: string }).key);
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (!isPlainObject(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
  return true;
}
