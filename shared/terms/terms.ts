import { keccak256, toUtf8Bytes } from 'ethers';
import { z } from 'zod';
import { ALGORITHM_IDS, DELTA_SCALE, EPSILON_SCALE } from '../contracts/constants';
import { canonicalJson } from '../fhe/canonical';
import { KeySwitchError } from '../fhe/keyswitch/errors';

/*
 * The output-terms document of a grant (issue 7): what may leave the owner's machine from a permit's
 * result, and how. Its keccak256 over canonical JSON is the grant's termsHash on chain; the grant's
 * keySwitchAllowed mirrors `keySwitching.allowed`. Privacy amounts use the chain's fixed-point units
 * (ε in micro-units, δ in atto-units as a decimal string) so the document and the permit compare exactly.
 */

const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'a lowercase 0x-prefixed bytes32');
const epsilonMicros = z
  .number()
  .int()
  .positive()
  .max(2 ** 48 - 1);
const deltaAtto = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,18})$/, 'a decimal integer')
  .refine((value) => BigInt(value) <= DELTA_SCALE, 'δ is at most 1');

export const dpMechanisms = ['none', 'laplace', 'gaussian'] as const;

const dpSchema = z.discriminatedUnion('mechanism', [
  z.strictObject({ mechanism: z.literal('none') }),
  z.strictObject({ mechanism: z.literal('laplace'), epsilonMicros, deltaAtto: z.literal('0') }),
  z.strictObject({
    mechanism: z.literal('gaussian'),
    epsilonMicros,
    deltaAtto: deltaAtto.refine((value) => value !== '0', 'the Gaussian mechanism needs δ > 0'),
  }),
]);

export const outputTermsSchema = z.strictObject({
  format: z.literal('cos.terms.output.v1'),
  /** Whether the owner may issue per-result key-switching shares to the grantee's own FHE key. */
  keySwitching: z.strictObject({ allowed: z.boolean() }),
  /** Algorithm ids whose outputs may be released (by key switching or as a derivative), ascending. */
  releasableAlgorithms: z
    .array(bytes32)
    .refine((ids) => ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'ascending and unique')
    .refine(
      (ids) => ids.every((id) => (ALGORITHM_IDS as readonly string[]).includes(id)),
      'registered algorithms only',
    ),
  /** Noise the owner adds to each release, and the (ε, δ) each release charges (= the permit's charge). */
  differentialPrivacy: dpSchema,
  /** How long the grantee may keep released outputs, in days; null = no limit stated. */
  retention: z.strictObject({ days: z.number().int().positive().max(36500).nullable() }),
});
export type OutputTerms = z.infer<typeof outputTermsSchema>;

/** Validates an outside terms document (a file, an IPC request): a typed error, never a partial value. */
export function parseOutputTerms(value: unknown): OutputTerms {
  const parsed = outputTermsSchema.safeParse(value);
  if (!parsed.success) {
    throw new KeySwitchError(
      'BAD_TERMS',
      `The output terms are invalid: ${parsed.error.issues[0]?.message ?? 'malformed'}`,
    );
  }
  return parsed.data;
}

/** The canonical bytes of the terms (sorted keys, no whitespace): what termsHash covers. */
export function canonicalTerms(terms: OutputTerms): string {
  return canonicalJson(parseOutputTerms(terms));
}

/** termsHash = keccak256 of the canonical JSON of the terms (docs/CONTRACTS.md). */
export function termsHash(terms: OutputTerms): string {
  return keccak256(toUtf8Bytes(canonicalTerms(terms)));
}

/** Builds a terms document with the algorithm ids sorted, so callers need not care about order. */
export function makeOutputTerms(input: Omit<OutputTerms, 'format'>): OutputTerms {
  return parseOutputTerms({
    format: 'cos.terms.output.v1',
    ...input,
    releasableAlgorithms: [...new Set(input.releasableAlgorithms.map((id) => id.toLowerCase()))].sort(),
  });
}

/** What the chain says about the grant and permit a release is for (read by the caller, passed in). */
export interface OnChainRelease {
  /** The grant's termsHash. */
  termsHash: string;
  /** The grant's keySwitchAllowed flag. */
  keySwitchAllowed: boolean;
  /** Whether the grant is in status Granted (not revoked). */
  granted: boolean;
  /** The permit's algorithm id. */
  algorithmId: string;
  /** The (ε, δ) the permit charged, fixed point (EPSILON_SCALE, DELTA_SCALE). */
  epsilon: bigint;
  delta: bigint;
}

