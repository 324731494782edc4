import { z } from 'zod';
import { ALGORITHMS } from '../contracts/constants';
import type { GenotypeCounts, NumericSums } from '../fhe/layout';
import { AlgorithmError } from './errors';
import { jobParamsHash } from './params-hash';
import {
  allelicTest,
  alleleTally,
  meanVariance,
  sigmoid,
  snpTable,
  trendTest,
  type AlleleTally,
  type MeanVariance,
} from './statistics';
import type { VariantInfo } from './variants';

/** What the owner's decryption gives per algorithm (electron/main/fhe/decrypt.ts). */
export interface DecryptedGenotypeCounts {
  counts: GenotypeCounts;
  excludedSamples: number[];
}
export interface DecryptedNumericSums {
  sums: NumericSums[];
  excludedSamples: number[];
}
export interface DecryptedLogregScores {
  paramsHash: string;
  columns: string[];
  excludedSamples: number[];
  /** η per sample; NaN where the sample is excluded or misses a model column. */
  linearPredictors: Float64Array;
}
export type DecryptedResult = DecryptedGenotypeCounts | DecryptedNumericSums | DecryptedLogregScores;

interface VariantColumns {
  snp: number;
  chrom: string | null;
  pos: number | null;
  id: string | null;
}

export interface AlleleCountRow extends VariantColumns {
  ref: string | null;
  alt: string | null;
  case: AlleleTally;
  control: AlleleTally;
  all: AlleleTally;
  /** ALT allele frequency over all counted samples; null with no genotype. */
  altFrequency: number | null;
}

export interface AllelicRow extends VariantColumns {
  /** PLINK's A1 (minor) and A2 alleles; null without a variant table. */
  a1: string | null;
  a2: string | null;
  a1IsAlt: boolean;
  fA: number | null;
  fU: number | null;
  chisq: number | null;
  p: number | null;
  or: number | null;
}

export interface TrendRow extends VariantColumns {
  a1: string | null;
  a2: string | null;
  a1IsAlt: boolean;
  chisq: number | null;
  p: number | null;
}

export interface LogregRow {
  sample: number;
  /** null when the sample is excluded or misses a model column. */
  linearPredictor: number | null;
  probability: number | null;
}

interface TableBase<Name extends string, Row> {
  algorithmId: string;
  algorithm: Name;
  excludedSamples: number[];
  rows: Row[];
}

export type AlleleCountsTable = TableBase<typeof ALGORITHMS.ALLELE_COUNTS.name, AlleleCountRow>;
export type AllelicTable = TableBase<typeof ALGORITHMS.GWAS_ALLELIC_CHISQ.name, AllelicRow>;
export type TrendTable = TableBase<typeof ALGORITHMS.GWAS_TREND.name, TrendRow>;
export type MeanVarianceTable = TableBase<typeof ALGORITHMS.MEAN_VARIANCE.name, MeanVariance>;
export type LogregTable = TableBase<typeof ALGORITHMS.LOGREG_INFERENCE.name, LogregRow> & { columns: string[] };
export type AlgorithmTable = AlleleCountsTable | AllelicTable | TrendTable | MeanVarianceTable | LogregTable;

const excludedSchema = z.array(z.number().int().nonnegative());
const countsArray = z.custom<Uint32Array>((value) => value instanceof Uint32Array);
const tripleSchema = z.tuple([countsArray, countsArray, countsArray]);
const genotypeCountsSchema = z.object({
  counts: z.object({ snpCount: z.number().int().positive(), control: tripleSchema, case: tripleSchema }),
  excludedSamples: excludedSchema,
});
const numericSumsSchema = z.object({
  sums: z.array(
    z.object({
      column: z.string(),
      count: z.number().int().nonnegative(),
      sum: z.number().refine(Number.isFinite),
      sumOfSquares: z.number().refine(Number.isFinite),
    }),
  ),
  excludedSamples: excludedSchema,
});
const logregScoresSchema = z.object({
  paramsHash: z.string(),
  columns: z.array(z.string()),
  excludedSamples: excludedSchema,
  linearPredictors: z.custom<Float64Array>((value) => value instanceof Float64Array),
});

function parseDecrypted<T>(schema: z.ZodType<T>, decrypted: unknown, what: string): T {
  const parsed = schema.safeParse(decrypted);
  if (!parsed.success) throw new AlgorithmError('BAD_RESULT', `The decrypted result is not ${what}`);
  return parsed.data;
}

function checkVariants(variants: readonly VariantInfo[] | undefined, snpCount: number): void {
  if (variants !== undefined && variants.length !== snpCount) {
    throw new AlgorithmError('BAD_INPUT', `The variant table has ${variants.length} rows for ${snpCount} SNPs`);
  }
}

function variantColumns(variants: readonly VariantInfo[] | undefined, snp: number): VariantColumns {
  const variant = variants?.[snp];
  return { snp, chrom: variant?.chrom ?? null, pos: variant?.pos ?? null, id: variant?.id ?? null };
}

