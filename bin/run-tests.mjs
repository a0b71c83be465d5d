#!/usr/bin/env node
// Runs the test suites with Node's own test runner (through tsx for TypeScript):
//   unit: every core/**/*.test.ts (and electron/), e2e: every e2e/**/*.test.ts.
// `npm test` runs lint/typecheck first, then both. Extra args: `unit`, `e2e`, or file filters.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const suites = args.filter((a) => a === 'unit' || a === 'e2e');
const filters = args.filter((a) => a !== 'unit' && a !== 'e2e');
const want = suites.length ? suites : ['unit', 'e2e'];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status ?? 1;
}

let failed = 0;
if (!suites.length && !filters.length) {
  console.log('» typecheck');
  failed |= run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  console.log('» lint');
  failed |= run('npx', ['eslint', '--max-warnings=0', '--no-warn-ignored', '.']);
  console.log('» format');
  failed |= run('npx', ['prettier', '--check', '--log-level=warn', '.']);
  console.log('» renderer (vue-tsc + reducer tests)');
  failed |= run(process.execPath, ['bin/check-renderer.mjs']);
}
for (const suite of want) {
  const dirs = suite === 'unit' ? ['core', 'electron', 'renderer/src'] : ['e2e'];
  let files = dirs.flatMap((d) => {
    try {
      return walk(join(root, d));
    } catch {
      return [];
    }
  });
  if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
  if (!files.length) continue;
  console.log(`» ${suite} tests (${files.length} files)`);
  const concurrency = suite === 'unit' ? '2' : '1';
  // A test that hangs fails after this long instead of stalling CI until its 90-minute limit, and a
  // file whose tests are done but which still holds an open handle is ended instead of hanging.
  const timeoutMs = suite === 'unit' ? 120_000 : 900_000;
  failed |= run(process.execPath, [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeoutMs}`,
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ]);
}
process.exit(failed ? 1 : 0);
