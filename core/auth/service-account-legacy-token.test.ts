import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LEGACY_ISSUER,
  loadOrCreateSigningKey,
  ServiceAccountTokenAuthenticator,
  ServiceAccountTokens,
} from './service-account-token.ts';

test('legacy Secret tokens: accepted while the Secret holds them and the account keeps its UID', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sa-legacy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tokens = new ServiceAccountTokens(loadOrCreateSigningKey(dir));
  const token = tokens.issueLegacy({
    namespace: 'ns',
    serviceAccount: { name: 'builder', uid: 'sa-uid' },
    secretName: 'builder-token',
  });
  const claims = tokens.verifyLegacy(token);
  assert.equal(claims?.iss, LEGACY_ISSUER);
  assert.equal(claims?.sub, 'system:serviceaccount:ns:builder');
  assert.equal(tokens.verify(token), undefined, 'not a bound token');

  let saUid: string | undefined = 'sa-uid';
  let secretHolds: string | undefined = token;
  const authn = new ServiceAccountTokenAuthenticator(
    tokens,
    (kind, ns, name) => (kind === 'ServiceAccount' && ns === 'ns' && name === 'builder' ? saUid : undefined),
    (ns, name) => (ns === 'ns' && name === 'builder-token' ? secretHolds : undefined),
  );
  assert.deepEqual(authn.authenticateToken(token), {
    username: 'system:serviceaccount:ns:builder',
    uid: 'sa-uid',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'],
  });
  secretHolds = 'another token';
  assert.equal(authn.authenticateToken(token), undefined, 'the Secret no longer holds this token');
  secretHolds = undefined;
  assert.equal(authn.authenticateToken(token), undefined, 'the Secret is gone');
  secretHolds = token;
  saUid = 'recreated-uid';
  assert.equal(authn.authenticateToken(token), undefined, 'the account was recreated');

  // Another key's legacy token, and a tampered one, are refused.
  const other = new ServiceAccountTokens(loadOrCreateSigningKey(mkdtempSync(join(dir, 'k-'))));
  assert.equal(
    tokens.verifyLegacy(
      other.issueLegacy({
        namespace: 'ns',
        serviceAccount: { name: 'builder', uid: 'sa-uid' },
        secretName: 'builder-token',
      }),
    ),
    undefined,
  );
  const [h, b, s] = token.split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' }),
  ).toString('base64url');
  assert.equal(tokens.verifyLegacy(`${h}.${forged}.${s}`), undefined);
  assert.ok(b);
});