function checkRelease(terms: OutputTerms, chain: OnChainRelease): OutputTerms {
  const checked = parseOutputTerms(terms);
  if (termsHash(checked) !== chain.termsHash.toLowerCase()) {
    throw new KeySwitchError('BAD_TERMS', 'The terms document does not match the termsHash on chain');
  }
  if (!chain.granted) throw new KeySwitchError('TERMS_FORBID', 'The grant is not active');
  const algorithmId = chain.algorithmId.toLowerCase();
  if (!checked.releasableAlgorithms.includes(algorithmId)) {
    throw new KeySwitchError('TERMS_FORBID', `The terms do not release outputs of algorithm ${algorithmId}`);
  }
  const dp = checked.differentialPrivacy;
  const epsilon = dp.mechanism === 'none' ? 0n : BigInt(dp.epsilonMicros);
  const delta = dp.mechanism === 'none' ? 0n : BigInt(dp.deltaAtto);
  if (dp.mechanism !== 'none' && (chain.epsilon !== epsilon || chain.delta !== delta)) {
    throw new KeySwitchError(
      'TERMS_FORBID',
      `The permit charged ε ${chain.epsilon}/${EPSILON_SCALE}, δ ${chain.delta}/${DELTA_SCALE}; the terms ask ${epsilon}, ${delta}`,
    );
  }
  return checked;
}

/**
 * Refuses (TERMS_FORBID / BAD_TERMS) unless key-switching material may be produced for this release:
 * the document hashes to the termsHash on chain, the grant is active with keySwitchAllowed, the terms
 * allow key switching and release the permit's algorithm, and they demand no DP noise (a key-switched
 * result reaches the lab exact: noisy releases take the derivative path).
 */
export function checkTermsAllowKeySwitch(terms: OutputTerms, chain: OnChainRelease): OutputTerms {
  const checked = checkRelease(terms, chain);
  if (!checked.keySwitching.allowed || !chain.keySwitchAllowed) {
    throw new KeySwitchError('TERMS_FORBID', 'The grant’s output terms do not allow key switching to the grantee');
  }
  if (checked.differentialPrivacy.mechanism !== 'none') {
    throw new KeySwitchError(
      'TERMS_FORBID',
      'The terms demand differential-privacy noise: release a noised derivative instead of key switching',
    );
  }
  return checked;
}

/** The derivative path's guard: the release of this algorithm's output is allowed (with the terms' noise). */
export function checkTermsAllowDerivative(terms: OutputTerms, chain: OnChainRelease): OutputTerms {
  return checkRelease(terms, chain);
}

const chainGrantSchema = z.object({
  status: z.union([z.bigint(), z.number()]),
  termsHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  keySwitchAllowed: z.boolean(),
});
const chainPermitSchema = z.object({
  algorithmId: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  epsilon: z.union([z.bigint(), z.number()]),
  delta: z.union([z.bigint(), z.number()]),
});

/** GrantStatus.Granted on chain. */
const GRANTED = 2n;

/**
 * Maps DataAccess.getGrant(grantId) and DataAccess.getJobPermit(permitId) replies (ethers Results) to
 * the facts the guards check; a malformed reply is BAD_TERMS, never a partial value.
 */
export function onChainRelease(grant: unknown, permit: unknown): OnChainRelease {
  // ethers returns structs as Result (an array with named members): read them as plain objects.
  const plain = (value: unknown) =>
    value !== null && typeof value === 'object' && typeof (value as { toObject?: unknown }).toObject === 'function'
      ? (value as { toObject(): unknown }).toObject()
      : value;
  const g = chainGrantSchema.safeParse(plain(grant));
  const p = chainPermitSchema.safeParse(plain(permit));
  if (!g.success || !p.success) throw new KeySwitchError('BAD_TERMS', 'The chain returned a malformed grant or permit');
  return {
    termsHash: g.data.termsHash.toLowerCase(),
    keySwitchAllowed: g.data.keySwitchAllowed,
    granted: BigInt(g.data.status) === GRANTED,
    algorithmId: p.data.algorithmId.toLowerCase(),
    epsilon: BigInt(p.data.epsilon),
    delta: BigInt(p.data.delta),
  };
}
