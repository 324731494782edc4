import type { Context } from 'node-seal/implementation/context';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { parsePublicKeyBundle, parseSecretKeyBundle, secretKeyFor } from '../key-bundles';
import { getParameterSet, type ParameterSetId } from '../parameters';
import { createSealContext } from '../seal';
import { KeySwitchError } from './errors';

/*
 * The SEAL side of key switching: SEAL validates every object on load, and re-saving with
 * ComprModeType.none turns seeded/compressed objects into the plain layout the arithmetic reads.
 */

type Loadable = {
  loadArray(context: Context, bytes: Uint8Array): void;
  saveArray(mode?: unknown): Uint8Array;
  delete(): void;
};

function normalize(
  seal: SEALLibrary,
  context: Context,
  object: Loadable,
  bytes: Uint8Array,
  what: string,
  code: 'BAD_OBJECT' | 'BAD_KEYS',
): Uint8Array {
  try {
    object.loadArray(context, bytes);
    return object.saveArray(seal.ComprModeType.none);
  } catch (error) {
    throw new KeySwitchError(code, `${what} is not a valid SEAL object for these parameters`, { cause: error });
  } finally {
    object.delete();
  }
}

/** A ciphertext (any SEAL compression, seeded or not) as plain bytes, validated by SEAL. */
export function plainCiphertext(
  seal: SEALLibrary,
  context: Context,
  bytes: Uint8Array,
  what = 'The ciphertext',
): Uint8Array {
  return normalize(seal, context, seal.CipherText() as unknown as Loadable, bytes, what, 'BAD_OBJECT');
}

export function plainPublicKey(seal: SEALLibrary, context: Context, bytes: Uint8Array): Uint8Array {
  return normalize(seal, context, seal.PublicKey() as unknown as Loadable, bytes, 'The public key', 'BAD_KEYS');
}

export function plainSecretKey(seal: SEALLibrary, context: Context, bytes: Uint8Array): Uint8Array {
  return normalize(seal, context, seal.SecretKey() as unknown as Loadable, bytes, 'The secret key', 'BAD_KEYS');
}

/** The public key for `parameterSetId` in a public key bundle (`encodePublicKeyBundle`). */
export function publicKeyFromBundle(bundle: Uint8Array, parameterSetId: ParameterSetId): Uint8Array {
  let entries;
  try {
    entries = parsePublicKeyBundle(bundle);
  } catch (error) {
    throw new KeySwitchError('BAD_KEYS', 'The lab public key bundle is malformed', { cause: error });
  }
  const part = entries.find((entry) => entry.parameterSetId === parameterSetId)?.parts.find((p) => p.kind === 'public');
  if (!part) throw new KeySwitchError('BAD_KEYS', `The lab has no public key for ${parameterSetId}`);
  return part.bytes;
}

/** The secret key for `parameterSetId` in a secret key bundle, and the digest of its public bundle. */
export function secretKeyFromBundle(
  bundle: Uint8Array,
  parameterSetId: ParameterSetId,
): { secretKey: Uint8Array; publicKeysDigest: string } {
  try {
    const parsed = parseSecretKeyBundle(bundle);
    return { secretKey: secretKeyFor(parsed, parameterSetId), publicKeysDigest: parsed.publicKeysDigest };
  } catch (error) {
    throw new KeySwitchError('BAD_KEYS', `The secret keys hold no usable key for ${parameterSetId}`, { cause: error });
  }
}

/** Runs `use` with a SEAL context for the set, deleted afterwards. */
export function withContext<T>(seal: SEALLibrary, parameterSetId: ParameterSetId, use: (context: Context) => T): T {
  const context = createSealContext(seal, getParameterSet(parameterSetId));
  try {
    return use(context);
  } finally {
    context.delete();
  }
}

/**
 * Decrypts a (combined) ciphertext with a secret key (plain or SEAL bytes) and decodes its slots:
 * BFV → unsigned slot values mod t, CKKS → real slot values. Refuses a BFV ciphertext with no noise budget.
 */
export function decryptSlots(
  seal: SEALLibrary,
  context: Context,
  parameterSetId: ParameterSetId,
  secretKeyBytes: Uint8Array,
  ciphertextBytes: Uint8Array,
): BigUint64Array | Float64Array {
  const set = getParameterSet(parameterSetId);
  const secretKey = seal.SecretKey();
  const ciphertext = seal.CipherText();
  try {
    try {
      secretKey.loadArray(context, secretKeyBytes);
    } catch (error) {
      throw new KeySwitchError('BAD_KEYS', `The secret key does not fit ${parameterSetId}`, { cause: error });
    }
    try {
      ciphertext.loadArray(context, ciphertextBytes);
    } catch (error) {
      throw new KeySwitchError('BAD_OBJECT', 'The switched ciphertext is not valid for these parameters', {
        cause: error,
      });
    }
    const decryptor = seal.Decryptor(context, secretKey);
    try {
      if (set.scheme === 'bfv' && decryptor.invariantNoiseBudget(ciphertext) <= 0) {
        throw new KeySwitchError(
          'BAD_SHARE',
          'The switched ciphertext does not decrypt under this key (no noise budget)',
        );
      }
      const plaintext = decryptor.decrypt(ciphertext)!;
      try {
        if (set.scheme === 'bfv') {
          const encoder = seal.BatchEncoder(context);
          try {
            return encoder.decodeBigInt(plaintext, false) as BigUint64Array;
          } finally {
            encoder.delete();
          }
        }
        const encoder = seal.CKKSEncoder(context);
        try {
          return encoder.decode(plaintext);
        } finally {
          encoder.delete();
        }
      } finally {
        plaintext.delete();
      }
    } finally {
      decryptor.delete();
    }
  } finally {
    ciphertext.delete();
    secretKey.delete();
  }
}
