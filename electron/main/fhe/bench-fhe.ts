/**
 * FHE benchmark: key generation, VCF → ciphertext throughput, bytes per genotype at rest, the
 * homomorphic GWAS aggregate against plaintext counting, and decryption. A VCF slice goes through the
 * real engine (worker thread); `--full` then measures the aggregate at 1,000 × 131,072 on ciphertexts
 * written to disk (encrypted straight from synthetic genotypes: a 0.5 GB VCF would only add parsing).
 *
 *   node --import tsx electron/main/fhe/bench-fhe.ts [--samples 1000] [--slice-snps 8192] [--full] [--full-snps 131072]
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateCohort } from '../../../scripts/gen-cohort';
import { GenotypeCountAggregator, referenceGenotypeCounts, sameGenotypeCounts } from '../../../shared/fhe/aggregate';
import { framePrefix, OBJECT_MAGIC } from '../../../shared/fhe/frames';
import { parseSecretKeyBundle, secretKeyFor } from '../../../shared/fhe/key-bundles';
import {
  encodeGenotypeSlots,
  GENOTYPE_MISSING,
  genotypeLayout,
  genotypeSlotWeights,
  planGenotypeLanes,
  type PhenotypeClass,
} from '../../../shared/fhe/layout';
import { getParameterSet } from '../../../shared/fhe/parameters';
import { createSealContext, loadSeal } from '../../../shared/fhe/seal';
import { OBJECTS_DIR } from './dataset';
import { FheEngine } from './engine';
import { readPlainCohort } from './testing/cohort';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const samples = option('samples', 1000);
const sliceSnps = option('slice-snps', 8192);
const fullSnps = option('full-snps', 131_072);
const full = argv.includes('--full');

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (count: number, ms: number) => `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}/s`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const row = (label: string, value: string) => console.log(`${label.padEnd(46)} ${value}`);
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
sampler.unref();

function timed<T>(run: () => T): [T, number] {
  const started = performance.now();
  const value = run();
  return [value, performance.now() - started];
}

async function timedAsync<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await run();
  return [value, performance.now() - started];
}

const work = await mkdtemp(path.join(os.tmpdir(), 'cos-bench-fhe-'));
const engine = new FheEngine();
try {
  console.log(
    `FHE benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node-seal 6 (SEAL 4.1 wasm)`,
  );
  console.log(
    `parameters: BFV n=4096, q=40+40(+29 special) bits, t=60 bits (genotypes); CKKS n=8192 [60,40,40,60] (numeric)\n`,
  );

  // Key generation through the worker (started and warmed up first: WASM instantiation is not keygen).
  const [, startupMs] = await timedAsync(() => engine.generateKeys([{ parameterSetId: 'bfv-n4096-t60' }]));
  row('worker start (node-seal WASM) + first keygen', `${startupMs.toFixed(0)} ms`);
  const [bfvOnly, bfvKeygenMs] = await timedAsync(() => engine.generateKeys([{ parameterSetId: 'bfv-n4096-t60' }]));
  const [keys, suiteKeygenMs] = await timedAsync(() => engine.generateKeys());
  row('keygen BFV (secret + public key)', `${bfvKeygenMs.toFixed(0)} ms, public ${mib(bfvOnly.publicKeys.length)}`);
  row('keygen suite (+ CKKS, 12 Galois keys)', `${suiteKeygenMs.toFixed(0)} ms, public ${mib(keys.publicKeys.length)}`);

  // A VCF slice through the engine: parse, encode, encrypt, write.
  const [files, generateMs] = await timedAsync(() =>
    generateCohort(path.join(work, 'slice-src'), { samples, snps: sliceSnps, seed: 42 }),
  );
  const vcfBytes = (await stat(files.vcfPath)).size;
  const [plain, parseMs] = await timedAsync(() => readPlainCohort(files.vcfPath, files.csvPath));
  const sliceGenotypes = samples * sliceSnps;
  console.log(
    `\nslice: ${samples} samples × ${sliceSnps} SNPs = ${sliceGenotypes.toLocaleString('en-US')} genotypes, VCF ${mib(vcfBytes)} (generated in ${seconds(generateMs)})`,
  );
  row('VCF parse only (@gmod/vcf, streamed)', `${seconds(parseMs)}, ${rate(sliceGenotypes, parseMs)} genotypes`);
  const sliceDir = path.join(work, 'slice');
  const [encrypted, encryptMs] = await timedAsync(() =>
    engine.encryptDataset(
      { vcfPath: files.vcfPath, phenotypeCsvPath: files.csvPath, phenotypeColumn: 'case', outputDir: sliceDir },
      keys.secretKeys,
    ),
  );
  const { manifest, stats } = encrypted;
  row('encrypt dataset (worker: VCF → objects)', `${seconds(encryptMs)}, ${rate(sliceGenotypes, encryptMs)} genotypes`);
  row(
    '  genotype ciphertexts',
    `${stats.genotypeCiphertexts} × ${(stats.genotypeBytes / stats.genotypeCiphertexts / 1024).toFixed(1)} KiB`,
  );
  row('  bytes per genotype at rest (genotype objects)', `${stats.bytesPerGenotype.toFixed(2)} B (target ≤ 16)`);
  row('  all objects + manifest', `${mib(stats.totalBytes)} (numeric columns ${mib(stats.numericBytes)})`);

  const seal = await loadSeal();
  const layout = manifest.genotypeLayout;
  const context = createSealContext(seal, getParameterSet(layout.parameterSetId));
  const [sliceResult, aggregateMs] = await timedAsync(async () => {
    const aggregator = new GenotypeCountAggregator(seal, context, layout);
    for (const object of manifest.objects) {
      if (object.kind === 'genotypes')
        aggregator.addSample(object.sampleIndex, await readFile(path.join(sliceDir, OBJECTS_DIR, object.digest)));
    }
    const result = aggregator.finish();
    aggregator.delete();
    return result;
  });
  const [reference, plainMs] = timed(() => referenceGenotypeCounts(plain.genotypes, plain.phenotypes));
  row(
    'FHE aggregate (read + load + add, 1 thread)',
    `${seconds(aggregateMs)}, ${(aggregateMs / stats.genotypeCiphertexts).toFixed(3)} ms per ciphertext`,
  );
  row(
    'plaintext counts (same genotypes, in memory)',
    `${plainMs.toFixed(1)} ms → ratio ${(aggregateMs / plainMs).toFixed(0)}×`,
  );
  const [decrypted, decryptMs] = await timedAsync(() =>
    engine.decryptGenotypeCounts({ secretKeys: keys.secretKeys, layout, result: sliceResult }),
  );
  row(
    'decrypt + decode result (worker)',
    `${decryptMs.toFixed(0)} ms for ${layout.blockCount} blocks, result ${mib(sliceResult.length)}`,
  );
  row('FHE counts equal plaintext counts', String(sameGenotypeCounts(decrypted.counts, reference)));
  const perCiphertextMs = aggregateMs / stats.genotypeCiphertexts;
  const fullCiphertexts = samples * Math.ceil(fullSnps / layout.snpsPerCiphertext);
  row(
    `projected aggregate ${samples} × ${fullSnps}`,
    `${seconds(perCiphertextMs * fullCiphertexts)} (1 thread), ${seconds((perCiphertextMs * fullCiphertexts) / 2)} (2 threads)`,
  );
  await rm(path.join(work, 'slice-src'), { recursive: true, force: true });

  if (full) {
    // Full size: encrypt synthetic genotypes into per-sample objects (the pipeline's format), then aggregate from disk.
    const fullLayout = genotypeLayout(planGenotypeLanes('bfv-n4096-t60', samples), fullSnps);
    const blockSnps = fullLayout.snpsPerCiphertext;
    const codes = new Uint8Array(samples * fullSnps);
    let state = 0x2545f491;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    for (let snp = 0; snp < fullSnps; snp += 1) {
      const maf = snp % 37 === 0 ? 0 : 0.02 + 0.48 * next();
      for (let sample = 0; sample < samples; sample += 1) {
        codes[sample * fullSnps + snp] =
          next() < 0.01 ? GENOTYPE_MISSING : (next() < maf ? 1 : 0) + (next() < maf ? 1 : 0);
      }
    }
    const phenotypes: PhenotypeClass[] = Array.from({ length: samples }, () =>
      next() < 0.01 ? 'missing' : next() < 0.5 ? 'case' : 'control',
    );
    const secret = seal.SecretKey();
    secret.loadArray(context, secretKeyFor(parseSecretKeyBundle(keys.secretKeys), 'bfv-n4096-t60'));
    const encryptor = seal.Encryptor(context, seal.KeyGenerator(context, secret).createPublicKey(), secret);
    const encoder = seal.BatchEncoder(context);
    const weights = genotypeSlotWeights(fullLayout);
    const slots = new BigUint64Array(fullLayout.slotsPerCiphertext);
    const fullDir = path.join(work, 'full');
    await mkdir(fullDir);
    const sampleFile = (sample: number) => path.join(fullDir, `sample-${sample}`);
    console.log(
      `\nfull: ${samples} samples × ${fullSnps} SNPs = ${(samples * fullSnps).toLocaleString('en-US')} genotypes, ${samples * fullLayout.blockCount} ciphertexts`,
    );
    const [, fullEncryptMs] = await timedAsync(async () => {
      for (let block = 0; block < fullLayout.blockCount; block += 1) {
        for (let sample = 0; sample < samples; sample += 1) {
          const first = sample * fullSnps + block * blockSnps;
          encodeGenotypeSlots(
            fullLayout,
            weights,
            codes.subarray(first, first + Math.min(blockSnps, fullSnps - block * blockSnps)),
            phenotypes[sample]!,
            slots,
          );
          const plaintext = encoder.encode(slots)!;
          const serializable = encryptor.encryptSymmetricSerializable(plaintext);
          const ciphertext = serializable.saveArray(seal.ComprModeType.zstd);
          serializable.delete();
          plaintext.delete();
          await appendFile(
            sampleFile(sample),
            Buffer.concat([block === 0 ? OBJECT_MAGIC : new Uint8Array(), framePrefix(ciphertext.length), ciphertext]),
          );
        }
      }
    });
    let fullBytes = 0;
    for (let sample = 0; sample < samples; sample += 1) fullBytes += (await stat(sampleFile(sample))).size;
    row(
      'encrypt (1 thread, no VCF parsing)',
      `${seconds(fullEncryptMs)}, ${rate(samples * fullSnps, fullEncryptMs)} genotypes`,
    );
    row(
      'bytes at rest (genotype objects)',
      `${mib(fullBytes)} = ${(fullBytes / (samples * fullSnps)).toFixed(2)} B per genotype`,
    );

    peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const [fullResult, fullAggregateMs] = await timedAsync(async () => {
      const aggregator = new GenotypeCountAggregator(seal, context, fullLayout);
      for (let sample = 0; sample < samples; sample += 1)
        aggregator.addSample(sample, await readFile(sampleFile(sample)));
      const result = aggregator.finish();
      aggregator.delete();
      return result;
    });
    const genotypesBySample = Array.from({ length: samples }, (_, sample) =>
      codes.subarray(sample * fullSnps, (sample + 1) * fullSnps),
    );
    const [fullReference, fullPlainMs] = timed(() => referenceGenotypeCounts(genotypesBySample, phenotypes));
    row(
      'FHE aggregate from disk (1 thread)',
      `${seconds(fullAggregateMs)} (${(fullAggregateMs / (samples * fullLayout.blockCount)).toFixed(3)} ms per ciphertext)`,
    );
    row(
      '  peak RSS of this process during it',
      `${mib(peakRss)} (${mib(peakRss - rssBefore)} above the genotype matrix and keys)`,
    );
    row(
      'plaintext counts (in memory)',
      `${fullPlainMs.toFixed(0)} ms → ratio ${(fullAggregateMs / fullPlainMs).toFixed(0)}×`,
    );
    const [fullDecrypted, fullDecryptMs] = await timedAsync(() =>
      engine.decryptGenotypeCounts({ secretKeys: keys.secretKeys, layout: fullLayout, result: fullResult }),
    );
    row(
      'decrypt + decode result (worker)',
      `${fullDecryptMs.toFixed(0)} ms for ${fullLayout.blockCount} blocks, result ${mib(fullResult.length)}`,
    );
    row('FHE counts equal plaintext counts', String(sameGenotypeCounts(fullDecrypted.counts, fullReference)));
  }
} finally {
  await engine.close();
  await rm(work, { recursive: true, force: true });
}
