import type BetterSqlite3 from 'better-sqlite3';
import { DatabaseError } from './errors';

export type SqliteDatabase = BetterSqlite3.Database;

/** One schema step: `migrations/NNNN-name.ts` exports one of these. */
export interface Migration {
  /** 1, 2, 3 … without gaps; the file name's NNNN. */
  version: number;
  /** The file name's `name` part, recorded so a database written by other code is noticed. */
  name: string;
  /** Runs inside the runner's transaction: no BEGIN/COMMIT here. */
  up(db: SqliteDatabase): void;
  /**
   * The step adds or changes projection tables, so projections must be recomputed from audit_events once all
   * migrations have run (the runner marks them stale in the same transaction).
   */
  rebuildsProjections?: boolean;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: { version: number; name: string }[];
}

/** Key in db_meta (created by migration 1) set while projections must be recomputed from audit_events. */
export const PROJECTIONS_STALE_KEY = 'projectionsStale';

function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new DatabaseError(
        'MIGRATION_INVALID',
        `Migration ${index + 1} is missing or out of order (found version ${migration.version} "${migration.name}")`,
      );
    }
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(migration.name)) {
      throw new DatabaseError('MIGRATION_INVALID', `Migration ${migration.version} has a bad name "${migration.name}"`);
    }
  });
}

function ensureMigrationTable(db: SqliteDatabase): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    appliedAt INTEGER NOT NULL
  ) STRICT`);
}

/** The highest migration recorded in `db` (0 for a new database). */
export function schemaVersion(db: SqliteDatabase): number {
  ensureMigrationTable(db);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

/**
 * Brings `db` to the last of `migrations` (or to `options.to`), each step in its own transaction together with
 * its schema_migrations row, so a failed step leaves the database at the previous version. Refuses a database
 * newer than the code, and one whose recorded steps carry other names than the code's.
 */
export function migrate(
  db: SqliteDatabase,
  migrations: readonly Migration[],
  options: { to?: number } = {},
): MigrationResult {
  checkMigrationList(migrations);
  const latest = migrations.length;
  const target = options.to ?? latest;
  if (target < 0 || target > latest) {
    throw new DatabaseError('MIGRATION_INVALID', `No migration ${target}: the code knows versions 1 to ${latest}`);
  }
  const from = schemaVersion(db);
  if (from > latest) {
    throw new DatabaseError(
      'DATABASE_TOO_NEW',
      `The database is at schema version ${from}, newer than this app (${latest}): update the app or rebuild the cache`,
    );
  }
  const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
    version: number;
    name: string;
  }[];
  for (const row of recorded) {
    const known = migrations[row.version - 1];
    if (!known || known.name !== row.name) {
      throw new DatabaseError(
        'MIGRATION_MISMATCH',
        `Schema version ${row.version} was applied as "${row.name}" but this app calls it "${known?.name ?? '(none)'}"`,
      );
    }
  }
  if (target < from) {
    throw new DatabaseError('MIGRATION_INVALID', `Cannot migrate down from ${from} to ${target}`);
  }

  const record = db.prepare('INSERT INTO schema_migrations (version, name, appliedAt) VALUES (?, ?, ?)');
  const applied: MigrationResult['applied'] = [];
  for (const migration of migrations.slice(from, target)) {
    const step = db.transaction(() => {
      migration.up(db);
      if (migration.rebuildsProjections) {
        db.prepare('INSERT OR REPLACE INTO db_meta (key, value) VALUES (?, ?)').run(PROJECTIONS_STALE_KEY, '1');
      }
      record.run(migration.version, migration.name, Date.now());
    });
    try {
      step();
    } catch (error) {
      throw new DatabaseError(
        'MIGRATION_FAILED',
        `Migration ${migration.version} "${migration.name}" failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    applied.push({ version: migration.version, name: migration.name });
  }
  return { from, to: Math.max(from, target), applied };
}
