/**
 * Synthetic case/control cohort: a VCF (N samples × M SNPs, with missing genotypes, phased calls and
 * monomorphic sites) and a phenotype CSV (PLINK-coded case status, donor consent ids, two covariates).
 * The same options give the same bytes. Case status follows a logistic model on a few causal SNPs, so a
 * GWAS finds something.
 *
 *   node --import tsx scripts/gen-cohort.ts --samples 1000 --snps 131072 --seed 7 --out /tmp/cohort [--gzip]
 *     [--missing 0.01] [--monomorphic 0.03] [--phased 0.1] [--causal 8] [--missing-phenotype 0.02]
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';

export interface CohortOptions {
  samples: number;
  snps: number;
  seed: number;
  /** Probability that a genotype is missing (./.). */
  missingRate?: number;
  /** Probability that a site is monomorphic (no ALT carriers, or ALT '.'). */
  monomorphicRate?: number;
  /** Probability that a heterozygous call is written phased. */
  phasedRate?: number;
  causalSnps?: number;
  /** Probability that a sample's case status is missing (NA or -9); PLINK leaves such samples out of association tests. */
  missingPhenotypeRate?: number;
  gzip?: boolean;
}

export interface CohortFiles {
  vcfPath: string;
  csvPath: string;
}

/** mulberry32 over a 32-bit state: small, fast, and plenty for synthetic data. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for stream `salt`, item `index`: every SNP has its own generator, so any SNP can be regenerated. */
function subSeed(seed: number, salt: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35) ^ Math.imul(index + 1, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

const BASES = ['A', 'C', 'G', 'T'];

interface SnpGenotypes {
  ref: string;
  alt: string;
  /** Per sample: 0, 1, 2 ALT alleles, or -1 missing. */
  dosages: Int8Array;
  /** Per sample: whether a het is written phased, and which way. */
  phase: Uint8Array;
}

function snpGenotypes(options: Required<Omit<CohortOptions, 'gzip'>>, snp: number): SnpGenotypes {
  const random = rng(subSeed(options.seed, 1, snp));
  const refIndex = Math.floor(random() * 4);
  const ref = BASES[refIndex]!;
  const altBase = BASES[(refIndex + 1 + Math.floor(random() * 3)) % 4]!;
  const dosages = new Int8Array(options.samples);
  const phase = new Uint8Array(options.samples);
  const monomorphic = random() < options.monomorphicRate;
  // Monomorphic sites come in three kinds: no ALT at all, an ALT nobody carries, everybody homozygous ALT.
  const kind = monomorphic ? Math.floor(random() * 3) : -1;
  const maf = 0.02 + 0.48 * random();
  for (let sample = 0; sample < options.samples; sample += 1) {
    const missing = random() < options.missingRate;
    const a = random() < maf ? 1 : 0;
    const b = random() < maf ? 1 : 0;
    const phased = random() < options.phasedRate ? 1 + (random() < 0.5 ? 1 : 0) : 0;
    dosages[sample] = missing ? -1 : kind === 2 ? 2 : kind >= 0 ? 0 : a + b;
    phase[sample] = phased;
  }
  return { ref, alt: kind === 0 ? '.' : altBase, dosages, phase };
}

function genotypeText(dosage: number, phase: number): string {
  if (dosage < 0) return phase ? '.|.' : './.';
  if (dosage === 0) return phase ? '0|0' : '0/0';
  if (dosage === 2) return phase ? '1|1' : '1/1';
  return phase === 0 ? '0/1' : phase === 1 ? '0|1' : '1|0';
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

async function finish(stream: Writable, file: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    file.once('close', () => resolve());
    file.once('error', reject);
    stream.end();
  });
}

export function sampleId(sample: number): string {
  return `S${String(sample + 1).padStart(5, '0')}`;
}

/** Case status (PLINK 1 control / 2 case / NA) from a logistic model on the causal SNPs. */
function phenotypes(options: Required<Omit<CohortOptions, 'gzip'>>): { status: string[]; causal: number[] } {
  const causal: number[] = [];
  for (let i = 0; i < Math.min(options.causalSnps, options.snps); i += 1) {
    causal.push(Math.floor(((i + 0.5) * options.snps) / Math.min(options.causalSnps, options.snps)));
  }
  const logits = new Float64Array(options.samples);
  for (const snp of causal) {
    const { dosages } = snpGenotypes(options, snp);
    const called = dosages.filter((dosage) => dosage >= 0);
    // Centred on the SNP's mean dosage, so about half the cohort are cases whatever the allele frequencies.
    const mean = called.reduce((sum, dosage) => sum + dosage, 0) / Math.max(1, called.length);
    dosages.forEach((dosage, sample) => {
      if (dosage >= 0) logits[sample]! += 0.45 * (dosage - mean);
    });
  }
  const random = rng(subSeed(options.seed, 2, 0));
  const status = Array.from(logits, (logit) => {
    if (random() < options.missingPhenotypeRate) return random() < 0.5 ? 'NA' : '-9';
    return random() < 1 / (1 + Math.exp(-logit)) ? '2' : '1';
  });
  return { status, causal };
}

