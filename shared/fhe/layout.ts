import { FheError } from './errors';
import { getParameterSet, type ParameterSetId } from './parameters';

/** Per-sample genotype code: the ALT allele count 0, 1, 2, or missing. */
export const GENOTYPE_MISSING = 3;
export type GenotypeCode = 0 | 1 | 2 | typeof GENOTYPE_MISSING;

export const phenotypeGroups = ['control', 'case'] as const;
export type PhenotypeGroup = (typeof phenotypeGroups)[number];
/** A sample's case/control status; 'missing' samples take part in no GWAS count (as in PLINK). */
export type PhenotypeClass = PhenotypeGroup | 'missing';

/** One count the GWAS aggregates need per SNP: samples of `group` with `altAlleles` ALT alleles. */
export interface GenotypeCounter {
  group: PhenotypeGroup;
  altAlleles: 0 | 1 | 2;
}

/** Counter order in the digits: control 0,1,2 then case 0,1,2 (least significant first). */
export const GENOTYPE_COUNTERS: readonly GenotypeCounter[] = phenotypeGroups.flatMap((group) =>
  ([0, 1, 2] as const).map((altAlleles) => ({ group, altAlleles })),
);

/**
 * How genotypes sit in BFV slots. One ciphertext per (sample, block of SNPs); a SNP takes `lanes.length`
 * adjacent slots (one when the cohort is small enough). A slot holds radix digits, one per counter of
 * its lane: a sample adds radix^d to the digit of its (phenotype group, genotype) counter, so summing
 * ciphertexts over samples yields every per-SNP count at once, with additions only. Missing genotypes
 * and missing phenotypes add nothing, which is how PLINK drops them per SNP.
 */
export interface GenotypeLayout {
  kind: 'cos.layout.genotype-counts.v1';
  parameterSetId: ParameterSetId;
  sampleCount: number;
  snpCount: number;
  slotsPerCiphertext: number;
  /** sampleCount + 1, the same for every counter so the layout does not reveal the case/control split. */
  radix: number;
  /** lanes[l] = the counters whose digits lane l holds, least significant first. */
  lanes: GenotypeCounter[][];
  snpsPerCiphertext: number;
  blockCount: number;
}

export type GenotypeLanePlan = Omit<GenotypeLayout, 'snpCount' | 'blockCount'>;

/** Fewest lanes such that radix^(counters in a lane) < t, counters kept in GENOTYPE_COUNTERS order. */
export function planGenotypeLanes(parameterSetId: ParameterSetId, sampleCount: number): GenotypeLanePlan {
  const set = getParameterSet(parameterSetId);
  if (set.scheme !== 'bfv' || set.plainModulus === null) {
    throw new FheError('BAD_LAYOUT', `Genotype counts need a BFV parameter set, not ${parameterSetId}`);
  }
  if (!Number.isSafeInteger(sampleCount) || sampleCount < 1) {
    throw new FheError('BAD_LAYOUT', 'A genotype layout needs at least one sample');
  }
  const plainModulus = BigInt(set.plainModulus);
  const radix = sampleCount + 1;
  let perLane = 0;
  for (let power = 1n; power * BigInt(radix) < plainModulus && perLane < GENOTYPE_COUNTERS.length; perLane += 1) {
    power *= BigInt(radix);
  }
  if (perLane === 0) throw new FheError('BAD_LAYOUT', `${sampleCount} samples exceed the plain modulus of ${set.id}`);
  const lanes: GenotypeCounter[][] = [];
  for (let start = 0; start < GENOTYPE_COUNTERS.length; start += perLane) {
    lanes.push(GENOTYPE_COUNTERS.slice(start, start + perLane).map((counter) => ({ ...counter })));
  }
  return {
    kind: 'cos.layout.genotype-counts.v1',
    parameterSetId,
    sampleCount,
    slotsPerCiphertext: set.slots,
    radix,
    lanes,
    snpsPerCiphertext: Math.floor(set.slots / lanes.length),
  };
}

export function genotypeLayout(plan: GenotypeLanePlan, snpCount: number): GenotypeLayout {
  if (!Number.isSafeInteger(snpCount) || snpCount < 1)
    throw new FheError('BAD_LAYOUT', 'A dataset needs at least one SNP');
  return { ...plan, snpCount, blockCount: Math.ceil(snpCount / plan.snpsPerCiphertext) };
}