function alleles(variants: readonly VariantInfo[] | undefined, snp: number, a1IsAlt: boolean) {
  const variant = variants?.[snp];
  if (!variant) return { a1: null, a2: null };
  return a1IsAlt ? { a1: variant.alt, a2: variant.ref } : { a1: variant.ref, a2: variant.alt };
}

function checkCounts(counts: GenotypeCounts): void {
  const arrays = [...counts.case, ...counts.control];
  if (arrays.some((array) => array.length !== counts.snpCount)) {
    throw new AlgorithmError('BAD_RESULT', 'The decrypted counts do not cover every SNP');
  }
}

/** Allele counts per SNP, overall and by group. */
export function alleleCountRows(counts: GenotypeCounts, variants?: readonly VariantInfo[]): AlleleCountRow[] {
  return Array.from({ length: counts.snpCount }, (_, snp) => {
    const table = snpTable(counts, snp);
    const all = alleleTally([
      table.case[0] + table.control[0],
      table.case[1] + table.control[1],
      table.case[2] + table.control[2],
    ]);
    const alleleTotal = all.refAlleles + all.altAlleles;
    return {
      ...variantColumns(variants, snp),
      ref: variants?.[snp]?.ref ?? null,
      alt: variants?.[snp]?.alt ?? null,
      case: alleleTally(table.case),
      control: alleleTally(table.control),
      all,
      altFrequency: alleleTotal === 0 ? null : all.altAlleles / alleleTotal,
    };
  });
}

export function allelicRows(counts: GenotypeCounts, variants?: readonly VariantInfo[]): AllelicRow[] {
  return Array.from({ length: counts.snpCount }, (_, snp) => {
    const test = allelicTest(snpTable(counts, snp));
    return { ...variantColumns(variants, snp), ...alleles(variants, snp, test.a1IsAlt), ...test };
  });
}

export function trendRows(counts: GenotypeCounts, variants?: readonly VariantInfo[]): TrendRow[] {
  return Array.from({ length: counts.snpCount }, (_, snp) => {
    const test = trendTest(snpTable(counts, snp));
    return { ...variantColumns(variants, snp), ...alleles(variants, snp, test.a1IsAlt), ...test };
  });
}

/**
 * The typed, JSON-serializable table the app shows for a decrypted result. `params` are the job's
 * params (checked against the algorithm's schema); `variants` (the dataset's variant table) labels SNPs.
 */
export function interpretResult(
  algorithmId: string,
  decrypted: DecryptedResult,
  params: unknown,
  variants?: readonly VariantInfo[],
): AlgorithmTable {
  switch (algorithmId) {
    case ALGORITHMS.ALLELE_COUNTS.id:
    case ALGORITHMS.GWAS_ALLELIC_CHISQ.id:
    case ALGORITHMS.GWAS_TREND.id: {
      const { counts, excludedSamples } = parseDecrypted(genotypeCountsSchema, decrypted, 'genotype counts');
      checkCounts(counts);
      checkVariants(variants, counts.snpCount);
      if (algorithmId === ALGORITHMS.ALLELE_COUNTS.id) {
        const name = ALGORITHMS.ALLELE_COUNTS.name;
        return { algorithmId, algorithm: name, excludedSamples, rows: alleleCountRows(counts, variants) };
      }
      if (algorithmId === ALGORITHMS.GWAS_ALLELIC_CHISQ.id) {
        const name = ALGORITHMS.GWAS_ALLELIC_CHISQ.name;
        return { algorithmId, algorithm: name, excludedSamples, rows: allelicRows(counts, variants) };
      }
      const name = ALGORITHMS.GWAS_TREND.name;
      return { algorithmId, algorithm: name, excludedSamples, rows: trendRows(counts, variants) };
    }
    case ALGORITHMS.MEAN_VARIANCE.id: {
      const { sums, excludedSamples } = parseDecrypted(numericSumsSchema, decrypted, 'numeric sums');
      const column = z.object({ column: z.string() }).safeParse(params);
      if (column.success && !sums.some((entry) => entry.column === column.data.column)) {
        throw new AlgorithmError('BAD_RESULT', `The result holds no sums for column ${column.data.column}`);
      }
      return {
        algorithmId,
        algorithm: ALGORITHMS.MEAN_VARIANCE.name,
        excludedSamples,
        rows: sums.map((entry) => meanVariance(entry)),
      };
    }
    case ALGORITHMS.LOGREG_INFERENCE.id: {
      const scores = parseDecrypted(logregScoresSchema, decrypted, 'logistic-regression scores');
      if (scores.paramsHash !== jobParamsHash(params)) {
        throw new AlgorithmError('BAD_RESULT', 'The result was computed with another model than these params');
      }
      return {
        algorithmId,
        algorithm: ALGORITHMS.LOGREG_INFERENCE.name,
        excludedSamples: scores.excludedSamples,
        columns: scores.columns,
        rows: Array.from(scores.linearPredictors, (eta, sample) =>
          Number.isNaN(eta)
            ? { sample, linearPredictor: null, probability: null }
            : { sample, linearPredictor: eta, probability: sigmoid(eta) },
        ),
      };
    }
    default:
      throw new AlgorithmError('UNKNOWN_ALGORITHM', `Unknown algorithm id ${algorithmId}`);
  }
}
