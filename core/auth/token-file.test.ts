import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTokenCsv, TokenFileAuthenticator } from './token-file.ts';

test('token file lines: token,user,uid,"groups"', () => {
  const m = parseTokenCsv('# comment\nabc,alice,u1,"dev,ops"\nxyz,bob,,\n');
  assert.deepEqual(m.get('abc'), { username: 'alice', uid: 'u1', groups: ['dev', 'ops'] });
  assert.deepEqual(m.get('xyz'), { username: 'bob', groups: [] });
  assert.throws(() => parseTokenCsv('only-a-token\n'));
});

test('the authenticator follows the file and refuses unknown tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tokens-'));
  const f = join(dir, 'tokens.csv');
  const a = new TokenFileAuthenticator(f);
  assert.equal(a.authenticateToken('abc'), undefined);
  writeFileSync(f, 'abc,alice,u1,"dev"\n');
  assert.equal(a.authenticateToken('abc')?.username, 'alice');
  assert.equal(a.authenticateToken('nope'), undefined);
  rmSync(dir, { recursive: true, force: true });
});
