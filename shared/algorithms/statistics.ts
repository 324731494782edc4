import type { GenotypeCounts, NumericSums } from '../fhe/layout';
import { chiSquare1UpperTail } from './chi-square';

/*
 * The owner's statistics on decrypted aggregates, as PLINK 1.9 defines them. A SNP's input is its 2×3
 * genotype table: for cases and for controls, the samples with 0, 1 and 2 ALT alleles (samples with a
 * missing genotype or phenotype are in no cell). "NA" in PLINK's output is `null` here.
 */

/** n[k] = samples with k ALT alleles. */
export type GenotypeTriple = readonly [number, number, number];

export interface SnpTable {
  case: GenotypeTriple;
  control: GenotypeTriple;
}

export function snpTable(counts: GenotypeCounts, snp: number): SnpTable {
  return {
    case: [counts.case[0][snp]!, counts.case[1][snp]!, counts.case[2][snp]!],
    control: [counts.control[0][snp]!, counts.control[1][snp]!, counts.control[2][snp]!],
  };
}

export interface AlleleTally {
  homRef: number;
  het: number;
  homAlt: number;
  refAlleles: number;
  altAlleles: number;
}

export function alleleTally([homRef, het, homAlt]: GenotypeTriple): AlleleTally {
  return { homRef, het, homAlt, refAlleles: 2 * homRef + het, altAlleles: het + 2 * homAlt };
}

/**
 * PLINK 1.9's A1 (the minor allele): ALT unless ALT alleles outnumber REF alleles; a tie keeps ALT
 * (the VCF's A1). PLINK counts every sample with a genotype here, these counts only those with a known
 * phenotype (docs/FHE_DESIGN.md: use cohorts without missing phenotypes, or `--prune`, to compare).
 */
export function a1IsAlt(table: SnpTable): boolean {
  const all: GenotypeTriple = [
    table.case[0] + table.control[0],
    table.case[1] + table.control[1],
    table.case[2] + table.control[2],
  ];
  const { refAlleles, altAlleles } = alleleTally(all);
  return !(altAlleles > refAlleles);
}

export interface AllelicTest {
  /** Whether A1 is the ALT allele (otherwise REF). */
  a1IsAlt: boolean;
  /** A1 frequency in cases (F_A) and controls (F_U); null when the group has no allele. */
  fA: number | null;
  fU: number | null;
  chisq: number | null;
  p: number | null;
  /** Odds ratio of A1, (cases A1 · controls A2) / (cases A2 · controls A1); null when the denominator is 0. */
  or: number | null;
}

/**
 * PLINK `--assoc`: Pearson chi-square (1 df, no continuity correction) on the 2×2 allele table.
 * As PLINK prints it: NA when one allele is absent from the whole table (monomorphic or no genotype),
 * 0 (P = 1) when one phenotype group has no allele at all.
 */
export function allelicTest(table: SnpTable): AllelicTest {
  const alt = a1IsAlt(table);
  const cases = alleleTally(table.case);
  const controls = alleleTally(table.control);
  const a = alt ? cases.altAlleles : cases.refAlleles;
  const b = alt ? cases.refAlleles : cases.altAlleles;
  const c = alt ? controls.altAlleles : controls.refAlleles;
  const d = alt ? controls.refAlleles : controls.altAlleles;
  const fA = a + b > 0 ? a / (a + b) : null;
  const fU = c + d > 0 ? c / (c + d) : null;
  const or = b * c === 0 ? null : (a * d) / (b * c);
  let chisq: number | null;
  if (a + c === 0 || b + d === 0) chisq = null;
  else if (a + b === 0 || c + d === 0) chisq = 0;
  else {
    const n = a + b + c + d;
    const diff = a * d - b * c; // exact: the counts are integers far below 2^26
    chisq = (((n * diff) / (a + b)) * diff) / ((c + d) * (a + c) * (b + d));
  }
  return { a1IsAlt: alt, fA, fU, chisq, p: chisq === null ? null : chiSquare1UpperTail(chisq), or };
}

export interface TrendTest {
  a1IsAlt: boolean;
  chisq: number | null;
  p: number | null;
}

/**
 * PLINK `--model` TREND: the Cochran-Armitage trend test with genotype scores 0, 1, 2, i.e. N·r² with r
 * the correlation of case status and allele dosage over the N samples with a genotype. NA when either
 * group is empty or every sample has the same genotype.
 */
export function trendTest(table: SnpTable): TrendTest {
  const alt = a1IsAlt(table);
  const R = table.case[0] + table.case[1] + table.case[2];
  const S = table.control[0] + table.control[1] + table.control[2];
  const N = R + S;
  const caseDose = table.case[1] + 2 * table.case[2];
  const dose = caseDose + table.control[1] + 2 * table.control[2];
  const doseSquares = table.case[1] + table.control[1] + 4 * (table.case[2] + table.control[2]);
  const spread = N * doseSquares - dose * dose; // exact integer
  if (R === 0 || S === 0 || spread === 0) return { a1IsAlt: alt, chisq: null, p: null };
  const diff = N * caseDose - R * dose;
  const chisq = (((N * diff) / R) * diff) / (S * spread);
  return { a1IsAlt: alt, chisq, p: chiSquare1UpperTail(chisq) };
}

export interface MeanVariance {
  column: string;
  count: number;
  mean: number | null;
  /** Sample variance (denominator count − 1); null below two values. */
  variance: number | null;
  /** Population variance (denominator count). */
  populationVariance: number | null;
  standardDeviation: number | null;
}

/**
 * Mean and variance from count, Σx and Σx². CKKS sums carry a small absolute error (~1e-5), so a
 * variance that comes out a hair below zero for a constant column is reported as 0.
 */
export function meanVariance(sums: NumericSums): MeanVariance {
  const { column, count, sum, sumOfSquares } = sums;
  if (count === 0) {
    return { column, count, mean: null, variance: null, populationVariance: null, standardDeviation: null };
  }
  const mean = sum / count;
  const centred = Math.max(0, sumOfSquares - sum * mean);
  const variance = count > 1 ? centred / (count - 1) : null;
  return {
    column,
    count,
    mean,
    variance,
    populationVariance: centred / count,
    standardDeviation: variance === null ? null : Math.sqrt(variance),
  };
}

/** The logistic function, without overflow for large |η|. */
export function sigmoid(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}
