import { AppError, type IpcErrorCode } from '../../ipc/errors';

/** Why key-switching material was refused or could not be used. */
export const keySwitchErrorCodes = [
  /** The output terms (or the grant on chain) do not allow key switching for this release. */
  'TERMS_FORBID',
  /** The terms document does not hash to the termsHash on chain, or is malformed. */
  'BAD_TERMS',
  /** A SEAL object (ciphertext, key) is malformed, compressed/seeded where plain bytes are needed, or of other parameters. */
  'BAD_OBJECT',
  /** A key does not fit the parameter set, or the lab's keys do not match the bundle. */
  'BAD_KEYS',
  /** A share does not fit its ciphertext. */
  'BAD_SHARE',
  /** A result bundle is malformed or fails its own checks. */
  'BAD_BUNDLE',
  /** The result's own noise leaves too little room for the smudging noise the security level needs. */
  'INSUFFICIENT_MARGIN',
] as const;
export type KeySwitchErrorCode = (typeof keySwitchErrorCodes)[number];

const ipcCodeFor: Record<KeySwitchErrorCode, IpcErrorCode> = {
  TERMS_FORBID: 'FORBIDDEN',
  BAD_TERMS: 'BAD_REQUEST',
  BAD_OBJECT: 'BAD_REQUEST',
  BAD_KEYS: 'BAD_REQUEST',
  BAD_SHARE: 'BAD_REQUEST',
  BAD_BUNDLE: 'BAD_REQUEST',
  INSUFFICIENT_MARGIN: 'CONFLICT',
};

/** A typed key-switching failure. Messages never carry key material or plaintext values. */
export class KeySwitchError extends AppError {
  readonly keySwitchCode: KeySwitchErrorCode;

  constructor(code: KeySwitchErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(ipcCodeFor[code], message);
    this.name = 'KeySwitchError';
    this.keySwitchCode = code;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isKeySwitchError(error: unknown, code?: KeySwitchErrorCode): error is KeySwitchError {
  return error instanceof KeySwitchError && (code === undefined || error.keySwitchCode === code);
}
