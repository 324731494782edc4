import { keccak256, sha256, toUtf8Bytes } from 'ethers';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { z } from 'zod';
import {
  checkTermsAllowKeySwitch,
  outputTermsSchema,
  termsHash,
  type OnChainRelease,
  type OutputTerms,
} from '../../terms/terms';
import { parseGenotypeCountsResult, parseNumericSumsResult } from '../aggregate';
import { canonicalJson } from '../canonical';
import { decodeEnvelope, encodeEnvelope } from '../frames';
import {
  decodeGenotypeCounts,
  type GenotypeCounts,
  type GenotypeLayout,
  type NumericLayout,
  type NumericSums,
} from '../layout';
import { genotypeLayoutSchema, numericLayoutSchema } from '../manifest';
import { parameterSetHash, parameterSetIds, type ParameterSetId } from '../parameters';
import { KeySwitchError } from './errors';
import {
  decryptSlots,
  plainCiphertext,
  plainPublicKey,
  plainSecretKey,
  publicKeyFromBundle,
  secretKeyFromBundle,
  withContext,
} from './seal-io';
import { combineShare, createKeySwitchShare, type ShareMode, type ShareOptions, type ShareReport } from './share';

/*
 * A result bundle: what the owner hands the lab (a file, any channel) so the lab decrypts a permit's
 * result with its own key, offline. An envelope (`COSFHE\0\1` frames): a canonical JSON header, the
 * result envelope exactly as the orchestrator stored it, then one share per result ciphertext.
 */

const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/);

const bundleHeaderSchema = z.strictObject({
  format: z.literal('cos.keyswitch.result-bundle.v1'),
  permitId: z.string().regex(/^[1-9][0-9]{0,76}$/),
  algorithmId: bytes32,
  resultCommitment: bytes32,
  termsHash: bytes32,
  terms: outputTermsSchema,
  parameterSetId: z.enum(parameterSetIds),
  parameterSetHash: bytes32,
  /** publicKeysDigest of the lab's public key bundle the shares switch to. */
  labPublicKeysDigest: bytes32,
  mode: z.enum(['flood', 'cancel']),
  result: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('genotype-counts'), layout: genotypeLayoutSchema }),
    z.strictObject({ kind: z.literal('numeric-sums'), layout: numericLayoutSchema }),
  ]),
  shareCount: z.number().int().positive().max(100_000),
  shareCommitment: bytes32,
});
export type ResultBundleHeader = z.infer<typeof bundleHeaderSchema>;

export type KeySwitchResult =
  | { kind: 'genotype-counts'; layout: GenotypeLayout; bytes: Uint8Array }
  | { kind: 'numeric-sums'; layout: NumericLayout; bytes: Uint8Array };

/**
 * The bytes32 recorded on chain by DataAccess.recordKeySwitch(permitId, shareCommitment): keccak256 of
 * the canonical JSON naming the permit, the result, the terms, the lab's key and every share's SHA-256.
 */
export function shareCommitment(input: {
  permitId: bigint;
  resultCommitment: string;
  termsHash: string;
  labPublicKeysDigest: string;
  shares: readonly Uint8Array[];
}): string {
  return keccak256(
    toUtf8Bytes(
      canonicalJson({
        format: 'cos.keyswitch.share-commitment.v1',
        permitId: input.permitId.toString(),
        resultCommitment: input.resultCommitment.toLowerCase(),
        termsHash: input.termsHash.toLowerCase(),
        labPublicKeysDigest: input.labPublicKeysDigest.toLowerCase(),
        shares: input.shares.map((share) => sha256(share)),
      }),
    ),
  );
}

function resultCiphertexts(result: KeySwitchResult): { parameterSetId: ParameterSetId; ciphertexts: Uint8Array[] } {
  if (result.kind === 'genotype-counts') {
    return {
      parameterSetId: result.layout.parameterSetId,
      ciphertexts: parseGenotypeCountsResult(result.bytes, result.layout).blocks,
    };
  }
  return {
    parameterSetId: result.layout.parameterSetId,
    ciphertexts: parseNumericSumsResult(result.bytes, result.layout).ciphertexts,
  };
}

/**
 * The owner's check before releasing: the result decrypts under the owner's key and decodes with the
 * checks an honest aggregate satisfies (digits, counts within the included samples, empty padding).
 */
