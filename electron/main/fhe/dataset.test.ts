import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KEY_REQUESTS } from '../../../shared/fhe/key-bundles';
import { manifestDigest, parseManifest } from '../../../shared/fhe/manifest';
import { loadSeal } from '../../../shared/fhe/seal';
import { encryptDataset, MANIFEST_FILE, OBJECTS_DIR, type EncryptDatasetInput } from './dataset';
import { generateKeyBundles } from './keygen';

const tinyVcf = fileURLToPath(new URL('../../../resources/cohorts/tiny/cohort.vcf', import.meta.url));
const tinyCsv = fileURLToPath(new URL('../../../resources/cohorts/tiny/phenotypes.csv', import.meta.url));
let seal: SEALLibrary;
let secretKeys: Uint8Array;
let dir: string;
let caseCount = 0;

beforeAll(async () => {
  seal = await loadSeal();
  secretKeys = generateKeyBundles(seal, DEFAULT_KEY_REQUESTS).secretKeys;
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-dataset-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh parent folder, so a test can check that a failure left it exactly as it was. */
async function parentDir(): Promise<string> {
  const parent = path.join(dir, `case-${caseCount++}`);
  await mkdir(parent);
  return parent;
}

function input(parent: string, overrides: Partial<EncryptDatasetInput> = {}): EncryptDatasetInput {
  return {
    vcfPath: tinyVcf,
    phenotypeCsvPath: tinyCsv,
    phenotypeColumn: 'case',
    outputDir: path.join(parent, 'dataset'),
    ...overrides,
  };
}

async function expectNothingWritten(parent: string, run: () => Promise<unknown>, fheCode: string, message?: RegExp) {
  const error = await run().then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toMatchObject({ fheCode });
  if (message) expect((error as Error).message).toMatch(message);
  expect(await readdir(parent)).toEqual([]);
}

describe('encryptDataset', () => {
  it('writes content-addressed objects and a canonical manifest for the tiny cohort', async () => {
    const parent = await parentDir();
    const stages = new Set<string>();
    const result = await encryptDataset(seal, input(parent), secretKeys, { onProgress: (p) => stages.add(p.stage) });
    expect(await readdir(parent)).toEqual(['dataset']);
    expect(stages).toEqual(new Set(['reading-csv', 'encrypting-genotypes', 'encrypting-numeric', 'finishing']));

    const manifestText = await readFile(path.join(result.outputDir, MANIFEST_FILE), 'utf8');
    const manifest = parseManifest(JSON.parse(manifestText));
    expect(manifest).toEqual(result.manifest);
    expect(`0x${createHash('sha256').update(manifestText).digest('hex')}`).toBe(result.manifestDigest);
    expect(manifestDigest(manifest)).toBe(result.manifestDigest);
    expect(manifest).toMatchObject({ sampleCount: 40, snpCount: 64, genotypeLayout: { blockCount: 1, radix: 41 } });
    expect(manifest.donorConsentIds.slice(0, 3)).toEqual(['1000', '1001', '1002']);
    expect(manifest.numericLayout?.columns.map((column) => column.name)).toEqual(['case', 'age', 'bmi']);

    const files = await readdir(path.join(result.outputDir, OBJECTS_DIR));
    expect(files.sort()).toEqual(manifest.objects.map((object) => object.digest).sort());
    for (const object of manifest.objects) {
      const bytes = await readFile(path.join(result.outputDir, OBJECTS_DIR, object.digest));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(object.digest);
      expect(bytes.length).toBe(object.size);
    }
    const variants = manifest.objects.find((object) => object.kind === 'variants')!;
    const table = await readFile(path.join(result.outputDir, OBJECTS_DIR, variants.digest), 'utf8');
    expect(table.split('\n')[1]).toMatch(/^0\t1\t\d+\trs100000\t[ACGT]\t[ACGT.]$/);
    expect(result.stats).toMatchObject({ samples: 40, snps: 64, genotypeCiphertexts: 40, skippedMultiallelic: 0 });
  });

  it('takes consent ids from the caller, and can leave numeric columns out', async () => {
    const parent = await parentDir();
    const csv = path.join(dir, 'no-consent.csv');
    const rows = (await readFile(tinyCsv, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    await writeFile(csv, rows.map(([id, , status]) => `${id},${status}`).join('\n'));
    const consentIds = Object.fromEntries(rows.slice(1).map(([id], i) => [id!, String(500 + i)]));
    const result = await encryptDataset(
      seal,
      input(parent, {
        phenotypeCsvPath: csv,
        consentIds,
        parameterSuite: { genotypes: 'bfv-n4096-t60', numeric: null },
      }),
      secretKeys,
    );
    expect(result.manifest.donorConsentIds[39]).toBe('539');
    expect(result.manifest.numericLayout).toBeNull();
    expect(result.manifest.objects.filter((object) => object.kind === 'numeric')).toEqual([]);
  });

  it('leaves nothing behind when the VCF breaks after blocks were written', async () => {
    const parent = await parentDir();
    const vcf = path.join(dir, 'broken.vcf');
    const text = await readFile(tinyVcf, 'utf8');
    const lines = text.trimEnd().split('\n');
    await writeFile(vcf, `${text}1\t5\trsX\tA\tG\t.\tPASS\t.\tGT\t0/1\n`);
    await expectNothingWritten(
      parent,
      () => encryptDataset(seal, input(parent, { vcfPath: vcf }), secretKeys),
      'MALFORMED_VCF',
      new RegExp(`line ${lines.length + 1}: expected 49 columns`),
    );
  });

  it('refuses cohorts whose VCF and CSV disagree, without writing', async () => {
    const csvRows = (await readFile(tinyCsv, 'utf8')).trim().split('\n');
    const variants = [
      {
        name: 'missing.csv',
        rows: csvRows.filter((row) => !row.startsWith('S00007,')),
        message: /VCF sample S00007 has no row/,
      },
      {
        name: 'extra.csv',
        rows: [...csvRows, 'S09999,9999,1,30,20.0'],
        message: /line 42: sample S09999 is not in the VCF/,
      },
      {
        name: 'shared.csv',
        rows: csvRows.map((row) => row.replace(/^S00002,1001,/, 'S00002,1000,')),
        message: /share a donor consent id/,
      },
    ];
    for (const { name, rows, message } of variants) {
      const parent = await parentDir();
      const csv = path.join(dir, name);
      await writeFile(csv, `${rows.join('\n')}\n`);
      await expectNothingWritten(
        parent,
        () => encryptDataset(seal, input(parent, { phenotypeCsvPath: csv }), secretKeys),
        'COHORT_MISMATCH',
        message,
      );
    }
  });

  it('refuses an existing output folder and stops when cancelled, writing nothing', async () => {
    const parent = await parentDir();
    await mkdir(path.join(parent, 'dataset'));
    await expect(encryptDataset(seal, input(parent), secretKeys)).rejects.toMatchObject({ fheCode: 'OUTPUT_EXISTS' });
    expect(await readdir(parent)).toEqual(['dataset']);
    expect(await readdir(path.join(parent, 'dataset'))).toEqual([]);

    const other = await parentDir();
    let progressed = false;
    const hooks = { onProgress: () => (progressed = true), isCancelled: () => progressed };
    await expectNothingWritten(other, () => encryptDataset(seal, input(other), secretKeys, hooks), 'CANCELLED');
  });

  it('refuses secret keys that lack a parameter set, writing nothing', async () => {
    const parent = await parentDir();
    const bfvOnly = generateKeyBundles(seal, [{ parameterSetId: 'bfv-n4096-t60' }]).secretKeys;
    await expectNothingWritten(
      parent,
      () => encryptDataset(seal, input(parent), bfvOnly),
      'BAD_KEYS',
      /no key for ckks-n8192-s40/,
    );
  });
});
