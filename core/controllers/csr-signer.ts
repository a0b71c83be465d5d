/**
 * The kubernetes.io/kube-apiserver-client signer (kube-controller-manager's csrsigning controller for
 * that signer): an approved CertificateSigningRequest, not denied or failed and without a certificate
 * yet, is signed with the cluster CA. The requested validity (spec.expirationSeconds, at least 10 min)
 * is honoured up to the signing duration (1 year); usages must be client ones (client auth, with digital
 * signature / key encipherment), the request's signature must verify, and system:masters may not be
 * asked for; otherwise the request gets a Failed condition (SignerValidationFailure).
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { SYSTEM_MASTERS } from '../auth/types.ts';
import { loadCa, signLeaf, type CertificateAuthority } from '../pki/ca.ts';
import { x509 } from '../pki/x509.ts';
import {
  KUBE_APISERVER_CLIENT_SIGNER,
  csrSpec,
  csrStatus,
  isApproved,
  isDenied,
  isFailed,
  parseCsr,
} from '../registry/certificates/certificatesigningrequests.ts';
import type { Watcher } from '../store/types.ts';

const CSRS: ResourceRef = {
  group: 'certificates.k8s.io',
  version: 'v1',
  resource: 'certificatesigningrequests',
};
/** kube-controller-manager's default --cluster-signing-duration. */
export const MAX_SIGNING_SECONDS = 365 * 24 * 3600;
const CLIENT_USAGES = new Set(['digital signature', 'key encipherment', 'client auth']);

export class CsrSignerController {
  private watcher: Watcher | undefined;
  private ca: Promise<CertificateAuthority> | undefined;
  private readonly queue = new Set<string>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly client: InProcessClient,
    private readonly caCertPem: string,
    private readonly caKeyPem: string,
  ) {}

  start(): void {
    this.watcher = this.client.watch(
      CSRS,
      '',
      { fieldSelector: `spec.signerName=${KUBE_APISERVER_CLIENT_SIGNER}` },
      (type, csr) => {
        if (type !== 'DELETED') this.enqueue(csr.metadata.name ?? '');
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    await this.running;
  }

  private enqueue(name: string): void {
    this.queue.add(name);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    await new Promise((r) => setImmediate(r)); // out of the store's event delivery
    while (!this.stopped && this.queue.size) {
      const [name] = this.queue;
      this.queue.delete(name!);
      try {
        await this.sync(name!);
      } catch (e) {
        // Gone or changed meanwhile: the watch brings it back. Anything else is reported, not fatal.
        if (!(e instanceof StatusError && (e.code === 404 || e.code === 409)))
          console.error(`csr-signer: ${name}: ${(e as Error).message}`);
      }
    }
  }

  private async sync(name: string): Promise<void> {
    const csr = this.client.get(CSRS, '', name);
    if (!isApproved(csr) || isDenied(csr) || isFailed(csr) || csrStatus(csr).certificate) return;
    const spec = csrSpec(csr);
    if (spec.signerName !== KUBE_APISERVER_CLIENT_SIGNER) return;
    const req = parseCsr(spec.request);
    const problem =
      typeof req === 'string' ? `unable to parse csr: ${req}` : await this.refusal(req, spec.usages ?? []);
    if (problem || typeof req === 'string') return this.fail(csr, problem ?? 'unable to parse csr');
    const seconds = Math.min(spec.expirationSeconds ?? MAX_SIGNING_SECONDS, MAX_SIGNING_SECONDS);
    let flags = 0;
    if (spec.usages?.includes('digital signature')) flags |= x509.KeyUsageFlags.digitalSignature;
    if (spec.usages?.includes('key encipherment')) flags |= x509.KeyUsageFlags.keyEncipherment;
    const cert = await signLeaf(await (this.ca ??= loadCa(this.caCertPem, this.caKeyPem)), {
      subject: req.subjectName.toJSON(),
      publicKey: await req.publicKey.export(),
      extensions: [
        ...(flags ? [new x509.KeyUsagesExtension(flags, true)] : []),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
      days: seconds / 86400,
    });
    const latest = this.client.get(CSRS, '', name);
    if (csrStatus(latest).certificate || !isApproved(latest) || isDenied(latest)) return;
    this.client.update(
      CSRS,
      '',
      {
        ...latest,
        status: { ...csrStatus(latest), certificate: Buffer.from(cert.toString('pem')).toString('base64') },
      },
      'status',
    );
  }

  /** Why this request may not be signed, or undefined. */
  private async refusal(
    req: x509.Pkcs10CertificateRequest,
    usages: readonly string[],
  ): Promise<string | undefined> {
    if (!(await req.verify())) return 'csr signature is invalid';
    if (req.subjectName.getField('O').includes(SYSTEM_MASTERS))
      return `use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with ${SYSTEM_MASTERS} group is not allowed`;
    if (!req.subjectName.getField('CN')[0]) return 'subject common name (the user name) must not be empty';
    const bad = usages.filter((u) => !CLIENT_USAGES.has(u));
    if (bad.length || !usages.includes('client auth'))
      return `invalid usage for client certificate: ${(bad.length ? bad : ['client auth missing']).join(', ')}`;
    return undefined;
  }

  private fail(csr: KObject, message: string): void {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = [
      ...(csrStatus(csr).conditions ?? []),
      {
        type: 'Failed',
        status: 'True',
        reason: 'SignerValidationFailure',
        message,
        lastUpdateTime: now,
        lastTransitionTime: now,
      },
    ];
    this.client.update(CSRS, '', { ...csr, status: { ...csrStatus(csr), conditions } }, 'status');
  }
}
