export { openDatabase, type OpenDatabaseOptions, type OpenedDatabase } from './database';
export { DatabaseError, isDatabaseError, type DatabaseErrorCode } from './errors';
export { migrate, schemaVersion, type Migration, type MigrationResult, type SqliteDatabase } from './migrate';
export { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations';
export { donorClaimable, PROJECTION_TABLES, Projector, rebuildProjections } from './projections';
export {
  ChainStore,
  type AppliedBatch,
  type BlockRef,
  type ChainBatch,
  type ChainCursor,
  type RejectedLogRecord,
  type RolledBack,
} from './chain-store';
export { toJsonValue, type ChainEventRecord, type EventPosition, type JsonValue } from './chain-events';
