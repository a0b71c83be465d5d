import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelMessage, closeChannelMessage, parseChannelMessage, portPrefix } from './ws-channels.ts';

test('channel messages: a channel byte then the data; v5 close frames; port prefixes', () => {
  assert.deepEqual([...channelMessage(1, 'hi')], [1, 0x68, 0x69]);
  assert.deepEqual(parseChannelMessage(channelMessage(0, Buffer.from([9, 8])), true), {
    kind: 'data',
    channel: 0,
    data: Buffer.from([9, 8]),
  });
  assert.deepEqual([...closeChannelMessage(0)], [0xff, 0]);
  assert.deepEqual(parseChannelMessage(closeChannelMessage(0), true), { kind: 'close', channel: 0 });
  // v4 has no close signal: 0xFF is just an unknown channel.
  assert.equal(parseChannelMessage(closeChannelMessage(0), false)?.kind, 'data');
  assert.equal(parseChannelMessage(Buffer.alloc(0), true), undefined);
  assert.deepEqual([...portPrefix(8080)], [0x90, 0x1f]);
});
