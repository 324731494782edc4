import type { SEALLibrary } from 'node-seal/implementation/seal';
import {
  createResultBundle,
  decryptBundle,
  type CreateResultBundleInput,
  type CreatedResultBundle,
  type DecryptedBundle,
} from '../../../shared/fhe/keyswitch/bundle';
import { KeySwitchError, type KeySwitchErrorCode } from '../../../shared/fhe/keyswitch/errors';

/*
 * Worker-side glue for key switching (issue 7). The worker's failure channel carries FheError codes
 * only, so key-switching refusals travel as a value and the engine turns them back into KeySwitchError.
 */

/** What the owner's app passes for a bundle; the owner's secret keys travel separately (`secretKeys`). */
export type KeySwitchBundleInput = Omit<CreateResultBundleInput, 'ownerSecretKeys'>;

export type KeySwitchOutcome<T> = { ok: true; value: T } | { ok: false; code: KeySwitchErrorCode; message: string };

function outcome<T>(run: () => T): KeySwitchOutcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof KeySwitchError) return { ok: false, code: error.keySwitchCode, message: error.message };
    throw error;
  }
}

/** In the worker: the owner's shares and bundle for one permit's result. */
export function runCreateKeySwitchBundle(
  seal: SEALLibrary,
  secretKeys: Uint8Array,
  input: KeySwitchBundleInput,
): KeySwitchOutcome<CreatedResultBundle> {
  return outcome(() => createResultBundle(seal, { ...input, ownerSecretKeys: secretKeys }));
}

/** In the worker: the lab's offline decryption of a bundle with its own secret keys. */
export function runDecryptKeySwitchBundle(
  seal: SEALLibrary,
  secretKeys: Uint8Array,
  bundle: Uint8Array,
): KeySwitchOutcome<DecryptedBundle> {
  return outcome(() => decryptBundle(seal, bundle, secretKeys));
}

/** On the main thread: the value, or the KeySwitchError the worker reported. */
export function unwrapKeySwitch<T>(result: KeySwitchOutcome<T>): T {
  if (result.ok) return result.value;
  throw new KeySwitchError(result.code, result.message);
}
