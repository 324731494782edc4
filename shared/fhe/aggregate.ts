import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { Context } from 'node-seal/implementation/context';
import type { Evaluator } from 'node-seal/implementation/evaluator';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { z } from 'zod';
import { FheError } from './errors';
import { decodeEnvelope, decodeFrames, encodeEnvelope } from './frames';
import { slotSumGaloisSteps } from './key-bundles';
import {
  emptyGenotypeCounts,
  GENOTYPE_MISSING,
  phenotypeGroups,
  type GenotypeCounts,
  type GenotypeLayout,
  type NumericLayout,
  type NumericSums,
  type PhenotypeClass,
} from './layout';
import { parameterSetHash } from './parameters';
import { loadCiphertext } from './seal';

/*
 * The aggregate steps of the GWAS and cohort-statistics algorithms, run where the ciphertexts are
 * (the orchestrator) with no secret key, and their plaintext references. Results are envelopes the
 * owner decrypts; they name the samples left out, so the owner can check consent exclusions.
 */

const excludedSchema = z.array(z.number().int().nonnegative());

const genotypeResultHeaderSchema = z.strictObject({
  format: z.literal('cos.fhe.result.genotype-counts.v1'),
  parameterSetHash: z.string(),
  blockCount: z.number().int().positive(),
  excludedSamples: excludedSchema,
});

const numericResultHeaderSchema = z.strictObject({
  format: z.literal('cos.fhe.result.numeric-sums.v1'),
  parameterSetHash: z.string(),
  columns: z.array(z.string()),
  excludedSamples: excludedSchema,
});

function checkExcluded(excluded: readonly number[], sampleCount: number): void {
  const sorted = excluded.every((sample, i) => i === 0 || sample > excluded[i - 1]!);
  if (!sorted || excluded.some((sample) => sample >= sampleCount)) {
    throw new FheError('BAD_RESULT', 'A result must list its excluded samples once each, ascending, within the cohort');
  }
}

/** A genotype-counts result: which samples it leaves out and one ciphertext per block. */
export function parseGenotypeCountsResult(
  bytes: Uint8Array,
  layout: GenotypeLayout,
): { excludedSamples: number[]; blocks: Uint8Array[] } {
  const { header, blobs } = decodeEnvelope(bytes, 'The genotype-counts result', 'BAD_RESULT');
  const parsed = genotypeResultHeaderSchema.safeParse(header);
  if (!parsed.success) throw new FheError('BAD_RESULT', 'The genotype-counts result has an invalid header');
  const { blockCount, excludedSamples } = parsed.data;
  if (parsed.data.parameterSetHash !== parameterSetHash(layout.parameterSetId)) {
    throw new FheError('BAD_RESULT', 'The result was computed under other parameters');
  }
  if (blockCount !== layout.blockCount || blobs.length !== blockCount) {
    throw new FheError('BAD_RESULT', `The result holds ${blobs.length} blocks; the layout has ${layout.blockCount}`);
  }
  checkExcluded(excludedSamples, layout.sampleCount);
  return { excludedSamples, blocks: blobs };
}

/** A numeric-sums result: per column, three ciphertexts (sum, sum of squares, count) with the total in every slot. */
export function parseNumericSumsResult(
  bytes: Uint8Array,
  layout: NumericLayout,
): { excludedSamples: number[]; columns: string[]; ciphertexts: Uint8Array[] } {
  const { header, blobs } = decodeEnvelope(bytes, 'The numeric-sums result', 'BAD_RESULT');
  const parsed = numericResultHeaderSchema.safeParse(header);
  if (!parsed.success) throw new FheError('BAD_RESULT', 'The numeric-sums result has an invalid header');
  if (parsed.data.parameterSetHash !== parameterSetHash(layout.parameterSetId)) {
    throw new FheError('BAD_RESULT', 'The result was computed under other parameters');
  }
  const known = new Set(layout.columns.map((column) => column.name));
  const { columns, excludedSamples } = parsed.data;
  if (columns.some((column) => !known.has(column)) || new Set(columns).size !== columns.length) {
    throw new FheError('BAD_RESULT', 'The result names unknown or repeated columns');
  }
  if (blobs.length !== columns.length * layout.planes.length) {
    throw new FheError('BAD_RESULT', 'The result holds the wrong number of ciphertexts');
  }
  checkExcluded(excludedSamples, layout.sampleCount);
  return { excludedSamples, columns, ciphertexts: blobs };
}

/**
 * Sums genotype objects over samples: per block, one ciphertext addition per sample. Partial
 * results over disjoint samples (from other threads or machines) add in the same way.
 */
