import type { Context } from 'node-seal/implementation/context';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import type { SecretKey } from 'node-seal/implementation/secret-key';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  aggregateNumericSums,
  GenotypeCountAggregator,
  parseGenotypeCountsResult,
  parseNumericSumsResult,
  referenceGenotypeCounts,
  referenceNumericSums,
  sameGenotypeCounts,
} from './aggregate';
import { isFheError } from './errors';
import { encodeFrames } from './frames';
import { slotSumGaloisSteps } from './key-bundles';
import {
  decodeGenotypeCounts,
  encodeGenotypeSlots,
  encodeNumericColumn,
  genotypeLayout,
  genotypeSlotWeights,
  planGenotypeLanes,
  planNumericLayout,
  type GenotypeLayout,
  type PhenotypeClass,
} from './layout';
import { getParameterSet } from './parameters';
import { createSealContext, loadCiphertext, loadSeal } from './seal';

let seal: SEALLibrary;
let bfv: { context: Context; secretKey: SecretKey };

function keys(context: Context) {
  const generator = seal.KeyGenerator(context);
  return { generator, secretKey: generator.secretKey() };
}

beforeAll(async () => {
  seal = await loadSeal();
  const context = createSealContext(seal, getParameterSet('bfv-n4096-t60'));
  bfv = { context, secretKey: keys(context).secretKey };
});

function fheCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isFheError(error) ? error.fheCode : `not an FheError: ${String(error)}`;
  }
  return undefined;
}

const samples = 12;
const snps = 4100;
const phenotypes: PhenotypeClass[] = Array.from({ length: samples }, (_, i) =>
  i === 5 ? 'missing' : i % 3 === 0 ? 'case' : 'control',
);
const genotypes = Array.from({ length: samples }, (_, sample) =>
  Uint8Array.from({ length: snps }, (_, snp) => (sample * 7 + snp * 13 + ((snp * sample) >> 3)) % 4),
);

/** Encrypts one sample's genotype object the way the dataset pipeline does. */
function sampleObject(layout: GenotypeLayout, sample: number): Uint8Array {
  const publicKey = seal.KeyGenerator(bfv.context, bfv.secretKey).createPublicKey();
  const encryptor = seal.Encryptor(bfv.context, publicKey, bfv.secretKey);
  const encoder = seal.BatchEncoder(bfv.context);
  const weights = genotypeSlotWeights(layout);
  const slots = new BigUint64Array(layout.slotsPerCiphertext);
  const frames = Array.from({ length: layout.blockCount }, (_, block) => {
    const first = block * layout.snpsPerCiphertext;
    encodeGenotypeSlots(
      layout,
      weights,
      genotypes[sample]!.subarray(first, first + layout.snpsPerCiphertext),
      phenotypes[sample]!,
      slots,
    );
    return encryptor.encryptSymmetricSerializable(encoder.encode(slots)!).saveArray(seal.ComprModeType.zstd);
  });
  return encodeFrames(frames);
}

function decrypt(layout: GenotypeLayout, result: Uint8Array) {
  const { excludedSamples, blocks } = parseGenotypeCountsResult(result, layout);
  const decryptor = seal.Decryptor(bfv.context, bfv.secretKey);
  const encoder = seal.BatchEncoder(bfv.context);
  const budgets: number[] = [];
  const sums = blocks.map((block) => {
    const ciphertext = loadCiphertext(seal, bfv.context, block, 'block', 'BAD_RESULT', undefined, 'any');
    budgets.push(decryptor.invariantNoiseBudget(ciphertext));
    return encoder.decodeBigInt(decryptor.decrypt(ciphertext)!, false) as BigUint64Array;
  });
  return { counts: decodeGenotypeCounts(layout, sums, samples - excludedSamples.length), excludedSamples, budgets };
}

