/** The FHE engine of the custodian core (node-seal in a worker thread). */
export {
  FheEngine,
  type FheCallOptions,
  type FheEngineOptions,
  type FheKeyMaterial,
  type FheMessageLogEntry,
} from './engine';
export type { DatasetProgress, DatasetStats, EncryptDatasetInput, EncryptDatasetResult } from './dataset';
export { MANIFEST_FILE, OBJECTS_DIR } from './dataset';
export type { MultiallelicPolicy } from './vcf';
