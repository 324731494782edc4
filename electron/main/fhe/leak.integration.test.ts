import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenotypeCountAggregator } from '../../../shared/fhe/aggregate';
import { parseSecretKeyBundle } from '../../../shared/fhe/key-bundles';
import { getParameterSet } from '../../../shared/fhe/parameters';
import { createSealContext, loadSeal } from '../../../shared/fhe/seal';
import { Vault } from '../keys';
import { MemoryKeychain } from '../keys/testing/memory-keychain';
import { OBJECTS_DIR } from './dataset';
import { FheEngine, type FheMessageLogEntry } from './engine';

const tinyVcf = fileURLToPath(new URL('../../../resources/cohorts/tiny/cohort.vcf', import.meta.url));
const tinyCsv = fileURLToPath(new URL('../../../resources/cohorts/tiny/phenotypes.csv', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-fhe-leak-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every byte array and string inside a message, however deep. */
function payloads(value: unknown, found: (Uint8Array | string)[] = []): (Uint8Array | string)[] {
  if (typeof value === 'string') found.push(value);
  else if (ArrayBuffer.isView(value)) found.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  else if (value instanceof ArrayBuffer) found.push(new Uint8Array(value));
  else if (Array.isArray(value)) value.forEach((item) => payloads(item, found));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((item) => payloads(item, found));
  return found;
}

describe('secret keys and the worker', () => {
  it('appear only in the keygen reply to the caller and in the caller’s own requests, nowhere else', async () => {
    const log: FheMessageLogEntry[] = [];
    const engine = new FheEngine({ onMessage: (entry) => log.push(structuredClone(entry)) });
    try {
      const keys = await engine.generateKeys();
      // Windows of raw key material from each SEAL secret key (uncompressed, so they appear verbatim wherever the key is).
      const needles = parseSecretKeyBundle(keys.secretKeys).keys.flatMap(({ bytes }) =>
        [0.25, 0.5, 0.75, 0.99].map((at) =>
          Buffer.from(bytes.subarray(Math.floor(bytes.length * at) - 32, Math.floor(bytes.length * at))),
        ),
      );
      const containsSecret = (value: unknown) =>
        payloads(value).some((payload) =>
          needles.some((needle) =>
            typeof payload === 'string'
              ? payload.includes(needle.toString('hex')) || payload.includes(needle.toString('base64'))
              : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).includes(needle),
          ),
        );

      const outputDir = path.join(dir, 'dataset');
      const { manifest } = await engine.encryptDataset(
        { vcfPath: tinyVcf, phenotypeCsvPath: tinyCsv, phenotypeColumn: 'case', outputDir },
        keys.secretKeys,
        { onProgress: () => undefined },
      );
      await engine
        .encryptDataset(
          { vcfPath: tinyCsv, phenotypeCsvPath: tinyCsv, phenotypeColumn: 'case', outputDir: path.join(dir, 'x') },
          keys.secretKeys,
        )
        .catch(() => undefined);
      const seal = await loadSeal();
      const context = createSealContext(seal, getParameterSet('bfv-n4096-t60'));
      const aggregator = new GenotypeCountAggregator(seal, context, manifest.genotypeLayout);
      for (const object of manifest.objects) {
        if (object.kind === 'genotypes')
          aggregator.addSample(object.sampleIndex, await readFile(path.join(outputDir, OBJECTS_DIR, object.digest)));
      }
      const result = aggregator.finish();
      await engine.decryptGenotypeCounts({ secretKeys: keys.secretKeys, layout: manifest.genotypeLayout, result });
      await engine
        .decryptGenotypeCounts({
          secretKeys: keys.secretKeys,
          layout: manifest.genotypeLayout,
          result: result.subarray(0, 50),
        })
        .catch(() => undefined);

      const keygenId = log.find(
        (entry) => entry.direction === 'to-worker' && entry.message.kind === 'generateKeys',
      )!.message;
      const allowed = (entry: FheMessageLogEntry) =>
        entry.direction === 'to-worker'
          ? 'secretKeys' in entry.message
          : entry.message.kind === 'done' && 'id' in keygenId && entry.message.id === keygenId.id;
      const kinds = log.map((entry) => `${entry.direction}:${entry.message.kind}`);
      expect(kinds).toEqual(
        expect.arrayContaining(['from-worker:progress', 'from-worker:failed', 'to-worker:decryptGenotypeCounts']),
      );
      const hits = log.filter(containsSecret);
      expect(hits.length).toBeGreaterThanOrEqual(5); // the keygen reply, two encryptions, two decryptions
      for (const entry of log)
        expect(containsSecret(entry), `${entry.direction} ${entry.message.kind}`).toBe(allowed(entry));

      // Nothing written or exported carries the key: ciphertext objects, manifest, result, public keys, the vault file.
      const files = await readdir(outputDir, { recursive: true, withFileTypes: true });
      for (const file of files.filter((entry) => entry.isFile())) {
        expect(containsSecret(await readFile(path.join(file.parentPath, file.name)))).toBe(false);
      }
      expect(containsSecret(result)).toBe(false);
      expect(containsSecret(keys.publicKeys)).toBe(false);
      const vaultDir = path.join(dir, 'vault');
      const vault = new Vault({ dataDir: vaultDir, keychain: new MemoryKeychain(), keychainService: 'cos-fhe-leak' });
      const profile = await vault.unlock((await vault.createProfile({ label: 'steward', role: 'steward' })).id);
      await profile.writeSecret('fhe-keys', keys.secretKeys, { publicKey: keys.publicKeys });
      const sealed = await readdir(vaultDir, { recursive: true, withFileTypes: true });
      expect(sealed.some((entry) => entry.name === 'fhe-keys.sealed')).toBe(true);
      for (const file of sealed.filter((entry) => entry.isFile())) {
        expect(containsSecret(await readFile(path.join(file.parentPath, file.name)))).toBe(false);
      }
      profile.lock();
    } finally {
      await engine.close();
    }
  });
});
