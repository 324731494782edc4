import { KeySwitchError } from './errors';

/*
 * SEAL 4.1 serialization, ComprModeType.none only (seeded or compressed objects must first be loaded
 * into SEAL and saved again with `none`). Every SEAL object starts with a 16-byte header: magic 0xA15E
 * (u16), header size 16 (u8), version 4.x (u8, u8), compression mode (u8), reserved (u16), total size (u64).
 * Ciphertext (and PublicKey): parms_id (4 × u64), NTT flag (u8), size, N, number of primes (u64 each),
 * scale (f64), correction factor (u64), then the coefficients as a nested DynArray (its own 16-byte
 * header, a u64 count, the u64 values) ordered polynomial → prime → coefficient.
 * SecretKey (a Plaintext): parms_id, coefficient count (u64), scale (f64), then the nested DynArray.
 */

const MAGIC = 0xa15e;
const HEADER_BYTES = 16;
const CIPHERTEXT_DATA_OFFSET = 113;
const PLAINTEXT_DATA_OFFSET = 88;

/** A SEAL ciphertext (or public key) as plain numbers: what the RNS arithmetic works on. */
export interface CiphertextImage {
  parmsId: Uint8Array;
  ntt: boolean;
  size: number;
  n: number;
  primeCount: number;
  scale: number;
  correctionFactor: bigint;
  /** `size × primeCount × n` residues, polynomial → prime → coefficient. */
  data: BigUint64Array;
}

