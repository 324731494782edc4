import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteDatabase } from './migrate';

/** A real SQLite file in a fresh temp folder, for tests: `db` is bare (not migrated), `file` can be reopened. */
export function tempDatabase(): { db: SqliteDatabase; file: string; dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-db-test-'));
  const file = path.join(dir, 'cache.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  return {
    db,
    file,
    dir,
    cleanup() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Names of the tables in `db` (not SQLite's own). */
export function tableNames(db: SqliteDatabase): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
}

let nextLog = 0;

/** Stores an event as the watcher would (in audit_events), at `blockNumber`; returns it. */
export function insertAuditEvent(
  db: SqliteDatabase,
  blockNumber: number,
  contract: string,
  name: string,
  args: Record<string, unknown>,
): void {
  const json = JSON.stringify(args, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  db.prepare(
    `INSERT INTO audit_events (chainId, blockNumber, blockHash, txHash, logIndex, contract, name, args)
     VALUES (31337, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(blockNumber, `0xb${blockNumber}`, `0xt${blockNumber}`, nextLog++, contract, name, json);
}
