/**
 * certificates.k8s.io/v1 CertificateSigningRequest (pkg/registry/certificates/certificates strategy and
 * pkg/apis/certificates/validation): cluster-scoped; on create the requesting user is recorded in
 * spec.username/uid/groups/extra and status is cleared; spec is immutable. Three writers: the main
 * resource (spec and metadata), /status (the signer: certificate, conditions other than Approved/Denied)
 * and /approval (approvers: the Approved/Denied conditions), each keeping what it may not change.
 */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import type { RequestContext, Strategy, TableColumn } from '../types.ts';
import { age, ageColumn, humanDuration, nameColumn } from '../printers.ts';
import { info } from '../workload.ts';
import { x509 } from '../../pki/x509.ts';

export const CSR_GROUP = 'certificates.k8s.io';
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

export const KEY_USAGES: readonly string[] = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
];

export interface CsrCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface CsrSpec {
  request?: string;
  signerName?: string;
  expirationSeconds?: number;
  usages?: string[];
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export const csrSpec = (o: KObject): CsrSpec => (o['spec'] ?? {}) as CsrSpec;
export const csrStatus = (o: KObject): { certificate?: string; conditions?: CsrCondition[] } =>
  (o['status'] ?? {}) as { certificate?: string; conditions?: CsrCondition[] };

const hasCondition = (o: KObject, type: string): boolean =>
  (csrStatus(o).conditions ?? []).some((c) => c.type === type && c.status === 'True');
export const isApproved = (o: KObject): boolean => hasCondition(o, 'Approved');
export const isDenied = (o: KObject): boolean => hasCondition(o, 'Denied');
export const isFailed = (o: KObject): boolean => hasCondition(o, 'Failed');

/** The PEM text of a []byte field (base64 in JSON). */
export const pemOf = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');

/** The parsed PKCS#10 request, or an error message. */
export function parseCsr(b64: string | undefined): x509.Pkcs10CertificateRequest | string {
  const pem = pemOf(b64);
  const blocks = pem.match(/-----BEGIN CERTIFICATE REQUEST-----[\s\S]+?-----END CERTIFICATE REQUEST-----/g);
  if (!blocks || blocks.length !== 1) return 'PEM block type must be CERTIFICATE REQUEST';
  try {
    return new x509.Pkcs10CertificateRequest(blocks[0]!);
  } catch (e) {
    return (e as Error).message;
  }
}

const SIGNER_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function validateSignerName(name: string | undefined): FieldError[] {
  const f = 'spec.signerName';
  if (!name) return [fieldErr.required(f, '')];
  if (!name.includes('/'))
    return [
      fieldErr.invalid(
        f,
        name,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'",
      ),
    ];
  if (name.length > 571 || !SIGNER_RE.test(name))
    return [
      fieldErr.invalid(
        f,
        name,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'",
      ),
    ];
  return [];
}

function validateConditions(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (csrStatus(o).conditions ?? []).forEach((c, i) => {
    const f = `status.conditions[${i}]`;
    if (!c.type) errs.push(fieldErr.required(`${f}.type`, ''));
    if (!['True', 'False', 'Unknown'].includes(c.status))
      errs.push(fieldErr.notSupported(`${f}.status`, c.status, ['False', 'True', 'Unknown']));
    if (['Approved', 'Denied', 'Failed'].includes(c.type)) {
      if (seen.has(c.type)) errs.push(fieldErr.duplicate(`${f}.type`, c.type));
      seen.add(c.type);
      if ((c.type === 'Approved' || c.type === 'Denied') && c.status !== 'True')
        errs.push(fieldErr.notSupported(`${f}.status`, c.status, ['True']));
    }
  });
  if (seen.has('Approved') && seen.has('Denied'))
    errs.push(
      fieldErr.invalid(
        'status.conditions',
        'Approved',
        'Approved and Denied conditions are mutually exclusive',
      ),
    );
  return errs;
}

function validateCertificate(o: KObject): FieldError[] {
  const cert = csrStatus(o).certificate;
  if (cert === undefined || cert === '') return [];
  const pem = pemOf(cert);
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length)
    return [
      fieldErr.invalid(
        'status.certificate',
        '<certificate data>',
        'must contain at least one CERTIFICATE PEM block',
      ),
    ];
  for (const b of blocks)
    try {
      new x509.X509Certificate(b);
    } catch (e) {
      return [fieldErr.invalid('status.certificate', '<certificate data>', (e as Error).message)];
    }
  return [];
}

/** Conditions other writers may not change: /status keeps Approved/Denied, /approval keeps the rest. */
function mergeConditions(obj: KObject, old: KObject, approval: boolean): void {
  const isApproval = (c: CsrCondition): boolean => c.type === 'Approved' || c.type === 'Denied';
  const keep = (csrStatus(old).conditions ?? []).filter((c) => (approval ? !isApproval(c) : isApproval(c)));
  const mine = (csrStatus(obj).conditions ?? []).filter((c) => (approval ? isApproval(c) : !isApproval(c)));
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const oldByType = new Map((csrStatus(old).conditions ?? []).map((c) => [c.type, c]));
  for (const c of mine) {
    c.lastUpdateTime ||= now;
    const before = oldByType.get(c.type);
    if (!c.lastTransitionTime)
      c.lastTransitionTime =
        before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now;
  }
  const conditions = approval ? [...mine, ...keep] : [...keep, ...mine];
  const status = { ...csrStatus(old) } as Record<string, unknown>;
  if (!approval && csrStatus(obj).certificate !== undefined)
    status['certificate'] = csrStatus(obj).certificate;
  if (conditions.length) status['conditions'] = conditions;
  else delete status['conditions'];
  obj['status'] = status;
}

