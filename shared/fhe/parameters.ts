import { canonicalDigest } from './canonical';
import { FheError } from './errors';

export const parameterSetIds = ['bfv-n4096-t60', 'ckks-n8192-s40', 'ckks-n16384-s40'] as const;
export type ParameterSetId = (typeof parameterSetIds)[number];
export type SchemeName = 'bfv' | 'ckks';

/** A named set of SEAL encryption parameters. Primes are spelled out so the hash never depends on SEAL. */
export interface ParameterSet {
  readonly id: ParameterSetId;
  readonly scheme: SchemeName;
  readonly polyModulusDegree: number;
  /** The bit sizes given to `CoeffModulus.Create`; the last prime is SEAL's special (key-switching) prime. */
  readonly coeffModulusBits: readonly number[];
  /** The primes SEAL 4.1 picks for those sizes, decimal. */
  readonly coeffModulus: readonly string[];
  /** BFV plain modulus t (a batching prime), decimal; null for CKKS. */
  readonly plainModulus: string | null;
  /** CKKS scale as a power of two; null for BFV. */
  readonly scaleBits: number | null;
  /** HE security standard level SEAL enforces when it builds the context. */
  readonly securityLevel: 'tc128';
  /** False when the special prime is too small for relinearization or rotations to stay correct. */
  readonly keySwitching: boolean;
  /** Plaintext values per ciphertext. */
  readonly slots: number;
  readonly purpose: string;
}

/**
 * Largest total coefficient modulus (bits) at 128-bit classical security for a uniform ternary
 * secret and error width 3.2, per the Homomorphic Encryption Security Standard (Albrecht et al., 2018).
 */
export const HE_STANDARD_MAX_LOG_Q_128: Readonly<Record<number, number>> = {
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
};

export const PARAMETER_SETS: Readonly<Record<ParameterSetId, ParameterSet>> = {
  'bfv-n4096-t60': {
    id: 'bfv-n4096-t60',
    scheme: 'bfv',
    polyModulusDegree: 4096,
    coeffModulusBits: [40, 40, 29],
    coeffModulus: ['1099511390209', '1099511480321', '536813569'],
    plainModulus: '1152921504606830593',
    scaleBits: null,
    securityLevel: 'tc128',
    keySwitching: false,
    slots: 4096,
    purpose:
      'Genotype counts: secret-key (seeded) encryptions summed by additions only; 80-bit data modulus, 60-bit t for six radix digits',
  },
  'ckks-n8192-s40': {
    id: 'ckks-n8192-s40',
    scheme: 'ckks',
    polyModulusDegree: 8192,
    coeffModulusBits: [60, 40, 40, 60],
    coeffModulus: ['1152921504606748673', '1099510890497', '1099511480321', '1152921504606830593'],
    plainModulus: null,
    scaleBits: 40,
    securityLevel: 'tc128',
    keySwitching: true,
    slots: 4096,
    purpose:
      'Numeric columns (one column per ciphertext, samples in slots): masks, linear models, slot sums by rotation',
  },
  'ckks-n16384-s40': {
    id: 'ckks-n16384-s40',
    scheme: 'ckks',
    polyModulusDegree: 16384,
    coeffModulusBits: [60, 40, 40, 40, 40, 40, 40, 40, 60],
    coeffModulus: [
      '1152921504606683137',
      '1099504549889',
      '1099505827841',
      '1099506352129',
      '1099506515969',
      '1099507695617',
      '1099508121601',
      '1099510054913',
      '1152921504606748673',
    ],
    plainModulus: null,
    scaleBits: 40,
    securityLevel: 'tc128',
    keySwitching: true,
    slots: 8192,
    purpose: 'Deeper CKKS circuits (seven levels), e.g. a polynomial sigmoid after a linear model',
  },
};

export function isParameterSetId(value: unknown): value is ParameterSetId {
  return typeof value === 'string' && (parameterSetIds as readonly string[]).includes(value);
}

export function getParameterSet(id: string): ParameterSet {
  if (!isParameterSetId(id)) throw new FheError('BAD_PARAMETERS', `Unknown FHE parameter set: ${id}`);
  return PARAMETER_SETS[id];
}

/** What the hash covers: the mathematics of the set, not its name or description. */
function hashedFields(set: ParameterSet): Record<string, unknown> {
  return {
    format: 'cos.fhe.parameters.v1',
    scheme: set.scheme,
    polyModulusDegree: set.polyModulusDegree,
    coeffModulus: [...set.coeffModulus],
    plainModulus: set.plainModulus,
    scaleBits: set.scaleBits,
    securityLevel: set.securityLevel,
  };
}

/** `0x` + SHA-256 of the set's canonical description. */
export function parameterSetHash(set: ParameterSet | ParameterSetId): string {
  return canonicalDigest(hashedFields(typeof set === 'string' ? getParameterSet(set) : set));
}

/** The parameter sets one dataset uses: genotypes in one, numeric columns (if any) in another. */
export interface ParameterSuite {
  genotypes: ParameterSetId;
  numeric: ParameterSetId | null;
}

export const DEFAULT_PARAMETER_SUITE: Readonly<ParameterSuite> = {
  genotypes: 'bfv-n4096-t60',
  numeric: 'ckks-n8192-s40',
};

/** The dataset's on-chain `fheParamsHash`: a digest over the hashes of the sets it uses. */
export function fheParamsHash(suite: ParameterSuite): string {
  return canonicalDigest({
    format: 'cos.fhe.parameter-suite.v1',
    genotypes: parameterSetHash(suite.genotypes),
    numeric: suite.numeric === null ? null : parameterSetHash(suite.numeric),
  });
}
