import { AppError, type IpcErrorCode } from '../ipc/errors';

/** Why an FHE operation failed; `FheError.code` carries the matching IPC code for the router. */
export const fheErrorCodes = [
  'MALFORMED_VCF',
  'MALFORMED_CSV',
  'COHORT_MISMATCH',
  'BAD_PARAMETERS',
  'BAD_LAYOUT',
  'BAD_OBJECT',
  'BAD_MANIFEST',
  'BAD_KEYS',
  'BAD_RESULT',
  'OUTPUT_EXISTS',
  'CANCELLED',
  'WORKER_FAILED',
] as const;

export type FheErrorCode = (typeof fheErrorCodes)[number];

const ipcCodeFor: Record<FheErrorCode, IpcErrorCode> = {
  MALFORMED_VCF: 'BAD_REQUEST',
  MALFORMED_CSV: 'BAD_REQUEST',
  COHORT_MISMATCH: 'BAD_REQUEST',
  BAD_PARAMETERS: 'BAD_REQUEST',
  BAD_LAYOUT: 'BAD_REQUEST',
  BAD_OBJECT: 'BAD_REQUEST',
  BAD_MANIFEST: 'BAD_REQUEST',
  BAD_KEYS: 'BAD_REQUEST',
  BAD_RESULT: 'BAD_REQUEST',
  OUTPUT_EXISTS: 'CONFLICT',
  CANCELLED: 'CONFLICT',
  WORKER_FAILED: 'INTERNAL',
};

export interface FheErrorOptions {
  /** 1-based line of the input file the error is about (VCF, CSV). */
  line?: number;
  cause?: unknown;
}

/**
 * A typed FHE failure. Messages name files, lines, columns and samples, never key material or
 * genotype values beyond the offending token.
 */
export class FheError extends AppError {
  readonly fheCode: FheErrorCode;
  readonly line: number | undefined;

  constructor(fheCode: FheErrorCode, message: string, options: FheErrorOptions = {}) {
    super(ipcCodeFor[fheCode], message);
    this.name = 'FheError';
    this.fheCode = fheCode;
    this.line = options.line;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isFheError(error: unknown, fheCode?: FheErrorCode): error is FheError {
  return error instanceof FheError && (fheCode === undefined || error.fheCode === fheCode);
}
