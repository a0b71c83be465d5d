/**
 * Test support (imported by tests only): runs a TypeScript snippet inside a node container with the
 * node's own Node.js 18, the way the agent runs there. The snippet is bundled with esbuild (imports
 * resolve from this folder) and piped into the node; its stdout is returned.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { DockerNodeDriver, ExecResult } from '../../nodes/docker/driver.ts';
import { NODE_TARGET } from '../../nodes/docker/agent-bundle.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Bundles `source` (TypeScript, may import './client.ts' etc.) into one ES module for Node 18. */
export async function bundleSnippet(source: string, resolveDir = HERE): Promise<string> {
  const r = await build({
    stdin: { contents: source, resolveDir, loader: 'ts', sourcefile: 'snippet.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    write: false,
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
  });
  const out = r.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output');
  return out.text;
}

/** Copies the bundled snippet into the node and runs it with `node`, with `args`. */
export async function runInNode(
  driver: DockerNodeDriver,
  node: string,
  source: string,
  args: string[] = [],
): Promise<ExecResult> {
  const bundle = await bundleSnippet(source);
  const path = `/tmp/berth-snippet-${process.pid}-${Date.now()}.mjs`;
  const w = await driver.exec(node, ['sh', '-c', `cat > ${path}`], bundle);
  if (w.exitCode !== 0) throw new Error(`cannot copy the snippet into ${node}: ${w.stderr}`);
  return driver.exec(node, ['node', path, ...args]);
}