/**
 * Slot weights: weights[(group * 4 + code) * lanes + lane] is what a sample of `group` with genotype
 * `code` puts in `lane` of the SNP's slots (0 for missing genotypes).
 */
export function genotypeSlotWeights(plan: GenotypeLanePlan): BigUint64Array {
  const laneCount = plan.lanes.length;
  const weights = new BigUint64Array(phenotypeGroups.length * 4 * laneCount);
  plan.lanes.forEach((lane, laneIndex) => {
    let weight = 1n;
    for (const counter of lane) {
      const group = phenotypeGroups.indexOf(counter.group);
      weights[(group * 4 + counter.altAlleles) * laneCount + laneIndex] = weight;
      weight *= BigInt(plan.radix);
    }
  });
  return weights;
}

/**
 * Fills `slots` with one sample's plaintext for one block: `codes[j]` is the sample's genotype at
 * the block's j-th SNP. Unused slots stay zero.
 */
export function encodeGenotypeSlots(
  plan: GenotypeLanePlan,
  weights: BigUint64Array,
  codes: Uint8Array,
  phenotype: PhenotypeClass,
  slots: BigUint64Array,
): void {
  if (codes.length > plan.snpsPerCiphertext || slots.length !== plan.slotsPerCiphertext) {
    throw new FheError('BAD_LAYOUT', 'A genotype block does not fit the layout');
  }
  slots.fill(0n);
  if (phenotype === 'missing') return;
  const laneCount = plan.lanes.length;
  const base = phenotypeGroups.indexOf(phenotype) * 4 * laneCount;
  for (let snp = 0; snp < codes.length; snp += 1) {
    const code = codes[snp]!;
    if (code === GENOTYPE_MISSING) continue;
    if (code > GENOTYPE_MISSING) throw new FheError('BAD_LAYOUT', `Genotype code ${code} is not 0, 1, 2 or missing`);
    for (let lane = 0; lane < laneCount; lane += 1)
      slots[snp * laneCount + lane] = weights[base + code * laneCount + lane]!;
  }
}

/** Per-SNP genotype counts by group: counts[group][altAlleles][snp]. Missing genotypes are in none. */
export interface GenotypeCounts {
  snpCount: number;
  control: [Uint32Array, Uint32Array, Uint32Array];
  case: [Uint32Array, Uint32Array, Uint32Array];
}

export function emptyGenotypeCounts(snpCount: number): GenotypeCounts {
  const triple = (): [Uint32Array, Uint32Array, Uint32Array] => [
    new Uint32Array(snpCount),
    new Uint32Array(snpCount),
    new Uint32Array(snpCount),
  ];
  return { snpCount, control: triple(), case: triple() };
}

/**
 * Reads the counts out of decrypted per-block slot sums. Checks what an honest sum over
 * `aggregatedSamples` samples must satisfy (digits in range, counts within the sample count,
 * padding slots zero), so a corrupt or overcounted result fails loudly instead of decoding to noise.
 */
export function decodeGenotypeCounts(
  layout: GenotypeLayout,
  blockSums: readonly (BigUint64Array | readonly bigint[])[],
  aggregatedSamples: number,
): GenotypeCounts {
  if (blockSums.length !== layout.blockCount) {
    throw new FheError('BAD_RESULT', `Expected ${layout.blockCount} result blocks, got ${blockSums.length}`);
  }
  if (!Number.isSafeInteger(aggregatedSamples) || aggregatedSamples < 0 || aggregatedSamples > layout.sampleCount) {
    throw new FheError('BAD_RESULT', `A result cannot sum ${aggregatedSamples} of ${layout.sampleCount} samples`);
  }
  const counts = emptyGenotypeCounts(layout.snpCount);
  const laneCount = layout.lanes.length;
  const radix = BigInt(layout.radix);
  blockSums.forEach((sums, block) => {
    if (sums.length !== layout.slotsPerCiphertext)
      throw new FheError('BAD_RESULT', `Result block ${block} has ${sums.length} slots`);
    const firstSnp = block * layout.snpsPerCiphertext;
    const snpsHere = Math.min(layout.snpsPerCiphertext, layout.snpCount - firstSnp);
    for (let slot = snpsHere * laneCount; slot < sums.length; slot += 1) {
      if (sums[slot] !== 0n) throw new FheError('BAD_RESULT', `Result block ${block} has data in unused slot ${slot}`);
    }
    for (let local = 0; local < snpsHere; local += 1) {
      const snp = firstSnp + local;
      let total = 0;
      for (let lane = 0; lane < laneCount; lane += 1) {
        let value = BigInt(sums[local * laneCount + lane]!);
        for (const counter of layout.lanes[lane]!) {
          const count = Number(value % radix);
          value /= radix;
          counts[counter.group][counter.altAlleles][snp] = count;
          total += count;
        }
        if (value !== 0n)
          throw new FheError('BAD_RESULT', `SNP ${snp}: the decrypted sum overflows the layout's digits`);
      }
      if (total > aggregatedSamples) {
        throw new FheError('BAD_RESULT', `SNP ${snp}: ${total} genotypes counted from ${aggregatedSamples} samples`);
      }
    }
  });
  return counts;
}

