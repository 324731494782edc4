import { createHash, type Hash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { FheError } from '../../../shared/fhe/errors';
import { encodeFrames, framePrefix, OBJECT_MAGIC } from '../../../shared/fhe/frames';
import { parseSecretKeyBundle, secretKeyFor } from '../../../shared/fhe/key-bundles';
import {
  encodeGenotypeSlots,
  encodeNumericColumn,
  genotypeLayout,
  genotypeSlotWeights,
  planGenotypeLanes,
  planNumericLayout,
  type GenotypeLanePlan,
  type NumericColumn,
  type PhenotypeClass,
} from '../../../shared/fhe/layout';
import {
  manifestDigest,
  manifestJson,
  parseManifest,
  type FheManifest,
  type ManifestObject,
} from '../../../shared/fhe/manifest';
import {
  DEFAULT_PARAMETER_SUITE,
  fheParamsHash,
  getParameterSet,
  parameterSetHash,
  type ParameterSuite,
} from '../../../shared/fhe/parameters';
import { createSealContext } from '../../../shared/fhe/seal';
import { readPhenotypeCsv, type PhenotypeTable } from './csv';
import { readVcf, type MultiallelicPolicy, type VcfHeader } from './vcf';

export interface EncryptDatasetInput {
  vcfPath: string;
  phenotypeCsvPath: string;
  /** The case/control column (PLINK coding) the GWAS layout is built on. */
  phenotypeColumn: string;
  sampleIdColumn?: string;
  consentIdColumn?: string;
  /** Numeric columns to encrypt besides the phenotype; default every other CSV column. */
  covariateColumns?: string[];
  /** sampleId -> donor token id, for CSVs without a consent column. */
  consentIds?: Record<string, string>;
  /** Created whole at the end (it must not exist yet); its parent must exist. */
  outputDir: string;
  multiallelic?: MultiallelicPolicy;
  parameterSuite?: ParameterSuite;
}

export interface DatasetProgress {
  stage: 'reading-csv' | 'encrypting-genotypes' | 'encrypting-numeric' | 'finishing';
  done: number;
  total: number | null;
  unit: 'bytes' | 'columns' | 'objects';
}

export interface DatasetStats {
  samples: number;
  snps: number;
  skippedMultiallelic: number;
  genotypeCiphertexts: number;
  genotypeBytes: number;
  numericBytes: number;
  /** All objects plus the manifest. */
  totalBytes: number;
  /** Genotype object bytes per genotype (the at-rest figure). */
  bytesPerGenotype: number;
  seconds: number;
  genotypesPerSecond: number;
}

export interface EncryptDatasetResult {
  outputDir: string;
  manifest: FheManifest;
  manifestDigest: string;
  stats: DatasetStats;
}

export interface DatasetHooks {
  onProgress?: (progress: DatasetProgress) => void;
  isCancelled?: () => boolean;
}

/** Output layout: `<outputDir>/manifest.json` and `<outputDir>/objects/<sha-256 hex>`. */
export const MANIFEST_FILE = 'manifest.json';
export const OBJECTS_DIR = 'objects';

async function syncFile(filePath: string): Promise<void> {
  const handle = await open(filePath, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` as a content-addressed object in `objectsDir`. */
async function writeObject(objectsDir: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const target = path.join(objectsDir, digest);
  await writeFile(target, bytes, { mode: 0o600 });
  await syncFile(target);
  return { digest, size: bytes.length };
}

function joinSamples(header: VcfHeader, table: PhenotypeTable, input: EncryptDatasetInput) {
  const phenotypes: PhenotypeClass[] = [];
  const donorConsentIds: string[] = [];
  const covariates: Float64Array[] = [];
  for (const sample of header.samples) {
    const row = table.rows.get(sample);
    if (!row) throw new FheError('COHORT_MISMATCH', `VCF sample ${sample} has no row in the phenotype CSV`);
    const consentId = input.consentIds?.[sample] ?? row.consentId;
    if (consentId === null || consentId === undefined) {
      throw new FheError('COHORT_MISMATCH', `Sample ${sample} has no donor consent id (CSV column or consentIds)`);
    }
    phenotypes.push(row.phenotype);
    donorConsentIds.push(consentId);
    covariates.push(row.covariates);
  }
  const inVcf = new Set(header.samples);
  for (const [sample, row] of table.rows) {
    if (!inVcf.has(sample)) {
      throw new FheError('COHORT_MISMATCH', `CSV line ${row.line}: sample ${sample} is not in the VCF`, {
        line: row.line,
      });
    }
  }
  if (new Set(donorConsentIds).size !== donorConsentIds.length) {
    throw new FheError('COHORT_MISMATCH', 'Two samples share a donor consent id');
  }
  return { phenotypes, donorConsentIds, covariates };
}

/**
 * Encrypts a cohort: genotypes from a VCF streamed line by line into one object per sample (a BFV
 * ciphertext per block of SNPs, phenotype folded into the slot digits), numeric CSV columns into CKKS
 * objects, plus the variant table and the manifest. Everything is written under a staging folder
 * renamed to `outputDir` at the end, so a failure leaves nothing behind.
 */
export async function encryptDataset(
  seal: SEALLibrary,
  input: EncryptDatasetInput,
  secretKeys: Uint8Array,
  hooks: DatasetHooks = {},
): Promise<EncryptDatasetResult> {
  const started = performance.now();
  const suite = input.parameterSuite ?? DEFAULT_PARAMETER_SUITE;
  const genotypeSet = getParameterSet(suite.genotypes);
  const numericSet = suite.numeric === null ? null : getParameterSet(suite.numeric);
  const bundle = parseSecretKeyBundle(secretKeys);
  const genotypeKey = secretKeyFor(bundle, genotypeSet.id);
  const numericKey = numericSet === null ? null : secretKeyFor(bundle, numericSet.id);
  const outputDir = path.resolve(input.outputDir);
  const parent = path.dirname(outputDir);
  const outputExists = await stat(outputDir).then(
    () => true,
    () => false,
  );
  if (outputExists) throw new FheError('OUTPUT_EXISTS', `${outputDir} already exists`);
  const progress = (update: DatasetProgress) => hooks.onProgress?.(update);
  const checkCancelled = () => {
    if (hooks.isCancelled?.()) throw new FheError('CANCELLED', 'Dataset encryption was cancelled');
  };

  progress({ stage: 'reading-csv', done: 0, total: null, unit: 'bytes' });
  const table = await readPhenotypeCsv(input.phenotypeCsvPath, {
    phenotypeColumn: input.phenotypeColumn,
    sampleIdColumn: input.sampleIdColumn,
    consentIdColumn: input.consentIdColumn,
    covariateColumns: input.covariateColumns,
  });
  const vcfSize = (
    await stat(input.vcfPath).catch((error: unknown) => {
      throw new FheError('MALFORMED_VCF', `VCF file not found: ${input.vcfPath}`, { cause: error });
    })
  ).size;

  const staging = await mkdtemp(path.join(parent, `.${path.basename(outputDir)}.staging-`));
  const objectsDir = path.join(staging, OBJECTS_DIR);
  const sealObjects: { delete(): void }[] = [];
  try {
    await mkdir(objectsDir);

    // Genotype keys: symmetric encryption needs the secret key; SEAL's Encryptor also wants a public key.
    const genotypeContext = createSealContext(seal, genotypeSet);
    sealObjects.push(genotypeContext);
    const genotypeSecret = seal.SecretKey();
    sealObjects.push(genotypeSecret);
    try {
      genotypeSecret.loadArray(genotypeContext, genotypeKey);
    } catch (error) {
      throw new FheError('BAD_KEYS', `The secret key does not fit ${genotypeSet.id}`, { cause: error });
    }
    const keyGenerator = seal.KeyGenerator(genotypeContext, genotypeSecret);
    sealObjects.push(keyGenerator);
    const publicKey = keyGenerator.createPublicKey();
    sealObjects.push(publicKey);
    const encryptor = seal.Encryptor(genotypeContext, publicKey, genotypeSecret);
    sealObjects.push(encryptor);
    const batchEncoder = seal.BatchEncoder(genotypeContext);
    sealObjects.push(batchEncoder);

    let phenotypes: PhenotypeClass[] = [];
    let donorConsentIds: string[] = [];
    let covariates: Float64Array[] = [];
    let plan: GenotypeLanePlan | null = null;
    let weights: BigUint64Array = new BigUint64Array();
    let block: Uint8Array = new Uint8Array();
    let sampleCount = 0;
    let inBlock = 0;
    let blocksWritten = 0;
    let snpCount = 0;
    let skippedMultiallelic = 0;
    let bytesRead = 0;
    const sampleHashes: Hash[] = [];
    const sampleFile = (sample: number) => path.join(staging, `sample-${sample}.part`);
    const variantLines: string[] = ['index\tchrom\tpos\tid\tref\talt\n'];
    const variantsHash = createHash('sha256');
    let variantBytes = 0;
    const variantsFile = path.join(staging, 'variants.part');
    await writeFile(variantsFile, '', { mode: 0o600 });

    const flushVariants = async () => {
      const text = variantLines.join('');
      variantLines.length = 0;
      variantsHash.update(text);
      variantBytes += Buffer.byteLength(text);
      await appendFile(variantsFile, text);
    };

    const flushBlock = async () => {
      const slots = new BigUint64Array(plan!.slotsPerCiphertext);
      const snpsPerCiphertext = plan!.snpsPerCiphertext;
      // Writes to the samples' files overlap with encryption; each file gets one write per block, in order.
      const writes: Promise<void>[] = [];
      let stopped: { error: unknown } | null = null;
      try {
        for (let sample = 0; sample < sampleCount; sample += 1) {
          if (sample % 64 === 0) {
            await new Promise((resolve) => setImmediate(resolve)); // lets a cancel message in
            checkCancelled();
          }
          const codes = block.subarray(sample * snpsPerCiphertext, sample * snpsPerCiphertext + inBlock);
          encodeGenotypeSlots(plan!, weights, codes, phenotypes[sample]!, slots);
          const plaintext = batchEncoder.encode(slots)!;
          const serializable = encryptor.encryptSymmetricSerializable(plaintext);
          const ciphertext = serializable.saveArray(seal.ComprModeType.zstd);
          serializable.delete();
          plaintext.delete();
          const frame = Buffer.concat([
            blocksWritten === 0 ? OBJECT_MAGIC : new Uint8Array(),
            framePrefix(ciphertext.length),
            ciphertext,
          ]);
          sampleHashes[sample]!.update(frame);
          writes.push(appendFile(sampleFile(sample), frame, { mode: 0o600 }));
        }
      } catch (error) {
        stopped = { error };
      }
      // Pending writes finish before anything else happens, so a failure never races the staging cleanup.
      const failed = (await Promise.allSettled(writes)).find((outcome) => outcome.status === 'rejected');
      if (stopped) throw stopped.error;
      if (failed) throw failed.reason;
      blocksWritten += 1;
      inBlock = 0;
      await flushVariants();
      progress({ stage: 'encrypting-genotypes', done: bytesRead, total: vcfSize, unit: 'bytes' });
    };

    const variants = readVcf(input.vcfPath, {
      multiallelic: input.multiallelic,
      onBytesRead: (bytes) => (bytesRead = bytes),
      onSkipped: () => (skippedMultiallelic += 1),
      onHeader: (header) => {
        ({ phenotypes, donorConsentIds, covariates } = joinSamples(header, table, input));
        sampleCount = header.samples.length;
        plan = planGenotypeLanes(genotypeSet.id, sampleCount);
        weights = genotypeSlotWeights(plan);
        block = new Uint8Array(sampleCount * plan.snpsPerCiphertext);
        for (let sample = 0; sample < sampleCount; sample += 1) sampleHashes.push(createHash('sha256'));
      },
    });
    progress({ stage: 'encrypting-genotypes', done: 0, total: vcfSize, unit: 'bytes' });
    for await (const variant of variants) {
      const snpsPerCiphertext = plan!.snpsPerCiphertext;
      for (let sample = 0; sample < sampleCount; sample += 1) {
        block[sample * snpsPerCiphertext + inBlock] = variant.codes[sample]!;
      }
      variantLines.push(
        `${snpCount}\t${variant.chrom}\t${variant.pos}\t${variant.id}\t${variant.ref}\t${variant.alt}\n`,
      );
      snpCount += 1;
      inBlock += 1;
      if (inBlock === snpsPerCiphertext) await flushBlock();
    }
    if (plan === null) throw new FheError('MALFORMED_VCF', 'The VCF has no #CHROM header line');
    if (inBlock > 0) await flushBlock();
    if (snpCount === 0) throw new FheError('MALFORMED_VCF', 'The VCF holds no variants');

    let numericBytes = 0;
    const numericObjects: ManifestObject[] = [];
    let numericLayout = null;
    if (numericSet !== null) {
      const columns: NumericColumn[] = [
        { name: table.phenotypeColumn, role: 'phenotype' },
        ...table.covariateColumns.map((name): NumericColumn => ({ name, role: 'covariate' })),
      ];
      numericLayout = planNumericLayout(numericSet.id, sampleCount, columns);
      const numericContext = createSealContext(seal, numericSet);
      sealObjects.push(numericContext);
      const numericSecret = seal.SecretKey();
      sealObjects.push(numericSecret);
      try {
        numericSecret.loadArray(numericContext, numericKey!);
      } catch (error) {
        throw new FheError('BAD_KEYS', `The secret key does not fit ${numericSet.id}`, { cause: error });
      }
      const numericKeys = seal.KeyGenerator(numericContext, numericSecret);
      sealObjects.push(numericKeys);
      const numericPublic = numericKeys.createPublicKey();
      sealObjects.push(numericPublic);
      const numericEncryptor = seal.Encryptor(numericContext, numericPublic, numericSecret);
      sealObjects.push(numericEncryptor);
      const ckksEncoder = seal.CKKSEncoder(numericContext);
      sealObjects.push(ckksEncoder);
      const scale = 2 ** numericSet.scaleBits!;
      for (const [c, column] of columns.entries()) {
        checkCancelled();
        progress({ stage: 'encrypting-numeric', done: c, total: columns.length, unit: 'columns' });
        const values = new Float64Array(sampleCount);
        for (let sample = 0; sample < sampleCount; sample += 1) {
          if (column.role === 'phenotype') {
            const phenotype = phenotypes[sample]!;
            values[sample] = phenotype === 'case' ? 1 : phenotype === 'control' ? 0 : Number.NaN;
          } else {
            values[sample] = covariates[sample]![c - 1]!;
          }
        }
        const frames = encodeNumericColumn(numericLayout, values).map((vector) => {
          const plaintext = ckksEncoder.encode(vector, scale)!;
          const serializable = numericEncryptor.encryptSymmetricSerializable(plaintext);
          const bytes = serializable.saveArray(seal.ComprModeType.zstd);
          serializable.delete();
          plaintext.delete();
          return bytes;
        });
        const written = await writeObject(objectsDir, encodeFrames(frames));
        numericObjects.push({ kind: 'numeric', column: column.name, ...written });
        numericBytes += written.size;
      }
    }

    progress({ stage: 'finishing', done: 0, total: sampleCount + 1, unit: 'objects' });
    const objects: ManifestObject[] = [];
    let genotypeBytes = 0;
    const variantsDigest = variantsHash.digest('hex');
    await syncFile(variantsFile);
    await rename(variantsFile, path.join(objectsDir, variantsDigest));
    objects.push({ kind: 'variants', digest: variantsDigest, size: variantBytes });
    for (let sample = 0; sample < sampleCount; sample += 1) {
      checkCancelled();
      const digest = sampleHashes[sample]!.digest('hex');
      const { size } = await stat(sampleFile(sample));
      await syncFile(sampleFile(sample));
      await rename(sampleFile(sample), path.join(objectsDir, digest));
      objects.push({ kind: 'genotypes', sampleIndex: sample, digest, size });
      genotypeBytes += size;
    }
    objects.push(...numericObjects);

    const manifest = parseManifest({
      format: 'cos.fhe.manifest.v1',
      fheParamsHash: fheParamsHash(suite),
      parameterSets: {
        genotypes: { id: genotypeSet.id, hash: parameterSetHash(genotypeSet) },
        numeric: numericSet === null ? null : { id: numericSet.id, hash: parameterSetHash(numericSet) },
      },
      sampleCount,
      snpCount,
      donorConsentIds,
      genotypeLayout: genotypeLayout(plan, snpCount),
      numericLayout,
      objects,
    });
    const manifestText = manifestJson(manifest);
    await writeFile(path.join(staging, MANIFEST_FILE), manifestText, { mode: 0o600 });
    await syncFile(path.join(staging, MANIFEST_FILE));
    try {
      await rename(staging, outputDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') throw new FheError('OUTPUT_EXISTS', `${outputDir} already exists`);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const genotypes = sampleCount * snpCount;
    progress({ stage: 'finishing', done: sampleCount + 1, total: sampleCount + 1, unit: 'objects' });
    return {
      outputDir,
      manifest,
      manifestDigest: manifestDigest(manifest),
      stats: {
        samples: sampleCount,
        snps: snpCount,
        skippedMultiallelic,
        genotypeCiphertexts: sampleCount * blocksWritten,
        genotypeBytes,
        numericBytes,
        totalBytes: objects.reduce((sum, object) => sum + object.size, 0) + Buffer.byteLength(manifestText),
        bytesPerGenotype: genotypeBytes / genotypes,
        seconds,
        genotypesPerSecond: genotypes / seconds,
      },
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    for (const object of sealObjects.reverse()) object.delete();
  }
}