function validateCreate(o: KObject): FieldError[] {
  const s = csrSpec(o);
  const errs: FieldError[] = [];
  if (!s.request) errs.push(fieldErr.required('spec.request', ''));
  else {
    const parsed = parseCsr(s.request);
    if (typeof parsed === 'string') errs.push(fieldErr.invalid('spec.request', '<request data>', parsed));
  }
  errs.push(...validateSignerName(s.signerName));
  if (!s.usages?.length) errs.push(fieldErr.required('spec.usages', 'usages must be provided'));
  const seen = new Set<string>();
  (s.usages ?? []).forEach((u, i) => {
    if (!KEY_USAGES.includes(u)) errs.push(fieldErr.notSupported(`spec.usages[${i}]`, u, KEY_USAGES));
    if (seen.has(u)) errs.push(fieldErr.duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  });
  if (s.expirationSeconds !== undefined && s.expirationSeconds < 600)
    errs.push(
      fieldErr.invalid(
        'spec.expirationSeconds',
        s.expirationSeconds,
        'may not specify a duration less than 600 seconds (10 minutes)',
      ),
    );
  errs.push(...validateConditions(o));
  return errs;
}

/** printers.go's CSR condition summary: Approved,Issued / Denied / Failed / Pending. */
export function csrConditionSummary(o: KObject): string {
  const parts: string[] = [];
  let approved = false;
  let denied = false;
  for (const c of csrStatus(o).conditions ?? [])
    if (c.type === 'Approved') {
      approved = true;
      parts.push('Approved');
    } else if (c.type === 'Denied') {
      denied = true;
      parts.push('Denied');
    } else if (c.type === 'Failed') parts.push('Failed');
  if (csrStatus(o).certificate && approved && !denied) parts.push('Issued');
  return parts.length ? parts.join(',') : 'Pending';
}

const columns: readonly TableColumn[] = [
  nameColumn,
  ageColumn,
  { name: 'SignerName', type: 'string', description: 'Requested signer for the request.' },
  { name: 'Requestor', type: 'string', description: 'Request approval state, currently Approved or Denied.' },
  {
    name: 'RequestedDuration',
    type: 'string',
    description: 'expirationSeconds is the requested duration of validity of the issued certificate.',
  },
  { name: 'Condition', type: 'string', description: 'Request approval state, currently Approved or Denied.' },
];

export const csrStrategy: Strategy = {
  info: info(
    CSR_GROUP,
    'v1',
    'certificatesigningrequests',
    'certificatesigningrequest',
    'CertificateSigningRequest',
    false,
    {
      shortNames: ['csr'],
    },
  ),
  hasStatus: true,
  extraSubresources: [
    { name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] },
  ],
  prepareForCreate(obj: KObject, ctx: RequestContext) {
    const spec = { ...csrSpec(obj) } as Record<string, unknown>;
    for (const k of ['username', 'uid', 'groups', 'extra']) delete spec[k];
    spec['username'] = ctx.user.username;
    if (ctx.user.uid) spec['uid'] = ctx.user.uid;
    if (ctx.user.groups.length) spec['groups'] = [...ctx.user.groups];
    if (ctx.user.extra && Object.keys(ctx.user.extra).length) spec['extra'] = ctx.user.extra;
    obj['spec'] = spec;
    obj['status'] = {};
  },
  validate: validateCreate,
  validateUpdate(obj, old) {
    return immutable('spec', old['spec'], obj['spec']);
  },
  prepareForStatusUpdate(obj, old, ctx) {
    mergeConditions(obj, old, ctx.subresource === 'approval');
  },
  validateStatusUpdate(obj, old, ctx) {
    const errs = [...validateConditions(obj), ...validateCertificate(obj)];
    const oldCert = csrStatus(old).certificate;
    if (oldCert && csrStatus(obj).certificate !== oldCert)
      errs.push(
        fieldErr.forbidden('status.certificate', 'updates may not modify existing certificate content'),
      );
    if (ctx.subresource === 'approval') {
      if (isApproved(old) && !isApproved(obj))
        errs.push(fieldErr.forbidden('status.conditions', 'updates may not remove the Approved condition'));
      if (isDenied(old) && !isDenied(obj))
        errs.push(fieldErr.forbidden('status.conditions', 'updates may not remove the Denied condition'));
    } else if (csrStatus(obj).certificate && !oldCert && !isApproved(obj))
      errs.push(
        fieldErr.invalid(
          'status.certificate',
          '<certificate data>',
          'certificate can only be set on an approved request',
        ),
      );
    return errs;
  },
  columns,
  row(obj, now) {
    const s = csrSpec(obj);
    return [
      obj.metadata.name ?? '',
      age(obj.metadata.creationTimestamp, now),
      s.signerName ?? '',
      s.username ?? '',
      s.expirationSeconds === undefined ? '<none>' : humanDuration(s.expirationSeconds * 1000),
      csrConditionSummary(obj),
    ];
  },
  fieldSelectors(obj) {
    return { 'spec.signerName': csrSpec(obj).signerName ?? '' };
  },
};
