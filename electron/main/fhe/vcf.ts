import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import VCFParser from '@gmod/vcf';
import { FheError } from '../../../shared/fhe/errors';
import { GENOTYPE_MISSING } from '../../../shared/fhe/layout';

/** What to do with a line whose ALT lists more than one allele. */
export type MultiallelicPolicy = 'reject' | 'skip';

export interface VcfVariant {
  /** 1-based line in the (decompressed) file. */
  line: number;
  chrom: string;
  pos: number;
  id: string;
  ref: string;
  /** '.' for a site with no ALT allele (monomorphic in the file). */
  alt: string;
  /** codes[sample] = ALT allele count 0, 1, 2, or GENOTYPE_MISSING. */
  codes: Uint8Array;
}

export interface VcfHeader {
  samples: string[];
  /** Line of the #CHROM header. */
  line: number;
}

export interface VcfReadOptions {
  multiallelic?: MultiallelicPolicy;
  /** Called once after the header, before the first variant. */
  onHeader?: (header: VcfHeader) => void;
  /** Bytes of the file read so far (compressed bytes for .gz), for progress. */
  onBytesRead?: (bytes: number) => void;
  /** Called for each skipped multi-allelic line. */
  onSkipped?: (line: number) => void;
}

const REQUIRED_COLUMNS = ['#CHROM', 'POS', 'ID', 'REF', 'ALT', 'QUAL', 'FILTER', 'INFO', 'FORMAT'];
const SLASH = 47;
const PIPE = 124;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

/**
 * The genotype code of one GT value (`str[start, end)`) at a site with `altCount` ALT alleles, or -1
 * if malformed. Follows PLINK 1.9 on VCF import: phased and unphased calls alike, a haploid call
 * counts as homozygous, and a half-missing call (`./1`) is missing (`--vcf-half-call missing`).
 */
export function genotypeCode(str: string, start: number, end: number, altCount: number): number {
  let alleles = 0;
  let missing = 0;
  let altAlleles = 0;
  let position = start;
  while (position < end) {
    const first = str.charCodeAt(position);
    if (first === DOT) {
      missing += 1;
      position += 1;
    } else if (first >= ZERO && first <= NINE) {
      let allele = 0;
      while (position < end) {
        const c = str.charCodeAt(position);
        if (c < ZERO || c > NINE) break;
        allele = allele * 10 + (c - ZERO);
        if (allele > altCount) return -1;
        position += 1;
      }
      if (allele > 0) altAlleles += 1;
    } else {
      return -1;
    }
    alleles += 1;
    if (position === end) break;
    const separator = str.charCodeAt(position);
    if ((separator !== SLASH && separator !== PIPE) || position + 1 === end) return -1;
    position += 1;
  }
  if (alleles === 0 || alleles > 2) return -1;
  if (missing > 0) return GENOTYPE_MISSING;
  return alleles === 1 ? altAlleles * 2 : altAlleles;
}

function malformed(line: number, message: string, cause?: unknown): FheError {
  return new FheError('MALFORMED_VCF', `VCF line ${line}: ${message}`, { line, cause });
}

function openLines(
  path: string,
  onBytesRead?: (bytes: number) => void,
): { lines: AsyncIterable<string>; close: () => void } {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let bytesRead = 0;
  if (onBytesRead) {
    file.on('data', (chunk) => {
      bytesRead += chunk.length;
      onBytesRead(bytesRead);
    });
  }
  let input: Readable = file;
  if (path.endsWith('.gz') || path.endsWith('.bgz')) {
    // Covers bgzip too: Node's gunzip reads concatenated gzip members.
    const gunzip = createGunzip();
    file.on('error', (error) => gunzip.destroy(error));
    input = file.pipe(gunzip);
  }
  const reader = createInterface({ input, crlfDelay: Infinity });
  return {
    lines: reader,
    close: () => {
      reader.close();
      file.destroy();
      input.destroy();
    },
  };
}

function checkHeaderLine(line: string, lineNumber: number): string[] {
  const columns = line.split('\t');
  const missing = REQUIRED_COLUMNS.findIndex((name, i) => columns[i] !== name);
  if (missing >= 0) {
    throw malformed(
      lineNumber,
      `the header must start with ${REQUIRED_COLUMNS.join(', ')} (column ${missing + 1} differs)`,
    );
  }
  const samples = columns.slice(REQUIRED_COLUMNS.length);
  if (samples.length === 0) throw malformed(lineNumber, 'the file holds no samples');
  const seen = new Set<string>();
  for (const sample of samples) {
    if (sample === '') throw malformed(lineNumber, 'a sample name is empty');
    if (seen.has(sample)) throw malformed(lineNumber, `sample ${sample} appears twice`);
    seen.add(sample);
  }
  return samples;
}

