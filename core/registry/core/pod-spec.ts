/**
 * PodSpec defaulting and validation shared by every kind that embeds a pod template
 * (SetDefaults_PodSpec & co. in pkg/apis/core/v1/defaults.go, ValidatePodSpec in pkg/apis/core/validation).
 */
import type {
  Container,
  EnvVar,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Volume,
  VolumeMount,
} from 'kubernetes-types/core/v1';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { validateAnnotations, validateLabels } from '../validation/meta.ts';
import { isDNS1123Subdomain, isQualifiedName } from '../validation/names.ts';
import {
  asRecord,
  configMapKeyErrors,
  dns1123LabelErrs,
  dns1123SubdomainErrs,
  envVarNameErrors,
  inclusiveRangeError,
  isValidPortNum,
  portNameErrors,
  validateNonnegative,
  validatePortNumOrName,
} from './common.ts';
import { compareQuantities, quantityFormatError, quantityString, tryParseQuantity } from './quantity.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

/** The tag an image reference carries as the kubelet parses it ("latest" when it has neither tag nor digest). */
export function imageTag(image: string): string {
  if (image.includes('@')) {
    const before = image.slice(0, image.indexOf('@'));
    const lastSlash = before.lastIndexOf('/');
    const colon = before.lastIndexOf(':');
    return colon > lastSlash ? before.slice(colon + 1) : '';
  }
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > lastSlash ? image.slice(colon + 1) : 'latest';
}

function defaultHTTPGet(h: unknown): void {
  if (!isObj(h)) return;
  if (h['path'] === undefined || h['path'] === '') h['path'] = '/';
  if (h['scheme'] === undefined || h['scheme'] === '') h['scheme'] = 'HTTP';
}

function defaultProbe(p: Probe | undefined): void {
  if (!isObj(p)) return;
  const o = p as Obj;
  if (!o['timeoutSeconds']) o['timeoutSeconds'] = 1;
  if (!o['periodSeconds']) o['periodSeconds'] = 10;
  if (!o['successThreshold']) o['successThreshold'] = 1;
  if (!o['failureThreshold']) o['failureThreshold'] = 3;
  defaultHTTPGet(o['httpGet']);
}

function defaultObjectFieldSelector(f: unknown): void {
  if (isObj(f) && !f['apiVersion']) f['apiVersion'] = 'v1';
}
function defaultResourceFieldSelector(f: unknown): void {
  if (isObj(f) && f['divisor'] === undefined) f['divisor'] = '0';
}

function defaultDownwardItems(items: unknown): void {
  for (const it of arr(items)) {
    defaultObjectFieldSelector(it['fieldRef']);
    defaultResourceFieldSelector(it['resourceFieldRef']);
  }
}

export function defaultContainer(c: Container): void {
  const o = c as Mutable<Container> & Obj;
  if (!o.terminationMessagePath) o.terminationMessagePath = '/dev/termination-log';
  if (!o.terminationMessagePolicy) o.terminationMessagePolicy = 'File';
  if (!o.imagePullPolicy)
    o.imagePullPolicy = imageTag(o.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!isObj(o.resources)) o.resources = {};
  for (const p of arr(o.ports)) if (!p['protocol']) p['protocol'] = 'TCP';
  for (const e of arr(o.env)) {
    const vf = e['valueFrom'];
    if (isObj(vf)) {
      defaultObjectFieldSelector(vf['fieldRef']);
      defaultResourceFieldSelector(vf['resourceFieldRef']);
    }
  }
  defaultProbe(o.livenessProbe);
  defaultProbe(o.readinessProbe);
  defaultProbe(o.startupProbe);
  if (isObj(o.lifecycle)) {
    for (const h of [o.lifecycle.postStart, o.lifecycle.preStop]) if (isObj(h)) defaultHTTPGet(h['httpGet']);
  }
}

const DEFAULT_MODE = 0o644; // 420

