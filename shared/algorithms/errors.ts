import { AppError, type IpcErrorCode } from '../ipc/errors';

/** Why an algorithm could not run or its result could not be read. FHE-level failures stay FheErrors. */
export const algorithmErrorCodes = [
  'UNKNOWN_ALGORITHM',
  'BAD_PARAMS',
  'BAD_INPUT',
  'BAD_RESULT',
  'CANCELLED',
  'WORKER_FAILED',
] as const;
export type AlgorithmErrorCode = (typeof algorithmErrorCodes)[number];

const ipcCodeFor: Record<AlgorithmErrorCode, IpcErrorCode> = {
  UNKNOWN_ALGORITHM: 'NOT_FOUND',
  BAD_PARAMS: 'BAD_REQUEST',
  BAD_INPUT: 'BAD_REQUEST',
  BAD_RESULT: 'BAD_REQUEST',
  CANCELLED: 'CONFLICT',
  WORKER_FAILED: 'INTERNAL',
};

export class AlgorithmError extends AppError {
  readonly algorithmCode: AlgorithmErrorCode;

  constructor(algorithmCode: AlgorithmErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(ipcCodeFor[algorithmCode], message);
    this.name = 'AlgorithmError';
    this.algorithmCode = algorithmCode;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isAlgorithmError(error: unknown, code?: AlgorithmErrorCode): error is AlgorithmError {
  return error instanceof AlgorithmError && (code === undefined || error.algorithmCode === code);
}
