// Protobuf field facts for k8s.io/api batch/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const batchV1: PackageFacts = {
  pkg: 'batch.v1',
  group: 'batch',
  version: 'v1',
  messages: {
    CronJob: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec batch.v1.CronJobSpec',
      3: 'status batch.v1.CronJobStatus',
    },
    CronJobList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []batch.v1.CronJob !',
    },
    CronJobSpec: {
      1: 'schedule string',
      8: 'timeZone string',
      2: 'startingDeadlineSeconds int64',
      3: 'concurrencyPolicy string ?',
      4: 'suspend bool',
      5: 'jobTemplate batch.v1.JobTemplateSpec',
      6: 'successfulJobsHistoryLimit int32',
      7: 'failedJobsHistoryLimit int32',
    },
    CronJobStatus: {
      1: 'active []core.v1.ObjectReference',
      4: 'lastScheduleTime meta.v1.Time',
      5: 'lastSuccessfulTime meta.v1.Time',
    },
    Job: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec batch.v1.JobSpec',
      3: 'status batch.v1.JobStatus',
    },
    JobCondition: {
      1: 'type string',
      2: 'status string',
      3: 'lastProbeTime meta.v1.Time',
      4: 'lastTransitionTime meta.v1.Time',
      5: 'reason string ?',
      6: 'message string ?',
    },
    JobList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []batch.v1.Job !',
    },
    JobSpec: {
      1: 'parallelism int32',
      2: 'completions int32',
      3: 'activeDeadlineSeconds int64',
      11: 'podFailurePolicy batch.v1.PodFailurePolicy',
      16: 'successPolicy batch.v1.SuccessPolicy',
      7: 'backoffLimit int32',
      12: 'backoffLimitPerIndex int32',
      13: 'maxFailedIndexes int32',
      4: 'selector meta.v1.LabelSelector',
      5: 'manualSelector bool',
      6: 'template core.v1.PodTemplateSpec',
      8: 'ttlSecondsAfterFinished int32',
      9: 'completionMode string',
      10: 'suspend bool',
      14: 'podReplacementPolicy string',
      15: 'managedBy string',
    },
    JobStatus: {
      1: 'conditions []batch.v1.JobCondition',
      2: 'startTime meta.v1.Time',
      3: 'completionTime meta.v1.Time',
      4: 'active int32 ?',
      5: 'succeeded int32 ?',
      6: 'failed int32 ?',
      11: 'terminating int32',
      7: 'completedIndexes string ?',
      10: 'failedIndexes string',
      8: 'uncountedTerminatedPods batch.v1.UncountedTerminatedPods',
      9: 'ready int32',
    },
    JobTemplateSpec: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec batch.v1.JobSpec',
    },
    PodFailurePolicy: {
      1: 'rules []batch.v1.PodFailurePolicyRule !',
    },
    PodFailurePolicyOnExitCodesRequirement: {
      1: 'containerName string',
      2: 'operator string',
      3: 'values []int32 !',
    },
    PodFailurePolicyOnPodConditionsPattern: {
      1: 'type string',
      2: 'status string',
    },
    PodFailurePolicyRule: {
      1: 'action string',
      2: 'onExitCodes batch.v1.PodFailurePolicyOnExitCodesRequirement',
      3: 'onPodConditions []batch.v1.PodFailurePolicyOnPodConditionsPattern',
    },
    SuccessPolicy: {
      1: 'rules []batch.v1.SuccessPolicyRule !',
    },
    SuccessPolicyRule: {
      1: 'succeededIndexes string',
      2: 'succeededCount int32',
    },
    UncountedTerminatedPods: {
      1: 'succeeded []string',
      2: 'failed []string',
    },
  },
};
