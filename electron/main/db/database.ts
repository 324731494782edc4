import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseError } from './errors';
import { migrate, PROJECTIONS_STALE_KEY, type Migration, type MigrationResult, type SqliteDatabase } from './migrate';
import { MIGRATIONS } from './migrations';
import { rebuildProjections } from './projections';

export interface OpenDatabaseOptions {
  /** Default: every migration in migrations/index.ts. */
  migrations?: readonly Migration[];
  /** Milliseconds a writer waits for another connection's lock before SQLITE_BUSY. Default 5 s. */
  busyTimeoutMs?: number;
}

export interface OpenedDatabase {
  db: SqliteDatabase;
  migration: MigrationResult;
  /** Events re-applied because a migration changed the projections (null when none did). */
  rebuiltProjections: number | null;
}

/**
 * Opens (creating if needed) the local cache database at `file`, sets the connection up and migrates it to the
 * code's schema; projections a migration changed are recomputed from audit_events before it returns.
 *
 * - WAL: readers (the IPC handlers) never block the watcher's writes, and a commit is one append to the WAL.
 * - synchronous = NORMAL: in WAL mode a commit survives a crash or kill -9 of the app (it is in the OS's hands once
 *   written); only a power loss or OS crash can drop the last commits, and it never corrupts the file. Every batch
 *   writes its events and the cursor in one transaction, so a lost commit rolls both back together and the watcher
 *   fetches those blocks again: exactly-once holds, and FULL's fsync per batch would buy nothing for a cache.
 * - foreign_keys on, so the schema's references (chain_blocks → chain_cursor) are enforced.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): OpenedDatabase {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  let db: SqliteDatabase;
  try {
    db = new Database(file);
  } catch (error) {
    throw new DatabaseError('DATABASE_UNAVAILABLE', `Cannot open the database ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    const migration = migrate(db, options.migrations ?? MIGRATIONS);
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'db_meta'").get();
    const stale = hasMeta && db.prepare('SELECT value FROM db_meta WHERE key = ?').pluck().get(PROJECTIONS_STALE_KEY);
    const rebuiltProjections = stale ? rebuildProjections(db) : null;
    return { db, migration, rebuiltProjections };
  } catch (error) {
    db.close();
    throw error;
  }
}
