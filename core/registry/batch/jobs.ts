/** batch/v1 Job and CronJob. */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.ts';
import { validateLabelSelector } from '../validation/selectors.ts';
import { age, humanDuration } from '../printers.ts';
import {
  ageColumn,
  containersColumn,
  imagesColumn,
  info,
  nameColumn,
  num,
  resetStatus,
  selectorColumn,
  spec,
  status,
  wideCells,
} from '../workload.ts';
import { validateNonNegative } from '../apps/common.ts';
import { cronError } from './cron.ts';

type Obj = Record<string, unknown>;
type Tpl = { metadata?: { labels?: Record<string, string> }; spec?: { restartPolicy?: string } };

function defaultJobSpec(s: Obj): void {
  if (s['completions'] === undefined && s['parallelism'] === undefined) {
    s['completions'] = 1;
    s['parallelism'] = 1;
  }
  s['parallelism'] ??= 1;
  s['backoffLimit'] ??= 6;
  s['completionMode'] ??= 'NonIndexed';
  s['suspend'] ??= false;
  if (s['podFailurePolicy'] === undefined) s['podReplacementPolicy'] ??= 'TerminatingOrFailed';
  defaultPodTemplateSpec(s['template'] as never);
}

function validateJobSpec(s: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [
    ...validateNonNegative(s['parallelism'], `${path}.parallelism`),
    ...validateNonNegative(s['completions'], `${path}.completions`),
    ...validateNonNegative(s['backoffLimit'], `${path}.backoffLimit`),
    ...validateNonNegative(s['ttlSecondsAfterFinished'], `${path}.ttlSecondsAfterFinished`),
  ];
  const ads = s['activeDeadlineSeconds'];
  if (ads !== undefined && (typeof ads !== 'number' || ads <= 0))
    errs.push(fieldErr.invalid(`${path}.activeDeadlineSeconds`, ads, 'must be greater than 0'));
  const tpl = s['template'] as Tpl | undefined;
  if (!tpl) errs.push(fieldErr.required(`${path}.template`, ''));
  else {
    errs.push(...validatePodTemplateSpec(tpl as never, `${path}.template`));
    const rp = tpl.spec?.restartPolicy;
    if (rp !== 'OnFailure' && rp !== 'Never')
      errs.push(
        fieldErr.notSupported(`${path}.template.spec.restartPolicy`, rp ?? '', ['OnFailure', 'Never']),
      );
  }
  const cm = s['completionMode'];
  if (cm !== undefined && cm !== 'NonIndexed' && cm !== 'Indexed')
    errs.push(fieldErr.notSupported(`${path}.completionMode`, cm, ['NonIndexed', 'Indexed']));
  if (cm === 'Indexed' && s['completions'] === undefined)
    errs.push(fieldErr.required(`${path}.completions`, 'when completion mode is Indexed'));
  return errs;
}

function jobStatusText(o: KObject): string {
  const conds = (status(o)['conditions'] ?? []) as { type: string; status: string }[];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Failed')) return 'Failed';
  if (has('Complete')) return 'Complete';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

export const jobStrategy: Strategy = {
  info: info('batch', 'v1', 'jobs', 'job', 'Job', true, { categories: ['all'] }),
  hasStatus: true,
  defaults(obj) {
    defaultJobSpec((obj['spec'] ??= {}) as Obj);
  },
  prepareForCreate(obj) {
    resetStatus(obj);
    const s = (obj['spec'] ??= {}) as Obj;
    if (s['manualSelector'] !== true) {
      const uid = obj.metadata.uid ?? '';
      const name = obj.metadata.name ?? '';
      s['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      const tpl = (s['template'] ??= {}) as Obj as { metadata?: { labels?: Record<string, string> } };
      tpl.metadata ??= {};
      tpl.metadata.labels = {
        ...(tpl.metadata.labels ?? {}),
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': name,
        'controller-uid': uid,
        'job-name': name,
      };
    }
  },
  validate(obj) {
    const s = spec(obj);
    const errs = validateJobSpec(s, 'spec');
    errs.push(...validateLabelSelector(s['selector'], 'spec.selector'));
    return errs;
  },
  validateUpdate(obj, old) {
    return [
      ...immutable('spec.selector', spec(old)['selector'], spec(obj)['selector']),
      ...immutable('spec.template', spec(old)['template'], spec(obj)['template']),
      ...immutable('spec.completions', spec(old)['completions'], spec(obj)['completions']),
    ].map((e) => (e.field === 'spec.template' ? { ...e, omitValue: true } : e));
  },
  fieldSelectors(obj) {
    return { 'status.successful': String(num(status(obj)['succeeded'])) };
  },
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Status of the job.' },
    {
      name: 'Completions',
      type: 'string',
      description: 'The desired number of successfully finished pods the job should be run with.',
    },
    { name: 'Duration', type: 'string', description: 'Time required to complete the job.' },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(obj, now) {
    const s = spec(obj);
    const st = status(obj);
    const completions =
      typeof s['completions'] === 'number'
        ? `${num(st['succeeded'])}/${s['completions']}`
        : `${num(st['succeeded'])}/1 of ${num(s['parallelism'])}`;
    const start = st['startTime'] as string | undefined;
    const end = st['completionTime'] as string | undefined;
    const duration = start ? humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start)) : '';
    return [
      obj.metadata.name ?? '',
      jobStatusText(obj),
      completions,
      duration,
      age(obj.metadata.creationTimestamp, now),
      ...wideCells(obj),
    ];
  },
};

