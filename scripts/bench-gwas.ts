/**
 * Encrypted GWAS benchmark (issue 5): 1,000 samples × 131,072 SNPs with `--full` (default 1,000 × 8,192).
 * Owner's one-off cost (reported apart): synthetic VCF → encrypted dataset folder (FHE engine worker).
 * End to end, timed: from the dataset folder, the orchestrator's evaluate() of the allelic-GWAS algorithm
 * (objects read and checked against their digests, aggregation on 2 worker threads over disjoint samples,
 * partial results combined), the owner's decryption, and the final statistics (allelic χ², P, OR and the
 * trend test) for every SNP. Then the same computation in plaintext from genotypes in memory, and the ratio.
 *
 *   node --import tsx scripts/bench-gwas.ts [--full] [--samples 1000] [--snps 8192] [--threads 2] [--keep]
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FheEngine } from '../electron/main/fhe/engine';
import { decryptGenotypeCounts } from '../electron/main/fhe/decrypt';
import { OBJECTS_DIR } from '../electron/main/fhe/dataset';
import { readPlainCohort } from '../electron/main/fhe/testing/cohort';
import { ALGORITHMS } from '../shared/contracts/constants';
import { referenceGenotypeCounts, sameGenotypeCounts } from '../shared/fhe/aggregate';
import { loadSeal } from '../shared/fhe/seal';
import { algorithmFor, allelicRows, parseVariantTable, trendRows } from '../shared/algorithms';
import { generateCohort } from './gen-cohort';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const full = argv.includes('--full');
const samples = option('samples', 1000);
const snps = option('snps', full ? 131_072 : 8192);
const threads = option('threads', 2);

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const row = (label: string, value: string) => console.log(`${label.padEnd(52)} ${value}`);

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sampleRss, 50);
sampler.unref();

async function timed<T>(run: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await run();
  return [value, performance.now() - started];
}

const work = await mkdtemp(path.join(os.tmpdir(), 'cos-bench-gwas-'));
try {
  console.log(
    `GWAS benchmark: ${samples} samples × ${snps.toLocaleString('en-US')} SNPs; node ${process.version}, ` +
      `${os.availableParallelism()} CPUs (${os.cpus()[0]?.model.trim()}), node-seal 6 (SEAL 4.1 wasm)\n`,
  );
  const [files, generateMs] = await timed(() =>
    generateCohort(path.join(work, 'src'), { samples, snps, seed: 2024, missingPhenotypeRate: 0 }),
  );
  row('synthetic VCF (gen-cohort, not timed below)', seconds(generateMs));

  // Owner's one-off cost, in the engine's worker thread (closed afterwards, so its memory is gone).
  const engine = new FheEngine();
  const datasetDir = path.join(work, 'dataset');
  let secretKeys: Uint8Array;
  try {
    const keys = await engine.generateKeys();
    secretKeys = keys.secretKeys;
    const [encrypted, encryptMs] = await timed(() =>
      engine.encryptDataset(
        { vcfPath: files.vcfPath, phenotypeCsvPath: files.csvPath, phenotypeColumn: 'case', outputDir: datasetDir },
        keys.secretKeys,
      ),
    );
    row('owner: encrypt VCF → dataset folder (1 thread)', `${seconds(encryptMs)} (one-off)`);
    row(
      '  ciphertext bytes per genotype at rest',
      `${encrypted.stats.bytesPerGenotype.toFixed(2)} B (target ≤ 16); genotype objects ${mib(encrypted.stats.genotypeBytes)}`,
    );
  } finally {
    await engine.close();
  }

  const seal = await loadSeal();
  const manifest = JSON.parse(await readFile(path.join(datasetDir, 'manifest.json'), 'utf8'));
  const { parseManifest } = await import('../shared/fhe/manifest');
  const checked = parseManifest(manifest);
  const layout = checked.genotypeLayout;
  globalThis.gc?.();
  const baselineRss = process.memoryUsage().rss;
  peakRss = baselineRss;

  // End to end, timed.
  const loadObject = async (digest: string) => {
    const bytes = await readFile(path.join(datasetDir, OBJECTS_DIR, digest));
    if (createHash('sha256').update(bytes).digest('hex') !== digest) throw new Error(`object ${digest} is corrupt`);
    return bytes;
  };
  const started = performance.now();
  const [result, aggregateMs] = await timed(() =>
    algorithmFor(ALGORITHMS.GWAS_ALLELIC_CHISQ.id).evaluate({
      seal,
      manifest: checked,
      excludedSamples: new Set(),
      loadObject,
      loadPublicKeys: async () => new Uint8Array(),
      params: {},
      threads,
    }),
  );
  const [decrypted, decryptMs] = await timed(() => decryptGenotypeCounts(seal, secretKeys, layout, result));
  const variantsObject = checked.objects.find((object) => object.kind === 'variants')!;
  const [fheStats, statsMs] = await timed(async () => {
    const variants = parseVariantTable(await loadObject(variantsObject.digest));
    return { allelic: allelicRows(decrypted.counts, variants), trend: trendRows(decrypted.counts, variants) };
  });
  const totalMs = performance.now() - started;
  sampleRss();
  const e2ePeak = peakRss;
  console.log('');
  row(
    `orchestrator: evaluate() aggregate (${threads} threads)`,
    `${seconds(aggregateMs)} (read + SHA-256 + load + add)`,
  );
  row('  result envelope', mib(result.length));
  row('owner: decrypt + decode counts', seconds(decryptMs));
  row(`owner: statistics, ${snps.toLocaleString('en-US')} SNPs (allelic + trend)`, seconds(statsMs));
  row('end to end total (target ≤ 5 min)', seconds(totalMs));
  row('peak RSS during it (target ≤ 4 GiB)', `${mib(e2ePeak)} (baseline ${mib(baselineRss)})`);

  // The same computation in plaintext, genotypes already in memory.
  const plain = await readPlainCohort(files.vcfPath, files.csvPath);
  const [plainStats, plainMs] = await timed(async () => {
    const counts = referenceGenotypeCounts(plain.genotypes, plain.phenotypes);
    const variants = parseVariantTable(await readFile(path.join(datasetDir, OBJECTS_DIR, variantsObject.digest)));
    return { counts, allelic: allelicRows(counts, variants), trend: trendRows(counts, variants) };
  });
  console.log('');
  row('plaintext: counts + statistics (in memory, 1 thread)', seconds(plainMs));
  row('ratio encrypted / plaintext (target ≤ 300×)', `${(totalMs / plainMs).toFixed(0)}×`);
  const same =
    sameGenotypeCounts(decrypted.counts, plainStats.counts) &&
    JSON.stringify(fheStats.allelic) === JSON.stringify(plainStats.allelic) &&
    JSON.stringify(fheStats.trend) === JSON.stringify(plainStats.trend);
  row('encrypted results equal plaintext results', String(same));
  if (!same) process.exitCode = 1;
} finally {
  clearInterval(sampler);
  if (argv.includes('--keep')) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
