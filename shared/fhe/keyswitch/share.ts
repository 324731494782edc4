import { getParameterSet, type ParameterSet, type ParameterSetId } from '../parameters';
import { KeySwitchError } from './errors';
import {
  addInPlace,
  crtCentered,
  nttTables,
  pointwiseMul,
  pointwiseMulAdd,
  reduceSigned,
  residues,
  sampleClippedNormal,
  sampleTernary,
  sampleUniformSigned,
  storeResidues,
} from './rns';
import {
  encodeCiphertextBytes,
  parseCiphertextBytes,
  parseSecretKeyBytes,
  type CiphertextImage,
  type SecretKeyImage,
} from './serialized';

/*
 * Public-key switching of one result ciphertext (Mouchet, Troncoso-Pastoriza, Bossuat, Hubaux: PCKS):
 * from the result's c1, the owner's secret s and the lab's public key (pk0, pk1) = (−a·s' + e', a),
 *   h0 = s·c1 + u·pk0 + e0,   h1 = u·pk1 + e1,
 * so that (c0 + h0, h1) decrypts under the lab's secret s' to the result's plaintext. See
 * docs/KEY_SWITCHING.md for the noise analysis and the two modes:
 *   - 'flood': e0 uniform in [−B, B] with the largest B the decryption margin allows; refused unless
 *     B hides the result's own noise statistically to `minStatisticalSecurity` bits;
 *   - 'cancel' (BFV): e0 = e − v, where v is the result's own noise (measured by the owner, who holds s)
 *     and e a fresh error, so the lab's view is a fresh encryption of the plaintext under its key.
 */

export type ShareMode = 'flood' | 'cancel';

export interface ShareOptions {
  /** Default: 'cancel' for BFV, 'flood' for CKKS. */
  mode?: ShareMode;
  /** Flood mode: the statistical distance bound between real and simulated shares must be ≤ 2^−this. Default 40. */
  minStatisticalSecurity?: number;
  /** CKKS flood mode: log2 of the smudging bound B (precision given up: ≈ B·√N / scale per slot). Default 16. */
  ckksSmudgingBits?: number;
  /**
   * CKKS only: the caller accepts that the share hides the owner's key computationally, not
   * statistically (no CKKS flooding reaches 40 bits at a useful precision; KEY_SWITCHING.md). Required.
   */
  acceptComputationalHiding?: boolean;
}

/** What the owner learns about the margin of one share (never sent to the lab: it describes the result's noise). */
export interface ShareReport {
  mode: ShareMode;
  /** log2 of the largest absolute coefficient of the result's own noise (BFV; null for CKKS). */
  resultNoiseBits: number | null;
  /** log2 of q/(2t): the noise BFV decryption tolerates (null for CKKS). */
  decryptionBoundBits: number | null;
  /** log2 of the smudging bound B (flood), or of the fresh error bound (cancel). */
  smudgingBits: number;
  /** −log2 of the statistical distance bound N·|v|/(2B+1) (flood); null in cancel mode (the view is simulated exactly). */
  statisticalSecurityBits: number | null;
}

export interface ShareInput {
  parameterSetId: ParameterSetId;
  /** The result ciphertext, SEAL bytes saved with ComprModeType.none. */
  ciphertext: Uint8Array;
  /** The owner's SecretKey for this set, SEAL bytes (none), key level. */
  ownerSecretKey: Uint8Array;
  /** The lab's PublicKey for this set, SEAL bytes (none), key level. */
  labPublicKey: Uint8Array;
}

const SIGMA = 3.2;

function log2Big(value: bigint): number {
  if (value <= 0n) return -Infinity;
  const bits = value.toString(2).length;
  if (bits <= 52) return Math.log2(Number(value));
  return bits - 52 + Math.log2(Number(value >> BigInt(bits - 52)));
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/** The primes of a ciphertext's level: the first `count` of the set's (the special prime is never one). */
export function levelPrimes(set: ParameterSet, count: number): bigint[] {
  if (!Number.isInteger(count) || count < 1 || count > set.coeffModulus.length - 1) {
    throw new KeySwitchError('BAD_OBJECT', `A ${set.id} ciphertext cannot have ${count} primes`);
  }
  return set.coeffModulus.slice(0, count).map(BigInt);
}

/** Parses a result ciphertext of `set` at whatever data level it sits. */
export function parseResultCiphertext(set: ParameterSet, bytes: Uint8Array, what: string): CiphertextImage {
  if (!(bytes instanceof Uint8Array) || bytes.length < 113)
    throw new KeySwitchError('BAD_OBJECT', `${what} is too short`);
  const primeCount = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(65, true));
  const image = parseCiphertextBytes(bytes, levelPrimes(set, Math.min(primeCount, 64)), what);
  if (image.n !== set.polyModulusDegree || image.size !== 2) {
    throw new KeySwitchError('BAD_OBJECT', `${what} is not a two-part ${set.id} ciphertext`);
  }
  if (image.ntt !== (set.scheme === 'ckks')) {
    throw new KeySwitchError('BAD_OBJECT', `${what} is not in the form SEAL keeps ${set.scheme} ciphertexts`);
  }
  return image;
}

