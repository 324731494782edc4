import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCohort } from '../../../scripts/gen-cohort';
import {
  aggregateNumericSums,
  GenotypeCountAggregator,
  referenceGenotypeCounts,
  referenceNumericSums,
  sameGenotypeCounts,
} from '../../../shared/fhe/aggregate';
import { parsePublicKeyBundle } from '../../../shared/fhe/key-bundles';
import type { FheManifest } from '../../../shared/fhe/manifest';
import { getParameterSet } from '../../../shared/fhe/parameters';
import { createSealContext, loadSeal } from '../../../shared/fhe/seal';
import { fingerprintPattern, Vault } from '../keys';
import { MemoryKeychain } from '../keys/testing/memory-keychain';
import { OBJECTS_DIR, type DatasetProgress } from './dataset';
import { FheEngine, type FheKeyMaterial } from './engine';
import { readPlainCohort } from './testing/cohort';

const tinyVcf = fileURLToPath(new URL('../../../resources/cohorts/tiny/cohort.vcf', import.meta.url));
const tinyCsv = fileURLToPath(new URL('../../../resources/cohorts/tiny/phenotypes.csv', import.meta.url));
const engine = new FheEngine();
let seal: SEALLibrary;
let keys: FheKeyMaterial;
let dir: string;

beforeAll(async () => {
  seal = await loadSeal();
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-fhe-it-'));
  keys = await engine.generateKeys();
});
afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

/** What the orchestrator does: skip withdrawn donors, sum the rest homomorphically, with public material only. */
async function aggregate(datasetDir: string, manifest: FheManifest, withdrawn: ReadonlySet<string>) {
  const context = createSealContext(seal, getParameterSet(manifest.genotypeLayout.parameterSetId));
  const aggregator = new GenotypeCountAggregator(seal, context, manifest.genotypeLayout);
  const excluded = new Set<number>();
  const numericObjects: { column: string; bytes: Uint8Array }[] = [];
  for (const object of manifest.objects) {
    const bytes = () => readFile(path.join(datasetDir, OBJECTS_DIR, object.digest));
    if (object.kind === 'genotypes') {
      if (withdrawn.has(manifest.donorConsentIds[object.sampleIndex]!)) excluded.add(object.sampleIndex);
      else aggregator.addSample(object.sampleIndex, await bytes());
    } else if (object.kind === 'numeric') {
      numericObjects.push({ column: object.column, bytes: await bytes() });
    }
  }
  const genotypeResult = aggregator.finish();
  aggregator.delete();
  context.delete();
  let numericResult: Uint8Array | null = null;
  if (manifest.numericLayout) {
    const numericContext = createSealContext(seal, getParameterSet(manifest.numericLayout.parameterSetId));
    const entry = parsePublicKeyBundle(keys.publicKeys).find(
      (key) => key.parameterSetId === manifest.numericLayout!.parameterSetId,
    );
    const galoisKeys = seal.GaloisKeys();
    galoisKeys.loadArray(numericContext, entry!.parts.find((part) => part.kind === 'galois')!.bytes);
    numericResult = aggregateNumericSums(seal, numericContext, manifest.numericLayout, galoisKeys, numericObjects, [
      ...excluded,
    ]);
    galoisKeys.delete();
    numericContext.delete();
  }
  return { genotypeResult, numericResult, excluded };
}