export const cronJobStrategy: Strategy = {
  info: info('batch', 'v1', 'cronjobs', 'cronjob', 'CronJob', true, {
    shortNames: ['cj'],
    categories: ['all'],
  }),
  hasStatus: true,
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Obj;
    s['concurrencyPolicy'] ??= 'Allow';
    s['suspend'] ??= false;
    s['successfulJobsHistoryLimit'] ??= 3;
    s['failedJobsHistoryLimit'] ??= 1;
    const jt = (s['jobTemplate'] ??= {}) as Obj;
    defaultJobSpec((jt['spec'] ??= {}) as Obj);
  },
  prepareForCreate: resetStatus,
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [];
    const sched = s['schedule'];
    if (typeof sched !== 'string' || !sched) errs.push(fieldErr.required('spec.schedule', ''));
    else {
      const e = cronError(sched);
      if (e) errs.push(fieldErr.invalid('spec.schedule', sched, e));
    }
    const cp = s['concurrencyPolicy'];
    if (!['Allow', 'Forbid', 'Replace'].includes(String(cp)))
      errs.push(fieldErr.notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
    errs.push(...validateNonNegative(s['startingDeadlineSeconds'], 'spec.startingDeadlineSeconds'));
    errs.push(...validateNonNegative(s['successfulJobsHistoryLimit'], 'spec.successfulJobsHistoryLimit'));
    errs.push(...validateNonNegative(s['failedJobsHistoryLimit'], 'spec.failedJobsHistoryLimit'));
    const js = ((s['jobTemplate'] ?? {}) as Obj)['spec'] as Obj | undefined;
    errs.push(...validateJobSpec(js ?? {}, 'spec.jobTemplate.spec'));
    if ((obj.metadata.name ?? '').length > 52)
      errs.push(fieldErr.invalid('metadata.name', obj.metadata.name, 'must be no more than 52 characters'));
    return errs;
  },
  columns: [
    nameColumn,
    {
      name: 'Schedule',
      type: 'string',
      description: 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.',
    },
    {
      name: 'Timezone',
      type: 'string',
      description:
        'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.',
    },
    {
      name: 'Suspend',
      type: 'boolean',
      description:
        'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.',
    },
    { name: 'Active', type: 'integer', description: 'A list of pointers to currently running jobs.' },
    {
      name: 'Last Schedule',
      type: 'string',
      description: 'Information when was the last time the job was successfully scheduled.',
    },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(obj, now) {
    const s = spec(obj);
    const st = status(obj);
    const last = st['lastScheduleTime'] as string | undefined;
    const jt = (s['jobTemplate'] ?? {}) as { spec?: Obj };
    const fake = { metadata: {}, spec: jt.spec ?? {} } as KObject;
    return [
      obj.metadata.name ?? '',
      String(s['schedule'] ?? ''),
      String(s['timeZone'] ?? '<none>'),
      s['suspend'] === true,
      ((st['active'] ?? []) as unknown[]).length,
      last ? age(last, now) : '<none>',
      age(obj.metadata.creationTimestamp, now),
      ...wideCells(fake),
    ];
  },
};

export const batchStrategies: readonly Strategy[] = [cronJobStrategy, jobStrategy];
