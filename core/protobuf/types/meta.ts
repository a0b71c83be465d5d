// Protobuf field facts for k8s.io/apimachinery pkg/apis/meta/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const metaV1: PackageFacts = {
  pkg: 'meta.v1',
  group: 'meta.k8s.io',
  version: 'v1',
  messages: {
    Condition: {
      1: 'type string',
      2: 'status string',
      3: 'observedGeneration int64 ?',
      4: 'lastTransitionTime meta.v1.Time',
      5: 'reason string',
      6: 'message string',
    },
    CreateOptions: {
      1: 'dryRun []string',
      3: 'fieldManager string ?',
      4: 'fieldValidation string ?',
    },
    DeleteOptions: {
      1: 'gracePeriodSeconds int64',
      2: 'preconditions meta.v1.Preconditions',
      3: 'orphanDependents bool',
      4: 'propagationPolicy string',
      5: 'dryRun []string',
      6: 'ignoreStoreReadErrorWithClusterBreakingPotential bool',
    },
    FieldSelectorRequirement: {
      1: 'key string',
      2: 'operator string',
      3: 'values []string',
    },
    LabelSelector: {
      1: 'matchLabels map<string,string>',
      2: 'matchExpressions []meta.v1.LabelSelectorRequirement',
    },
    LabelSelectorRequirement: {
      1: 'key string',
      2: 'operator string',
      3: 'values []string',
    },
    List: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []runtime.RawExtension !',
    },
    ListMeta: {
      1: 'selfLink string ?',
      2: 'resourceVersion string ?',
      3: 'continue string ?',
      4: 'remainingItemCount int64',
      5: 'shardInfo meta.v1.ShardInfo',
    },
    ManagedFieldsEntry: {
      1: 'manager string ?',
      2: 'operation string ?',
      3: 'apiVersion string ?',
      4: 'time meta.v1.Time',
      6: 'fieldsType string ?',
      7: 'fieldsV1 meta.v1.FieldsV1',
      8: 'subresource string ?',
    },
    ObjectMeta: {
      1: 'name string ?',
      2: 'generateName string ?',
      3: 'namespace string ?',
      4: 'selfLink string ?',
      5: 'uid string ?',
      6: 'resourceVersion string ?',
      7: 'generation int64 ?',
      8: 'creationTimestamp meta.v1.Time',
      9: 'deletionTimestamp meta.v1.Time',
      10: 'deletionGracePeriodSeconds int64',
      11: 'labels map<string,string>',
      12: 'annotations map<string,string>',
      13: 'ownerReferences []meta.v1.OwnerReference',
      14: 'finalizers []string',
      17: 'managedFields []meta.v1.ManagedFieldsEntry',
    },
    OwnerReference: {
      5: 'apiVersion string',
      1: 'kind string',
      3: 'name string',
      4: 'uid string',
      6: 'controller bool',
      7: 'blockOwnerDeletion bool',
    },
    PartialObjectMetadata: {
      1: 'metadata meta.v1.ObjectMeta',
    },
    PatchOptions: {
      1: 'dryRun []string',
      2: 'force bool',
      3: 'fieldManager string ?',
      4: 'fieldValidation string ?',
    },
    Preconditions: {
      1: 'uid string',
      2: 'resourceVersion string',
    },
    ShardInfo: {
      1: 'selector string',
    },
    Status: {
      1: 'metadata meta.v1.ListMeta',
      2: 'status string ?',
      3: 'message string ?',
      4: 'reason string ?',
      5: 'details meta.v1.StatusDetails',
      6: 'code int32 ?',
    },
    StatusCause: {
      1: 'reason string ?',
      2: 'message string ?',
      3: 'field string ?',
    },
    StatusDetails: {
      1: 'name string ?',
      2: 'group string ?',
      3: 'kind string ?',
      6: 'uid string ?',
      4: 'causes []meta.v1.StatusCause',
      5: 'retryAfterSeconds int32 ?',
    },
    UpdateOptions: {
      1: 'dryRun []string',
      2: 'fieldManager string ?',
      3: 'fieldValidation string ?',
    },
  },
};
