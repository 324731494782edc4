import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { Context } from 'node-seal/implementation/context';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { PlainText } from 'node-seal/implementation/plain-text';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { z } from 'zod';
import { aggregateNumericSums } from '../fhe/aggregate';
import { FheError } from '../fhe/errors';
import { decodeEnvelope, decodeFrames, encodeEnvelope } from '../fhe/frames';
import { parsePublicKeyBundle } from '../fhe/key-bundles';
import type { NumericLayout } from '../fhe/layout';
import { getParameterSet, parameterSetHash } from '../fhe/parameters';
import { createSealContext, loadCiphertext } from '../fhe/seal';
import { AlgorithmError } from './errors';
import { jobParamsHash } from './params-hash';
import type { AlgorithmInputs } from './types';

/** Largest |coefficient| and |intercept| a lab may supply (numeric values are limited to ±1e6). */
export const LOGREG_MAX_COEFFICIENT = 1e3;
export const LOGREG_MAX_INTERCEPT = 1e6;
export const LOGREG_MAX_COLUMNS = 64;

export const meanVarianceParamsSchema = z.strictObject({ column: z.string().min(1).max(200) });
export type MeanVarianceParams = z.infer<typeof meanVarianceParamsSchema>;

const finite = z.number().refine(Number.isFinite, 'a finite number');
export const logregParamsSchema = z
  .strictObject({
    columns: z.array(z.string().min(1).max(200)).min(1).max(LOGREG_MAX_COLUMNS),
    coefficients: z.array(finite.refine((value) => Math.abs(value) <= LOGREG_MAX_COEFFICIENT, 'at most 1e3 in size')),
    intercept: finite.refine((value) => Math.abs(value) <= LOGREG_MAX_INTERCEPT, 'at most 1e6 in size'),
  })
  .refine((params) => params.columns.length === params.coefficients.length, 'one coefficient per column')
  .refine((params) => new Set(params.columns).size === params.columns.length, 'columns must be distinct');
export type LogregParams = z.infer<typeof logregParamsSchema>;

export function numericLayoutOf(inputs: AlgorithmInputs): NumericLayout {
  const layout = inputs.manifest.numericLayout;
  if (layout === null) throw new AlgorithmError('BAD_INPUT', 'The dataset has no numeric columns');
  return layout;
}

function columnObject(inputs: AlgorithmInputs, layout: NumericLayout, column: string): string {
  if (!layout.columns.some((known) => known.name === column)) {
    throw new AlgorithmError('BAD_PARAMS', `The dataset has no numeric column ${JSON.stringify(column)}`);
  }
  const object = inputs.manifest.objects.find((entry) => entry.kind === 'numeric' && entry.column === column);
  if (!object) throw new AlgorithmError('BAD_INPUT', `The manifest lists no object for column ${column}`);
  return object.digest;
}

function excludedList(inputs: AlgorithmInputs, sampleCount: number): number[] {
  const excluded = [...inputs.excludedSamples].sort((a, b) => a - b);
  if (excluded.some((sample) => !Number.isInteger(sample) || sample < 0 || sample >= sampleCount)) {
    throw new AlgorithmError('BAD_INPUT', 'Excluded samples must be in the cohort');
  }
  return excluded;
}

async function loadGaloisKeys(seal: SEALLibrary, context: Context, inputs: AlgorithmInputs, layout: NumericLayout) {
  const entry = parsePublicKeyBundle(await inputs.loadPublicKeys()).find(
    (key) => key.parameterSetId === layout.parameterSetId,
  );
  const part = entry?.parts.find((candidate) => candidate.kind === 'galois');
  if (!part) throw new FheError('BAD_KEYS', `The public keys hold no Galois keys for ${layout.parameterSetId}`);
  const keys = seal.GaloisKeys();
  try {
    keys.loadArray(context, part.bytes);
  } catch (error) {
    keys.delete();
    throw new FheError('BAD_KEYS', `The Galois keys do not fit ${layout.parameterSetId}`, { cause: error });
  }
  return keys;
}

