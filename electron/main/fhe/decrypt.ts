import type { Context } from 'node-seal/implementation/context';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import type { SecretKey } from 'node-seal/implementation/secret-key';
import type { DecryptedLogregScores } from '../../../shared/algorithms/interpret';
import { parseLogregResult } from '../../../shared/algorithms/numeric';
import { parseGenotypeCountsResult, parseNumericSumsResult } from '../../../shared/fhe/aggregate';
import { FheError } from '../../../shared/fhe/errors';
import { parseSecretKeyBundle, secretKeyFor } from '../../../shared/fhe/key-bundles';
import {
  decodeGenotypeCounts,
  type GenotypeCounts,
  type GenotypeLayout,
  type NumericLayout,
  type NumericSums,
} from '../../../shared/fhe/layout';
import { getParameterSet, type ParameterSetId } from '../../../shared/fhe/parameters';
import { createSealContext, loadCiphertext } from '../../../shared/fhe/seal';

function withSecretKey<T>(
  seal: SEALLibrary,
  secretKeys: Uint8Array,
  parameterSetId: ParameterSetId,
  use: (context: Context, secretKey: SecretKey) => T,
): T {
  const context = createSealContext(seal, getParameterSet(parameterSetId));
  const secretKey = seal.SecretKey();
  try {
    try {
      secretKey.loadArray(context, secretKeyFor(parseSecretKeyBundle(secretKeys), parameterSetId));
    } catch (error) {
      if (error instanceof FheError) throw error;
      throw new FheError('BAD_KEYS', `The secret key does not fit ${parameterSetId}`, { cause: error });
    }
    return use(context, secretKey);
  } finally {
    secretKey.delete();
    context.delete();
  }
}

/** Decrypts a genotype-counts result and decodes the per-SNP counts (checked, exact). */
export function decryptGenotypeCounts(
  seal: SEALLibrary,
  secretKeys: Uint8Array,
  layout: GenotypeLayout,
  resultBytes: Uint8Array,
): { counts: GenotypeCounts; excludedSamples: number[] } {
  const { excludedSamples, blocks } = parseGenotypeCountsResult(resultBytes, layout);
  const counts = withSecretKey(seal, secretKeys, layout.parameterSetId, (context, secretKey) => {
    const decryptor = seal.Decryptor(context, secretKey);
    const encoder = seal.BatchEncoder(context);
    const ciphertext = seal.CipherText();
    try {
      const sums = blocks.map((block, i) => {
        loadCiphertext(seal, context, block, `Result block ${i}`, 'BAD_RESULT', ciphertext, 'any');
        // A result whose noise outgrew the budget would decrypt to garbage: refuse it.
        if (decryptor.invariantNoiseBudget(ciphertext) <= 0) {
          throw new FheError('BAD_RESULT', `Result block ${i} has no noise budget left`);
        }
        const plaintext = decryptor.decrypt(ciphertext)!;
        const slots = encoder.decodeBigInt(plaintext, false) as BigUint64Array;
        plaintext.delete();
        return slots;
      });
      return decodeGenotypeCounts(layout, sums, layout.sampleCount - excludedSamples.length);
    } finally {
      ciphertext.delete();
      encoder.delete();
      decryptor.delete();
    }
  });
  return { counts, excludedSamples };
}

/** Decrypts a numeric-sums result: per column the count, sum and sum of squares over included samples. */
export function decryptNumericSums(
  seal: SEALLibrary,
  secretKeys: Uint8Array,
  layout: NumericLayout,
  resultBytes: Uint8Array,
): { sums: NumericSums[]; excludedSamples: number[] } {
  const { excludedSamples, columns, ciphertexts } = parseNumericSumsResult(resultBytes, layout);
  const included = layout.sampleCount - excludedSamples.length;
  const sums = withSecretKey(seal, secretKeys, layout.parameterSetId, (context, secretKey) => {
    const decryptor = seal.Decryptor(context, secretKey);
    const encoder = seal.CKKSEncoder(context);
    const ciphertext = seal.CipherText();
    try {
      const totals = ciphertexts.map((bytes, i) => {
        loadCiphertext(seal, context, bytes, `Result ciphertext ${i}`, 'BAD_RESULT', ciphertext, 'any');
        const plaintext = decryptor.decrypt(ciphertext)!;
        const slots = encoder.decode(plaintext);
        plaintext.delete();
        return slots[0]!;
      });
      return columns.map((column, c): NumericSums => {
        const [sum, sumOfSquares, present] = totals.slice(c * 3, c * 3 + 3) as [number, number, number];
        const count = Math.round(present);
        if (Math.abs(present - count) > 1e-3 || count < 0 || count > included || !Number.isFinite(sum)) {
          throw new FheError('BAD_RESULT', `Column ${column}: the decrypted count ${present} is not a sample count`);
        }
        return { column, count, sum, sumOfSquares };
      });
    } finally {
      ciphertext.delete();
      encoder.delete();
      decryptor.delete();
    }
  });
  return { sums, excludedSamples };
}

/**
 * Decrypts a logistic-regression result: per sample the linear predictor η, NaN where the sample was
 * excluded or misses one of the model's columns (its presence count is below the number of columns).
 */
export function decryptLogregScores(
  seal: SEALLibrary,
  secretKeys: Uint8Array,
  layout: NumericLayout,
  resultBytes: Uint8Array,
): DecryptedLogregScores {
  const result = parseLogregResult(resultBytes, layout);
  const excluded = new Set(result.excludedSamples);
  const linearPredictors = new Float64Array(layout.sampleCount);
  withSecretKey(seal, secretKeys, layout.parameterSetId, (context, secretKey) => {
    const decryptor = seal.Decryptor(context, secretKey);
    const encoder = seal.CKKSEncoder(context);
    const ciphertext = seal.CipherText();
    const decode = (bytes: Uint8Array, what: string) => {
      loadCiphertext(seal, context, bytes, what, 'BAD_RESULT', ciphertext, 'any');
      const plaintext = decryptor.decrypt(ciphertext)!;
      const slots = encoder.decode(plaintext);
      plaintext.delete();
      return slots;
    };
    try {
      const slots = layout.slotsPerCiphertext;
      for (let ct = 0; ct < layout.ciphertextsPerPlane; ct += 1) {
        const scores = decode(result.scores[ct]!, `Score ciphertext ${ct}`);
        const presence = decode(result.presence[ct]!, `Presence ciphertext ${ct}`);
        for (let slot = 0; slot < slots; slot += 1) {
          const sample = ct * slots + slot;
          const present = presence[slot]!;
          const count = Math.round(present);
          if (Math.abs(present - count) > 1e-3 || count < 0 || count > result.columns.length) {
            throw new FheError('BAD_RESULT', `Slot ${slot} of presence ciphertext ${ct} is not a column count`);
          }
          if (sample >= layout.sampleCount || excluded.has(sample)) {
            if (count !== 0) throw new FheError('BAD_RESULT', `Slot ${slot} of ciphertext ${ct} should be empty`);
            continue;
          }
          const eta = scores[slot]!;
          if (!Number.isFinite(eta)) throw new FheError('BAD_RESULT', `Sample ${sample} has no finite score`);
          linearPredictors[sample] = count === result.columns.length ? eta : Number.NaN;
        }
      }
      for (const sample of excluded) linearPredictors[sample] = Number.NaN;
    } finally {
      ciphertext.delete();
      encoder.delete();
      decryptor.delete();
    }
  });
  return {
    paramsHash: result.paramsHash,
    columns: result.columns,
    excludedSamples: result.excludedSamples,
    linearPredictors,
  };
}