function parseKeys(set: ParameterSet, input: ShareInput): { sk: SecretKeyImage; pk: CiphertextImage } {
  const allPrimes = set.coeffModulus.map(BigInt);
  let sk: SecretKeyImage;
  let pk: CiphertextImage;
  try {
    sk = parseSecretKeyBytes(input.ownerSecretKey, set.polyModulusDegree, allPrimes, 'The owner secret key');
    pk = parseCiphertextBytes(input.labPublicKey, allPrimes, 'The lab public key');
  } catch (error) {
    if (error instanceof KeySwitchError) throw new KeySwitchError('BAD_KEYS', error.message, { cause: error });
    throw error;
  }
  if (pk.size !== 2 || !pk.ntt || pk.n !== set.polyModulusDegree) {
    throw new KeySwitchError('BAD_KEYS', `The lab public key is not a ${set.id} public key`);
  }
  if (!sk.parmsId.every((byte, i) => byte === pk.parmsId[i])) {
    throw new KeySwitchError('BAD_KEYS', 'The owner secret key and the lab public key are of different parameters');
  }
  return { sk, pk };
}

/** The owner's decryption before rounding, x = c0 + c1·s mod q, per prime in coefficient form. */
function phaseRows(ct: CiphertextImage, sk: SecretKeyImage, primes: readonly bigint[]): bigint[][] {
  const n = ct.n;
  return primes.map((p, i) => {
    const tables = nttTables(p, n);
    const c1 = residues(ct.data, 1, i, ct.primeCount, n);
    if (!ct.ntt) tables.forward(c1);
    const s = residues(sk.data, 0, i, sk.primeCount, n);
    const x = residues(ct.data, 0, i, ct.primeCount, n);
    if (!ct.ntt) tables.forward(x);
    pointwiseMulAdd(x, s, c1, p);
    tables.inverse(x);
    return x;
  });
}

/**
 * BFV: the result's own noise v (integer, per coefficient) such that x − v = round(q·m/t) exactly,
 * with m = round(t·x/q) the plaintext the owner would decrypt.
 */
function bfvNoise(x: readonly bigint[], q: bigint, t: bigint): bigint[] {
  return x.map((value) => {
    const numerator = t * value;
    // m = round(t·x / q), with correct rounding for negative values.
    const m = numerator >= 0n ? (2n * numerator + q) / (2n * q) : -((-2n * numerator + q) / (2n * q));
    const scaled = q * m;
    const target = scaled >= 0n ? (2n * scaled + t) / (2n * t) : -((-2n * scaled + t) / (2n * t));
    return value - target;
  });
}

/** High-probability bound on |u·e' + s'·e1| (lab side): 10 standard deviations of each term, N-term sums. */
function labNoiseBound(n: number): bigint {
  const std = SIGMA * Math.sqrt((2 * n) / 3);
  return BigInt(Math.ceil(2 * 10 * std)) + 1n;
}

/**
 * Computes the key-switching share of one result ciphertext. Pure arithmetic over SEAL's bytes; the
 * secret key is read, never copied into the output. Returns the share as SEAL ciphertext bytes (none)
 * with the result's parms_id, NTT flag and scale, and a report for the owner.
 */