/** Mean/variance: the numeric-sums envelope (count, Σx, Σx² in every slot) for one column. */
export async function evaluateMeanVariance(inputs: AlgorithmInputs, params: MeanVarianceParams): Promise<Uint8Array> {
  const layout = numericLayoutOf(inputs);
  const digest = columnObject(inputs, layout, params.column);
  const excluded = excludedList(inputs, layout.sampleCount);
  const { seal } = inputs;
  const context = createSealContext(seal, getParameterSet(layout.parameterSetId));
  let galois: GaloisKeys | null = null;
  try {
    inputs.onProgress?.(0, 1);
    galois = await loadGaloisKeys(seal, context, inputs, layout);
    const bytes = await inputs.loadObject(digest);
    if (inputs.signal?.aborted) throw new AlgorithmError('CANCELLED', 'The algorithm was cancelled');
    const result = aggregateNumericSums(seal, context, layout, galois, [{ column: params.column, bytes }], excluded);
    inputs.onProgress?.(1, 1);
    return result;
  } finally {
    galois?.delete();
    context.delete();
  }
}

/*
 * Logistic-regression inference. The orchestrator computes, per sample i, the linear predictor
 * η_i = intercept + Σ_k β_k·x_ik under CKKS (plaintext multiplies, one level, no evaluation key) and the
 * number of the model's columns present for i; excluded samples are masked to 0 in both. The owner
 * decrypts and applies the sigmoid; samples with a missing value in a model column get no score.
 */

const logregHeaderSchema = z.strictObject({
  format: z.literal('cos.alg.result.logreg-scores.v1'),
  parameterSetHash: z.string(),
  paramsHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  columns: z.array(z.string()).min(1),
  ciphertextsPerPlane: z.number().int().positive(),
  excludedSamples: z.array(z.number().int().nonnegative()),
});

export interface LogregResult {
  paramsHash: string;
  columns: string[];
  excludedSamples: number[];
  /** ciphertextsPerPlane predictor ciphertexts, then as many presence-count ciphertexts. */
  scores: Uint8Array[];
  presence: Uint8Array[];
}

export function parseLogregResult(bytes: Uint8Array, layout: NumericLayout): LogregResult {
  const { header, blobs } = decodeEnvelope(bytes, 'The logistic-regression result', 'BAD_RESULT');
  const parsed = logregHeaderSchema.safeParse(header);
  if (!parsed.success) throw new FheError('BAD_RESULT', 'The logistic-regression result has an invalid header');
  const { columns, ciphertextsPerPlane, excludedSamples, paramsHash } = parsed.data;
  if (parsed.data.parameterSetHash !== parameterSetHash(layout.parameterSetId)) {
    throw new FheError('BAD_RESULT', 'The result was computed under other parameters');
  }
  if (ciphertextsPerPlane !== layout.ciphertextsPerPlane || blobs.length !== 2 * ciphertextsPerPlane) {
    throw new FheError('BAD_RESULT', 'The logistic-regression result holds the wrong number of ciphertexts');
  }
  const known = new Set(layout.columns.map((column) => column.name));
  if (columns.some((column) => !known.has(column)) || new Set(columns).size !== columns.length) {
    throw new FheError('BAD_RESULT', 'The result names unknown or repeated columns');
  }
  const sorted = excludedSamples.every((sample, i) => i === 0 || sample > excludedSamples[i - 1]!);
  if (!sorted || excludedSamples.some((sample) => sample >= layout.sampleCount)) {
    throw new FheError('BAD_RESULT', 'A result must list its excluded samples once each, ascending, within the cohort');
  }
  return {
    paramsHash,
    columns,
    excludedSamples,
    scores: blobs.slice(0, ciphertextsPerPlane),
    presence: blobs.slice(ciphertextsPerPlane),
  };
}

