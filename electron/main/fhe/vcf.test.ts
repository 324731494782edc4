import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFheError } from '../../../shared/fhe/errors';
import { GENOTYPE_MISSING } from '../../../shared/fhe/layout';
import { genotypeCode, readVcf, type VcfReadOptions, type VcfVariant } from './vcf';

const tinyVcf = fileURLToPath(new URL('../../../resources/cohorts/tiny/cohort.vcf', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-vcf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC'];
let fileCount = 0;

async function vcfFile(lines: string[], options: { gzip?: boolean; eol?: string } = {}): Promise<string> {
  const file = path.join(dir, `test-${fileCount++}.vcf${options.gzip ? '.gz' : ''}`);
  const text = `${lines.join(options.eol ?? '\n')}${options.eol ?? '\n'}`;
  await writeFile(file, options.gzip ? gzipSync(text) : text);
  return file;
}

async function readAll(file: string, options: VcfReadOptions = {}): Promise<VcfVariant[]> {
  const variants: VcfVariant[] = [];
  for await (const variant of readVcf(file, options)) variants.push(variant);
  return variants;
}

async function failure(
  lines: string[],
  options: VcfReadOptions = {},
): Promise<{ code?: string; line?: number; message: string }> {
  try {
    await readAll(await vcfFile(lines), options);
  } catch (error) {
    if (isFheError(error)) return { code: error.fheCode, line: error.line, message: error.message };
    return { message: String(error) };
  }
  return { message: 'no error' };
}

const record = (gts: string, rest = '1\t100\trs1\tA\tG\t.\tPASS\t.\tGT') => `${rest}\t${gts}`;

describe('genotype calls', () => {
  const code = (gt: string, altCount = 1) => genotypeCode(gt, 0, gt.length, altCount);

  it('reads diploid calls, phased or not, as ALT allele counts', () => {
    expect(['0/0', '0|0', '0/1', '1/0', '0|1', '1|0', '1/1', '1|1'].map((gt) => code(gt))).toEqual([
      0, 0, 1, 1, 1, 1, 2, 2,
    ]);
  });

  it('treats missing and half-missing calls as missing (PLINK --vcf-half-call missing)', () => {
    expect(['./.', '.|.', '.', './1', '0|.'].map((gt) => code(gt))).toEqual(Array(5).fill(GENOTYPE_MISSING));
  });

  it('counts a haploid call as homozygous, as PLINK does', () => {
    expect([code('0'), code('1')]).toEqual([0, 2]);
  });

  it('rejects alleles beyond ALT, polyploid calls and junk', () => {
    expect(code('0/2')).toBe(-1);
    expect(code('0/1', 0)).toBe(-1);
    expect(['', '0/1/1', '0/', '/0', '0//1', 'A/G', '0 /1', '0-1'].map((gt) => code(gt))).toEqual(Array(8).fill(-1));
  });
});

describe('readVcf', () => {
  it('streams the tiny cohort: 40 samples, 64 variants, monomorphic sites included', async () => {
    let samples: string[] = [];
    const variants = await readAll(tinyVcf, { onHeader: (header) => (samples = header.samples) });
    expect(samples).toHaveLength(40);
    expect(variants).toHaveLength(64);
    expect(variants[0]).toMatchObject({ chrom: '1', id: 'rs100000' });
    expect(variants.filter((variant) => variant.alt === '.').length).toBeGreaterThan(0);
    expect(variants.some((variant) => variant.codes.includes(GENOTYPE_MISSING))).toBe(true);
  });

  it('reads GT among other FORMAT fields, CRLF files and gzip', async () => {
    const lines = [...HEADER, record('0/1:12\t1|1:3\t./.:0', '2\t5\t.\tC\tT\t.\t.\tDP=3\tGT:DP')];
    for (const file of [
      await vcfFile(lines),
      await vcfFile(lines, { eol: '\r\n' }),
      await vcfFile(lines, { gzip: true }),
    ]) {
      const [variant] = await readAll(file);
      expect(variant).toMatchObject({ chrom: '2', pos: 5, id: '.', ref: 'C', alt: 'T', line: 3 });
      expect([...variant!.codes]).toEqual([1, 2, GENOTYPE_MISSING]);
    }
  });

  it('rejects multi-allelic sites by default and skips them on request', async () => {
    const lines = [...HEADER, record('0/0\t0/1\t1/1'), record('0/2\t0/1\t1/1', '1\t200\trs2\tA\tG,T\t.\tPASS\t.\tGT')];
    expect(await failure(lines)).toMatchObject({
      code: 'MALFORMED_VCF',
      line: 4,
      message: expect.stringMatching(/line 4: multi-allelic/),
    });
    const skipped: number[] = [];
    const variants = await readAll(await vcfFile(lines), {
      multiallelic: 'skip',
      onSkipped: (line) => skipped.push(line),
    });
    expect(variants.map((variant) => variant.pos)).toEqual([100]);
    expect(skipped).toEqual([4]);
  });

  it('names the line of every malformed record', async () => {
    const cases: [string[], RegExp][] = [
      [[...HEADER, record('0/0\t0/1')], /line 3: expected 12 columns, found 11/],
      [[...HEADER, record('0/0\t0/1\t1/1\t0/0')], /line 3: expected 12 columns, found 13/],
      [
        [...HEADER, record('0/0\t0/1\t1/1'), record('0/0\t0/x\t1/1')],
        /line 4: sample B has an invalid genotype '0\/x'/,
      ],
      [[...HEADER, record('0/0\t0/1\t1/1', '1\tx\trs1\tA\tG\t.\tPASS\t.\tGT')], /line 3: POS/],
      [[...HEADER, record('0/0\t0/1\t1/1', '1\t0\trs1\tA\tG\t.\tPASS\t.\tGT')], /line 3: POS/],
      [
        [
          ...HEADER,
          record('0/0\t0/1\t0/0', '1\t9\trs1\tA\t.\t.\tPASS\t.\tGT'),
          record('0/0\t0/1\t0/0', '1\t9\trs1\tA\t.\t.\tPASS\t.\tGT'),
        ],
        /line 3: sample B/,
      ],
      [[...HEADER, record('0/0\t0/1\t1/1', '1\t9\trs1\tA\tG\t.\tPASS\t.\tDP:GT')], /line 3: FORMAT must start with GT/],
      [[...HEADER, record('0/0\t0/1\t1/1', '1\t9\trs1\tA\tG\t.\tPASS\t\tGT')], /line 3: the record does not parse/],
      [[...HEADER, record('0/0\t0/1\t1/1', '\t9\trs1\tA\tG\t.\tPASS\t.\tGT')], /line 3: CHROM is empty/],
      [[...HEADER, record('0/0\t0/1\t1/1'), '##late=1'], /line 4: a header line after/],
      [[HEADER[0]!, record('0/0\t0/1\t1/1')], /line 2: expected ## meta lines/],
      [
        ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tA\tB'],
        /line 2: the header must start with/,
      ],
      [['#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT'], /line 1: the file holds no samples/],
      [['#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tA'], /line 1: sample A appears twice/],
      [['##fileformat=VCFv4.2'], /line 1: no #CHROM header line/],
    ];
    for (const [lines, message] of cases) {
      const result = await failure(lines);
      expect(result.code, message.source).toBe('MALFORMED_VCF');
      expect(result.message).toMatch(message);
      expect(result.line).toBe(Number(/line (\d+)/.exec(result.message)?.[1]));
    }
  });

  it('reports a missing file and a corrupt gzip stream as typed errors', async () => {
    await expect(readAll(path.join(dir, 'absent.vcf'))).rejects.toMatchObject({ fheCode: 'MALFORMED_VCF' });
    const corrupt = path.join(dir, 'corrupt.vcf.gz');
    const gz = gzipSync(`${HEADER.join('\n')}\n${record('0/0\t0/1\t1/1')}\n`);
    gz[gz.length - 6] = gz[gz.length - 6]! ^ 0xff;
    await writeFile(corrupt, gz.subarray(0, gz.length - 2));
    await expect(readAll(corrupt)).rejects.toMatchObject({ fheCode: 'MALFORMED_VCF' });
  });
});
