import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleAgent } from './agent-bundle.ts';

test('the agent bundle is ASCII-only, so V8 keeps its source as a one-byte string', async () => {
  const text = await bundleAgent();
  const at = [...text].findIndex((c) => c.charCodeAt(0) > 0x7f);
  assert.equal(at, -1, `non-ASCII text in the bundle: ${JSON.stringify(text.slice(at - 60, at + 20))}`);
  assert.match(text, /berth-agent: /, 'the agent itself is in the bundle');
  assert.doesNotMatch(text, /^\s*\/\*\*/m, 'no JSDoc comments are left');
});
