import type { SEALLibrary } from 'node-seal/implementation/seal';
import { beforeAll, describe, expect, it } from 'vitest';
import { getParameterSet, parameterSetIds } from '../parameters';
import { createSealContext, loadSeal } from '../seal';
import { isKeySwitchError } from './errors';
import { crtCentered, minimalPrimitiveRoot, modPow, nttTables, residues } from './rns';
import { encodeCiphertextBytes, parseCiphertextBytes, parseSecretKeyBytes } from './serialized';

/*
 * The TypeScript RNS/NTT arithmetic against SEAL's own transforms and encodings, bit for bit, on
 * random data (fresh encryptions are uniform mod each prime) at every prime of every parameter set.
 */

let seal: SEALLibrary;
beforeAll(async () => {
  seal = await loadSeal();
});

function randomCiphertext(id: (typeof parameterSetIds)[number]) {
  const set = getParameterSet(id);
  const context = createSealContext(seal, set);
  const keyGenerator = seal.KeyGenerator(context);
  const secretKey = keyGenerator.secretKey();
  const encryptor = seal.Encryptor(context, keyGenerator.createPublicKey(), secretKey);
  const evaluator = seal.Evaluator(context);
  const ciphertext = seal.CipherText();
  if (set.scheme === 'bfv') {
    const encoder = seal.BatchEncoder(context);
    encryptor.encrypt(
      encoder.encode(BigUint64Array.from({ length: set.slots }, (_, i) => BigInt(i * 7919)))!,
      ciphertext,
    );
  } else {
    const encoder = seal.CKKSEncoder(context);
    const plaintext = seal.PlainText();
    encoder.encode(
      Float64Array.from({ length: set.slots }, (_, i) => Math.sin(i)),
      2 ** 40,
      plaintext,
    );
    encryptor.encrypt(plaintext, ciphertext);
  }
  const other = seal.CipherText();
  if (set.scheme === 'bfv') evaluator.cipherTransformToNtt(ciphertext, other);
  else evaluator.cipherTransformFromNtt(ciphertext, other);
  const none = seal.ComprModeType.none;
  const coefficientForm = set.scheme === 'bfv' ? ciphertext : other;
  const nttForm = set.scheme === 'bfv' ? other : ciphertext;
  return {
    set,
    coefficientBytes: coefficientForm.saveArray(none),
    nttBytes: nttForm.saveArray(none),
    secretKeyBytes: secretKey.saveArray(none),
  };
}

describe('NTT against SEAL', () => {
  it.each(parameterSetIds)('%s: forward and inverse transforms equal SEAL bit for bit at every data prime', (id) => {
    const { set, coefficientBytes, nttBytes } = randomCiphertext(id);
    const primes = set.coeffModulus.slice(0, -1).map(BigInt);
    const coefficients = parseCiphertextBytes(coefficientBytes, primes, 'coefficient form');
    const transformed = parseCiphertextBytes(nttBytes, primes, 'NTT form');
    expect(coefficients.ntt).toBe(false);
    expect(transformed.ntt).toBe(true);
    const n = set.polyModulusDegree;
    for (let poly = 0; poly < 2; poly += 1) {
      primes.forEach((prime, i) => {
        const tables = nttTables(prime, n);
        const values = residues(coefficients.data, poly, i, primes.length, n);
        tables.forward(values);
        expect(values).toEqual(residues(transformed.data, poly, i, primes.length, n));
        tables.inverse(values);
        expect(values).toEqual(residues(coefficients.data, poly, i, primes.length, n));
      });
    }
  });

  it.each(parameterSetIds)('%s: the secret key (NTT form, special prime included) is one ternary polynomial', (id) => {
    const { set, secretKeyBytes } = randomCiphertext(id);
    const primes = set.coeffModulus.map(BigInt);
    const n = set.polyModulusDegree;
    const key = parseSecretKeyBytes(secretKeyBytes, n, primes, 'secret key');
    const rows = primes.map((prime, i) => {
      const values = residues(key.data, 0, i, primes.length, n);
      nttTables(prime, n).inverse(values);
      return values.map((value) => (value > prime / 2n ? value - prime : value));
    });
    for (const row of rows) expect(row).toEqual(rows[0]);
    expect(rows[0]!.every((value) => value >= -1n && value <= 1n)).toBe(true);
    expect(new Set(rows[0]!.map(String)).size).toBe(3);
    // CRT of the residue rows gives back the same small integers.
    expect(
      crtCentered(
        primes.map((p, i) => rows[i]!.map((v) => (v < 0n ? v + p : v))),
        primes,
      ),
    ).toEqual(rows[0]);
  });

  it('the root is the smallest primitive 2N-th root of unity', () => {
    const prime = 1099511390209n;
    const root = minimalPrimitiveRoot(8192n, prime);
    expect(modPow(root, 4096n, prime)).toBe(prime - 1n);
    for (let k = 3n; k < 8192n; k += 2n) expect(modPow(root, k, prime) >= root).toBe(true);
  });
});

describe('SEAL serialization', () => {
  it('parses and re-encodes a ciphertext to the same bytes', { timeout: 60_000 }, () => {
    for (const id of parameterSetIds) {
      const { set, coefficientBytes, nttBytes } = randomCiphertext(id);
      const primes = set.coeffModulus.slice(0, -1).map(BigInt);
      const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
      expect(same(encodeCiphertextBytes(parseCiphertextBytes(coefficientBytes, primes, 'ct')), coefficientBytes)).toBe(
        true,
      );
      expect(same(encodeCiphertextBytes(parseCiphertextBytes(nttBytes, primes, 'ct')), nttBytes)).toBe(true);
    }
  });

  it('refuses compressed, truncated, mis-levelled and out-of-range objects with BAD_OBJECT', () => {
    const { set, coefficientBytes } = randomCiphertext('bfv-n4096-t60');
    const primes = set.coeffModulus.slice(0, -1).map(BigInt);
    const compressed = Uint8Array.from(coefficientBytes);
    compressed[5] = 2;
    const outOfRange = Uint8Array.from(coefficientBytes);
    outOfRange.fill(0xff, 113, 121);
    const cases = [
      compressed,
      coefficientBytes.subarray(0, coefficientBytes.length - 8),
      outOfRange,
      new Uint8Array(10),
    ];
    for (const bytes of cases) {
      expect(() => parseCiphertextBytes(bytes, primes, 'ct')).toThrow(
        expect.objectContaining({ keySwitchCode: 'BAD_OBJECT' }),
      );
    }
    let error: unknown;
    try {
      parseCiphertextBytes(coefficientBytes, set.coeffModulus.map(BigInt), 'ct');
    } catch (caught) {
      error = caught;
    }
    expect(isKeySwitchError(error, 'BAD_OBJECT')).toBe(true);
  });
});