export async function generateCohort(outDir: string, options: CohortOptions): Promise<CohortFiles> {
  const full: Required<Omit<CohortOptions, 'gzip'>> = {
    missingRate: 0.01,
    monomorphicRate: 0.03,
    phasedRate: 0.1,
    causalSnps: 8,
    missingPhenotypeRate: 0.02,
    ...options,
  };
  if (!Number.isInteger(full.samples) || full.samples < 1 || !Number.isInteger(full.snps) || full.snps < 1) {
    throw new Error('--samples and --snps must be positive integers');
  }
  await mkdir(outDir, { recursive: true });
  const csvPath = path.join(outDir, 'phenotypes.csv');
  const vcfPath = path.join(outDir, options.gzip ? 'cohort.vcf.gz' : 'cohort.vcf');

  const { status } = phenotypes(full);
  const csvFile = createWriteStream(csvPath);
  const covariates = rng(subSeed(full.seed, 3, 0));
  await write(csvFile, 'sample_id,consent_id,case,age,bmi\n');
  for (let sample = 0; sample < full.samples; sample += 1) {
    const age = covariates() < 0.02 ? 'NA' : String(20 + Math.floor(covariates() * 60));
    const bmi = covariates() < 0.02 ? '' : (18 + covariates() * 17).toFixed(1);
    await write(csvFile, `${sampleId(sample)},${1000 + sample},${status[sample]},${age},${bmi}\n`);
  }
  await finish(csvFile, csvFile);

  const vcfFile = createWriteStream(vcfPath);
  const vcf: Writable = options.gzip ? createGzip() : vcfFile;
  if (options.gzip) vcf.pipe(vcfFile);
  const chromosomes = Math.min(22, full.snps);
  const header = [
    '##fileformat=VCFv4.2',
    `##source=cos-gen-cohort samples=${full.samples} snps=${full.snps} seed=${full.seed}`,
    ...Array.from({ length: chromosomes }, (_, c) => `##contig=<ID=${c + 1}>`),
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    [
      '#CHROM',
      'POS',
      'ID',
      'REF',
      'ALT',
      'QUAL',
      'FILTER',
      'INFO',
      'FORMAT',
      ...Array.from({ length: full.samples }, (_, s) => sampleId(s)),
    ].join('\t'),
  ];
  await write(vcf, `${header.join('\n')}\n`);
  const perChromosome = Math.ceil(full.snps / chromosomes);
  const fields = new Array<string>(full.samples);
  for (let snp = 0; snp < full.snps; snp += 1) {
    const { ref, alt, dosages, phase } = snpGenotypes(full, snp);
    for (let sample = 0; sample < full.samples; sample += 1)
      fields[sample] = genotypeText(dosages[sample]!, phase[sample]!);
    const chrom = Math.floor(snp / perChromosome) + 1;
    const pos = 10_000 + (snp % perChromosome) * 1_000 + (subSeed(full.seed, 4, snp) % 997);
    await write(vcf, `${chrom}\t${pos}\trs${100_000 + snp}\t${ref}\t${alt}\t.\tPASS\t.\tGT\t${fields.join('\t')}\n`);
  }
  await finish(vcf, vcfFile);
  return { vcfPath, csvPath };
}

function parseArgs(argv: string[]): { outDir: string; options: CohortOptions } {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const number = (name: string): number | undefined => (value(name) === undefined ? undefined : Number(value(name)));
  const outDir = value('out');
  if (!outDir) throw new Error('usage: gen-cohort.ts --samples N --snps M --seed S --out DIR [--gzip] [--missing R]');
  const options: CohortOptions = {
    samples: number('samples') ?? 40,
    snps: number('snps') ?? 64,
    seed: number('seed') ?? 1,
    gzip: argv.includes('--gzip'),
  };
  for (const [flag, key] of [
    ['missing', 'missingRate'],
    ['monomorphic', 'monomorphicRate'],
    ['phased', 'phasedRate'],
    ['causal', 'causalSnps'],
    ['missing-phenotype', 'missingPhenotypeRate'],
  ] as const) {
    const parsed = number(flag);
    if (parsed !== undefined) options[key] = parsed;
  }
  return { outDir, options };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { outDir, options } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const files = await generateCohort(outDir, options);
  console.log(
    `cohort: ${options.samples} samples × ${options.snps} SNPs (seed ${options.seed}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`  ${files.vcfPath}\n  ${files.csvPath}`);
}
