import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { SyncZlibContext } from './zlib-sync.ts';

test('one context serves many sync-flushed blocks, in both directions, of any size', () => {
  const deflate = SyncZlibContext.deflate(SPDY3_DICTIONARY);
  const inflate = SyncZlibContext.inflate(SPDY3_DICTIONARY);
  const blocks = [
    Buffer.from('streamtype error'),
    Buffer.from('streamtype stdout'),
    randomBytes(100_000),
    Buffer.alloc(0),
  ];
  const sizes: number[] = [];
  for (const b of blocks) {
    const c = deflate.syncFlush(b);
    sizes.push(c.length);
    assert.deepEqual(inflate.syncFlush(c), b);
  }
  // The second small block reuses the context's history: shorter than the first.
  assert.ok(sizes[1]! < sizes[0]!, sizes.join(','));
  deflate.close();
  inflate.close();
  assert.throws(() => deflate.syncFlush(Buffer.from('x')), /closed/);
  const bad = SyncZlibContext.inflate(SPDY3_DICTIONARY);
  assert.throws(() => bad.syncFlush(Buffer.from('not zlib at all')));
  bad.close();
});
