import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptGenotypeCounts } from '../../electron/main/fhe/decrypt';
import { readPlainCohort } from '../../electron/main/fhe/testing/cohort';
import { generateCohort, sampleId } from '../../scripts/gen-cohort';
import { ALGORITHMS } from '../contracts/constants';
import { referenceGenotypeCounts, sameGenotypeCounts } from '../fhe/aggregate';
import { OBJECTS_DIR } from '../../electron/main/fhe/dataset';
import type { GenotypeCounts } from '../fhe/layout';
import { loadSeal } from '../fhe/seal';
import { algorithmFor, interpretResult, parseVariantTable, type AllelicTable, type TrendTable } from './index';
import {
  encryptCohort,
  inputsFor,
  parsePlinkReport,
  printedTolerance,
  runPlink,
  variantsDigest,
  type EncryptedCohort,
} from './testing';

/*
 * The encrypted GWAS against PLINK 1.9 on the same VCF: a generated cohort with missing genotypes and
 * monomorphic sites (no missing phenotypes, see docs/FHE_DESIGN.md on A1), and a hand-written cohort of
 * corner cases (ties, zero cells, ALT '.', all-ALT, all-missing, one group without genotypes, half and
 * haploid calls). PLINK 1.9 prints CHISQ, P, OR, F_A and F_U with 4 significant digits and has no option
 * for more, so those are compared within half a unit of the last printed digit; the genotype counts
 * behind them (PLINK --model GENO) are compared exactly, and the formulas are checked to 1e-12 in
 * statistics.test.ts.
 */

let seal: SEALLibrary;
let work: string;