function checkResultDecodes(result: KeySwitchResult, decrypt: (index: number) => BigUint64Array | Float64Array): void {
  try {
    if (result.kind === 'genotype-counts') {
      const { excludedSamples, blocks } = parseGenotypeCountsResult(result.bytes, result.layout);
      const sums = blocks.map((_, i) => decrypt(i) as BigUint64Array);
      decodeGenotypeCounts(result.layout, sums, result.layout.sampleCount - excludedSamples.length);
      return;
    }
    const { excludedSamples, ciphertexts } = parseNumericSumsResult(result.bytes, result.layout);
    const included = result.layout.sampleCount - excludedSamples.length;
    for (let i = 2; i < ciphertexts.length; i += 3) {
      const present = (decrypt(i) as Float64Array)[0]!;
      if (Math.abs(present - Math.round(present)) > 1e-3 || present < -0.5 || present > included + 0.5) {
        throw new KeySwitchError('BAD_OBJECT', 'The result does not decode to a sample count');
      }
    }
  } catch (error) {
    if (error instanceof KeySwitchError) throw error;
    throw new KeySwitchError('BAD_OBJECT', 'The result does not decode as an honest aggregate; nothing is released', {
      cause: error,
    });
  }
}

export interface CreateResultBundleInput {
  permitId: bigint;
  /** The grant's terms document (its hash must be the grant's termsHash on chain). */
  terms: OutputTerms;
  /** The grant and permit as read from the chain. */
  chain: OnChainRelease;
  /** The permit's resultCommitment on chain ('0x' + SHA-256 of the result envelope). */
  resultCommitment: string;
  result: KeySwitchResult;
  /** The owner's secret key bundle (vault). Read only; never copied into the bundle. */
  ownerSecretKeys: Uint8Array;
  /** The lab's public key bundle (its digest is what the lab's SBT fingerprint names). */
  labPublicKeys: Uint8Array;
  options?: ShareOptions;
}

export interface CreatedResultBundle {
  bundle: Uint8Array;
  /** For DataAccess.recordKeySwitch(permitId, shareCommitment). */
  shareCommitment: string;
  /** Owner-side margins, one per result ciphertext (not in the bundle). */
  reports: ShareReport[];
}

/**
 * Owner side. Checks the terms against the chain first (TERMS_FORBID / BAD_TERMS before any key is
 * read), the result against its on-chain commitment, then makes one share per result ciphertext.
 */
export function createResultBundle(seal: SEALLibrary, input: CreateResultBundleInput): CreatedResultBundle {
  const terms = checkTermsAllowKeySwitch(input.terms, input.chain);
  const resultCommitment = input.resultCommitment.toLowerCase();
  if (sha256(input.result.bytes) !== resultCommitment) {
    throw new KeySwitchError('BAD_OBJECT', 'The result does not match its commitment on chain');
  }
  if (typeof input.permitId !== 'bigint' || input.permitId <= 0n) {
    throw new KeySwitchError('BAD_BUNDLE', 'A permit id is a positive integer');
  }
  const { parameterSetId, ciphertexts } = resultCiphertexts(input.result);
  const labPublicKeysDigest = sha256(input.labPublicKeys);
  const { shares, reports, mode } = withContext(seal, parameterSetId, (context) => {
    const labPublicKey = plainPublicKey(seal, context, publicKeyFromBundle(input.labPublicKeys, parameterSetId));
    const { secretKey } = secretKeyFromBundle(input.ownerSecretKeys, parameterSetId);
    const ownerSecretKey = plainSecretKey(seal, context, secretKey);
    try {
      const plain = ciphertexts.map((bytes, i) => plainCiphertext(seal, context, bytes, `Result ciphertext ${i}`));
      // The owner releases only a result that decodes as an honest aggregate (see also verifyGenotypeSum).
      checkResultDecodes(input.result, (i) => decryptSlots(seal, context, parameterSetId, ownerSecretKey, plain[i]!));
      const made = plain.map((ciphertext) =>
        createKeySwitchShare({ parameterSetId, ciphertext, ownerSecretKey, labPublicKey }, input.options),
      );
      return {
        shares: made.map((m) => m.share),
        reports: made.map((m) => m.report),
        mode: made[0]!.report.mode,
      };
    } finally {
      ownerSecretKey.fill(0);
    }
  });
  const commitment = shareCommitment({
    permitId: input.permitId,
    resultCommitment,
    termsHash: input.chain.termsHash,
    labPublicKeysDigest,
    shares,
  });
  const header: ResultBundleHeader = {
    format: 'cos.keyswitch.result-bundle.v1',
    permitId: input.permitId.toString(),
    algorithmId: input.chain.algorithmId.toLowerCase(),
    resultCommitment,
    termsHash: termsHash(terms),
    terms,
    parameterSetId,
    parameterSetHash: parameterSetHash(parameterSetId),
    labPublicKeysDigest,
    mode,
    result: { kind: input.result.kind, layout: input.result.layout } as ResultBundleHeader['result'],
    shareCount: shares.length,
    shareCommitment: commitment,
  };
  return { bundle: encodeEnvelope(header, [input.result.bytes, ...shares]), shareCommitment: commitment, reports };
}