/** SetDefaults_Volume and the per-source defaults. */
export function defaultVolume(v: Volume): void {
  const o = v as unknown as Obj;
  const sourceKeys = Object.keys(o).filter((k) => k !== 'name' && o[k] !== undefined && o[k] !== null);
  if (sourceKeys.length === 0) o['emptyDir'] = {};
  const set = (src: unknown, key: string, val: unknown): void => {
    if (isObj(src) && src[key] === undefined) src[key] = val;
  };
  set(o['secret'], 'defaultMode', DEFAULT_MODE);
  set(o['configMap'], 'defaultMode', DEFAULT_MODE);
  if (isObj(o['downwardAPI'])) {
    set(o['downwardAPI'], 'defaultMode', DEFAULT_MODE);
    defaultDownwardItems(o['downwardAPI']['items']);
  }
  if (isObj(o['projected'])) {
    set(o['projected'], 'defaultMode', DEFAULT_MODE);
    for (const s of arr(o['projected']['sources'])) {
      set(s['serviceAccountToken'], 'expirationSeconds', 3600);
      if (isObj(s['downwardAPI'])) defaultDownwardItems(s['downwardAPI']['items']);
    }
  }
  set(o['hostPath'], 'type', '');
  set(o['iscsi'], 'iscsiInterface', 'default');
  if (isObj(o['rbd'])) {
    set(o['rbd'], 'pool', 'rbd');
    set(o['rbd'], 'user', 'admin');
    set(o['rbd'], 'keyring', '/etc/ceph/keyring');
  }
  if (isObj(o['azureDisk'])) {
    set(o['azureDisk'], 'cachingMode', 'ReadWrite');
    set(o['azureDisk'], 'fsType', 'ext4');
    set(o['azureDisk'], 'readOnly', false);
    set(o['azureDisk'], 'kind', 'Shared');
  }
  if (isObj(o['scaleIO'])) {
    set(o['scaleIO'], 'storageMode', 'ThinProvisioned');
    set(o['scaleIO'], 'fsType', 'xfs');
  }
  const eph = o['ephemeral'];
  if (isObj(eph) && isObj(eph['volumeClaimTemplate'])) {
    const t = eph['volumeClaimTemplate'];
    if (isObj(t['spec'])) set(t['spec'], 'volumeMode', 'Filesystem');
  }
}

/** SetDefaults_PodSpec plus the defaults of everything a PodSpec contains (templates and pods alike). */
export function defaultPodSpec(spec: PodSpec): void {
  if (!isObj(spec)) return;
  const s = spec as Mutable<PodSpec> & Obj;
  if (!s.dnsPolicy) s.dnsPolicy = 'ClusterFirst';
  if (!s.restartPolicy) s.restartPolicy = 'Always';
  if (!isObj(s.securityContext)) s.securityContext = {};
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null)
    s.terminationGracePeriodSeconds = 30;
  if (!s.schedulerName) s.schedulerName = 'default-scheduler';
  // v1 conversion: serviceAccount is the deprecated alias of serviceAccountName.
  if (!s.serviceAccountName && s.serviceAccount) s.serviceAccountName = s.serviceAccount;
  if (s.serviceAccountName) s.serviceAccount = s.serviceAccountName;
  for (const c of s.initContainers ?? []) defaultContainer(c);
  for (const c of s.containers ?? []) defaultContainer(c);
  for (const c of s.ephemeralContainers ?? []) defaultContainer(c as Container);
  for (const v of s.volumes ?? []) defaultVolume(v);
}

/**
 * The template's ObjectMeta is a struct in Go, so it is always serialized, with creationTimestamp: null.
 */
export function defaultPodTemplateSpec(tpl: PodTemplateSpec | undefined): void {
  if (!isObj(tpl)) return;
  const t = tpl as Mutable<PodTemplateSpec> & Obj;
  if (!isObj(t.metadata)) t.metadata = {};
  const meta = t.metadata as Obj;
  if (meta['creationTimestamp'] === undefined) meta['creationTimestamp'] = null;
  if (!isObj(t.spec)) t.spec = { containers: [] };
  defaultPodSpec(t.spec);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);

function validateContainerResourceName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldErr.invalid(field, name, m));
  if (errs.length) return errs;
  if (standardContainerResources.has(name) || name.startsWith('hugepages-')) return [];
  if (!name.includes('/'))
    return [fieldErr.invalid(field, name, 'must be a standard resource for containers')];
  if (name.startsWith('requests.'))
    return [fieldErr.invalid(field, name, 'must be a standard resource for containers')];
  return [];
}

const isOvercommitAllowed = (name: string): boolean =>
  standardContainerResources.has(name) || (!name.includes('/') && !name.startsWith('hugepages-'));