export function createKeySwitchShare(
  input: ShareInput,
  options: ShareOptions = {},
): { share: Uint8Array; report: ShareReport } {
  const set = getParameterSet(input.parameterSetId);
  const ct = parseResultCiphertext(set, input.ciphertext, 'The result ciphertext');
  const { sk, pk } = parseKeys(set, input);
  const n = ct.n;
  const primes = levelPrimes(set, ct.primeCount);
  const q = primes.reduce((a, b) => a * b, 1n);
  const mode: ShareMode = options.mode ?? (set.scheme === 'bfv' ? 'cancel' : 'flood');
  const minSecurity = options.minStatisticalSecurity ?? 40;

  let e0: bigint[];
  let report: ShareReport;
  if (set.scheme === 'bfv') {
    const t = BigInt(set.plainModulus!);
    const x = crtCentered(phaseRows(ct, sk, primes), primes);
    const v = bfvNoise(x, q, t);
    const vMax = v.reduce((m, value) => (abs(value) > m ? abs(value) : m), 0n);
    // x is the owner's decryption and v, with the public c, determines s: neither outlives this call.
    x.fill(0n);
    const bound = q / (2n * t);
    if (mode === 'cancel') {
      const fresh = sampleClippedNormal(n);
      e0 = fresh.map((e, j) => e - v[j]!);
      fresh.fill(0n);
      report = {
        mode,
        resultNoiseBits: log2Big(vMax),
        decryptionBoundBits: log2Big(bound),
        smudgingBits: Math.log2(6 * SIGMA),
        statisticalSecurityBits: null,
      };
    } else {
      // Half the room left: SEAL's decryptor then still reports a positive noise budget (total < q/4t).
      const smudging = (bound - vMax - labNoiseBound(n) - 1n) / 2n;
      const lambda =
        smudging <= 0n
          ? -Infinity
          : vMax === 0n
            ? Infinity
            : log2Big(2n * smudging + 1n) - Math.log2(n) - log2Big(vMax);
      if (!(lambda >= minSecurity)) {
        throw new KeySwitchError(
          'INSUFFICIENT_MARGIN',
          `Flooding the result's noise (2^${log2Big(vMax).toFixed(1)}) within q/2t = 2^${log2Big(bound).toFixed(1)} ` +
            `reaches ${Number.isFinite(lambda) ? lambda.toFixed(1) : 'no'} bits of statistical security; ${minSecurity} needed`,
        );
      }
      e0 = sampleUniformSigned(n, smudging);
      report = {
        mode,
        resultNoiseBits: log2Big(vMax),
        decryptionBoundBits: log2Big(bound),
        smudgingBits: log2Big(smudging),
        statisticalSecurityBits: lambda,
      };
    }
    v.fill(0n);
  } else {
    if (mode !== 'flood') throw new KeySwitchError('BAD_SHARE', 'CKKS shares are flooded (no exact noise to cancel)');
    if (options.acceptComputationalHiding !== true) {
      throw new KeySwitchError(
        'INSUFFICIENT_MARGIN',
        'A CKKS share hides the owner key computationally only; the caller must accept that explicitly',
      );
    }
    const bits = options.ckksSmudgingBits ?? 16;
    if (!Number.isInteger(bits) || bits < 0 || bits > (set.scaleBits ?? 40) - 8) {
      throw new KeySwitchError('BAD_SHARE', `A CKKS smudging bound of 2^${bits} is out of range`);
    }
    e0 = sampleUniformSigned(n, 1n << BigInt(bits));
    report = {
      mode,
      resultNoiseBits: null,
      decryptionBoundBits: null,
      smudgingBits: bits,
      // The owner cannot separate CKKS noise from the message; see KEY_SWITCHING.md.
      statisticalSecurityBits: null,
    };
  }

  const u = sampleTernary(n);
  const e1 = sampleClippedNormal(n);
  const share: CiphertextImage = { ...ct, parmsId: ct.parmsId.slice(), data: new BigUint64Array(ct.data.length) };
  for (let i = 0; i < primes.length; i += 1) {
    const p = primes[i]!;
    const tables = nttTables(p, n);
    const c1 = residues(ct.data, 1, i, ct.primeCount, n);
    if (!ct.ntt) tables.forward(c1);
    const s = residues(sk.data, 0, i, sk.primeCount, n);
    const uNtt = reduceSigned(u, p);
    tables.forward(uNtt);
    const pk0 = residues(pk.data, 0, i, pk.primeCount, n);
    const pk1 = residues(pk.data, 1, i, pk.primeCount, n);
    const h0 = pointwiseMul(s, c1, p);
    pointwiseMulAdd(h0, uNtt, pk0, p);
    const h1 = pointwiseMul(uNtt, pk1, p);
    const e0p = reduceSigned(e0, p);
    const e1p = reduceSigned(e1, p);
    if (ct.ntt) {
      tables.forward(e0p);
      tables.forward(e1p);
    } else {
      tables.inverse(h0);
      tables.inverse(h1);
    }
    addInPlace(h0, e0p, p);
    addInPlace(h1, e1p, p);
    storeResidues(share.data, 0, i, ct.primeCount, n, h0);
    storeResidues(share.data, 1, i, ct.primeCount, n, h1);
    s.fill(0n);
  }
  e0.fill(0n);
  u.fill(0n);
  e1.fill(0n);
  return { share: encodeCiphertextBytes(share), report };
}

/** The lab's side: (c0 + h0, h1), a ciphertext under the lab's key (SEAL bytes, none). */
export function combineShare(parameterSetId: ParameterSetId, ciphertext: Uint8Array, share: Uint8Array): Uint8Array {
  const set = getParameterSet(parameterSetId);
  const ct = parseResultCiphertext(set, ciphertext, 'The result ciphertext');
  let h: CiphertextImage;
  try {
    h = parseResultCiphertext(set, share, 'The share');
  } catch (error) {
    if (error instanceof KeySwitchError) throw new KeySwitchError('BAD_SHARE', error.message, { cause: error });
    throw error;
  }
  if (
    h.primeCount !== ct.primeCount ||
    h.ntt !== ct.ntt ||
    h.scale !== ct.scale ||
    !h.parmsId.every((byte, i) => byte === ct.parmsId[i])
  ) {
    throw new KeySwitchError('BAD_SHARE', 'The share was made for a ciphertext at another level or scale');
  }
  const n = ct.n;
  const primes = levelPrimes(set, ct.primeCount);
  const out: CiphertextImage = { ...ct, data: new BigUint64Array(ct.data.length) };
  for (let i = 0; i < primes.length; i += 1) {
    const p = primes[i]!;
    const c0 = residues(ct.data, 0, i, ct.primeCount, n);
    addInPlace(c0, residues(h.data, 0, i, h.primeCount, n), p);
    storeResidues(out.data, 0, i, ct.primeCount, n, c0);
    storeResidues(out.data, 1, i, ct.primeCount, n, residues(h.data, 1, i, h.primeCount, n));
  }
  return encodeCiphertextBytes(out);
}