describe('genotype aggregate under BFV', () => {
  const layout = genotypeLayout(planGenotypeLanes('bfv-n4096-t60', samples), snps);
  let objects: Uint8Array[];

  beforeAll(() => {
    objects = Array.from({ length: samples }, (_, sample) => sampleObject(layout, sample));
  });

  it('sums sample objects to exactly the plaintext counts, skipping excluded donors', () => {
    const aggregator = new GenotypeCountAggregator(seal, bfv.context, layout);
    objects.forEach((bytes, sample) => {
      if (sample !== 2 && sample !== 9) aggregator.addSample(sample, bytes);
    });
    const { counts, excludedSamples, budgets } = decrypt(layout, aggregator.finish());
    aggregator.delete();
    expect(excludedSamples).toEqual([2, 9]);
    expect(budgets.every((budget) => budget > 0)).toBe(true);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(genotypes, phenotypes, new Set([2, 9])))).toBe(true);
  });

  it('adds partial results over disjoint samples (two threads) to the same counts', () => {
    const partial = (from: number, to: number) => {
      const aggregator = new GenotypeCountAggregator(seal, bfv.context, layout);
      for (let sample = from; sample < to; sample += 1) aggregator.addSample(sample, objects[sample]!);
      const result = aggregator.finish();
      aggregator.delete();
      return result;
    };
    const combined = new GenotypeCountAggregator(seal, bfv.context, layout);
    const first = partial(0, 6);
    combined.addPartialResult(first);
    combined.addPartialResult(partial(6, samples));
    const { counts, excludedSamples } = decrypt(layout, combined.finish());
    expect(excludedSamples).toEqual([]);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(genotypes, phenotypes))).toBe(true);
    expect(fheCode(() => combined.addPartialResult(first))).toBe('BAD_RESULT');
    combined.delete();
  });

  it('refuses repeated samples, foreign or damaged ciphertexts and empty aggregates', () => {
    const aggregator = new GenotypeCountAggregator(seal, bfv.context, layout);
    expect(fheCode(() => aggregator.finish())).toBe('BAD_OBJECT');
    aggregator.addSample(0, objects[0]!);
    expect(fheCode(() => aggregator.addSample(0, objects[0]!))).toBe('BAD_OBJECT');
    expect(fheCode(() => aggregator.addSample(samples, objects[1]!))).toBe('BAD_OBJECT');
    // A damaged SEAL header is always refused. (A flipped bit inside the zstd payload may still decode to
    // in-range coefficients, so it is not a reliable case here; objects are content-addressed, and the
    // orchestrator and gateway check every object's SHA-256 before it reaches the aggregator.)
    const damaged = objects[1]!.slice();
    damaged[12] = damaged[12]! ^ 0xff;
    expect(fheCode(() => aggregator.addSample(1, damaged))).toBe('BAD_OBJECT');
    const oneBlock = encodeFrames([objects[1]!.subarray(12, 13)]);
    expect(fheCode(() => aggregator.addSample(1, oneBlock))).toBe('BAD_OBJECT');
    aggregator.delete();
  });
});

describe('numeric aggregate under CKKS', () => {
  it('masks excluded samples and sums each plane by rotations, close to the plaintext sums', () => {
    const set = getParameterSet('ckks-n8192-s40');
    const context = createSealContext(seal, set);
    const { generator, secretKey } = keys(context);
    const galoisKeys = generator.createGaloisKeys(Int32Array.from(slotSumGaloisSteps(set.id)));
    const encryptor = seal.Encryptor(context, generator.createPublicKey(), secretKey);
    const encoder = seal.CKKSEncoder(context);
    const columns = [
      { name: 'age', values: Float64Array.from({ length: 50 }, (_, i) => (i % 7 === 0 ? Number.NaN : 20 + i)) },
      { name: 'bmi', values: Float64Array.from({ length: 50 }, (_, i) => 18.5 + ((i * 37) % 170) / 10) },
    ];
    const layout = planNumericLayout(
      set.id,
      50,
      columns.map(({ name }) => ({ name, role: 'covariate' as const })),
    );
    const objects = columns.map(({ name, values }) => ({
      column: name,
      bytes: encodeFrames(
        encodeNumericColumn(layout, values).map((vector) =>
          encryptor.encryptSymmetricSerializable(encoder.encode(vector, 2 ** set.scaleBits!)!).saveArray(),
        ),
      ),
    }));
    const decryptor = seal.Decryptor(context, secretKey);
    for (const excluded of [[], [3, 44]]) {
      const result = parseNumericSumsResult(
        aggregateNumericSums(seal, context, layout, galoisKeys, objects, excluded),
        layout,
      );
      expect(result.excludedSamples).toEqual(excluded);
      const totals = result.ciphertexts.map((bytes) => {
        const ciphertext = loadCiphertext(seal, context, bytes, 'sum', 'BAD_RESULT', undefined, 'any');
        return encoder.decode(decryptor.decrypt(ciphertext)!)[0]!;
      });
      referenceNumericSums(columns, new Set(excluded)).forEach((reference, c) => {
        const [sum, sumOfSquares, count] = totals.slice(c * 3, c * 3 + 3) as [number, number, number];
        expect(Math.abs(count - reference.count)).toBeLessThan(1e-4);
        expect(Math.abs(sum - reference.sum)).toBeLessThan(1e-4 + 1e-9 * Math.abs(reference.sum));
        expect(Math.abs(sumOfSquares - reference.sumOfSquares)).toBeLessThan(1e-4 + 1e-9 * reference.sumOfSquares);
      });
    }
    const noGalois = generator.createGaloisKeys(Int32Array.of(1));
    expect(fheCode(() => aggregateNumericSums(seal, context, layout, noGalois, objects))).toBe('BAD_KEYS');
    expect(
      fheCode(() =>
        aggregateNumericSums(seal, context, layout, galoisKeys, [{ column: 'x', bytes: objects[0]!.bytes }]),
      ),
    ).toBe('BAD_OBJECT');
  });
});
