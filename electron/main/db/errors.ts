import { AppError, type IpcErrorCode } from '../../../shared/ipc/errors';

/** Why opening or migrating the local database failed; `DatabaseError.code` carries the matching IPC code. */
export const databaseErrorCodes = [
  'DATABASE_TOO_NEW',
  'MIGRATION_INVALID',
  'MIGRATION_MISMATCH',
  'MIGRATION_FAILED',
  'DATABASE_UNAVAILABLE',
  'CURSOR_MOVED',
] as const;

export type DatabaseErrorCode = (typeof databaseErrorCodes)[number];

const ipcCodeFor: Record<DatabaseErrorCode, IpcErrorCode> = {
  DATABASE_TOO_NEW: 'CONFLICT',
  MIGRATION_INVALID: 'INTERNAL',
  MIGRATION_MISMATCH: 'CONFLICT',
  MIGRATION_FAILED: 'INTERNAL',
  DATABASE_UNAVAILABLE: 'UNAVAILABLE',
  CURSOR_MOVED: 'CONFLICT',
};

/** A typed database failure. Messages name files and schema versions, never row contents. */
export class DatabaseError extends AppError {
  readonly dbCode: DatabaseErrorCode;

  constructor(dbCode: DatabaseErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(ipcCodeFor[dbCode], message);
    this.name = 'DatabaseError';
    this.dbCode = dbCode;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isDatabaseError(error: unknown, dbCode?: DatabaseErrorCode): error is DatabaseError {
  return error instanceof DatabaseError && (dbCode === undefined || error.dbCode === dbCode);
}
