import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFheError } from '../../../shared/fhe/errors';
import { readPhenotypeCsv, splitCsvLine, type PhenotypeCsvOptions } from './csv';

const tinyCsv = fileURLToPath(new URL('../../../resources/cohorts/tiny/phenotypes.csv', import.meta.url));
let dir: string;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function csvFile(text: string): Promise<string> {
  const file = path.join(dir, `test-${fileCount++}.csv`);
  await writeFile(file, text);
  return file;
}

async function failure(text: string, options: Partial<PhenotypeCsvOptions> = {}) {
  try {
    await readPhenotypeCsv(await csvFile(text), { phenotypeColumn: 'case', ...options });
  } catch (error) {
    if (isFheError(error)) return { code: error.fheCode, line: error.line, message: error.message };
    return { message: String(error) };
  }
  return { message: 'no error' };
}

describe('CSV fields', () => {
  it('splits RFC 4180 lines: quotes, doubled quotes, empty fields', () => {
    expect(splitCsvLine('a, b ,"c,d","e""f",,', 1)).toEqual(['a', 'b', 'c,d', 'e"f', '', '']);
    expect(splitCsvLine('', 1)).toEqual(['']);
    expect(() => splitCsvLine('a,"b', 7)).toThrow(/line 7: a quoted field is not closed/);
    expect(() => splitCsvLine('a,"b"c', 7)).toThrow(/line 7: text after a closing quote/);
    expect(() => splitCsvLine('a,b"c', 7)).toThrow(/line 7: a quote inside an unquoted field/);
  });
});

describe('readPhenotypeCsv', () => {
  it('reads the tiny cohort: PLINK-coded status, consent ids, covariates with missing values', async () => {
    const table = await readPhenotypeCsv(tinyCsv, { phenotypeColumn: 'case' });
    expect(table.rows.size).toBe(40);
    expect(table.covariateColumns).toEqual(['age', 'bmi']);
    expect(table.rows.get('S00001')).toMatchObject({ line: 2, phenotype: 'control', consentId: '1000' });
    const classes = [...table.rows.values()].map((row) => row.phenotype);
    expect(new Set(classes)).toEqual(new Set(['case', 'control', 'missing']));
    expect([...table.rows.values()].some((row) => row.covariates.some(Number.isNaN))).toBe(true);
  });

  it('maps PLINK phenotype codes and missing tokens; takes an explicit covariate list', async () => {
    const file = await csvFile(
      '\uFEFFid,status,x,y,note\r\na,1,1.5,,n\nb,2,-2e3,NA,n\nc,0,.,3,n\nd,-9,4,4,n\ne,NA,5,5,n\nf,,6,6,n\n',
    );
    const table = await readPhenotypeCsv(file, {
      phenotypeColumn: 'status',
      sampleIdColumn: 'id',
      covariateColumns: ['x', 'y'],
    });
    expect([...table.rows.values()].map((row) => row.phenotype)).toEqual([
      'control',
      'case',
      'missing',
      'missing',
      'missing',
      'missing',
    ]);
    expect([...table.rows.get('b')!.covariates]).toEqual([-2000, Number.NaN]);
    expect(Number.isNaN(table.rows.get('c')!.covariates[0])).toBe(true);
    expect(table.rows.get('a')!.consentId).toBeNull();
  });

  it('names the line and column of every malformed row', async () => {
    const header = 'sample_id,consent_id,case,age\n';
    const cases: [string, RegExp, Partial<PhenotypeCsvOptions>?][] = [
      [`${header}a,1,1,30\nb,2,3,40\n`, /line 3: case must be 1 \(control\), 2 \(case\)/],
      [`${header}a,1,1,30\nb,2,2,forty\n`, /line 3: age is not a number: 'forty'/],
      [`${header}a,1,1,30\nb,2,2,1e7\n`, /line 3: age = 1e7 is outside/],
      [`${header}a,1,1,30\nb,2,2\n`, /line 3: expected 4 fields, found 3/],
      [`${header}a,1,1,30\na,2,2,40\n`, /line 3: sample a was already listed on line 2/],
      [`${header}a,1,1,30\n,2,2,40\n`, /line 3: sample_id is empty/],
      [`${header}a,0x1,1,30\n`, /line 2: consent_id must be a decimal donor token id/],
      [`${header}a,1,1,"30\n`, /line 2: a quoted field is not closed/],
      ['sample_id,status\na,1\n', /line 1: the header has no case column/],
      ['sample_id,case,case\n', /line 1: the header repeats a column name/],
      [`${header}`, /line 1: the file has a header but no samples/],
      ['', /line 1: the file is empty/],
      [`${header}a,1,1,30\n`, /line 1: bmi is not a covariate column/, { covariateColumns: ['bmi'] }],
    ];
    for (const [text, message, options] of cases) {
      const result = await failure(text, options);
      expect(result.code, message.source).toBe('MALFORMED_CSV');
      expect(result.message).toMatch(message);
      expect(result.line).toBe(Number(/line (\d+)/.exec(result.message)?.[1]));
    }
  });

  it('reports a missing file as a typed error', async () => {
    await expect(readPhenotypeCsv(path.join(dir, 'absent.csv'), { phenotypeColumn: 'case' })).rejects.toMatchObject({
      fheCode: 'MALFORMED_CSV',
    });
  });
});
