import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadOrCreateSigningKey,
  SA_ISSUER,
  ServiceAccountTokenAuthenticator,
  ServiceAccountTokens,
} from './service-account-token.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-sa-'));
const tokens = new ServiceAccountTokens(loadOrCreateSigningKey(dir));
const sa = { name: 'default', uid: 'sa-uid' };

test('the signing key is made once and reused', () => {
  const a = loadOrCreateSigningKey(dir).export({ type: 'pkcs8', format: 'pem' });
  const b = loadOrCreateSigningKey(dir).export({ type: 'pkcs8', format: 'pem' });
  assert.equal(a, b);
});

test('issued tokens verify with their claims; tampered, expired or foreign-audience ones do not', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const { token, claims } = tokens.issue({
    namespace: 'ns',
    serviceAccount: sa,
    expirationSeconds: 600,
    now,
  });
  assert.equal(claims.sub, 'system:serviceaccount:ns:default');
  assert.deepEqual(claims.aud, [SA_ISSUER]);
  assert.equal(tokens.verify(token, now)?.jti, claims.jti);
  assert.equal(tokens.verify(token, new Date(now.getTime() + 600_000)), undefined, 'expired');
  const [h, b, s] = token.split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' }),
  ).toString('base64url');
  assert.equal(tokens.verify(`${h}.${forged}.${s}`, now), undefined, 'tampered');
  assert.equal(tokens.verify(`${h}.${b}`, now), undefined);
  const other = tokens.issue({
    namespace: 'ns',
    serviceAccount: sa,
    expirationSeconds: 600,
    audiences: ['vault'],
    now,
  });
  assert.equal(tokens.verify(other.token, now), undefined, 'audience');
  const stranger = new ServiceAccountTokens(
    loadOrCreateSigningKey(mkdtempSync(join(tmpdir(), 'berth-sa2-'))),
  );
  assert.equal(stranger.verify(token, now), undefined, 'another cluster key');
});

test('the authenticator needs the service account and the bound pod to exist with the same UIDs', () => {
  const live = new Map([
    ['ServiceAccount/ns/default', 'sa-uid'],
    ['Pod/ns/web', 'pod-uid'],
  ]);
  const auth = new ServiceAccountTokenAuthenticator(tokens, (k, ns, n) => live.get(`${k}/${ns}/${n}`));
  const { token } = tokens.issue({
    namespace: 'ns',
    serviceAccount: sa,
    expirationSeconds: 3600,
    bound: { kind: 'Pod', name: 'web', uid: 'pod-uid' },
  });
  const u = auth.authenticateToken(token);
  assert.equal(u?.username, 'system:serviceaccount:ns:default');
  assert.deepEqual(u?.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns']);
  assert.deepEqual(u?.extra?.['authentication.kubernetes.io/pod-name'], ['web']);
  live.set('Pod/ns/web', 'recreated');
  assert.equal(auth.authenticateToken(token), undefined, 'pod recreated');
  live.set('Pod/ns/web', 'pod-uid');
  live.delete('ServiceAccount/ns/default');
  assert.equal(auth.authenticateToken(token), undefined, 'service account gone');
  assert.equal(auth.authenticateToken('not-a-jwt'), undefined);
});
