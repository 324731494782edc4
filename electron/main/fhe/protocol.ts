import type { DecryptedLogregScores } from '../../../shared/algorithms/interpret';
import type { FheErrorCode } from '../../../shared/fhe/errors';
import type { KeyRequest } from '../../../shared/fhe/key-bundles';
import type { GenotypeCounts, GenotypeLayout, NumericLayout, NumericSums } from '../../../shared/fhe/layout';
import type { DatasetProgress, EncryptDatasetInput, EncryptDatasetResult } from './dataset';
import type { GeneratedKeyBundles } from './keygen';
import type { CreatedResultBundle, DecryptedBundle } from '../../../shared/fhe/keyswitch/bundle';
import type { KeySwitchBundleInput, KeySwitchOutcome } from './keyswitch';

/*
 * Messages between the engine (main thread) and its worker. Secret keys travel only in the
 * generateKeys reply (to the engine's caller) and in the requests that need them; never in
 * progress events, errors or other replies.
 */

export interface FheCalls {
  generateKeys: { request: { requests: KeyRequest[] }; reply: GeneratedKeyBundles };
  encryptDataset: { request: { input: EncryptDatasetInput; secretKeys: Uint8Array }; reply: EncryptDatasetResult };
  decryptGenotypeCounts: {
    request: { secretKeys: Uint8Array; layout: GenotypeLayout; result: Uint8Array };
    reply: { counts: GenotypeCounts; excludedSamples: number[] };
  };
  decryptNumericSums: {
    request: { secretKeys: Uint8Array; layout: NumericLayout; result: Uint8Array };
    reply: { sums: NumericSums[]; excludedSamples: number[] };
  };
  decryptLogregScores: {
    request: { secretKeys: Uint8Array; layout: NumericLayout; result: Uint8Array };
    reply: DecryptedLogregScores;
  };
  /** Issue 7: the owner's key-switching shares and result bundle (secretKeys = the owner's bundle). */
  createKeySwitchBundle: {
    request: { secretKeys: Uint8Array; input: KeySwitchBundleInput };
    reply: KeySwitchOutcome<CreatedResultBundle>;
  };
  /** Issue 7: the lab's offline decryption of a result bundle (secretKeys = the lab's bundle). */
  decryptKeySwitchBundle: {
    request: { secretKeys: Uint8Array; bundle: Uint8Array };
    reply: KeySwitchOutcome<DecryptedBundle>;
  };
}

export type FheCallKind = keyof FheCalls;

export type FheRequest =
  | { [K in FheCallKind]: { kind: K; id: number } & FheCalls[K]['request'] }[FheCallKind]
  | { kind: 'cancel'; id: number };

export interface SerializedFheError {
  fheCode: FheErrorCode;
  message: string;
  line?: number;
}

export type FheReply =
  | { kind: 'ready' }
  | { kind: 'progress'; id: number; progress: DatasetProgress }
  | { kind: 'done'; id: number; value: FheCalls[FheCallKind]['reply'] }
  | { kind: 'failed'; id: number; error: SerializedFheError };
