import { describe, expect, it } from 'vitest';
import { isFheError } from './errors';
import {
  DEFAULT_PARAMETER_SUITE,
  fheParamsHash,
  getParameterSet,
  HE_STANDARD_MAX_LOG_Q_128,
  PARAMETER_SETS,
  parameterSetHash,
  parameterSetIds,
  type ParameterSet,
} from './parameters';
import { createSealContext, loadSeal } from './seal';

function isPrime(n: bigint): boolean {
  if (n < 2n) return false;
  // Miller-Rabin with the first 12 primes as bases is exact below 3.3e24.
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  let d = n - 1n;
  let r = 0;
  while (d % 2n === 0n) {
    d /= 2n;
    r += 1;
  }
  const power = (base: bigint, exponent: bigint): bigint => {
    let result = 1n;
    let b = base % n;
    for (let e = exponent; e > 0n; e >>= 1n) {
      if (e & 1n) result = (result * b) % n;
      b = (b * b) % n;
    }
    return result;
  };
  return bases.every((base) => {
    if (base % n === 0n) return true;
    let x = power(base, d);
    if (x === 1n || x === n - 1n) return true;
    for (let i = 1; i < r; i += 1) {
      x = (x * x) % n;
      if (x === n - 1n) return true;
    }
    return false;
  });
}

describe('parameter sets', () => {
  it('keep their hashes (they go on chain: a change here is a new parameter set)', () => {
    expect(Object.fromEntries(parameterSetIds.map((id) => [id, parameterSetHash(id)]))).toEqual({
      'bfv-n4096-t60': '0x67dd022937bdc0654c50784c27c4840469cbaf76b53beff30538c94a3840d14f',
      'ckks-n8192-s40': '0xab079d1f3d7e3f464371761cd3892b4630d7777f2bd899d4f986e27c07b0fd4e',
      'ckks-n16384-s40': '0x0f356ee8710280e33ff99016e0f1db6dfaceada9184caa044a32808ecc1965b6',
    });
    expect(fheParamsHash(DEFAULT_PARAMETER_SUITE)).toBe(
      '0x0e2fdbcbf7e3ee2802588e8368f67d66189427adef9bd4799f0905add463c2fa',
    );
  });

  it('hash the mathematics, not the name', () => {
    const set = PARAMETER_SETS['bfv-n4096-t60'];
    const renamed = { ...set, purpose: 'something else' } satisfies ParameterSet;
    expect(parameterSetHash(renamed)).toBe(parameterSetHash(set));
    const otherPrime = { ...set, coeffModulus: ['1099511480321', '1099511390209', '536813569'] };
    expect(parameterSetHash(otherPrime)).not.toBe(parameterSetHash(set));
    expect(fheParamsHash({ genotypes: 'bfv-n4096-t60', numeric: null })).not.toBe(
      fheParamsHash(DEFAULT_PARAMETER_SUITE),
    );
  });

  it('stay within the HE standard bound for 128-bit security, with NTT-friendly primes of the named sizes', () => {
    for (const set of Object.values(PARAMETER_SETS)) {
      const totalBits = set.coeffModulusBits.reduce((sum, bits) => sum + bits, 0);
      expect(totalBits).toBeLessThanOrEqual(HE_STANDARD_MAX_LOG_Q_128[set.polyModulusDegree]!);
      set.coeffModulus.forEach((prime, i) => {
        const q = BigInt(prime);
        expect(q.toString(2).length).toBe(set.coeffModulusBits[i]);
        expect(isPrime(q)).toBe(true);
        expect(q % BigInt(2 * set.polyModulusDegree)).toBe(1n);
      });
      if (set.plainModulus !== null) {
        const t = BigInt(set.plainModulus);
        expect(isPrime(t) && t % BigInt(2 * set.polyModulusDegree) === 1n).toBe(true);
      }
      expect(set.slots).toBe(set.scheme === 'bfv' ? set.polyModulusDegree : set.polyModulusDegree / 2);
    }
  });

  it('build in SEAL at tc128 with exactly the named primes', async () => {
    const seal = await loadSeal();
    for (const set of Object.values(PARAMETER_SETS)) {
      const context = createSealContext(seal, set);
      expect(context.parametersSet()).toBe(true);
      expect(context.usingKeyswitching).toBe(true);
      context.delete();
    }
  });

  it('refuse unknown names', () => {
    let caught: unknown;
    try {
      getParameterSet('bfv-n2048');
    } catch (error) {
      caught = error;
    }
    expect(isFheError(caught, 'BAD_PARAMETERS')).toBe(true);
  });
});