/** ValidateResourceRequirements: names, quantities ≥ 0, requests ≤ limits. */
export function validateResourceRequirements(
  r: ResourceRequirements | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(r)) return errs;
  const limits = asRecord(r.limits);
  const requests = asRecord(r.requests);
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  for (const [name, q] of Object.entries(limits)) {
    const f = `${limPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, f), ...validateQuantityValue(name, q, f));
  }
  for (const [name, q] of Object.entries(requests)) {
    const f = `${reqPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, f), ...validateQuantityValue(name, q, f));
    const lim = limits[name];
    if (
      lim !== undefined &&
      typeof q === 'string' &&
      typeof lim === 'string' &&
      tryParseQuantity(q) &&
      tryParseQuantity(lim)
    ) {
      const cmp = compareQuantities(q, lim);
      if (cmp !== 0 && !isOvercommitAllowed(name))
        errs.push(
          fieldErr.invalid(
            reqPath,
            quantityString(q),
            `must be equal to ${name} limit of ${quantityString(lim)}`,
          ),
        );
      else if (cmp > 0)
        errs.push(
          fieldErr.invalid(
            reqPath,
            quantityString(q),
            `must be less than or equal to ${name} limit of ${quantityString(lim)}`,
          ),
        );
    }
  }
  return errs;
}

/** ValidateResourceQuantityValue. */
export function validateQuantityValue(name: string, q: unknown, field: string): FieldError[] {
  const s = typeof q === 'number' ? String(q) : q;
  if (typeof s !== 'string') return [fieldErr.invalid(field, q, quantityFormatError)];
  const p = tryParseQuantity(s);
  if (!p) return [fieldErr.invalid(field, s, quantityFormatError)];
  if (p.nanos < 0n) return [fieldErr.invalid(field, quantityString(s), 'must be greater than or equal to 0')];
  if (name.includes('/') && !name.startsWith('kubernetes.io/') && p.nanos % 1_000_000_000n !== 0n)
    return [fieldErr.invalid(field, quantityString(s), 'must be an integer')];
  return [];
}

const handlerKeys = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;

function validateHandler(h: Obj, path: string, allowed: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const present = allowed.filter((k) => h[k] !== undefined && h[k] !== null);
  if (present.length === 0) return [fieldErr.required(path, 'must specify a handler type')];
  for (const k of present.slice(1))
    errs.push(fieldErr.forbidden(`${path}.${k}`, 'may not specify more than 1 handler type'));
  const first = present[0]!;
  const v = asRecord(h[first]);
  if (first === 'exec') {
    if (!Array.isArray(v['command']) || v['command'].length === 0)
      errs.push(fieldErr.required(`${path}.exec.command`, ''));
  } else if (first === 'httpGet') {
    errs.push(...validatePortNumOrName(v['port'], `${path}.httpGet.port`));
    const scheme = v['scheme'];
    if (scheme !== undefined && scheme !== 'HTTP' && scheme !== 'HTTPS')
      errs.push(fieldErr.notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
  } else if (first === 'tcpSocket') {
    errs.push(...validatePortNumOrName(v['port'], `${path}.tcpSocket.port`));
  } else if (first === 'grpc') {
    if (!isValidPortNum(v['port']))
      errs.push(fieldErr.invalid(`${path}.grpc.port`, v['port'], inclusiveRangeError(1, 65535)));
  } else if (first === 'sleep') {
    const secs = v['seconds'];
    if (typeof secs !== 'number' || secs < 0)
      errs.push(
        fieldErr.invalid(
          `${path}.sleep.seconds`,
          secs,
          'must be greater than 0 and less than terminationGracePeriodSeconds',
        ),
      );
  }
  return errs;
}

function validateProbe(p: Probe | undefined, path: string, mustBeOneSuccess: boolean): FieldError[] {
  if (!isObj(p)) return [];
  const o = p as Obj;
  const errs = validateHandler(o, path, handlerKeys);
  for (const k of [
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ])
    errs.push(...validateNonnegative(o[k], `${path}.${k}`));
  if (mustBeOneSuccess && typeof o['successThreshold'] === 'number' && o['successThreshold'] !== 1)
    errs.push(fieldErr.invalid(`${path}.successThreshold`, o['successThreshold'], 'must be 1'));
  if (typeof o['terminationGracePeriodSeconds'] === 'number' && o['terminationGracePeriodSeconds'] <= 0)
    errs.push(
      fieldErr.invalid(
        `${path}.terminationGracePeriodSeconds`,
        o['terminationGracePeriodSeconds'],
        'must be greater than 0',
      ),
    );
  return errs;
}

function validateEnv(env: EnvVar[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (env ?? []).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (!e.name) errs.push(fieldErr.required(`${p}.name`, ''));
    else for (const m of envVarNameErrors(e.name)) errs.push(fieldErr.invalid(`${p}.name`, e.name, m));
    const vf = e.valueFrom;
    if (isObj(vf)) {
      const srcs = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter(
        (k) => (vf as Obj)[k] !== undefined && (vf as Obj)[k] !== null,
      );
      if (srcs.length === 0)
        errs.push(
          fieldErr.invalid(
            `${p}.valueFrom`,
            '',
            'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
          ),
        );
      else if (srcs.length > 1)
        errs.push(
          fieldErr.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'),
        );
      if (e.value)
        errs.push(fieldErr.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
        const ref = (vf as Obj)[k];
        if (!isObj(ref)) continue;
        if (!ref['key']) errs.push(fieldErr.required(`${p}.valueFrom.${k}.key`, ''));
        else
          for (const m of configMapKeyErrors(String(ref['key'])))
            errs.push(fieldErr.invalid(`${p}.valueFrom.${k}.key`, ref['key'], m));
        if (!ref['name']) errs.push(fieldErr.required(`${p}.valueFrom.${k}.name`, ''));
      }
      const fr = (vf as Obj)['fieldRef'];
      if (isObj(fr) && !fr['fieldPath'])
        errs.push(fieldErr.required(`${p}.valueFrom.fieldRef.fieldPath`, ''));
      const rr = (vf as Obj)['resourceFieldRef'];
      if (isObj(rr) && !rr['resource'])
        errs.push(fieldErr.required(`${p}.valueFrom.resourceFieldRef.resource`, ''));
    }
  });
  return errs;
}

