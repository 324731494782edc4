import { randomBytes } from 'node:crypto';

/*
 * Polynomial arithmetic in R_q = Z_q[X]/(X^N + 1) with q a product of word-size primes, in RNS form
 * (one residue polynomial per prime), bit-exact with SEAL 4.1: SEAL's negacyclic NTT uses the minimal
 * primitive 2N-th root of unity ψ of each prime, takes input in natural order and leaves the output in
 * bit-reversed order (Cooley–Tukey with ψ powers in bit-reversed order; the inverse is Gentleman–Sande
 * with ψ⁻¹ powers, then a multiplication by N⁻¹). Values are BigInt: the primes reach 60 bits.
 */

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

export function modInverse(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [((value % modulus) + modulus) % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % modulus) + modulus) % modulus;
}

function bitReverse(value: number, bits: number): number {
  let result = 0;
  for (let i = 0; i < bits; i += 1) result |= ((value >> i) & 1) << (bits - 1 - i);
  return result;
}

/** The smallest primitive 2N-th root of unity mod `prime` (SEAL's choice). Needs prime ≡ 1 mod 2N. */
export function minimalPrimitiveRoot(twoN: bigint, prime: bigint): bigint {
  if ((prime - 1n) % twoN !== 0n) throw new RangeError(`${prime} is not 1 mod ${twoN}`);
  const cofactor = (prime - 1n) / twoN;
  const half = twoN / 2n;
  let root = 0n;
  for (let x = 2n; root === 0n; x += 1n) {
    const candidate = modPow(x, cofactor, prime);
    // Primitive 2N-th root iff its N-th power is −1 (2N is a power of two).
    if (modPow(candidate, half, prime) === prime - 1n) root = candidate;
  }
  // Every primitive 2N-th root is root^k for odd k: take the smallest.
  const square = (root * root) % prime;
  let best = root;
  let current = root;
  for (let k = 3n; k < twoN; k += 2n) {
    current = (current * square) % prime;
    if (current < best) best = current;
  }
  return best;
}

/** Precomputed NTT tables for one prime and degree. */
export class NttTables {
  readonly prime: bigint;
  readonly n: number;
  readonly psi: bigint;
  private readonly rootPowers: bigint[];
  private readonly invRootPowers: bigint[];
  private readonly invN: bigint;

  constructor(prime: bigint, n: number) {
    this.prime = prime;
    this.n = n;
    const logN = Math.log2(n);
    if (!Number.isInteger(logN) || logN < 1) throw new RangeError('N must be a power of two');
    this.psi = minimalPrimitiveRoot(BigInt(2 * n), prime);
    const psiInv = modInverse(this.psi, prime);
    const powers = new Array<bigint>(n);
    const invPowers = new Array<bigint>(n);
    let p = 1n;
    let q = 1n;
    for (let i = 0; i < n; i += 1) {
      powers[i] = p;
      invPowers[i] = q;
      p = (p * this.psi) % prime;
      q = (q * psiInv) % prime;
    }
    this.rootPowers = Array.from({ length: n }, (_, i) => powers[bitReverse(i, logN)]!);
    this.invRootPowers = Array.from({ length: n }, (_, i) => invPowers[bitReverse(i, logN)]!);
    this.invN = modInverse(BigInt(n), prime);
  }

  /** In place: coefficients (natural order) → NTT values (SEAL's bit-reversed order). */
  forward(a: bigint[]): void {
    const p = this.prime;
    const n = this.n;
    let t = n;
    for (let m = 1; m < n; m <<= 1) {
      t >>= 1;
      for (let i = 0; i < m; i += 1) {
        const j1 = 2 * i * t;
        const s = this.rootPowers[m + i]!;
        for (let j = j1; j < j1 + t; j += 1) {
          const u = a[j]!;
          const v = (a[j + t]! * s) % p;
          const sum = u + v;
          a[j] = sum >= p ? sum - p : sum;
          const diff = u - v;
          a[j + t] = diff < 0n ? diff + p : diff;
        }
      }
    }
  }

  /** In place: NTT values → coefficients. */
  inverse(a: bigint[]): void {
    const p = this.prime;
    const n = this.n;
    let t = 1;
    for (let m = n; m > 1; m >>= 1) {
      const h = m >> 1;
      let j1 = 0;
      for (let i = 0; i < h; i += 1) {
        const s = this.invRootPowers[h + i]!;
        for (let j = j1; j < j1 + t; j += 1) {
          const u = a[j]!;
          const v = a[j + t]!;
          const sum = u + v;
          a[j] = sum >= p ? sum - p : sum;
          const diff = u - v;
          a[j + t] = ((diff < 0n ? diff + p : diff) * s) % p;
        }
        j1 += 2 * t;
      }
      t <<= 1;
    }
    for (let j = 0; j < n; j += 1) a[j] = (a[j]! * this.invN) % p;
  }
}

const tableCache = new Map<string, NttTables>();

