import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { isDatabaseError } from './errors';
import { migrate, type Migration, schemaVersion } from './migrate';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations';
import { insertAuditEvent, tempDatabase } from './test-db';

let temp: ReturnType<typeof tempDatabase>;
afterEach(() => temp.cleanup());

describe('openDatabase', () => {
  it('opens a new file in WAL mode with foreign keys, a busy timeout and synchronous NORMAL, fully migrated', () => {
    temp = tempDatabase();
    temp.db.close();
    const { db, migration, rebuiltProjections } = openDatabase(temp.file, { busyTimeoutMs: 1234 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(migration).toMatchObject({ from: 0, to: LATEST_SCHEMA_VERSION });
    expect(migration.applied.map((step) => step.name)).toEqual(MIGRATIONS.map((step) => step.name));
    // A fresh database has nothing to recompute, but the migrations marked it: the rebuild ran over 0 events.
    expect(rebuiltProjections).toBe(0);
    db.close();

    const again = openDatabase(temp.file);
    expect(again.migration).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] });
    expect(again.rebuiltProjections).toBeNull();
    again.db.close();
  });

  it('refuses a database written by a newer app, with a typed error, and leaves it untouched', () => {
    temp = tempDatabase();
    migrate(temp.db, MIGRATIONS);
    temp.db.prepare("INSERT INTO schema_migrations VALUES (?, 'from-the-future', 0)").run(LATEST_SCHEMA_VERSION + 1);
    temp.db.close();
    let error: unknown;
    try {
      openDatabase(temp.file);
    } catch (caught) {
      error = caught;
    }
    expect(isDatabaseError(error, 'DATABASE_TOO_NEW')).toBe(true);
    expect(error).toMatchObject({ code: 'CONFLICT' });
    temp = { ...temp, db: new Database(temp.file) };
    expect(schemaVersion(temp.db)).toBe(LATEST_SCHEMA_VERSION + 1);
  });

  it('recomputes projections a migration marked stale, from the events already stored', () => {
    temp = tempDatabase();
    migrate(temp.db, MIGRATIONS, { to: 1 });
    insertAuditEvent(temp.db, 3, 'DataAccess', 'AlgorithmRegistered', { algorithmId: '0xa1', index: 0n });
    temp.db.close();
    const { db, rebuiltProjections } = openDatabase(temp.file);
    expect(rebuiltProjections).toBe(1);
    expect(db.prepare('SELECT algorithmId, active FROM algorithms').all()).toEqual([
      { algorithmId: '0xa1', active: 1 },
    ]);
    db.close();
  });
});

describe('migrate', () => {
  const step = (version: number, name: string, up: Migration['up'] = () => undefined): Migration => ({
    version,
    name,
    up,
  });

  it('runs each step in its own transaction: a failing step leaves the previous version', () => {
    temp = tempDatabase();
    const steps = [
      step(1, 'first', (db) => db.exec('CREATE TABLE a (x INTEGER) STRICT')),
      step(2, 'broken', (db) => {
        db.exec('CREATE TABLE b (x INTEGER) STRICT');
        db.exec('INSERT INTO no_such_table VALUES (1)');
      }),
    ];
    expect(() => migrate(temp.db, steps)).toThrow(expect.objectContaining({ dbCode: 'MIGRATION_FAILED' }));
    expect(schemaVersion(temp.db)).toBe(1);
    expect(temp.db.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', 'b')").pluck().all()).toEqual(['a']);
  });

  it('refuses gaps, bad names and a database whose steps carry other names', () => {
    temp = tempDatabase();
    expect(() => migrate(temp.db, [step(1, 'one'), step(3, 'three')])).toThrow(
      expect.objectContaining({ dbCode: 'MIGRATION_INVALID' }),
    );
    expect(() => migrate(temp.db, [step(1, 'Bad Name')])).toThrow(
      expect.objectContaining({ dbCode: 'MIGRATION_INVALID' }),
    );
    migrate(temp.db, [step(1, 'one')]);
    expect(() => migrate(temp.db, [step(1, 'uno')])).toThrow(expect.objectContaining({ dbCode: 'MIGRATION_MISMATCH' }));
  });
});