function validateVolumeMounts(
  mounts: VolumeMount[] | undefined,
  volumes: Set<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  (mounts ?? []).forEach((m, i) => {
    const p = `${path}[${i}]`;
    if (!m.name) errs.push(fieldErr.required(`${p}.name`, ''));
    else if (!volumes.has(m.name)) errs.push(fieldErr.notFound(`${p}.name`, m.name));
    if (!m.mountPath) errs.push(fieldErr.required(`${p}.mountPath`, ''));
    else if (paths.has(m.mountPath))
      errs.push(fieldErr.invalid(`${p}.mountPath`, m.mountPath, 'must be unique'));
    else paths.add(m.mountPath);
    if (m.subPath) {
      if (m.subPath.startsWith('/'))
        errs.push(fieldErr.invalid(`${p}.subPath`, m.subPath, 'must be a relative path'));
      else if (m.subPath.split('/').includes('..'))
        errs.push(fieldErr.invalid(`${p}.subPath`, m.subPath, "must not contain '..'"));
    }
  });
  return errs;
}

const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const protocols = ['SCTP', 'TCP', 'UDP'];

function validateContainer(
  c: Container,
  p: string,
  volumes: Set<string>,
  portNames: Set<string>,
  hostNetwork: boolean,
  kind: 'container' | 'init' | 'ephemeral',
): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(fieldErr.required(`${p}.name`, ''));
  else errs.push(...dns1123LabelErrs(c.name, `${p}.name`));
  if (!c.image) errs.push(fieldErr.required(`${p}.image`, ''));
  else if (c.image.trim() !== c.image)
    errs.push(fieldErr.invalid(`${p}.image`, c.image, 'must not have leading or trailing whitespace'));
  if (!c.imagePullPolicy) errs.push(fieldErr.required(`${p}.imagePullPolicy`, ''));
  else if (!pullPolicies.includes(c.imagePullPolicy))
    errs.push(fieldErr.notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, pullPolicies));
  const tmp = c.terminationMessagePolicy;
  if (!tmp)
    errs.push(
      fieldErr.required(`${p}.terminationMessagePolicy`, "must be 'File' or 'FallbackToLogsOnError'"),
    );
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError')
    errs.push(
      fieldErr.invalid(`${p}.terminationMessagePolicy`, tmp, "must be 'File' or 'FallbackToLogsOnError'"),
    );
  (c.ports ?? []).forEach((port, j) => {
    const pp = `${p}.ports[${j}]`;
    if (port.name) {
      for (const m of portNameErrors(port.name)) errs.push(fieldErr.invalid(`${pp}.name`, port.name, m));
      if (portNames.has(port.name)) errs.push(fieldErr.duplicate(`${pp}.name`, port.name));
      else portNames.add(port.name);
    }
    if (port.containerPort === undefined || port.containerPort === 0)
      errs.push(fieldErr.required(`${pp}.containerPort`, ''));
    else if (!isValidPortNum(port.containerPort))
      errs.push(fieldErr.invalid(`${pp}.containerPort`, port.containerPort, inclusiveRangeError(1, 65535)));
    if (port.hostPort !== undefined && port.hostPort !== 0 && !isValidPortNum(port.hostPort))
      errs.push(fieldErr.invalid(`${pp}.hostPort`, port.hostPort, inclusiveRangeError(1, 65535)));
    if (hostNetwork && port.hostPort && port.hostPort !== port.containerPort)
      errs.push(
        fieldErr.invalid(
          `${pp}.containerPort`,
          port.containerPort,
          'must match `hostPort` when `hostNetwork` is true',
        ),
      );
    if (!port.protocol) errs.push(fieldErr.required(`${pp}.protocol`, ''));
    else if (!protocols.includes(port.protocol))
      errs.push(fieldErr.notSupported(`${pp}.protocol`, port.protocol, protocols));
  });
  errs.push(...validateEnv(c.env, `${p}.env`));
  (c.envFrom ?? []).forEach((ef, j) => {
    const ep = `${p}.envFrom[${j}]`;
    if (ef.prefix)
      for (const m of envVarNameErrors(ef.prefix)) errs.push(fieldErr.invalid(`${ep}.prefix`, ef.prefix, m));
    const n = (ef.configMapRef ? 1 : 0) + (ef.secretRef ? 1 : 0);
    if (n === 0) errs.push(fieldErr.invalid(ep, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1)
      errs.push(fieldErr.invalid(ep, '', 'may not have more than one field specified at a time'));
  });
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, `${p}.volumeMounts`));
  errs.push(...validateResourceRequirements(c.resources, `${p}.resources`));
  if (kind === 'container') {
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, true));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, false));
    errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, true));
    if (isObj(c.readinessProbe) && c.readinessProbe.terminationGracePeriodSeconds !== undefined)
      errs.push(
        fieldErr.invalid(
          `${p}.readinessProbe.terminationGracePeriodSeconds`,
          c.readinessProbe.terminationGracePeriodSeconds,
          'must not be set for readinessProbes',
        ),
      );
  } else if (kind === 'init' && c.restartPolicy === 'Always') {
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, true));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, false));
    errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, true));
  } else {
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const)
      if (c[k] !== undefined && c[k] !== null)
        errs.push(
          fieldErr.forbidden(
            `${p}.${k}`,
            kind === 'init'
              ? 'may not be set for init containers without restartPolicy=Always'
              : 'cannot be set for an Ephemeral Container',
          ),
        );
  }
  if (kind === 'init' && c.restartPolicy !== undefined && c.restartPolicy !== 'Always')
    errs.push(fieldErr.notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
  if (kind === 'container' && c.restartPolicy !== undefined)
    errs.push(fieldErr.forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  if (isObj(c.lifecycle)) {
    for (const k of ['postStart', 'preStop'] as const) {
      const h = c.lifecycle[k];
      if (isObj(h))
        errs.push(
          ...validateHandler(h as Obj, `${p}.lifecycle.${k}`, ['exec', 'httpGet', 'tcpSocket', 'sleep']),
        );
    }
  }
  return errs;
}

const volumeSourceKeys = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
];

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(items).forEach((it, i) => {
    const p = `${path}[${i}]`;
    if (!it['key']) errs.push(fieldErr.required(`${p}.key`, ''));
    if (!it['path']) errs.push(fieldErr.required(`${p}.path`, ''));
    else errs.push(...validateLocalPath(String(it['path']), `${p}.path`));
    if (typeof it['mode'] === 'number' && (it['mode'] > 0o777 || it['mode'] < 0))
      errs.push(
        fieldErr.invalid(
          `${p}.mode`,
          it['mode'],
          'must be a number between 0 and 0777 (octal), both inclusive',
        ),
      );
  });
  return errs;
}

