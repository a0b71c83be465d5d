/** Standard cron schedule validation (5 fields, names, ranges, steps, and the @ shorthands). */
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: { min: number; max: number; names?: string[]; nameBase?: number }[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 6, names: DAYS, nameBase: 0 },
];

function value(tok: string, f: (typeof FIELDS)[number]): number {
  const i = f.names?.indexOf(tok.toLowerCase()) ?? -1;
  if (i >= 0) return i + (f.nameBase ?? 0);
  if (!/^\d+$/.test(tok))
    throw new Error(`failed to parse int from ${tok}: strconv.Atoi: parsing "${tok}": invalid syntax`);
  return Number(tok);
}

/** Returns an error message in robfig/cron's style, or undefined when valid. */
export function cronError(schedule: string): string | undefined {
  const s = schedule.trim();
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ='))
    return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  if (MACROS.has(s)) return undefined;
  if (s.startsWith('@every '))
    return /^@every\s+(\d+(ns|us|µs|ms|s|m|h))+$/.test(s) ? undefined : `failed to parse duration ${s}`;
  if (s.startsWith('@')) return `unrecognized descriptor: ${s}`;
  const parts = s.split(/\s+/);
  if (parts.length !== 5) return `expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`;
  try {
    parts.forEach((p, i) => {
      const f = FIELDS[i]!;
      for (const expr of p.split(',')) {
        const [range, step] = expr.split('/');
        if (step !== undefined && !/^\d+$/.test(step))
          throw new Error(
            `failed to parse int from ${step}: strconv.Atoi: parsing "${step}": invalid syntax`,
          );
        if (range === '*' || range === '?') continue;
        const [lo, hi] = (range ?? '').split('-');
        const a = value(lo ?? '', f);
        const b = hi !== undefined ? value(hi, f) : a;
        if (a < f.min) throw new Error(`beginning of range (${a}) below minimum (${f.min}): ${expr}`);
        if (b > f.max) throw new Error(`end of range (${b}) above maximum (${f.max}): ${expr}`);
        if (a > b) throw new Error(`beginning of range (${a}) beyond end of range (${b}): ${expr}`);
      }
    });
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