export const numericPlanes = ['value', 'square', 'present'] as const;
export type NumericPlane = (typeof numericPlanes)[number];

/** Largest magnitude a numeric value may have, so sums of squares stay inside the CKKS modulus. */
export const NUMERIC_MAX_ABS = 1e6;

export interface NumericColumn {
  name: string;
  /** 'phenotype' is the case/control column as 1 (case) / 0 (control); the rest are covariates. */
  role: 'phenotype' | 'covariate';
}

/**
 * How numeric columns sit in CKKS slots: per column, three planes (value with 0 for missing, its
 * square, and a presence indicator), each a run of ciphertexts with sample i in slot i mod slots of
 * ciphertext floor(i / slots). Squares are computed by the owner, so mean and variance need no
 * relinearization; a slot sum needs rotations (Galois keys for powers of two).
 */
export interface NumericLayout {
  kind: 'cos.layout.numeric-columns.v1';
  parameterSetId: ParameterSetId;
  sampleCount: number;
  slotsPerCiphertext: number;
  ciphertextsPerPlane: number;
  scaleBits: number;
  planes: NumericPlane[];
  columns: NumericColumn[];
}

export function planNumericLayout(
  parameterSetId: ParameterSetId,
  sampleCount: number,
  columns: readonly NumericColumn[],
): NumericLayout {
  const set = getParameterSet(parameterSetId);
  if (set.scheme !== 'ckks' || set.scaleBits === null) {
    throw new FheError('BAD_LAYOUT', `Numeric columns need a CKKS parameter set, not ${parameterSetId}`);
  }
  if (!Number.isSafeInteger(sampleCount) || sampleCount < 1) throw new FheError('BAD_LAYOUT', 'No samples');
  const names = new Set(columns.map((column) => column.name));
  if (names.size !== columns.length) throw new FheError('BAD_LAYOUT', 'Numeric column names must be unique');
  return {
    kind: 'cos.layout.numeric-columns.v1',
    parameterSetId,
    sampleCount,
    slotsPerCiphertext: set.slots,
    ciphertextsPerPlane: Math.ceil(sampleCount / set.slots),
    scaleBits: set.scaleBits,
    planes: [...numericPlanes],
    columns: columns.map((column) => ({ ...column })),
  };
}

/**
 * One column's plaintext slot vectors in object order (plane by plane, ciphertext by ciphertext).
 * `values[i]` is sample i's value, NaN where missing.
 */
export function encodeNumericColumn(layout: NumericLayout, values: Float64Array): Float64Array[] {
  if (values.length !== layout.sampleCount) throw new FheError('BAD_LAYOUT', 'A numeric column has the wrong length');
  const vectors: Float64Array[] = [];
  for (const plane of layout.planes) {
    for (let ct = 0; ct < layout.ciphertextsPerPlane; ct += 1) {
      const slots = new Float64Array(layout.slotsPerCiphertext);
      const first = ct * layout.slotsPerCiphertext;
      const last = Math.min(layout.sampleCount, first + layout.slotsPerCiphertext);
      for (let sample = first; sample < last; sample += 1) {
        const value = values[sample]!;
        if (Number.isNaN(value)) continue;
        if (!Number.isFinite(value) || Math.abs(value) > NUMERIC_MAX_ABS) {
          throw new FheError('BAD_LAYOUT', `Sample ${sample}: ${value} is outside ±${NUMERIC_MAX_ABS}`);
        }
        slots[sample - first] = plane === 'value' ? value : plane === 'square' ? value * value : 1;
      }
      vectors.push(slots);
    }
  }
  return vectors;
}

/** A numeric column's aggregates over the included samples with a value. */
export interface NumericSums {
  column: string;
  count: number;
  sum: number;
  sumOfSquares: number;
}
