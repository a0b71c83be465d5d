/**
 * Bundles the node agent (core/agent/main.ts and what it imports) into one ES module for the node's
 * Node.js 18, with esbuild. The bundle becomes part of the node image's build context, so the image's
 * content hash covers the agent too.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const AGENT_ENTRY = fileURLToPath(new URL('../../agent/main.ts', import.meta.url));
/** The Node.js inside the node image (Debian bookworm's nodejs). */
export const NODE_TARGET = 'node18';

/** The agent bundle's text. Fails with esbuild's messages when the agent does not build. */
export async function bundleAgent(entry = AGENT_ENTRY): Promise<string> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    write: false,
    // Whitespace and syntax only: names stay readable in stack traces. Without comments the text is
    // ASCII (charset), so V8 keeps the source as a one-byte string: 1.2 MB instead of 3.7 MB of heap.
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    // CommonJS dependencies (grpc-js, protobufjs) call require() for node built-ins.
    banner: {
      js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
  });
  const out = r.outputFiles[0];
  if (!out) throw new Error('esbuild produced no agent bundle');
  return out.text;
}