export interface ParsedResultBundle {
  header: ResultBundleHeader;
  result: KeySwitchResult;
  shares: Uint8Array[];
}

/**
 * Parses and checks a bundle on its own (no network): header schema, the result against
 * resultCommitment, the terms against termsHash (and that they allow key switching for the
 * algorithm), the shares against shareCommitment.
 */
export function parseResultBundle(bytes: Uint8Array): ParsedResultBundle {
  let decoded;
  try {
    decoded = decodeEnvelope(bytes, 'The result bundle', 'BAD_OBJECT');
  } catch (error) {
    throw new KeySwitchError('BAD_BUNDLE', 'The file is not a result bundle', { cause: error });
  }
  const parsed = bundleHeaderSchema.safeParse(decoded.header);
  if (!parsed.success) throw new KeySwitchError('BAD_BUNDLE', 'The result bundle has an invalid header');
  const header = parsed.data;
  const [resultBytes, ...shares] = decoded.blobs;
  if (resultBytes === undefined || shares.length !== header.shareCount) {
    throw new KeySwitchError('BAD_BUNDLE', 'The result bundle has missing or extra parts');
  }
  if (sha256(resultBytes) !== header.resultCommitment) {
    throw new KeySwitchError('BAD_BUNDLE', 'The result in the bundle does not match its commitment');
  }
  if (termsHash(header.terms) !== header.termsHash) {
    throw new KeySwitchError('BAD_BUNDLE', 'The terms in the bundle do not match their hash');
  }
  if (
    !header.terms.keySwitching.allowed ||
    !header.terms.releasableAlgorithms.includes(header.algorithmId) ||
    header.terms.differentialPrivacy.mechanism !== 'none'
  ) {
    throw new KeySwitchError('TERMS_FORBID', 'The bundle’s own terms do not allow this key-switched release');
  }
  if (
    header.parameterSetHash !== parameterSetHash(header.parameterSetId) ||
    header.result.layout.parameterSetId !== header.parameterSetId
  ) {
    throw new KeySwitchError('BAD_BUNDLE', 'The bundle names inconsistent parameters');
  }
  const commitment = shareCommitment({
    permitId: BigInt(header.permitId),
    resultCommitment: header.resultCommitment,
    termsHash: header.termsHash,
    labPublicKeysDigest: header.labPublicKeysDigest,
    shares,
  });
  if (commitment !== header.shareCommitment) {
    throw new KeySwitchError('BAD_BUNDLE', 'The shares do not match the bundle’s share commitment');
  }
  const result = { kind: header.result.kind, layout: header.result.layout, bytes: resultBytes } as KeySwitchResult;
  let count: number;
  try {
    count = resultCiphertexts(result).ciphertexts.length;
  } catch (error) {
    throw new KeySwitchError('BAD_BUNDLE', 'The result in the bundle does not fit its layout', { cause: error });
  }
  if (count !== shares.length) throw new KeySwitchError('BAD_BUNDLE', 'The bundle holds one share per ciphertext');
  return { header, result, shares };
}

export type DecryptedBundle = {
  permitId: bigint;
  algorithmId: string;
  resultCommitment: string;
  shareCommitment: string;
  termsHash: string;
  excludedSamples: number[];
} & ({ kind: 'genotype-counts'; counts: GenotypeCounts } | { kind: 'numeric-sums'; sums: NumericSums[] });