describe('FHE engine (worker thread, real node-seal)', () => {
  it('generates keys in the worker; the vault seals the secret and records the public fingerprint', async () => {
    expect(keys.fingerprint).toMatch(fingerprintPattern);
    expect(keys.parameterSetIds).toEqual(['bfv-n4096-t60', 'ckks-n8192-s40']);
    const entries = parsePublicKeyBundle(keys.publicKeys);
    expect(entries.map((entry) => entry.parts.map((part) => part.kind))).toEqual([['public'], ['public', 'galois']]);

    const vault = new Vault({
      dataDir: path.join(dir, 'vault'),
      keychain: new MemoryKeychain(),
      keychainService: 'cos-fhe-test',
    });
    const summary = await vault.createProfile({ label: 'Ward 4 steward', role: 'steward' });
    const profile = await vault.unlock(summary.id);
    await profile.writeSecret('fhe-keys', keys.secretKeys, { publicKey: keys.publicKeys });
    expect(profile.profile.fingerprints['fhe-keys']).toBe(keys.fingerprint);
    expect(Buffer.compare(await profile.readSecret('fhe-keys'), Buffer.from(keys.secretKeys))).toBe(0);
    profile.lock();
  });

  it('encrypts the tiny cohort, aggregates under FHE without a withdrawn donor, and decrypts exactly the plaintext counts', async () => {
    const progress: DatasetProgress[] = [];
    const outputDir = path.join(dir, 'tiny');
    const { manifest, stats } = await engine.encryptDataset(
      { vcfPath: tinyVcf, phenotypeCsvPath: tinyCsv, phenotypeColumn: 'case', outputDir },
      keys.secretKeys,
      { onProgress: (update) => progress.push(update) },
    );
    expect(progress.at(-1)).toMatchObject({ stage: 'finishing' });
    expect(progress.some((update) => update.stage === 'encrypting-genotypes' && update.done === update.total)).toBe(
      true,
    );
    expect(stats).toMatchObject({ samples: 40, snps: 64 });

    const plain = await readPlainCohort(tinyVcf, tinyCsv);
    const withdrawn = new Set([plain.consentIds[6]!, plain.consentIds[21]!]);
    const { genotypeResult, numericResult, excluded } = await aggregate(outputDir, manifest, withdrawn);
    expect([...excluded]).toEqual([6, 21]);

    const { counts, excludedSamples } = await engine.decryptGenotypeCounts({
      secretKeys: keys.secretKeys,
      layout: manifest.genotypeLayout,
      result: genotypeResult,
    });
    expect(excludedSamples).toEqual([6, 21]);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(plain.genotypes, plain.phenotypes, excluded))).toBe(true);
    // Sites without an ALT allele count only homozygous-REF genotypes; missing genotypes count nowhere.
    const records = (await readFile(tinyVcf, 'utf8'))
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    const noAlt = records.flatMap((line, snp) => (line.split('\t')[4] === '.' ? [snp] : []));
    expect(noAlt.length).toBeGreaterThan(0);
    for (const snp of noAlt) {
      expect([counts.case[1][snp], counts.case[2][snp], counts.control[1][snp], counts.control[2][snp]]).toEqual([
        0, 0, 0, 0,
      ]);
    }
    const called = (snp: number) =>
      counts.case[0][snp]! +
      counts.case[1][snp]! +
      counts.case[2][snp]! +
      counts.control[0][snp]! +
      counts.control[1][snp]! +
      counts.control[2][snp]!;
    const eligible = plain.phenotypes.filter((p, sample) => p !== 'missing' && !excluded.has(sample)).length;
    expect(records.some((_, snp) => called(snp) < eligible)).toBe(true);

    const { sums } = await engine.decryptNumericSums({
      secretKeys: keys.secretKeys,
      layout: manifest.numericLayout!,
      result: numericResult!,
    });
    const phenotypeValues = Float64Array.from(plain.phenotypes, (p) =>
      p === 'case' ? 1 : p === 'control' ? 0 : Number.NaN,
    );
    const reference = referenceNumericSums(
      [
        { name: 'case', values: phenotypeValues },
        ...plain.covariateColumns.map((name, c) => ({ name, values: plain.covariates[c]! })),
      ],
      excluded,
    );
    sums.forEach((sum, c) => {
      expect(sum.column).toBe(reference[c]!.column);
      expect(sum.count).toBe(reference[c]!.count);
      expect(Math.abs(sum.sum - reference[c]!.sum)).toBeLessThan(1e-4);
      expect(Math.abs(sum.sumOfSquares - reference[c]!.sumOfSquares)).toBeLessThan(
        1e-4 + 1e-9 * reference[c]!.sumOfSquares,
      );
    });
  });

  it('handles a gzipped cohort spanning several ciphertext blocks', async () => {
    const files = await generateCohort(path.join(dir, 'multi-src'), { samples: 30, snps: 9000, seed: 5, gzip: true });
    const outputDir = path.join(dir, 'multi');
    const { manifest, stats } = await engine.encryptDataset(
      { vcfPath: files.vcfPath, phenotypeCsvPath: files.csvPath, phenotypeColumn: 'case', outputDir },
      keys.secretKeys,
    );
    expect(manifest.genotypeLayout.blockCount).toBe(3);
    expect(stats.genotypeCiphertexts).toBe(90);
    const { genotypeResult } = await aggregate(outputDir, manifest, new Set());
    const { counts } = await engine.decryptGenotypeCounts({
      secretKeys: keys.secretKeys,
      layout: manifest.genotypeLayout,
      result: genotypeResult,
    });
    const plain = await readPlainCohort(files.vcfPath, files.csvPath);
    expect(sameGenotypeCounts(counts, referenceGenotypeCounts(plain.genotypes, plain.phenotypes))).toBe(true);
  });

  it('returns malformed input as a typed error with its line number and writes nothing', async () => {
    const parent = path.join(dir, 'bad');
    await mkdir(parent);
    const error = await engine
      .encryptDataset(
        { vcfPath: tinyCsv, phenotypeCsvPath: tinyCsv, phenotypeColumn: 'case', outputDir: path.join(parent, 'out') },
        keys.secretKeys,
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'FheError', fheCode: 'MALFORMED_VCF', line: 1, code: 'BAD_REQUEST' });
    expect((error as Error).message).toMatch(/VCF line 1/);
    const csvError = await engine
      .encryptDataset(
        { vcfPath: tinyVcf, phenotypeCsvPath: tinyVcf, phenotypeColumn: 'case', outputDir: path.join(parent, 'out') },
        keys.secretKeys,
      )
      .catch((caught: unknown) => caught);
    expect(csvError).toMatchObject({ fheCode: 'MALFORMED_CSV' });
    expect(await readdir(parent)).toEqual([]);
  });

  it('cancels a running encryption through an AbortSignal, writing nothing', async () => {
    const files = await generateCohort(path.join(dir, 'cancel-src'), { samples: 200, snps: 20_000, seed: 9 });
    const parent = path.join(dir, 'cancel');
    await mkdir(parent);
    const controller = new AbortController();
    const error = await engine
      .encryptDataset(
        {
          vcfPath: files.vcfPath,
          phenotypeCsvPath: files.csvPath,
          phenotypeColumn: 'case',
          outputDir: path.join(parent, 'out'),
        },
        keys.secretKeys,
        { signal: controller.signal, onProgress: (update) => update.done > 0 && controller.abort() },
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ fheCode: 'CANCELLED' });
    expect(await readdir(parent)).toEqual([]);
  });

  it('fails pending requests when closed and starts a fresh worker for the next one', async () => {
    const other = new FheEngine();
    const pending = other.generateKeys().catch((error: unknown) => error);
    await other.close();
    expect(await pending).toMatchObject({ fheCode: 'WORKER_FAILED' });
    await expect(other.generateKeys([{ parameterSetId: 'bfv-n4096-t60' }])).resolves.toMatchObject({
      parameterSetIds: ['bfv-n4096-t60'],
    });
    await other.close();
  });
});
