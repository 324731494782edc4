import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALGORITHMS } from '../../../shared/contracts/constants';
import { isKeySwitchError } from '../../../shared/fhe/keyswitch/errors';
import {
  chainFor,
  commitmentOf,
  keySwitchTerms,
  makeKeySwitchFixture,
  type KeySwitchFixture,
} from '../../../shared/fhe/keyswitch/testing';
import { parseSecretKeyBundle } from '../../../shared/fhe/key-bundles';
import { loadSeal } from '../../../shared/fhe/seal';
import { FheEngine, type FheMessageLogEntry } from './engine';

/*
 * Key switching through the FHE worker: the owner's bundle and the lab's decryption run off the main
 * thread; the owner's secret key crosses only in its own request; a refusal by the terms sends nothing.
 */

let seal: SEALLibrary;
let work: string;
let fx: KeySwitchFixture;

beforeAll(async () => {
  seal = await loadSeal();
  work = await mkdtemp(path.join(os.tmpdir(), 'cos-fhe-keyswitch-'));
  fx = await makeKeySwitchFixture(seal, work, { samples: 60, snps: 24 });
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function payloads(value: unknown, found: Uint8Array[] = []): Uint8Array[] {
  if (ArrayBuffer.isView(value)) found.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  else if (Array.isArray(value)) value.forEach((item) => payloads(item, found));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((item) => payloads(item, found));
  return found;
}

describe('key switching in the FHE worker', () => {
  it('owner bundle and lab decryption match the owner’s counts; the key travels only in its request', async () => {
    const log: FheMessageLogEntry[] = [];
    const engine = new FheEngine({ onMessage: (entry) => log.push(structuredClone(entry)) });
    try {
      const terms = keySwitchTerms();
      const layout = fx.cohort.manifest.genotypeLayout;
      const input = {
        permitId: 3n,
        terms,
        chain: chainFor(terms, ALGORITHMS.GWAS_ALLELIC_CHISQ.id),
        resultCommitment: commitmentOf(fx.gwasResult),
        result: { kind: 'genotype-counts' as const, layout, bytes: fx.gwasResult },
        labPublicKeys: fx.lab.publicKeys,
      };
      const created = await engine.createKeySwitchBundle({ secretKeys: fx.cohort.secretKeys.slice(), input });
      expect(created.shareCommitment).toMatch(/^0x[0-9a-f]{64}$/);
      const lab = await engine.decryptKeySwitchBundle({
        secretKeys: fx.lab.secretKeys.slice(),
        bundle: created.bundle,
      });
      const owner = await engine.decryptGenotypeCounts({
        secretKeys: fx.cohort.secretKeys.slice(),
        layout,
        result: fx.gwasResult,
      });
      if (lab.kind !== 'genotype-counts') throw new Error('wrong kind');
      for (const group of ['case', 'control'] as const) {
        owner.counts[group].forEach((row, alt) => expect(Array.from(lab.counts[group][alt]!)).toEqual(Array.from(row)));
      }

      const needles = parseSecretKeyBundle(fx.cohort.secretKeys).keys.map(({ bytes }) =>
        Buffer.from(bytes.subarray(bytes.length >> 1, (bytes.length >> 1) + 32)),
      );
      const carriers = log.filter((entry) =>
        payloads(entry.message).some((payload) => needles.some((needle) => Buffer.from(payload).includes(needle))),
      );
      expect(carriers.map((entry) => `${entry.direction}:${entry.message.kind}`).sort()).toEqual([
        'to-worker:createKeySwitchBundle',
        'to-worker:decryptGenotypeCounts',
      ]);

      // Forbidden by the terms: a typed error on the main thread, and no request reaches the worker.
      const before = log.length;
      const forbidden = keySwitchTerms({ keySwitching: { allowed: false } });
      let error: unknown;
      try {
        await engine.createKeySwitchBundle({
          secretKeys: fx.cohort.secretKeys.slice(),
          input: { ...input, terms: forbidden, chain: chainFor(forbidden, ALGORITHMS.GWAS_ALLELIC_CHISQ.id) },
        });
      } catch (caught) {
        error = caught;
      }
      expect(isKeySwitchError(error, 'TERMS_FORBID')).toBe(true);
      expect(log.length).toBe(before);

      // A refusal inside the worker comes back typed too (the lab's bundle opened with the owner's keys).
      let wrongKey: unknown;
      try {
        await engine.decryptKeySwitchBundle({ secretKeys: fx.cohort.secretKeys.slice(), bundle: created.bundle });
      } catch (caught) {
        wrongKey = caught;
      }
      expect(isKeySwitchError(wrongKey, 'BAD_KEYS')).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
