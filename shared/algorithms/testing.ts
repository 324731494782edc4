import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { encryptDataset, OBJECTS_DIR } from '../../electron/main/fhe/dataset';
import { generateKeyBundles } from '../../electron/main/fhe/keygen';
import { DEFAULT_KEY_REQUESTS } from '../fhe/key-bundles';
import type { FheManifest } from '../fhe/manifest';
import type { AlgorithmInputs } from './types';

/*
 * Test helpers for the algorithm library: encrypt a cohort with the real pipeline, feed evaluate() from
 * the dataset folder, run PLINK 1.9 and parse its reports.
 */

const run = promisify(execFile);
export const PLINK = process.env.COS_PLINK ?? 'plink1.9';

export interface EncryptedCohort {
  dir: string;
  manifest: FheManifest;
  secretKeys: Uint8Array;
  publicKeys: Uint8Array;
}

export async function encryptCohort(
  seal: SEALLibrary,
  files: { vcfPath: string; csvPath: string },
  outputDir: string,
): Promise<EncryptedCohort> {
  const { secretKeys, publicKeys } = generateKeyBundles(seal, DEFAULT_KEY_REQUESTS);
  const { manifest } = await encryptDataset(
    seal,
    { vcfPath: files.vcfPath, phenotypeCsvPath: files.csvPath, phenotypeColumn: 'case', outputDir },
    secretKeys,
  );
  return { dir: outputDir, manifest, secretKeys, publicKeys };
}

export function inputsFor(
  seal: SEALLibrary,
  cohort: EncryptedCohort,
  params: unknown,
  extra: Partial<AlgorithmInputs> = {},
): AlgorithmInputs {
  return {
    seal,
    manifest: cohort.manifest,
    excludedSamples: new Set(),
    loadObject: (digest) => readFile(path.join(cohort.dir, OBJECTS_DIR, digest)),
    loadPublicKeys: async () => cohort.publicKeys,
    params,
    ...extra,
  };
}

export function variantsDigest(manifest: FheManifest): string {
  return manifest.objects.find((object) => object.kind === 'variants')!.digest;
}

/** A PLINK report as rows of whitespace-separated fields keyed by the header. */
export function parsePlinkReport(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = header!.trim().split(/\s+/);
  return lines.map((line) => {
    const fields = line.trim().split(/\s+/);
    return Object.fromEntries(names.map((name, i) => [name, fields[i]!]));
  });
}

/** Runs `plink1.9 --vcf <vcf> --pheno <csv's case column> <args>` in `dir`; returns the report text. */
export async function runPlink(
  dir: string,
  files: { vcfPath: string; csvPath: string },
  args: string[],
  report: string,
  remove: readonly string[] = [],
): Promise<string> {
  const csv = (await readFile(files.csvPath, 'utf8')).trim().split('\n');
  const header = csv[0]!.split(',');
  const id = header.indexOf('sample_id');
  const status = header.indexOf('case');
  const pheno = path.join(dir, 'pheno.txt');
  await writeFile(
    pheno,
    csv
      .slice(1)
      .map((line) => line.split(','))
      .map((fields) => `${fields[id]} ${fields[id]} ${['1', '2'].includes(fields[status]!) ? fields[status] : -9}`)
      .join('\n') + '\n',
  );
  const extra: string[] = [];
  if (remove.length > 0) {
    const removeFile = path.join(dir, 'remove.txt');
    await writeFile(removeFile, remove.map((sample) => `${sample} ${sample}`).join('\n') + '\n');
    extra.push('--remove', removeFile);
  }
  const out = path.join(dir, 'plink');
  await run(
    PLINK,
    [
      '--vcf',
      files.vcfPath,
      '--pheno',
      pheno,
      '--allow-no-sex',
      '--vcf-half-call',
      'missing',
      '--threads',
      '1',
      ...extra,
      ...args,
      '--out',
      out,
    ],
    { cwd: dir },
  );
  return readFile(`${out}.${report}`, 'utf8');
}

/** PLINK prints 4 significant digits: the largest difference its rounding allows from the exact value. */
export function printedTolerance(printed: number): number {
  if (printed === 0) return 0;
  return 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(printed))) - 3) * (1 + 1e-9);
}
