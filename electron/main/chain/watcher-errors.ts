import { AppError, type IpcErrorCode } from '../../../shared/ipc/errors';
import type { RejectedLogRecord } from '../db';

/** Why the chain watcher stopped or refused something; `WatcherError.code` carries the matching IPC code. */
export const watcherErrorCodes = [
  'CHAIN_MISMATCH',
  'DEPLOYMENT_MISMATCH',
  'RPC_FAILED',
  'RPC_MALFORMED',
  'RPC_INCONSISTENT',
  'LOG_REJECTED',
] as const;

export type WatcherErrorCode = (typeof watcherErrorCodes)[number];

const ipcCodeFor: Record<WatcherErrorCode, IpcErrorCode> = {
  CHAIN_MISMATCH: 'CONFLICT',
  DEPLOYMENT_MISMATCH: 'CONFLICT',
  RPC_FAILED: 'UNAVAILABLE',
  RPC_MALFORMED: 'UNAVAILABLE',
  RPC_INCONSISTENT: 'UNAVAILABLE',
  LOG_REJECTED: 'BAD_RESPONSE',
};

/** A typed watcher failure; messages name blocks, addresses and RPC methods, nothing else. */
export class WatcherError extends AppError {
  readonly watcherCode: WatcherErrorCode;

  constructor(watcherCode: WatcherErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(ipcCodeFor[watcherCode], message);
    this.name = 'WatcherError';
    this.watcherCode = watcherCode;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** Why a log was refused: it is kept in rejected_logs and never applied. */
export type RejectReason = 'FOREIGN_ADDRESS' | 'REMOVED_LOG' | 'UNKNOWN_EVENT' | 'MALFORMED_EVENT';

/** A log from the chain that is not a well-formed event of the deployment. */
export class RejectedLogError extends WatcherError {
  readonly reason: RejectReason;
  readonly log: RejectedLogRecord;

  constructor(log: RejectedLogRecord) {
    super(
      'LOG_REJECTED',
      `Rejected log ${log.logIndex} of block ${log.blockNumber} from ${log.address}: ${log.message}`,
    );
    this.name = 'RejectedLogError';
    this.reason = log.reason as RejectReason;
    this.log = log;
  }
}

export function isWatcherError(error: unknown, watcherCode?: WatcherErrorCode): error is WatcherError {
  return error instanceof WatcherError && (watcherCode === undefined || error.watcherCode === watcherCode);
}