/**
 * Streams the variants of a VCF (plain or gzip/bgzip), one line at a time, with @gmod/vcf parsing
 * each record. Every malformed line is a MALFORMED_VCF error naming its line number.
 */
export async function* readVcf(path: string, options: VcfReadOptions = {}): AsyncGenerator<VcfVariant> {
  const policy = options.multiallelic ?? 'reject';
  const { lines, close } = openLines(path, options.onBytesRead);
  const metaLines: string[] = [];
  let parser: VCFParser | null = null;
  let sampleCount = 0;
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber += 1;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (parser === null) {
        if (line.startsWith('##')) {
          metaLines.push(line);
          continue;
        }
        if (!line.startsWith('#CHROM'))
          throw malformed(lineNumber, 'expected ## meta lines and then the #CHROM header');
        const samples = checkHeaderLine(line, lineNumber);
        try {
          parser = new VCFParser({ header: [...metaLines, line].join('\n') });
        } catch (error) {
          throw malformed(lineNumber, `the header does not parse (${(error as Error).message.split('\n')[0]})`, error);
        }
        sampleCount = samples.length;
        options.onHeader?.({ samples, line: lineNumber });
        continue;
      }
      if (line === '') continue;
      if (line.startsWith('#')) throw malformed(lineNumber, 'a header line after the #CHROM line');
      let tabs = 0;
      for (let at = line.indexOf('\t'); at !== -1; at = line.indexOf('\t', at + 1)) tabs += 1;
      if (tabs + 1 !== REQUIRED_COLUMNS.length + sampleCount) {
        throw malformed(lineNumber, `expected ${REQUIRED_COLUMNS.length + sampleCount} columns, found ${tabs + 1}`);
      }
      let variant;
      try {
        variant = parser.parseLine(line);
      } catch (error) {
        throw malformed(lineNumber, `the record does not parse (${(error as Error).message.split('\n')[0]})`, error);
      }
      const { CHROM: chrom, POS: pos, REF: ref, FORMAT: format } = variant;
      if (!chrom) throw malformed(lineNumber, 'CHROM is empty');
      if (!Number.isSafeInteger(pos) || pos < 1) throw malformed(lineNumber, 'POS is not a positive integer');
      if (!ref || ref === '.') throw malformed(lineNumber, 'REF is empty');
      const alts = variant.ALT ?? [];
      if (alts.some((alt) => alt === '' || alt === '.')) throw malformed(lineNumber, 'ALT lists an empty allele');
      if (alts.length > 1) {
        if (policy === 'skip') {
          options.onSkipped?.(lineNumber);
          continue;
        }
        throw malformed(
          lineNumber,
          `multi-allelic site (ALT ${alts.join(',')}); split it (bcftools norm -m -) or skip such sites`,
        );
      }
      if (format !== 'GT' && !format?.startsWith('GT:')) throw malformed(lineNumber, 'FORMAT must start with GT');
      const codes = new Uint8Array(sampleCount);
      let bad = -1;
      variant.processGenotypes((str, start, end, sample) => {
        const code = genotypeCode(str, start, end, alts.length);
        if (code < 0 && bad < 0) bad = sample;
        codes[sample] = code < 0 ? GENOTYPE_MISSING : code;
      });
      if (bad >= 0) {
        const value = variant.GENOTYPES()[variant.sampleNames[bad]!] ?? '';
        throw malformed(
          lineNumber,
          `sample ${variant.sampleNames[bad]} has an invalid genotype '${value.slice(0, 20)}'`,
        );
      }
      yield { line: lineNumber, chrom, pos, id: variant.ID?.join(';') ?? '.', ref, alt: alts[0] ?? '.', codes };
    }
    if (parser === null) throw malformed(Math.max(lineNumber, 1), 'no #CHROM header line');
  } catch (error) {
    if (error instanceof FheError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FheError('MALFORMED_VCF', `VCF file not found: ${path}`, { cause: error });
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
      throw new FheError('MALFORMED_VCF', `VCF line ${lineNumber + 1}: the gzip stream is corrupt`, {
        line: lineNumber + 1,
      });
    }
    throw error;
  } finally {
    close();
  }
}
