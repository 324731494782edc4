import { describe, expect, it } from 'vitest';
import { referenceGenotypeCounts, sameGenotypeCounts } from './aggregate';
import { isFheError } from './errors';
import {
  decodeGenotypeCounts,
  encodeGenotypeSlots,
  encodeNumericColumn,
  GENOTYPE_MISSING,
  genotypeLayout,
  genotypeSlotWeights,
  planGenotypeLanes,
  planNumericLayout,
  type GenotypeLayout,
  type PhenotypeClass,
} from './layout';
import { PARAMETER_SETS } from './parameters';

const t = BigInt(PARAMETER_SETS['bfv-n4096-t60'].plainModulus!);

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

interface Cohort {
  genotypes: Uint8Array[];
  phenotypes: PhenotypeClass[];
}

function cohort(samples: number, snps: number, seed: number): Cohort {
  const next = random(seed);
  const classes: PhenotypeClass[] = ['control', 'case', 'missing'];
  return {
    genotypes: Array.from({ length: samples }, () => Uint8Array.from({ length: snps }, () => Math.floor(next() * 4))),
    phenotypes: Array.from({ length: samples }, () => classes[next() < 0.05 ? 2 : next() < 0.5 ? 0 : 1]!),
  };
}

/** What BFV addition does to the encoded slots: add them mod t. */
function slotSums(
  layout: GenotypeLayout,
  { genotypes, phenotypes }: Cohort,
  excluded = new Set<number>(),
): BigUint64Array[] {
  const weights = genotypeSlotWeights(layout);
  const used = layout.snpsPerCiphertext * layout.lanes.length;
  return Array.from({ length: layout.blockCount }, (_, block) => {
    const sums = new BigUint64Array(layout.slotsPerCiphertext);
    const slots = new BigUint64Array(layout.slotsPerCiphertext);
    genotypes.forEach((codes, sample) => {
      if (excluded.has(sample)) return;
      const first = block * layout.snpsPerCiphertext;
      encodeGenotypeSlots(
        layout,
        weights,
        codes.subarray(first, first + layout.snpsPerCiphertext),
        phenotypes[sample]!,
        slots,
      );
      for (let slot = 0; slot < used; slot += 1) sums[slot] = (sums[slot]! + slots[slot]!) % t;
    });
    return sums;
  });
}

function fheCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isFheError(error) ? error.fheCode : 'not an FheError';
  }
  return undefined;
}