export class GenotypeCountAggregator {
  readonly #seal: SEALLibrary;
  readonly #context: Context;
  readonly #layout: GenotypeLayout;
  readonly #evaluator: Evaluator;
  readonly #scratch: CipherText;
  #accumulators: CipherText[] | null = null;
  readonly #included = new Set<number>();

  constructor(seal: SEALLibrary, context: Context, layout: GenotypeLayout) {
    this.#seal = seal;
    this.#context = context;
    this.#layout = layout;
    this.#evaluator = seal.Evaluator(context);
    this.#scratch = seal.CipherText();
  }

  get includedSamples(): number {
    return this.#included.size;
  }

  #addBlocks(blocks: readonly Uint8Array[], what: string, level: 'first' | 'any'): void {
    if (blocks.length !== this.#layout.blockCount) {
      throw new FheError(
        'BAD_OBJECT',
        `${what} holds ${blocks.length} blocks; the layout has ${this.#layout.blockCount}`,
      );
    }
    if (this.#accumulators === null) {
      this.#accumulators = blocks.map((block, i) =>
        loadCiphertext(this.#seal, this.#context, block, `${what}, block ${i}`, 'BAD_OBJECT', undefined, level),
      );
      return;
    }
    const accumulators = this.#accumulators;
    blocks.forEach((block, i) => {
      loadCiphertext(this.#seal, this.#context, block, `${what}, block ${i}`, 'BAD_OBJECT', this.#scratch, level);
      this.#evaluator.add(accumulators[i]!, this.#scratch, accumulators[i]!);
    });
  }

  /** Adds one sample's genotype object (the bytes the manifest lists for `sampleIndex`). */
  addSample(sampleIndex: number, objectBytes: Uint8Array): void {
    if (!Number.isInteger(sampleIndex) || sampleIndex < 0 || sampleIndex >= this.#layout.sampleCount) {
      throw new FheError('BAD_OBJECT', `Sample ${sampleIndex} is not in the cohort`);
    }
    if (this.#included.has(sampleIndex)) throw new FheError('BAD_OBJECT', `Sample ${sampleIndex} was already added`);
    this.#addBlocks(
      decodeFrames(objectBytes, `Genotypes of sample ${sampleIndex}`),
      `Genotypes of sample ${sampleIndex}`,
      'first',
    );
    this.#included.add(sampleIndex);
  }

