import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FheError } from '../../../shared/fhe/errors';
import { NUMERIC_MAX_ABS, type PhenotypeClass } from '../../../shared/fhe/layout';
import { consentIdSchema } from '../../../shared/fhe/manifest';

export interface PhenotypeCsvOptions {
  /** Case/control column in PLINK's coding: 1 control, 2 case; 0, -9, NA or empty missing. */
  phenotypeColumn: string;
  sampleIdColumn?: string;
  /** Donor token ids (decimal); optional in the file when the caller supplies them. */
  consentIdColumn?: string;
  /** Numeric columns to encrypt; default every other column. */
  covariateColumns?: string[];
}

export interface PhenotypeRow {
  line: number;
  phenotype: PhenotypeClass;
  consentId: string | null;
  /** In `covariateColumns` order; NaN where missing. */
  covariates: Float64Array;
}

export interface PhenotypeTable {
  phenotypeColumn: string;
  covariateColumns: string[];
  rows: Map<string, PhenotypeRow>;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const MISSING_VALUES = new Set(['', 'NA', '.']);
const MISSING_PHENOTYPES = new Set(['0', '-9', 'NA', '']);

function malformed(line: number, message: string): FheError {
  return new FheError('MALFORMED_CSV', `CSV line ${line}: ${message}`, { line });
}

/** RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes, not line breaks). */
export function splitCsvLine(text: string, line: number): string[] {
  const fields: string[] = [];
  let position = 0;
  for (;;) {
    if (text[position] === '"') {
      let value = '';
      position += 1;
      for (;;) {
        const close = text.indexOf('"', position);
        if (close === -1)
          throw malformed(line, 'a quoted field is not closed (line breaks inside fields are not supported)');
        value += text.slice(position, close);
        if (text[close + 1] === '"') {
          value += '"';
          position = close + 2;
          continue;
        }
        position = close + 1;
        break;
      }
      if (position < text.length && text[position] !== ',') throw malformed(line, 'text after a closing quote');
      fields.push(value);
    } else {
      const comma = text.indexOf(',', position);
      const value = text.slice(position, comma === -1 ? text.length : comma);
      if (value.includes('"')) throw malformed(line, 'a quote inside an unquoted field');
      fields.push(value.trim());
      position = comma === -1 ? text.length : comma;
    }
    if (position >= text.length) return fields;
    position += 1; // the comma
    if (position === text.length) {
      fields.push('');
      return fields;
    }
  }
}

function parsePhenotype(value: string, line: number, column: string): PhenotypeClass {
  if (value === '1') return 'control';
  if (value === '2') return 'case';
  if (MISSING_PHENOTYPES.has(value)) return 'missing';
  throw malformed(line, `${column} must be 1 (control), 2 (case) or 0/-9/NA (missing), not '${value.slice(0, 20)}'`);
}

function parseNumber(value: string, line: number, column: string): number {
  if (MISSING_VALUES.has(value)) return Number.NaN;
  const number = NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) throw malformed(line, `${column} is not a number: '${value.slice(0, 20)}'`);
  if (Math.abs(number) > NUMERIC_MAX_ABS) throw malformed(line, `${column} = ${value} is outside ±${NUMERIC_MAX_ABS}`);
  return number;
}

/**
 * Reads a phenotype/covariate CSV line by line (a header row, then one row per sample). Every
 * malformed row is a MALFORMED_CSV error naming its line number and column.
 */
export async function readPhenotypeCsv(path: string, options: PhenotypeCsvOptions): Promise<PhenotypeTable> {
  const sampleIdColumn = options.sampleIdColumn ?? 'sample_id';
  const consentIdColumn = options.consentIdColumn ?? 'consent_id';
  const file = createReadStream(path, { encoding: 'utf8' });
  const reader = createInterface({ input: file, crlfDelay: Infinity });
  let header: string[] | null = null;
  let covariateColumns: string[] = [];
  let indexes = { sample: -1, phenotype: -1, consent: -1, covariates: [] as number[] };
  const rows = new Map<string, PhenotypeRow>();
  let line = 0;
  try {
    for await (const raw of reader) {
      line += 1;
      const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
      if (text.trim() === '') continue;
      const fields = splitCsvLine(text, line);
      if (header === null) {
        header = fields;
        if (new Set(header).size !== header.length) throw malformed(line, 'the header repeats a column name');
        const find = (name: string) => header!.indexOf(name);
        for (const required of [sampleIdColumn, options.phenotypeColumn]) {
          if (find(required) < 0) throw malformed(line, `the header has no ${required} column`);
        }
        const reserved = new Set([sampleIdColumn, options.phenotypeColumn, consentIdColumn]);
        covariateColumns = options.covariateColumns ?? header.filter((name) => !reserved.has(name));
        for (const name of covariateColumns) {
          if (find(name) < 0 || reserved.has(name))
            throw malformed(line, `${name} is not a covariate column of the file`);
        }
        indexes = {
          sample: find(sampleIdColumn),
          phenotype: find(options.phenotypeColumn),
          consent: find(consentIdColumn),
          covariates: covariateColumns.map(find),
        };
        continue;
      }
      if (fields.length !== header.length)
        throw malformed(line, `expected ${header.length} fields, found ${fields.length}`);
      const sampleId = fields[indexes.sample]!;
      if (sampleId === '') throw malformed(line, `${sampleIdColumn} is empty`);
      if (rows.has(sampleId))
        throw malformed(line, `sample ${sampleId} was already listed on line ${rows.get(sampleId)!.line}`);
      let consentId: string | null = null;
      if (indexes.consent >= 0) {
        consentId = fields[indexes.consent]!;
        if (!consentIdSchema.safeParse(consentId).success) {
          throw malformed(line, `${consentIdColumn} must be a decimal donor token id, not '${consentId.slice(0, 80)}'`);
        }
      }
      rows.set(sampleId, {
        line,
        phenotype: parsePhenotype(fields[indexes.phenotype]!, line, options.phenotypeColumn),
        consentId,
        covariates: Float64Array.from(indexes.covariates, (index, i) =>
          parseNumber(fields[index]!, line, covariateColumns[i]!),
        ),
      });
    }
  } catch (error) {
    if (error instanceof FheError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FheError('MALFORMED_CSV', `CSV file not found: ${path}`, { cause: error });
    }
    throw error;
  } finally {
    reader.close();
    file.destroy();
  }
  if (header === null) throw malformed(Math.max(line, 1), 'the file is empty');
  if (rows.size === 0) throw malformed(line, 'the file has a header but no samples');
  return { phenotypeColumn: options.phenotypeColumn, covariateColumns, rows };
}