describe('genotype layout', () => {
  it('packs all six counters of a SNP into one slot up to 1,022 samples, two lanes beyond', () => {
    const thousand = planGenotypeLanes('bfv-n4096-t60', 1000);
    expect(thousand.radix).toBe(1001);
    expect(thousand.lanes).toHaveLength(1);
    expect(thousand.lanes[0]).toHaveLength(6);
    expect(thousand.snpsPerCiphertext).toBe(4096);
    expect(planGenotypeLanes('bfv-n4096-t60', 1022).lanes).toHaveLength(1);
    const larger = planGenotypeLanes('bfv-n4096-t60', 1023);
    expect(larger.lanes.map((lane) => lane.length)).toEqual([5, 1]);
    expect(larger.snpsPerCiphertext).toBe(2048);
    expect(planGenotypeLanes('bfv-n4096-t60', 1_000_000).lanes.map((lane) => lane.length)).toEqual([3, 3]);
    expect(genotypeLayout(thousand, 131_072).blockCount).toBe(32);
    expect(fheCode(() => planGenotypeLanes('ckks-n8192-s40', 10))).toBe('BAD_LAYOUT');
    expect(fheCode(() => planGenotypeLanes('bfv-n4096-t60', 0))).toBe('BAD_LAYOUT');
  });

  it('decodes summed slots to exactly the plaintext counts (one lane, several blocks, partial last block)', () => {
    const data = cohort(37, 4096 + 100, 1);
    const layout = genotypeLayout(planGenotypeLanes('bfv-n4096-t60', 37), 4196);
    expect(layout.blockCount).toBe(2);
    const excluded = new Set([3, 17]);
    const counts = decodeGenotypeCounts(layout, slotSums(layout, data, excluded), 35);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(data.genotypes, data.phenotypes, excluded))).toBe(true);
  });

  it('decodes two-lane layouts too, with the worst case of every sample in one counter', () => {
    const samples = 1500;
    const data = cohort(samples, 5, 2);
    data.genotypes[0]!.fill(2);
    data.genotypes.forEach((codes, sample) => {
      codes[4] = 2;
      data.phenotypes[sample] = sample === 7 ? 'missing' : 'case';
    });
    const layout = genotypeLayout(planGenotypeLanes('bfv-n4096-t60', samples), 5);
    const counts = decodeGenotypeCounts(layout, slotSums(layout, data), samples);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(data.genotypes, data.phenotypes))).toBe(true);
    expect(counts.case[2][4]).toBe(samples - 1);
  });

  it('adds nothing for missing genotypes or missing phenotypes', () => {
    const plan = planGenotypeLanes('bfv-n4096-t60', 10);
    const weights = genotypeSlotWeights(plan);
    const slots = new BigUint64Array(plan.slotsPerCiphertext);
    encodeGenotypeSlots(plan, weights, Uint8Array.of(GENOTYPE_MISSING, 0, 1, 2), 'case', slots);
    expect([...slots.subarray(0, 4)]).toEqual([0n, 11n ** 3n, 11n ** 4n, 11n ** 5n]);
    encodeGenotypeSlots(plan, weights, Uint8Array.of(0, 1, 2), 'control', slots);
    expect([...slots.subarray(0, 4)]).toEqual([1n, 11n, 121n, 0n]);
    encodeGenotypeSlots(plan, weights, Uint8Array.of(0, 1, 2), 'missing', slots);
    expect(slots.every((slot) => slot === 0n)).toBe(true);
    expect(fheCode(() => encodeGenotypeSlots(plan, weights, Uint8Array.of(4), 'case', slots))).toBe('BAD_LAYOUT');
  });

  it('refuses sums an honest aggregate cannot produce', () => {
    const layout = genotypeLayout(planGenotypeLanes('bfv-n4096-t60', 10), 3);
    const sums = () => [new BigUint64Array(4096)];
    const overflow = sums();
    overflow[0]![0] = 11n ** 6n;
    const overcount = sums();
    overcount[0]![1] = 6n + 6n * 11n; // 12 genotypes from 10 samples
    const padding = sums();
    padding[0]![3] = 1n;
    expect(fheCode(() => decodeGenotypeCounts(layout, overflow, 10))).toBe('BAD_RESULT');
    expect(fheCode(() => decodeGenotypeCounts(layout, overcount, 10))).toBe('BAD_RESULT');
    expect(fheCode(() => decodeGenotypeCounts(layout, padding, 10))).toBe('BAD_RESULT');
    expect(fheCode(() => decodeGenotypeCounts(layout, [], 10))).toBe('BAD_RESULT');
    expect(fheCode(() => decodeGenotypeCounts(layout, sums(), 11))).toBe('BAD_RESULT');
    expect(decodeGenotypeCounts(layout, sums(), 10).control[0][0]).toBe(0);
  });
});

describe('numeric layout', () => {
  it('puts value, square and presence planes with samples in slots', () => {
    const layout = planNumericLayout('ckks-n8192-s40', 3, [{ name: 'age', role: 'covariate' }]);
    expect(layout.ciphertextsPerPlane).toBe(1);
    const [value, square, present] = encodeNumericColumn(layout, Float64Array.of(2, Number.NaN, -3.5));
    expect([...value!.subarray(0, 4)]).toEqual([2, 0, -3.5, 0]);
    expect([...square!.subarray(0, 4)]).toEqual([4, 0, 12.25, 0]);
    expect([...present!.subarray(0, 4)]).toEqual([1, 0, 1, 0]);
  });

  it('spreads large cohorts over several ciphertexts per plane', () => {
    const layout = planNumericLayout('ckks-n8192-s40', 5000, [{ name: 'x', role: 'covariate' }]);
    expect(layout.ciphertextsPerPlane).toBe(2);
    const vectors = encodeNumericColumn(layout, new Float64Array(5000).fill(1));
    expect(vectors).toHaveLength(6);
    expect(vectors[1]![5000 - 4096 - 1]).toBe(1);
    expect(vectors[1]![5000 - 4096]).toBe(0);
  });

  it('refuses values CKKS cannot hold and layouts that do not fit', () => {
    const layout = planNumericLayout('ckks-n8192-s40', 1, [{ name: 'x', role: 'covariate' }]);
    expect(fheCode(() => encodeNumericColumn(layout, Float64Array.of(2e6)))).toBe('BAD_LAYOUT');
    expect(fheCode(() => encodeNumericColumn(layout, Float64Array.of(1, 2)))).toBe('BAD_LAYOUT');
    expect(fheCode(() => planNumericLayout('bfv-n4096-t60', 1, []))).toBe('BAD_LAYOUT');
    expect(
      fheCode(() =>
        planNumericLayout('ckks-n8192-s40', 1, [
          { name: 'x', role: 'covariate' },
          { name: 'x', role: 'covariate' },
        ]),
      ),
    ).toBe('BAD_LAYOUT');
  });
});
