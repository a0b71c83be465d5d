/**
 * Field selectors (`fieldSelector`): `a=b`, `a==b`, `a!=b` joined by commas. Each kind supports
 * metadata.name and metadata.namespace plus what its strategy's fieldSelectors() returns; anything else
 * is a 400 with Kubernetes' message `field label not supported: <f>`.
 */
import { errors } from '../api/status.ts';

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export function parseFieldSelector(sel: string | undefined): FieldRequirement[] {
  if (!sel || sel.trim() === '') return [];
  const out: FieldRequirement[] = [];
  for (const part of splitTerms(sel)) {
    if (!part) continue;
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([^=!]+)!=(.*)$/)))
      out.push({ field: m[1]!.trim(), op: 'neq', value: unescape(m[2]!) });
    else if ((m = part.match(/^([^=!]+)==?(.*)$/)))
      out.push({ field: m[1]!.trim(), op: 'eq', value: unescape(m[2]!) });
    else throw errors.badRequest(`invalid selector: '${sel}'; can't understand '${part}'`);
  }
  return out;
}

/** Terms are separated by unescaped commas; `\,` `\=` `\\` are escapes. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}
function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

export function checkFieldsSupported(reqs: FieldRequirement[], supported: Set<string>): void {
  for (const r of reqs) {
    if (!supported.has(r.field)) throw errors.badRequest(`field label not supported: ${r.field}`);
  }
}

export function matchesFields(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  for (const r of reqs) {
    const v = fields[r.field] ?? '';
    if (r.op === 'eq' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
