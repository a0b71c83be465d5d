import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import type { KObject } from '../../api/object.ts';
import type { RequestContext } from '../types.ts';
import { x509 } from '../../pki/x509.ts';
import { csrConditionSummary, csrStrategy } from './certificatesigningrequests.ts';
import { requestedGroups } from './subject-restriction.ts';

const ctx = (subresource?: string): RequestContext => ({
  user: { username: 'alice', uid: 'u1', groups: ['dev'] },
  now: new Date(),
  dryRun: false,
  authorizer: {
    authorize: () => ({ decision: 'allow', reason: '' }),
    rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
  },
  ...(subresource ? { subresource } : {}),
});

async function request(subject: string): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: alg,
  });
  return Buffer.from(csr.toString('pem')).toString('base64');
}

const csr = (spec: Record<string, unknown>, status?: Record<string, unknown>): KObject => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'r' },
  spec,
  ...(status ? { status } : {}),
});

const fields = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);

test('create records the requesting user over whatever the client sent, and clears status', async () => {
  const o = csr(
    {
      request: await request('CN=x'),
      signerName: 'example.com/s',
      usages: ['client auth'],
      username: 'root',
    },
    { certificate: 'Zm9v' },
  );
  csrStrategy.prepareForCreate!(o, ctx());
  assert.deepEqual(o['spec'], {
    request: (o['spec'] as { request: string }).request,
    signerName: 'example.com/s',
    usages: ['client auth'],
    username: 'alice',
    uid: 'u1',
    groups: ['dev'],
  });
  assert.deepEqual(o['status'], {});
  assert.deepEqual(csrStrategy.validate!(o, ctx()), []);
});

test('validation: request, signerName, usages, expirationSeconds, conditions', () => {
  const errs = csrStrategy.validate!(
    csr(
      {
        request: 'bm9wZQ==',
        signerName: 'no-slash',
        usages: ['client auth', 'flying', 'client auth'],
        expirationSeconds: 60,
      },
      {
        conditions: [
          { type: 'Approved', status: 'True' },
          { type: 'Denied', status: 'True' },
        ],
      },
    ),
    ctx(),
  );
  assert.deepEqual(fields(errs), [
    'spec.request:FieldValueInvalid',
    'spec.signerName:FieldValueInvalid',
    'spec.usages[1]:FieldValueNotSupported',
    'spec.usages[2]:FieldValueDuplicate',
    'spec.expirationSeconds:FieldValueInvalid',
    'status.conditions:FieldValueInvalid',
  ]);
  assert.deepEqual(fields(csrStrategy.validate!(csr({}), ctx())), [
    'spec.request:FieldValueRequired',
    'spec.signerName:FieldValueRequired',
    'spec.usages:FieldValueRequired',
  ]);
});

test('/approval changes only Approved/Denied; /status keeps them and may set the certificate once', () => {
  const old = csr({ signerName: 'a/b' }, { conditions: [{ type: 'Failed', status: 'True' }] });
  const viaApproval = csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' });
  csrStrategy.prepareForStatusUpdate!(viaApproval, old, ctx('approval'));
  const st = viaApproval['status'] as {
    conditions: { type: string; lastUpdateTime?: string }[];
    certificate?: string;
  };
  assert.deepEqual(
    st.conditions.map((c) => c.type),
    ['Approved', 'Failed'],
  );
  assert.ok(st.conditions[0]!.lastUpdateTime);
  assert.equal(st.certificate, undefined);
  const viaStatus = csr({}, { conditions: [] });
  csrStrategy.prepareForStatusUpdate!(viaStatus, viaApproval, ctx());
  assert.deepEqual(
    (viaStatus['status'] as { conditions: { type: string }[] }).conditions.map((c) => c.type),
    ['Approved'],
  );
  assert.equal(csrConditionSummary(viaApproval), 'Approved,Failed');
  assert.equal(csrConditionSummary(csr({})), 'Pending');
  const issued = csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' });
  assert.equal(csrConditionSummary(issued), 'Approved,Issued');
  const changed = csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eQ==' });
  assert.ok(
    fields(csrStrategy.validateStatusUpdate!(changed, issued, ctx())).includes(
      'status.certificate:FieldValueForbidden',
    ),
  );
});

test('requested groups come from the subject organizations', async () => {
  assert.deepEqual(requestedGroups(await request('CN=u, O=system:masters, O=dev')), [
    'system:masters',
    'dev',
  ]);
  assert.deepEqual(requestedGroups('bm9wZQ=='), []);
});