beforeAll(async () => {
  seal = await loadSeal();
  work = await mkdtemp(path.join(os.tmpdir(), 'cos-alg-plink-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeEdgeCohort(dir: string) {
  const rows: [string, string, string, string[]][] = [
    ['tie', 'A', 'G', ['0/1', '0/1', '0/0', '1/1', '0/1', '0/1', '1/1', '0/0']],
    ['zerocell', 'A', 'G', ['0/0', '0/0', '0/0', '0/0', '0/1', '1/1', '0/1', '0/0']],
    ['zerocell2', 'C', 'T', ['0/1', '1/1', '0/1', '0/0', '0/0', '0/0', '0/0', '0/0']],
    ['dot', 'A', '.', ['0/0', '0/0', '0/0', '0/0', '0/0', '0/0', '0/0', '0/0']],
    ['homalt', 'A', 'G', ['1/1', '1/1', '1/1', '1/1', '1/1', '1/1', '1/1', '1/1']],
    ['allmiss', 'A', 'G', ['./.', './.', './.', './.', './.', './.', './.', './.']],
    ['altmajor', 'G', 'C', ['1/1', '0/1', '1/1', '0/1', '1/1', './.', '0/1', '1/1']],
    ['casesonly', 'A', 'G', ['0/1', '0/1', '0/1', '0/0', './.', './.', './.', './.']],
    ['tie2', 'T', 'A', ['0/0', '0/0', '1/1', '1/1', '0/1', '0/1', '0/0', '1/1']],
    ['halfcall', 'A', 'G', ['./1', '0|1', '0/0', '1|1', '0/1', '1|0', '1', '0/0']],
    ['ctrlnoalt', 'A', 'G', ['0/1', '0/0', '0/0', '0/1', '0/0', '0/0', '0/0', '0/0']],
  ];
  const samples = Array.from({ length: 8 }, (_, i) => sampleId(i));
  const vcf = [
    '##fileformat=VCFv4.2',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    ['#CHROM', 'POS', 'ID', 'REF', 'ALT', 'QUAL', 'FILTER', 'INFO', 'FORMAT', ...samples].join('\t'),
    ...rows.map(([id, ref, alt, calls], i) =>
      ['1', String(1000 + i * 10), id, ref, alt, '.', 'PASS', '.', 'GT', ...calls].join('\t'),
    ),
  ];
  const vcfPath = path.join(dir, 'edge.vcf');
  const csvPath = path.join(dir, 'edge.csv');
  await writeFile(vcfPath, vcf.join('\n') + '\n');
  await writeFile(
    csvPath,
    'sample_id,consent_id,case,age\n' +
      samples.map((sample, i) => `${sample},${500 + i},${i < 4 ? 2 : 1},${30 + i}`).join('\n') +
      '\n',
  );
  return { vcfPath, csvPath };
}

const plinkAllele = (allele: string) => (allele === '.' ? '0' : allele);

function expectPrinted(ours: number | null, printed: string, what: string): void {
  if (printed === 'NA') {
    expect(ours, what).toBeNull();
    return;
  }
  expect(ours, what).not.toBeNull();
  const value = Number(printed);
  expect(Math.abs(ours! - value), `${what}: ours ${ours}, PLINK ${printed}`).toBeLessThanOrEqual(
    printedTolerance(value),
  );
}

/** PLINK's GENO column is A1A1/A1A2/A2A2; ours counts ALT alleles. */
function genoColumn(counts: GenotypeCounts, group: 'case' | 'control', snp: number, a1IsAlt: boolean): string {
  const [n0, n1, n2] = counts[group].map((array) => array[snp]!);
  return a1IsAlt ? `${n2}/${n1}/${n0}` : `${n0}/${n1}/${n2}`;
}

async function compareWithPlink(
  files: { vcfPath: string; csvPath: string },
  cohort: EncryptedCohort,
  counts: GenotypeCounts,
  excludedIds: string[],
  name: string,
) {
  const plinkDir = await mkdtemp(path.join(work, `plink-${name}-`));
  const variants = parseVariantTable(
    await readFile(path.join(cohort.dir, OBJECTS_DIR, variantsDigest(cohort.manifest))),
  );
  const decrypted = { counts, excludedSamples: [] };
  const allelic = interpretResult(ALGORITHMS.GWAS_ALLELIC_CHISQ.id, decrypted, {}, variants) as AllelicTable;
  const trend = interpretResult(ALGORITHMS.GWAS_TREND.id, decrypted, {}, variants) as TrendTable;
  const assoc = parsePlinkReport(await runPlink(plinkDir, files, ['--assoc'], 'assoc', excludedIds));
  const model = parsePlinkReport(await runPlink(plinkDir, files, ['--model'], 'model', excludedIds));
  expect(assoc).toHaveLength(counts.snpCount);
  let tested = 0;
  let na = 0;
  assoc.forEach((row, snp) => {
    const ours = allelic.rows[snp]!;
    const where = `${name} SNP ${snp} (${row.SNP})`;
    expect(row.SNP).toBe(ours.id);
    expect(row.A1, `${where} A1`).toBe(plinkAllele(ours.a1!));
    expect(row.A2, `${where} A2`).toBe(plinkAllele(ours.a2!));
    expectPrinted(ours.fA, row.F_A!, `${where} F_A`);
    expectPrinted(ours.fU, row.F_U!, `${where} F_U`);
    expectPrinted(ours.chisq, row.CHISQ!, `${where} CHISQ`);
    expectPrinted(ours.p, row.P!, `${where} P`);
    expectPrinted(ours.or, row.OR!, `${where} OR`);
    if (ours.chisq === null) na += 1;
    else tested += 1;
  });
  const geno = model.filter((row) => row.TEST === 'GENO');
  const trendRows = model.filter((row) => row.TEST === 'TREND');
  expect(trendRows).toHaveLength(counts.snpCount);
  trendRows.forEach((row, snp) => {
    const ours = trend.rows[snp]!;
    const where = `${name} SNP ${snp} (${row.SNP}) TREND`;
    expect(row.A1, `${where} A1`).toBe(plinkAllele(ours.a1!));
    // The exact 2×3 table PLINK tested, cell by cell.
    expect(geno[snp]!.AFF, `${where} cases`).toBe(genoColumn(counts, 'case', snp, ours.a1IsAlt));
    expect(geno[snp]!.UNAFF, `${where} controls`).toBe(genoColumn(counts, 'control', snp, ours.a1IsAlt));
    expectPrinted(ours.chisq, row.CHISQ!, `${where} CHISQ`);
    expectPrinted(ours.p, row.P!, `${where} P`);
  });
  return { tested, na };
}

describe('encrypted GWAS equals PLINK 1.9 --assoc and --model TREND', () => {
  it('on a generated cohort with missing genotypes and monomorphic sites, on two threads and with exclusions', async () => {
    const files = await generateCohort(path.join(work, 'gen'), {
      samples: 300,
      snps: 400,
      seed: 11,
      missingRate: 0.04,
      monomorphicRate: 0.05,
      missingPhenotypeRate: 0,
    });
    const cohort = await encryptCohort(seal, files, path.join(work, 'gen-enc'));
    const plain = await readPlainCohort(files.vcfPath, files.csvPath);
    expect(plain.genotypes.some((codes) => codes.includes(3))).toBe(true);

    const progress: number[] = [];
    const result = await algorithmFor(ALGORITHMS.GWAS_ALLELIC_CHISQ.id).evaluate(
      inputsFor(seal, cohort, {}, { threads: 2, onProgress: (done) => progress.push(done) }),
    );
    expect(progress.at(-1)).toBe(300);
    const { counts, excludedSamples } = decryptGenotypeCounts(
      seal,
      cohort.secretKeys,
      cohort.manifest.genotypeLayout,
      result,
    );
    expect(excludedSamples).toEqual([]);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(plain.genotypes, plain.phenotypes))).toBe(true);
    const full = await compareWithPlink(files, cohort, counts, [], 'full');
    expect(full.tested).toBeGreaterThan(350);
    expect(full.na).toBeGreaterThan(5); // monomorphic sites, printed NA by both

    // Withdrawn donors: the orchestrator leaves them out; PLINK the same samples with --remove.
    const excluded = new Set([0, 7, 150, 299]);
    const partial = await algorithmFor(ALGORITHMS.GWAS_TREND.id).evaluate(
      inputsFor(seal, cohort, {}, { threads: 1, excludedSamples: excluded }),
    );
    const decrypted = decryptGenotypeCounts(seal, cohort.secretKeys, cohort.manifest.genotypeLayout, partial);
    expect(decrypted.excludedSamples).toEqual([...excluded]);
    await compareWithPlink(files, cohort, decrypted.counts, [...excluded].map(sampleId), 'withdrawn');
  });

  it('on hand-written corner cases: ties, zero cells, ALT ".", all ALT, all missing, empty group, half calls', async () => {
    const files = await writeEdgeCohort(work);
    const cohort = await encryptCohort(seal, files, path.join(work, 'edge-enc'));
    const result = await algorithmFor(ALGORITHMS.ALLELE_COUNTS.id).evaluate(inputsFor(seal, cohort, {}));
    const { counts } = decryptGenotypeCounts(seal, cohort.secretKeys, cohort.manifest.genotypeLayout, result);
    const { tested, na } = await compareWithPlink(files, cohort, counts, [], 'edge');
    expect(tested).toBeGreaterThanOrEqual(7);
    expect(na).toBeGreaterThanOrEqual(3);
  });
});
