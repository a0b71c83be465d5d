/** Shared flag parsing for berth subcommands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { defaultDataDir } from '../cluster/paths.ts';
import { UsageError } from './usage-error.ts';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ options: T; args: string[]; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export const commonOptions = {
  'data-dir': { type: 'string' },
  name: { type: 'string' },
} as const;

export function dataDirFrom(values: { 'data-dir'?: string; name?: string }): string {
  return values['data-dir'] ? resolve(values['data-dir']) : defaultDataDir(values.name ?? 'default');
}
