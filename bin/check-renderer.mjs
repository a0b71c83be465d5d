#!/usr/bin/env node
// Checks the renderer (it is outside the root tsconfig and eslint because it is a browser app with .vue
// files): typechecks src/**/*.ts and *.vue with vue-tsc against renderer/tsconfig.json, then runs the
// renderer's unit tests (renderer/**/*.test.ts, e.g. the list/watch reducer) with Node's test runner.
// Extra args filter the test files by substring. Exit code 1 when anything fails.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || /^dist(\.|$)/.test(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status ?? 1;
}

let failed = 0;
if (!filters.length) {
  console.log('» renderer typecheck (vue-tsc)');
  failed |= run(process.execPath, [
    join(root, 'node_modules', 'vue-tsc', 'bin', 'vue-tsc.js'),
    '-p',
    'renderer/tsconfig.json',
    '--noEmit',
  ]);
}
let files = walk(join(root, 'renderer'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length) {
  console.log(`» renderer unit tests (${files.length} files)`);
  failed |= run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files]);
}
process.exit(failed ? 1 : 0);