/** Cached NTT tables for (prime, N). */
export function nttTables(prime: bigint, n: number): NttTables {
  const key = `${prime}:${n}`;
  let tables = tableCache.get(key);
  if (!tables) {
    tables = new NttTables(prime, n);
    tableCache.set(key, tables);
  }
  return tables;
}

/** The residues of prime `index` of polynomial `poly` in a SEAL data array, as a BigInt array (a copy). */
export function residues(data: BigUint64Array, poly: number, index: number, primeCount: number, n: number): bigint[] {
  const start = (poly * primeCount + index) * n;
  return Array.from(data.subarray(start, start + n));
}

export function storeResidues(
  data: BigUint64Array,
  poly: number,
  index: number,
  primeCount: number,
  n: number,
  values: readonly bigint[],
): void {
  const start = (poly * primeCount + index) * n;
  for (let j = 0; j < n; j += 1) data[start + j] = values[j]!;
}

export function pointwiseMul(a: readonly bigint[], b: readonly bigint[], p: bigint): bigint[] {
  return a.map((x, j) => (x * b[j]!) % p);
}

export function pointwiseMulAdd(acc: bigint[], a: readonly bigint[], b: readonly bigint[], p: bigint): void {
  for (let j = 0; j < acc.length; j += 1) acc[j] = (acc[j]! + a[j]! * b[j]!) % p;
}

export function addInPlace(acc: bigint[], b: readonly bigint[], p: bigint): void {
  for (let j = 0; j < acc.length; j += 1) {
    const sum = acc[j]! + b[j]!;
    acc[j] = sum >= p ? sum - p : sum;
  }
}

/** A signed integer polynomial's residues mod `p` (|coefficients| < p). */
export function reduceSigned(values: readonly bigint[], p: bigint): bigint[] {
  return values.map((v) => {
    const r = v % p;
    return r < 0n ? r + p : r;
  });
}

/** Centered residue in (−q/2, q/2]. */
export function centered(value: bigint, modulus: bigint): bigint {
  return value > modulus / 2n ? value - modulus : value;
}

/** CRT: one integer mod Π primes (centered) per coefficient, from per-prime residue arrays. */
export function crtCentered(rows: readonly (readonly bigint[])[], primes: readonly bigint[]): bigint[] {
  const q = primes.reduce((a, b) => a * b, 1n);
  const weights = primes.map((p) => {
    const qHat = q / p;
    return (qHat * modInverse(qHat % p, p)) % q;
  });
  const n = rows[0]!.length;
  const out = new Array<bigint>(n);
  for (let j = 0; j < n; j += 1) {
    let x = 0n;
    for (let i = 0; i < primes.length; i += 1) x += rows[i]![j]! * weights[i]!;
    out[j] = centered(x % q, q);
  }
  return out;
}

/* ---------- sampling (crypto.randomBytes only) ---------- */

/** Uniform ternary polynomial (coefficients −1, 0, 1), like SEAL's secret keys and u. */
export function sampleTernary(n: number): bigint[] {
  const out: bigint[] = [];
  while (out.length < n) {
    const bytes = randomBytes(n);
    for (const byte of bytes) {
      if (byte >= 255 || out.length >= n) continue;
      out.push(BigInt((byte % 3) - 1));
    }
  }
  return out;
}

/** Rounded normal with standard deviation σ, clipped at `maxDeviation` (SEAL: σ 3.2, clip 6σ). */
export function sampleClippedNormal(n: number, sigma = 3.2, maxDeviation = 6 * 3.2): bigint[] {
  const out: bigint[] = [];
  while (out.length < n) {
    const bytes = randomBytes(16 * 64);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k + 16 <= bytes.length && out.length < n; k += 16) {
      // Two 53-bit uniforms in (0, 1) → Box–Muller.
      const u1 = (Number(dv.getBigUint64(k, true) >> 11n) + 0.5) / 2 ** 53;
      const u2 = Number(dv.getBigUint64(k + 8, true) >> 11n) / 2 ** 53;
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2) * sigma;
      if (Math.abs(z) > maxDeviation) continue;
      out.push(BigInt(Math.round(z)));
    }
  }
  return out;
}

/** Uniform integers in [−bound, bound] (rejection sampling over random bytes). */
export function sampleUniformSigned(n: number, bound: bigint): bigint[] {
  if (bound < 0n) throw new RangeError('bound must be non-negative');
  const range = 2n * bound + 1n;
  const bits = range.toString(2).length;
  const bytesPer = Math.ceil(bits / 8);
  const mask = (1n << BigInt(bits)) - 1n;
  const out: bigint[] = [];
  while (out.length < n) {
    const bytes = randomBytes(bytesPer * Math.max(64, n - out.length));
    for (let k = 0; k + bytesPer <= bytes.length && out.length < n; k += bytesPer) {
      let x = 0n;
      for (let b = 0; b < bytesPer; b += 1) x = (x << 8n) | BigInt(bytes[k + b]!);
      x &= mask;
      if (x < range) out.push(x - bound);
    }
  }
  return out;
}