/**
 * Lab side, offline: checks the bundle, that it was switched to this lab's keys, combines each result
 * ciphertext with its share and decrypts with the lab's own secret key. No network, no chain: the
 * claims returned (permit, commitments, termsHash) are checked against the chain later
 * (`checkBundleAgainstChain`).
 */
export function decryptBundle(seal: SEALLibrary, bundleBytes: Uint8Array, labSecretKeys: Uint8Array): DecryptedBundle {
  const { header, result, shares } = parseResultBundle(bundleBytes);
  const { secretKey, publicKeysDigest } = secretKeyFromBundle(labSecretKeys, header.parameterSetId);
  if (publicKeysDigest.toLowerCase() !== header.labPublicKeysDigest) {
    throw new KeySwitchError('BAD_KEYS', 'The bundle was switched to another lab key');
  }
  const claims = {
    permitId: BigInt(header.permitId),
    algorithmId: header.algorithmId,
    resultCommitment: header.resultCommitment,
    shareCommitment: header.shareCommitment,
    termsHash: header.termsHash,
  };
  const parameterSetId = header.parameterSetId;
  return withContext(seal, parameterSetId, (context) => {
    const decrypt = (bytes: Uint8Array, i: number) => {
      const combined = combineShare(
        parameterSetId,
        plainCiphertext(seal, context, bytes, `Result ciphertext ${i}`),
        shares[i]!,
      );
      return decryptSlots(seal, context, parameterSetId, secretKey, combined);
    };
    if (result.kind === 'genotype-counts') {
      const { excludedSamples, blocks } = parseGenotypeCountsResult(result.bytes, result.layout);
      const sums = blocks.map((block, i) => decrypt(block, i) as BigUint64Array);
      const counts = decodeGenotypeCounts(result.layout, sums, result.layout.sampleCount - excludedSamples.length);
      return { ...claims, kind: 'genotype-counts' as const, counts, excludedSamples };
    }
    const { excludedSamples, columns, ciphertexts } = parseNumericSumsResult(result.bytes, result.layout);
    const included = result.layout.sampleCount - excludedSamples.length;
    const totals = ciphertexts.map((bytes, i) => (decrypt(bytes, i) as Float64Array)[0]!);
    const sums = columns.map((column, c): NumericSums => {
      const [sum, sumOfSquares, present] = totals.slice(c * 3, c * 3 + 3) as [number, number, number];
      const count = Math.round(present);
      if (Math.abs(present - count) > 1e-2 || count < 0 || count > included || !Number.isFinite(sum)) {
        throw new KeySwitchError('BAD_SHARE', `Column ${column}: the switched count does not decode to a sample count`);
      }
      return { column, count, sum, sumOfSquares };
    });
    return { ...claims, kind: 'numeric-sums' as const, sums, excludedSamples };
  });
}

/** What the chain says once the lab is online again: compared with a decrypted bundle's claims. */
export interface BundleChainFacts {
  /** DataAccess permit result commitment for the bundle's permit. */
  resultCommitment: string;
  /** The grant's termsHash. */
  termsHash: string;
  /** The permit's algorithm id. */
  algorithmId: string;
  /** shareCommitments of KeySwitchIssued events for the permit. */
  shareCommitments: readonly string[];
}

/** Throws BAD_BUNDLE unless the bundle's claims are what the chain recorded. */
export function checkBundleAgainstChain(
  claims: Pick<DecryptedBundle, 'resultCommitment' | 'termsHash' | 'shareCommitment' | 'algorithmId'>,
  chain: BundleChainFacts,
): void {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (!same(claims.resultCommitment, chain.resultCommitment)) {
    throw new KeySwitchError('BAD_BUNDLE', 'The bundle’s result is not the permit’s result on chain');
  }
  if (!same(claims.termsHash, chain.termsHash) || !same(claims.algorithmId, chain.algorithmId)) {
    throw new KeySwitchError('BAD_BUNDLE', 'The bundle’s terms or algorithm are not the grant’s on chain');
  }
  if (!chain.shareCommitments.some((commitment) => same(commitment, claims.shareCommitment))) {
    throw new KeySwitchError('BAD_BUNDLE', 'No KeySwitchIssued event on chain records these shares');
  }
}

export type { ShareMode };