  /** Adds a result computed over other, disjoint samples. */
  addPartialResult(resultBytes: Uint8Array): void {
    const { excludedSamples, blocks } = parseGenotypeCountsResult(resultBytes, this.#layout);
    const excluded = new Set(excludedSamples);
    const samples: number[] = [];
    for (let sample = 0; sample < this.#layout.sampleCount; sample += 1) {
      if (excluded.has(sample)) continue;
      if (this.#included.has(sample)) throw new FheError('BAD_RESULT', `Sample ${sample} is in two partial results`);
      samples.push(sample);
    }
    if (samples.length === 0) return;
    this.#addBlocks(blocks, 'A partial result', 'any');
    for (const sample of samples) this.#included.add(sample);
  }

  /** The result envelope: per block the summed ciphertext (zstd), and the samples left out. */
  finish(): Uint8Array {
    if (this.#accumulators === null) throw new FheError('BAD_OBJECT', 'No sample was added to the aggregate');
    const excludedSamples: number[] = [];
    for (let sample = 0; sample < this.#layout.sampleCount; sample += 1) {
      if (!this.#included.has(sample)) excludedSamples.push(sample);
    }
    return encodeEnvelope(
      {
        format: 'cos.fhe.result.genotype-counts.v1',
        parameterSetHash: parameterSetHash(this.#layout.parameterSetId),
        blockCount: this.#layout.blockCount,
        excludedSamples,
      },
      this.#accumulators.map((accumulator) => accumulator.saveArray(this.#seal.ComprModeType.zstd)),
    );
  }

  delete(): void {
    for (const accumulator of this.#accumulators ?? []) accumulator.delete();
    this.#accumulators = null;
    this.#scratch.delete();
    this.#evaluator.delete();
  }
}

/**
 * Per numeric column: masks out excluded samples (a plaintext multiply, only when some are excluded),
 * adds the plane's ciphertexts, then sums the slots by rotations, so every slot holds the total.
 */
export function aggregateNumericSums(
  seal: SEALLibrary,
  context: Context,
  layout: NumericLayout,
  galoisKeys: GaloisKeys,
  objects: readonly { column: string; bytes: Uint8Array }[],
  excludedSamples: readonly number[] = [],
): Uint8Array {
  const excluded = [...new Set(excludedSamples)].sort((a, b) => a - b);
  if (excluded.some((sample) => !Number.isInteger(sample) || sample < 0 || sample >= layout.sampleCount)) {
    throw new FheError('BAD_OBJECT', 'Excluded samples must be in the cohort');
  }
  const evaluator = seal.Evaluator(context);
  const encoder = seal.CKKSEncoder(context);
  const scratch = seal.CipherText();
  const scale = 2 ** layout.scaleBits;
  const masks =
    excluded.length === 0
      ? []
      : Array.from({ length: layout.ciphertextsPerPlane }, (_, ct) => {
          const mask = new Float64Array(layout.slotsPerCiphertext).fill(1);
          for (const sample of excluded) {
            if (Math.floor(sample / layout.slotsPerCiphertext) === ct) mask[sample % layout.slotsPerCiphertext] = 0;
          }
          return encoder.encode(mask, scale)!;
        });
  const outputs: Uint8Array[] = [];
  try {
    for (const { column, bytes } of objects) {
      if (!layout.columns.some((known) => known.name === column))
        throw new FheError('BAD_OBJECT', `Unknown column ${column}`);
      const frames = decodeFrames(bytes, `Column ${column}`);
      if (frames.length !== layout.planes.length * layout.ciphertextsPerPlane) {
        throw new FheError('BAD_OBJECT', `Column ${column} holds ${frames.length} ciphertexts`);
      }
      layout.planes.forEach((plane, p) => {
        let total: CipherText | null = null;
        for (let ct = 0; ct < layout.ciphertextsPerPlane; ct += 1) {
          const what = `Column ${column}, ${plane} ${ct}`;
          const loaded = loadCiphertext(
            seal,
            context,
            frames[p * layout.ciphertextsPerPlane + ct]!,
            what,
            'BAD_OBJECT',
          );
          if (masks.length > 0) {
            evaluator.multiplyPlain(loaded, masks[ct]!, loaded);
            evaluator.rescaleToNext(loaded, loaded);
          }
          if (total === null) total = loaded;
          else {
            evaluator.add(total, loaded, total);
            loaded.delete();
          }
        }
        try {
          for (const step of slotSumGaloisSteps(layout.parameterSetId)) {
            evaluator.rotateVector(total!, step, galoisKeys, scratch);
            evaluator.add(total!, scratch, total!);
          }
        } catch (error) {
          throw new FheError('BAD_KEYS', 'The Galois keys cannot rotate by the slot-sum steps', { cause: error });
        }
        outputs.push(total!.saveArray(seal.ComprModeType.zstd));
        total!.delete();
      });
    }
  } finally {
    for (const mask of masks) mask.delete();
    scratch.delete();
    encoder.delete();
    evaluator.delete();
  }
  return encodeEnvelope(
    {
      format: 'cos.fhe.result.numeric-sums.v1',
      parameterSetHash: parameterSetHash(layout.parameterSetId),
      columns: objects.map((object) => object.column),
      excludedSamples: excluded,
    },
    outputs,
  );
}

/** Plaintext reference of the genotype aggregate: the same counts, by direct counting. */
export function referenceGenotypeCounts(
  genotypesBySample: readonly Uint8Array[],
  phenotypes: readonly PhenotypeClass[],
  excludedSamples: ReadonlySet<number> = new Set(),
): GenotypeCounts {
  const snpCount = genotypesBySample[0]?.length ?? 0;
  const counts = emptyGenotypeCounts(snpCount);
  genotypesBySample.forEach((codes, sample) => {
    const phenotype = phenotypes[sample];
    if (excludedSamples.has(sample) || phenotype === undefined || phenotype === 'missing') return;
    const byGenotype = counts[phenotype];
    for (let snp = 0; snp < snpCount; snp += 1) {
      const code = codes[snp]!;
      if (code !== GENOTYPE_MISSING) byGenotype[code as 0 | 1 | 2][snp]! += 1;
    }
  });
  return counts;
}

/** Plaintext reference of the numeric aggregate (NaN = missing). */
export function referenceNumericSums(
  columns: readonly { name: string; values: Float64Array }[],
  excludedSamples: ReadonlySet<number> = new Set(),
): NumericSums[] {
  return columns.map(({ name, values }) => {
    const sums: NumericSums = { column: name, count: 0, sum: 0, sumOfSquares: 0 };
    values.forEach((value, sample) => {
      if (excludedSamples.has(sample) || Number.isNaN(value)) return;
      sums.count += 1;
      sums.sum += value;
      sums.sumOfSquares += value * value;
    });
    return sums;
  });
}

/** Whether two count tables are identical (the FHE path must match the reference exactly). */
export function sameGenotypeCounts(a: GenotypeCounts, b: GenotypeCounts): boolean {
  if (a.snpCount !== b.snpCount) return false;
  return phenotypeGroups.every((group) =>
    ([0, 1, 2] as const).every((g) => a[group][g].every((value, snp) => value === b[group][g][snp])),
  );
}
