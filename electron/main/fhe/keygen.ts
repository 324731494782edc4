import type { SEALLibrary } from 'node-seal/implementation/seal';
import {
  checkKeyRequests,
  encodePublicKeyBundle,
  encodeSecretKeyBundle,
  type KeyRequest,
  type PublicKeyEntry,
  type SecretKeyEntry,
} from '../../../shared/fhe/key-bundles';
import { getParameterSet } from '../../../shared/fhe/parameters';
import { createSealContext } from '../../../shared/fhe/seal';

export interface GeneratedKeyBundles {
  /** Secret keys of every requested set, one bundle: goes to the caller only, then to the vault. */
  secretKeys: Uint8Array;
  /** Public key per set plus the evaluation keys asked for: exportable to the orchestrator. */
  publicKeys: Uint8Array;
}

/**
 * Fresh keys for each requested parameter set. Public and evaluation keys are SEAL's seeded
 * (half-size) serializations, compressed; secret keys are stored uncompressed (they are uniform).
 */
export function generateKeyBundles(seal: SEALLibrary, requests: readonly KeyRequest[]): GeneratedKeyBundles {
  checkKeyRequests(requests);
  const secrets: SecretKeyEntry[] = [];
  const publics: PublicKeyEntry[] = [];
  try {
    for (const request of requests) {
      const set = getParameterSet(request.parameterSetId);
      const context = createSealContext(seal, set);
      const keyGenerator = seal.KeyGenerator(context);
      const secretKey = keyGenerator.secretKey();
      try {
        const serialize = (serializable: ReturnType<typeof keyGenerator.createPublicKeySerializable>) => {
          const bytes = serializable.saveArray(seal.ComprModeType.zstd);
          serializable.delete();
          return bytes;
        };
        const parts: PublicKeyEntry['parts'] = [
          { kind: 'public', bytes: serialize(keyGenerator.createPublicKeySerializable()) },
        ];
        if (request.relinearization) {
          parts.push({ kind: 'relinearization', bytes: serialize(keyGenerator.createRelinKeysSerializable()) });
        }
        const steps = request.galoisSteps ?? [];
        if (steps.length > 0) {
          const bytes = serialize(keyGenerator.createGaloisKeysSerializable(Int32Array.from(steps)));
          parts.push({ kind: 'galois', steps: [...steps], bytes });
        }
        publics.push({ parameterSetId: set.id, parts });
        secrets.push({ parameterSetId: set.id, bytes: secretKey.saveArray(seal.ComprModeType.none) });
      } finally {
        secretKey.delete();
        keyGenerator.delete();
        context.delete();
      }
    }
    const publicKeys = encodePublicKeyBundle(publics);
    return { secretKeys: encodeSecretKeyBundle(secrets, publicKeys), publicKeys };
  } finally {
    for (const secret of secrets) secret.bytes.fill(0);
  }
}
