import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { Context } from 'node-seal/implementation/context';
import type { ParmsIdType } from 'node-seal/implementation/parms-id-type';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { FheError, type FheErrorCode } from './errors';
import type { ParameterSet } from './parameters';

export type { SEALLibrary, Context as SealContext, CipherText as SealCiphertext };

let sealLibrary: Promise<SEALLibrary> | null = null;

/** node-seal 6 (SEAL 4.1 in WebAssembly), loaded once per thread. */
export function loadSeal(): Promise<SEALLibrary> {
  sealLibrary ??= import('node-seal').then((module) => module.default());
  return sealLibrary;
}

/**
 * A SEAL context for `set`, with SEAL enforcing 128-bit security. Fails if this SEAL build picks
 * different primes than the set names, since the parameter hash would then describe other mathematics.
 */
export function createSealContext(seal: SEALLibrary, set: ParameterSet): Context {
  const parms = seal.EncryptionParameters(set.scheme === 'bfv' ? seal.SchemeType.bfv : seal.SchemeType.ckks);
  try {
    parms.setPolyModulusDegree(set.polyModulusDegree);
    const coeffModulus = seal.CoeffModulus.Create(set.polyModulusDegree, Int32Array.from(set.coeffModulusBits));
    parms.setCoeffModulus(coeffModulus);
    coeffModulus.delete();
    const primes = Array.from(parms.coeffModulus, (prime) => prime.toString());
    if (primes.join(',') !== set.coeffModulus.join(',')) {
      throw new FheError('BAD_PARAMETERS', `SEAL chose primes ${primes.join(',')} for ${set.id}, not the named ones`);
    }
    if (set.plainModulus !== null) {
      const plainModulus = seal.Modulus(BigInt(set.plainModulus));
      parms.setPlainModulus(plainModulus);
      plainModulus.delete();
    }
    const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
    if (!context.parametersSet()) {
      context.delete();
      throw new FheError('BAD_PARAMETERS', `SEAL rejects the parameters of ${set.id}`);
    }
    return context;
  } finally {
    parms.delete();
  }
}

function sameParmsId(a: ParmsIdType, b: ParmsIdType): boolean {
  const x = a.values;
  const y = b.values;
  return x.length === y.length && x.every((value, i) => value === y[i]);
}

/**
 * Loads a serialized ciphertext (SEAL validates it against `context`) and checks it sits at the
 * expected level with two polynomials: a fresh or summed ciphertext, nothing else.
 */
export function loadCiphertext(
  seal: SEALLibrary,
  context: Context,
  bytes: Uint8Array,
  what: string,
  errorCode: FheErrorCode,
  into?: CipherText,
  level: 'first' | 'any' = 'first',
): CipherText {
  const ciphertext = into ?? seal.CipherText();
  try {
    ciphertext.loadArray(context, bytes);
  } catch (error) {
    if (!into) ciphertext.delete();
    throw new FheError(errorCode, `${what} is not a valid ciphertext for these parameters`, { cause: error });
  }
  const parmsId = ciphertext.parmsId;
  const first = context.firstParmsId;
  try {
    if (ciphertext.size !== 2 || (level === 'first' && !sameParmsId(parmsId, first))) {
      if (!into) ciphertext.delete();
      throw new FheError(errorCode, `${what} is not a two-part ciphertext at the expected level`);
    }
  } finally {
    parmsId.delete();
    first.delete();
  }
  return ciphertext;
}
