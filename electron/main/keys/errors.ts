import { AppError, type IpcErrorCode } from '../../../shared/ipc/errors';

/** Why a vault operation failed; `VaultError.code` carries the matching IPC code for the router. */
export const vaultErrorCodes = [
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_LOCKED',
  'MASTER_KEY_MISSING',
  'PROFILE_NOT_FOUND',
  'PROFILE_EXISTS',
  'PROFILE_LOCKED',
  'SECRET_NOT_FOUND',
  'BAD_PASSPHRASE',
  'WEAK_PASSPHRASE',
  'CORRUPT_SECRET',
  'BAD_INPUT',
] as const;

export type VaultErrorCode = (typeof vaultErrorCodes)[number];

const ipcCodeFor: Record<VaultErrorCode, IpcErrorCode> = {
  KEYCHAIN_UNAVAILABLE: 'UNAVAILABLE',
  KEYCHAIN_LOCKED: 'UNAVAILABLE',
  MASTER_KEY_MISSING: 'NOT_FOUND',
  PROFILE_NOT_FOUND: 'NOT_FOUND',
  PROFILE_EXISTS: 'CONFLICT',
  PROFILE_LOCKED: 'FORBIDDEN',
  SECRET_NOT_FOUND: 'NOT_FOUND',
  BAD_PASSPHRASE: 'FORBIDDEN',
  WEAK_PASSPHRASE: 'BAD_REQUEST',
  CORRUPT_SECRET: 'INTERNAL',
  BAD_INPUT: 'BAD_REQUEST',
};

/**
 * A typed vault failure. It is an AppError, so the IPC router passes its message to the renderer:
 * messages name profiles and secrets, never key material or file contents.
 */
export class VaultError extends AppError {
  readonly vaultCode: VaultErrorCode;

  constructor(vaultCode: VaultErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(ipcCodeFor[vaultCode], message);
    this.name = 'VaultError';
    this.vaultCode = vaultCode;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isVaultError(error: unknown, vaultCode?: VaultErrorCode): error is VaultError {
  return error instanceof VaultError && (vaultCode === undefined || error.vaultCode === vaultCode);
}