export async function evaluateLogreg(inputs: AlgorithmInputs, params: LogregParams): Promise<Uint8Array> {
  const layout = numericLayoutOf(inputs);
  const digests = params.columns.map((column) => columnObject(inputs, layout, column));
  const excluded = excludedList(inputs, layout.sampleCount);
  const excludedSet = new Set(excluded);
  const { seal } = inputs;
  const context = createSealContext(seal, getParameterSet(layout.parameterSetId));
  const evaluator = seal.Evaluator(context);
  const encoder = seal.CKKSEncoder(context);
  const scale = 2 ** layout.scaleBits;
  const slots = layout.slotsPerCiphertext;
  const perPlane = layout.ciphertextsPerPlane;
  const presentPlane = layout.planes.indexOf('present');
  const valuePlane = layout.planes.indexOf('value');
  const owned: { delete(): void }[] = [];
  const track = <T extends { delete(): void }>(object: T): T => {
    owned.push(object);
    return object;
  };
  /** The 0/1 vector of included samples in ciphertext `ct`, times `factor`. */
  const masked = (ct: number, factor: number): Float64Array => {
    const vector = new Float64Array(slots);
    const first = ct * slots;
    for (let slot = 0; slot < slots && first + slot < layout.sampleCount; slot += 1) {
      if (!excludedSet.has(first + slot)) vector[slot] = factor;
    }
    return vector;
  };
  try {
    const scores: (CipherText | null)[] = new Array<CipherText | null>(perPlane).fill(null);
    const presence: (CipherText | null)[] = new Array<CipherText | null>(perPlane).fill(null);
    for (const [k, column] of params.columns.entries()) {
      if (inputs.signal?.aborted) throw new AlgorithmError('CANCELLED', 'The algorithm was cancelled');
      inputs.onProgress?.(k, params.columns.length);
      const frames = decodeFrames(await inputs.loadObject(digests[k]!), `Column ${column}`);
      if (frames.length !== layout.planes.length * perPlane) {
        throw new FheError('BAD_OBJECT', `Column ${column} holds ${frames.length} ciphertexts`);
      }
      for (let ct = 0; ct < perPlane; ct += 1) {
        const value = loadCiphertext(
          seal,
          context,
          frames[valuePlane * perPlane + ct]!,
          `Column ${column}`,
          'BAD_OBJECT',
        );
        const weight: PlainText = encoder.encode(masked(ct, params.coefficients[k]!), scale)!;
        evaluator.multiplyPlain(value, weight, value);
        weight.delete();
        const present = loadCiphertext(
          seal,
          context,
          frames[presentPlane * perPlane + ct]!,
          `Column ${column}`,
          'BAD_OBJECT',
        );
        const total = scores[ct];
        if (total) {
          evaluator.add(total, value, total);
          value.delete();
        } else scores[ct] = track(value);
        const count = presence[ct];
        if (count) {
          evaluator.add(count, present, count);
          present.delete();
        } else presence[ct] = track(present);
      }
    }
    const outputs: Uint8Array[] = [];
    for (let ct = 0; ct < perPlane; ct += 1) {
      const score = scores[ct]!;
      evaluator.rescaleToNext(score, score);
      const parmsId = score.parmsId;
      const intercept = encoder.encode(masked(ct, params.intercept), score.scale)!;
      evaluator.plainModSwitchTo(intercept, parmsId, intercept);
      parmsId.delete();
      evaluator.addPlain(score, intercept, score);
      intercept.delete();
      outputs.push(score.saveArray(seal.ComprModeType.zstd));
    }
    for (let ct = 0; ct < perPlane; ct += 1) {
      const count = presence[ct]!;
      const mask = encoder.encode(masked(ct, 1), scale)!;
      evaluator.multiplyPlain(count, mask, count);
      mask.delete();
      evaluator.rescaleToNext(count, count);
      outputs.push(count.saveArray(seal.ComprModeType.zstd));
    }
    inputs.onProgress?.(params.columns.length, params.columns.length);
    return encodeEnvelope(
      {
        format: 'cos.alg.result.logreg-scores.v1',
        parameterSetHash: parameterSetHash(layout.parameterSetId),
        paramsHash: jobParamsHash(params),
        columns: [...params.columns],
        ciphertextsPerPlane: perPlane,
        excludedSamples: excluded,
      },
      outputs,
    );
  } finally {
    for (const object of owned.reverse()) object.delete();
    encoder.delete();
    evaluator.delete();
    context.delete();
  }
}