function validateLocalPath(v: string, field: string): FieldError[] {
  if (v.startsWith('/')) return [fieldErr.invalid(field, v, 'must be a relative path')];
  if (v.split('/').includes('..')) return [fieldErr.invalid(field, v, "must not contain '..'")];
  return [];
}

function validateDefaultMode(src: Obj, p: string): FieldError[] {
  const m = src['defaultMode'];
  if (typeof m === 'number' && (m > 0o777 || m < 0))
    return [
      fieldErr.invalid(`${p}.defaultMode`, m, 'must be a number between 0 and 0777 (octal), both inclusive'),
    ];
  return [];
}

function validateVolume(v: Volume, p: string): FieldError[] {
  const errs: FieldError[] = [];
  const o = v as unknown as Obj;
  if (!v.name) errs.push(fieldErr.required(`${p}.name`, ''));
  else errs.push(...dns1123LabelErrs(v.name, `${p}.name`));
  const present = volumeSourceKeys.filter((k) => o[k] !== undefined && o[k] !== null);
  if (present.length === 0) errs.push(fieldErr.required(p, 'must specify a volume type'));
  for (const k of present.slice(1))
    errs.push(fieldErr.forbidden(`${p}.${k}`, 'may not specify more than 1 volume type'));
  const k = present[0];
  if (!k) return errs;
  const src = asRecord(o[k]);
  const sp = `${p}.${k}`;
  switch (k) {
    case 'hostPath':
      if (!src['path']) errs.push(fieldErr.required(`${sp}.path`, ''));
      else if (
        typeof src['type'] === 'string' &&
        ![
          '',
          'DirectoryOrCreate',
          'Directory',
          'FileOrCreate',
          'File',
          'Socket',
          'CharDevice',
          'BlockDevice',
        ].includes(src['type'])
      )
        errs.push(
          fieldErr.notSupported(`${sp}.type`, src['type'], [
            '',
            'BlockDevice',
            'CharDevice',
            'Directory',
            'DirectoryOrCreate',
            'File',
            'FileOrCreate',
            'Socket',
          ]),
        );
      break;
    case 'emptyDir': {
      const med = src['medium'];
      if (
        med !== undefined &&
        med !== '' &&
        med !== 'Memory' &&
        !(typeof med === 'string' && med.startsWith('HugePages'))
      )
        errs.push(fieldErr.notSupported(`${sp}.medium`, med, ['', 'Memory', 'HugePages']));
      if (src['sizeLimit'] !== undefined) {
        const q = src['sizeLimit'];
        if (typeof q !== 'string' || !tryParseQuantity(q))
          errs.push(fieldErr.invalid(`${sp}.sizeLimit`, q, quantityFormatError));
      }
      break;
    }
    case 'secret':
      if (!src['secretName']) errs.push(fieldErr.required(`${sp}.secretName`, ''));
      else errs.push(...dns1123SubdomainErrs(String(src['secretName']), `${sp}.secretName`));
      errs.push(...validateDefaultMode(src, sp), ...validateKeyToPaths(src['items'], `${sp}.items`));
      break;
    case 'configMap':
      if (!src['name']) errs.push(fieldErr.required(`${sp}.name`, ''));
      else errs.push(...dns1123SubdomainErrs(String(src['name']), `${sp}.name`));
      errs.push(...validateDefaultMode(src, sp), ...validateKeyToPaths(src['items'], `${sp}.items`));
      break;
    case 'persistentVolumeClaim':
      if (!src['claimName']) errs.push(fieldErr.required(`${sp}.claimName`, ''));
      break;
    case 'nfs':
      if (!src['server']) errs.push(fieldErr.required(`${sp}.server`, ''));
      if (!src['path']) errs.push(fieldErr.required(`${sp}.path`, ''));
      else if (!String(src['path']).startsWith('/'))
        errs.push(fieldErr.invalid(`${sp}.path`, src['path'], 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateDefaultMode(src, sp));
      arr(src['items']).forEach((it, i) => {
        if (!it['path']) errs.push(fieldErr.required(`${sp}.items[${i}].path`, ''));
        else errs.push(...validateLocalPath(String(it['path']), `${sp}.items[${i}].path`));
      });
      break;
    case 'projected':
      errs.push(...validateDefaultMode(src, sp));
      arr(src['sources']).forEach((s, i) => {
        const pp = `${sp}.sources[${i}]`;
        const n = [
          'secret',
          'configMap',
          'downwardAPI',
          'serviceAccountToken',
          'clusterTrustBundle',
          'podCertificate',
        ].filter((x) => s[x] !== undefined && s[x] !== null);
        if (n.length > 1)
          errs.push(
            fieldErr.forbidden(`${pp}.${n[1]}`, 'may not specify more than 1 volume type per source'),
          );
        const sat = s['serviceAccountToken'];
        if (isObj(sat)) {
          const exp = sat['expirationSeconds'];
          if (typeof exp === 'number' && exp < 600)
            errs.push(
              fieldErr.invalid(
                `${pp}.serviceAccountToken.expirationSeconds`,
                exp,
                'may not specify a duration less than 10 minutes',
              ),
            );
          if (!sat['path']) errs.push(fieldErr.required(`${pp}.serviceAccountToken.path`, ''));
        }
        for (const x of ['secret', 'configMap'] as const)
          if (isObj(s[x])) errs.push(...validateKeyToPaths(s[x]['items'], `${pp}.${x}.items`));
      });
      break;
    case 'csi':
      if (!src['driver']) errs.push(fieldErr.required(`${sp}.driver`, ''));
      break;
    case 'ephemeral':
      if (!isObj(src['volumeClaimTemplate'])) errs.push(fieldErr.required(`${sp}.volumeClaimTemplate`, ''));
      break;
  }
  return errs;
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const tolerationOperators = ['Equal', 'Exists'];
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function validateTolerations(tols: PodSpec['tolerations'], path: string): FieldError[] {
  const errs: FieldError[] = [];
  (tols ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (t.key) for (const m of isQualifiedName(t.key)) errs.push(fieldErr.invalid(`${p}.key`, t.key, m));
    if (!t.key && t.operator !== 'Exists')
      errs.push(
        fieldErr.invalid(
          `${p}.operator`,
          t.operator ?? '',
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(
        fieldErr.invalid(
          `${p}.effect`,
          t.effect ?? '',
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    if (t.operator !== undefined && t.operator !== '' && !tolerationOperators.includes(t.operator))
      errs.push(fieldErr.notSupported(`${p}.operator`, t.operator, tolerationOperators));
    if (t.operator === 'Exists' && t.value)
      errs.push(
        fieldErr.invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"),
      );
    if (t.effect !== undefined && t.effect !== '' && !taintEffects.includes(t.effect))
      errs.push(fieldErr.notSupported(`${p}.effect`, t.effect, taintEffects));
  });
  return errs;
}

/** ValidatePodSpec (the commonly hit subset). `path` is the PodSpec's own path, e.g. "spec" or "spec.template.spec". */
export function validatePodSpec(spec: PodSpec | undefined, path: string): FieldError[] {
  if (!isObj(spec)) return [fieldErr.required(path, '')];
  const errs: FieldError[] = [];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const p = `${path}.volumes[${i}]`;
    errs.push(...validateVolume(v, p));
    if (v.name) {
      if (volumes.has(v.name)) errs.push(fieldErr.duplicate(`${p}.name`, v.name));
      volumes.add(v.name);
    }
  });
  const names = new Set<string>();
  const hostNetwork = spec.hostNetwork === true;
  const checkName = (c: Container, p: string): void => {
    if (!c.name) return;
    if (names.has(c.name)) errs.push(fieldErr.duplicate(`${p}.name`, c.name));
    names.add(c.name);
  };
  const initPortNames = new Set<string>();
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = `${path}.initContainers[${i}]`;
    errs.push(...validateContainer(c, p, volumes, initPortNames, hostNetwork, 'init'));
    checkName(c, p);
  });
  if (!spec.containers || spec.containers.length === 0)
    errs.push(fieldErr.required(`${path}.containers`, ''));
  const portNames = new Set<string>();
  (spec.containers ?? []).forEach((c, i) => {
    const p = `${path}.containers[${i}]`;
    errs.push(...validateContainer(c, p, volumes, portNames, hostNetwork, 'container'));
    checkName(c, p);
  });
  (spec.ephemeralContainers ?? []).forEach((c, i) => {
    const p = `${path}.ephemeralContainers[${i}]`;
    errs.push(...validateContainer(c as Container, p, volumes, new Set(), hostNetwork, 'ephemeral'));
    checkName(c as Container, p);
  });
  if (!spec.restartPolicy) errs.push(fieldErr.required(`${path}.restartPolicy`, ''));
  else if (!restartPolicies.includes(spec.restartPolicy))
    errs.push(fieldErr.notSupported(`${path}.restartPolicy`, spec.restartPolicy, restartPolicies));
  if (!spec.dnsPolicy) errs.push(fieldErr.required(`${path}.dnsPolicy`, ''));
  else if (!dnsPolicies.includes(spec.dnsPolicy))
    errs.push(fieldErr.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, dnsPolicies));
  if (spec.dnsPolicy === 'None' && !isObj(spec.dnsConfig))
    errs.push(fieldErr.required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.serviceAccountName)
    for (const m of isDNS1123Subdomain(spec.serviceAccountName))
      errs.push(fieldErr.invalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
  if (spec.nodeName)
    for (const m of isDNS1123Subdomain(spec.nodeName))
      errs.push(fieldErr.invalid(`${path}.nodeName`, spec.nodeName, m));
  if (spec.hostname) errs.push(...dns1123LabelErrs(spec.hostname, `${path}.hostname`));
  if (spec.subdomain) errs.push(...dns1123LabelErrs(spec.subdomain, `${path}.subdomain`));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const v = spec.activeDeadlineSeconds;
    if (v < 1 || v > 2147483647)
      errs.push(fieldErr.invalid(`${path}.activeDeadlineSeconds`, v, inclusiveRangeError(1, 2147483647)));
  }
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  (spec.imagePullSecrets ?? []).forEach((s, i) => {
    if (!s.name) errs.push(fieldErr.required(`${path}.imagePullSecrets[${i}].name`, ''));
  });
  if (spec.priorityClassName)
    for (const m of isDNS1123Subdomain(spec.priorityClassName))
      errs.push(fieldErr.invalid(`${path}.priorityClassName`, spec.priorityClassName, m));
  if (
    spec.preemptionPolicy &&
    spec.preemptionPolicy !== 'PreemptLowerPriority' &&
    spec.preemptionPolicy !== 'Never'
  )
    errs.push(
      fieldErr.notSupported(`${path}.preemptionPolicy`, spec.preemptionPolicy, [
        'Never',
        'PreemptLowerPriority',
      ]),
    );
  (spec.readinessGates ?? []).forEach((g, i) => {
    for (const m of isQualifiedName(g.conditionType ?? ''))
      errs.push(fieldErr.invalid(`${path}.readinessGates[${i}].conditionType`, g.conditionType ?? '', m));
  });
  (spec.schedulingGates ?? []).forEach((g, i) => {
    for (const m of isQualifiedName(g.name ?? ''))
      errs.push(fieldErr.invalid(`${path}.schedulingGates[${i}].name`, g.name ?? '', m));
  });
  const hostAliases = spec.hostAliases ?? [];
  hostAliases.forEach((h, i) => {
    if (!h.ip) errs.push(fieldErr.required(`${path}.hostAliases[${i}].ip`, ''));
  });
  return errs;
}