/** A secret key: `primeCount × n` residues in NTT form at the key level (special prime included). */
export interface SecretKeyImage {
  parmsId: Uint8Array;
  n: number;
  primeCount: number;
  data: BigUint64Array;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkHeader(bytes: Uint8Array, at: number, expectedSize: number | null, what: string): void {
  if (bytes.length < at + HEADER_BYTES) throw new KeySwitchError('BAD_OBJECT', `${what} is too short`);
  const dv = view(bytes);
  if (dv.getUint16(at, true) !== MAGIC || bytes[at + 2] !== HEADER_BYTES || bytes[at + 3] !== 4) {
    throw new KeySwitchError('BAD_OBJECT', `${what} is not a SEAL 4 object`);
  }
  if (bytes[at + 5] !== 0) {
    throw new KeySwitchError('BAD_OBJECT', `${what} is compressed; save it with ComprModeType.none first`);
  }
  if (expectedSize !== null && dv.getBigUint64(at + 8, true) !== BigInt(expectedSize)) {
    throw new KeySwitchError('BAD_OBJECT', `${what} has an inconsistent size field`);
  }
}

function safeCount(value: bigint, max: number, what: string): number {
  if (value > BigInt(max)) throw new KeySwitchError('BAD_OBJECT', `${what} is out of range`);
  return Number(value);
}

function readData(bytes: Uint8Array, offset: number, count: number): BigUint64Array {
  const data = new BigUint64Array(count);
  const dv = view(bytes);
  for (let i = 0; i < count; i += 1) data[i] = dv.getBigUint64(offset + 8 * i, true);
  return data;
}

function checkResidues(data: BigUint64Array, n: number, primes: readonly bigint[], what: string): void {
  for (let k = 0; k < data.length; k += 1) {
    const prime = primes[Math.floor(k / n) % primes.length]!;
    if (data[k]! >= prime) throw new KeySwitchError('BAD_OBJECT', `${what} holds a coefficient out of range`);
  }
}

/**
 * Parses a plain (`none`) SEAL ciphertext or public key. `primes` are the moduli of its level, in order;
 * their count must match the object's, and every residue must be below its prime.
 */
export function parseCiphertextBytes(bytes: Uint8Array, primes: readonly bigint[], what: string): CiphertextImage {
  checkHeader(bytes, 0, bytes.length, what);
  if (bytes.length < CIPHERTEXT_DATA_OFFSET) throw new KeySwitchError('BAD_OBJECT', `${what} is too short`);
  const dv = view(bytes);
  const flag = bytes[48]!;
  if (flag > 1) throw new KeySwitchError('BAD_OBJECT', `${what} has an invalid NTT flag`);
  const size = safeCount(dv.getBigUint64(49, true), 16, `${what}'s polynomial count`);
  const n = safeCount(dv.getBigUint64(57, true), 32768, `${what}'s degree`);
  const primeCount = safeCount(dv.getBigUint64(65, true), 64, `${what}'s prime count`);
  if (primeCount !== primes.length || n === 0 || (n & (n - 1)) !== 0 || size < 2) {
    throw new KeySwitchError('BAD_OBJECT', `${what} does not sit at the expected level (${primes.length} primes)`);
  }
  checkHeader(bytes, 89, null, `${what}'s coefficient array`);
  const count = size * primeCount * n;
  if (dv.getBigUint64(105, true) !== BigInt(count) || bytes.length !== CIPHERTEXT_DATA_OFFSET + 8 * count) {
    throw new KeySwitchError('BAD_OBJECT', `${what} holds the wrong number of coefficients`);
  }
  const data = readData(bytes, CIPHERTEXT_DATA_OFFSET, count);
  checkResidues(data, n, primes, what);
  return {
    parmsId: bytes.slice(16, 48),
    ntt: flag === 1,
    size,
    n,
    primeCount,
    scale: dv.getFloat64(73, true),
    correctionFactor: dv.getBigUint64(81, true),
    data,
  };
}

/** The exact SEAL bytes (`none`) of `image`. */
export function encodeCiphertextBytes(image: CiphertextImage): Uint8Array {
  const count = image.size * image.primeCount * image.n;
  if (image.data.length !== count) throw new KeySwitchError('BAD_OBJECT', 'Ciphertext data has the wrong length');
  const total = CIPHERTEXT_DATA_OFFSET + 8 * count;
  const bytes = new Uint8Array(total);
  const dv = view(bytes);
  const header = (at: number, size: number) => {
    dv.setUint16(at, MAGIC, true);
    bytes[at + 2] = HEADER_BYTES;
    bytes[at + 3] = 4;
    bytes[at + 4] = 1;
    dv.setBigUint64(at + 8, BigInt(size), true);
  };
  header(0, total);
  bytes.set(image.parmsId, 16);
  bytes[48] = image.ntt ? 1 : 0;
  dv.setBigUint64(49, BigInt(image.size), true);
  dv.setBigUint64(57, BigInt(image.n), true);
  dv.setBigUint64(65, BigInt(image.primeCount), true);
  dv.setFloat64(73, image.scale, true);
  dv.setBigUint64(81, image.correctionFactor, true);
  header(89, total - 89);
  dv.setBigUint64(105, BigInt(count), true);
  for (let i = 0; i < count; i += 1) dv.setBigUint64(CIPHERTEXT_DATA_OFFSET + 8 * i, image.data[i]!, true);
  return bytes;
}

/** Parses a plain (`none`) SEAL secret key at the key level: `primes` are all of the set's primes. */
export function parseSecretKeyBytes(
  bytes: Uint8Array,
  n: number,
  primes: readonly bigint[],
  what: string,
): SecretKeyImage {
  checkHeader(bytes, 0, bytes.length, what);
  if (bytes.length < PLAINTEXT_DATA_OFFSET) throw new KeySwitchError('BAD_KEYS', `${what} is too short`);
  const dv = view(bytes);
  const count = n * primes.length;
  if (dv.getBigUint64(48, true) !== BigInt(count) || bytes.length !== PLAINTEXT_DATA_OFFSET + 8 * count) {
    throw new KeySwitchError('BAD_KEYS', `${what} does not fit the parameter set`);
  }
  checkHeader(bytes, 64, null, `${what}'s coefficient array`);
  if (dv.getBigUint64(80, true) !== BigInt(count)) throw new KeySwitchError('BAD_KEYS', `${what} is malformed`);
  const data = readData(bytes, PLAINTEXT_DATA_OFFSET, count);
  checkResidues(data, n, primes, what);
  return { parmsId: bytes.slice(16, 48), n, primeCount: primes.length, data };
}
