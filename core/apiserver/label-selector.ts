/**
 * Label selector strings (the `labelSelector` query parameter), with the grammar of
 * k8s.io/apimachinery/pkg/labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`,
 * joined by commas (AND). Parse errors become 400 BadRequest.
 */
import { errors } from '../api/status.ts';
import { isQualifiedName, isValidLabelValue } from '../registry/validation/names.ts';

export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type LabelSelector = Requirement[];

type Labels = Record<string, string> | undefined;

export function matchesLabels(sel: LabelSelector, labels: Labels): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq':
        if (!has || v !== r.value) return false;
        break;
      case 'neq':
        if (has && v === r.value) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v!)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v!)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has) return false;
        const n = Number(v);
        if (!Number.isInteger(n)) return false;
        if (r.op === 'gt' ? !(n > r.value) : !(n < r.value)) return false;
      }
    }
  }
  return true;
}

class Lexer {
  pos = 0;
  constructor(readonly s: string) {}
  skipWs(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }
  peek(): string {
    this.skipWs();
    return this.s.slice(this.pos);
  }
  eof(): boolean {
    this.skipWs();
    return this.pos >= this.s.length;
  }
  /** An identifier: everything up to whitespace or one of , ( ) = ! < > */
  ident(): string {
    this.skipWs();
    const start = this.pos;
    while (this.pos < this.s.length && !/[\s,()=!<>]/.test(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }
  take(tok: string): boolean {
    this.skipWs();
    if (this.s.startsWith(tok, this.pos)) {
      this.pos += tok.length;
      return true;
    }
    return false;
  }
}

function fail(sel: string, why: string): never {
  throw errors.badRequest(`unable to parse requirement: ${why}`, [
    { reason: 'FieldValueInvalid', message: why, field: 'labelSelector' },
  ]);
  void sel;
}

function checkKey(sel: string, key: string): void {
  if (!key) fail(sel, "found '', expected: identifier");
  const e = isQualifiedName(key);
  if (e.length) fail(sel, `<nil>: Invalid value: "${key}": ${e.join('; ')}`);
}
function checkValue(sel: string, v: string): void {
  const e = isValidLabelValue(v);
  if (e.length) fail(sel, `values[0][${v}]: Invalid value: "${v}": ${e.join('; ')}`);
}

export function parseLabelSelector(sel: string | undefined): LabelSelector {
  if (sel === undefined || sel.trim() === '') return [];
  const lx = new Lexer(sel);
  const out: Requirement[] = [];
  for (;;) {
    if (lx.take('!')) {
      const key = lx.ident();
      checkKey(sel, key);
      out.push({ key, op: 'notexists' });
    } else {
      const key = lx.ident();
      checkKey(sel, key);
      if (lx.eof() || lx.peek().startsWith(',')) {
        out.push({ key, op: 'exists' });
      } else if (lx.take('==') || lx.take('=')) {
        const value = lx.ident();
        checkValue(sel, value);
        out.push({ key, op: 'eq', value });
      } else if (lx.take('!=')) {
        const value = lx.ident();
        checkValue(sel, value);
        out.push({ key, op: 'neq', value });
      } else if (lx.take('>') || lx.take('<')) {
        const op = lx.s[lx.pos - 1] === '>' ? 'gt' : 'lt';
        const raw = lx.ident();
        const n = Number(raw);
        if (!Number.isInteger(n)) fail(sel, `for 'Gt', 'Lt' operators, the value must be an integer`);
        out.push({ key, op, value: n });
      } else {
        const word = lx.ident();
        if (word !== 'in' && word !== 'notin')
          fail(sel, `found '${word}', expected: in, notin, =, ==, !=, gt, lt`);
        if (!lx.take('(')) fail(sel, `found '${lx.peek().slice(0, 1)}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          if (lx.take(')')) break;
          const v = lx.ident();
          checkValue(sel, v);
          values.push(v);
          if (lx.take(')')) break;
          if (!lx.take(',')) fail(sel, `found '${lx.peek().slice(0, 1)}', expected: ',' or ')'`);
        }
        out.push({ key, op: word, values });
      }
    }
    if (lx.eof()) break;
    if (!lx.take(',')) fail(sel, `found '${lx.peek().slice(0, 1)}', expected: ','`);
  }
  return out;
}

/** Convert a metav1.LabelSelector object (matchLabels/matchExpressions) to requirements. */
export function fromLabelSelectorObject(sel: unknown): LabelSelector | undefined {
  if (!sel || typeof sel !== 'object') return undefined;
  const s = sel as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) out.push({ key, op: 'eq', value });
  for (const e of s.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        out.push({ key: e.key, op: 'in', values: e.values ?? [] });
        break;
      case 'NotIn':
        out.push({ key: e.key, op: 'notin', values: e.values ?? [] });
        break;
      case 'Exists':
        out.push({ key: e.key, op: 'exists' });
        break;
      case 'DoesNotExist':
        out.push({ key: e.key, op: 'notexists' });
        break;
      default:
        return undefined;
    }
  }
  return out;
}