/** ValidatePodTemplateSpec: template labels and annotations, then the pod spec. */
export function validatePodTemplateSpec(tpl: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (typeof tpl !== 'object' || tpl === null) return [fieldErr.required(path, '')];
  const errs: FieldError[] = [];
  const meta = asRecord(tpl.metadata);
  errs.push(...validateLabels(meta['labels'], `${path}.metadata.labels`));
  errs.push(...validateAnnotations(meta['annotations'], `${path}.metadata.annotations`));
  errs.push(...validatePodSpec(tpl.spec, `${path}.spec`));
  if ((tpl.spec?.ephemeralContainers ?? []).length > 0)
    errs.push(
      fieldErr.forbidden(
        `${path}.spec.ephemeralContainers`,
        'ephemeral containers not allowed in pod template',
      ),
    );
  return errs;
}

/** For ReplicationController/ReplicaSet/Deployment/DaemonSet templates: restartPolicy must be Always. */
export function validateTemplateRestartAlways(tpl: PodTemplateSpec | undefined, path: string): FieldError[] {
  const rp = tpl?.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always')
    return [fieldErr.notSupported(`${path}.spec.restartPolicy`, rp, ['Always'])];
  return [];
}

/** Comma-joined container names and images, for the wide columns of workload printers (layoutContainerCells). */
export function podSpecContainersSummary(spec: PodSpec | undefined): { names: string; images: string } {
  const cs = spec?.containers ?? [];
  return { names: cs.map((c) => c.name).join(','), images: cs.map((c) => c.image ?? '').join(',') };
}
