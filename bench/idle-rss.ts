/**
 * Idle memory: RSS of `berth up --nodes 0` after it has been idle (default 60 s), against a bare idle
 * Node.js process measured in the same run.   BENCH_IDLE_SECONDS (default 60)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startBerth } from './berth-process.ts';
import { table } from './util.ts';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const idle = Number(process.env['BENCH_IDLE_SECONDS'] ?? 60);
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const berth = await startBerth();
  await new Promise((r) => setTimeout(r, idle * 1000));
  const b = rssMiB(berth.child.pid!);
  const n = rssMiB(bare.pid!);
  bare.kill();
  await berth.stop();
  console.log(`Idle RSS after ${idle} s`);
  console.log(
    table([
      ['process', 'RSS'],
      ['berth up --nodes 0', `${b.toFixed(1)} MiB`],
      ['bare node (baseline)', `${n.toFixed(1)} MiB`],
      ['ratio', (b / n).toFixed(2)],
    ]),
  );
}

await main();
