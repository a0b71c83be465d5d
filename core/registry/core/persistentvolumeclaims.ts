/** core/v1 PersistentVolumeClaim: the strategy lives beside PersistentVolume (shared helpers). */
export {
  persistentVolumeClaimStrategy,
  validatePersistentVolumeClaimSpec,
  validatePersistentVolumeClaimUpdate,
} from './persistentvolumes.ts';
