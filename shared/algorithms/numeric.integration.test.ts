import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptGenotypeCounts, decryptLogregScores, decryptNumericSums } from '../../electron/main/fhe/decrypt';
import { FheEngine } from '../../electron/main/fhe/engine';
import { readPlainCohort, type PlainCohort } from '../../electron/main/fhe/testing/cohort';
import { generateCohort } from '../../scripts/gen-cohort';
import { ALGORITHMS } from '../contracts/constants';
import { isFheError } from '../fhe/errors';
import { decodeFrames, encodeFrames } from '../fhe/frames';
import { loadSeal } from '../fhe/seal';
import {
  algorithmFor,
  interpretResult,
  isAlgorithmError,
  jobParamsHash,
  sigmoid,
  type LogregTable,
  type MeanVarianceTable,
} from './index';
import { encryptCohort, inputsFor, type EncryptedCohort } from './testing';

/*
 * Cohort statistics and logistic-regression inference under CKKS against a plaintext TypeScript
 * reference on the same CSV. Stated tolerances: mean 1e-6 relative + 1e-6 absolute, variance 1e-5
 * relative + 1e-5 absolute, linear predictor 1e-4 absolute, probability 1e-5 absolute.
 */

let seal: SEALLibrary;
let work: string;
let cohort: EncryptedCohort;
let plain: PlainCohort;
const excluded = new Set([3, 40, 41, 199]);

beforeAll(async () => {
  seal = await loadSeal();
  work = await mkdtemp(path.join(os.tmpdir(), 'cos-alg-numeric-'));
  const files = await generateCohort(path.join(work, 'src'), { samples: 200, snps: 32, seed: 5 });
  cohort = await encryptCohort(seal, files, path.join(work, 'enc'));
  plain = await readPlainCohort(files.vcfPath, files.csvPath);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function column(name: string): Float64Array {
  return plain.covariates[plain.covariateColumns.indexOf(name)]!;
}

describe('mean and variance of a numeric column', () => {
  it('equal the plaintext reference over the included samples, missing values left out', async () => {
    for (const name of ['age', 'bmi']) {
      const params = { column: name };
      const result = await algorithmFor(ALGORITHMS.MEAN_VARIANCE.id).evaluate(
        inputsFor(seal, cohort, params, { excludedSamples: excluded }),
      );
      const decrypted = decryptNumericSums(seal, cohort.secretKeys, cohort.manifest.numericLayout!, result);
      expect(decrypted.excludedSamples).toEqual([...excluded]);
      const table = interpretResult(ALGORITHMS.MEAN_VARIANCE.id, decrypted, params) as MeanVarianceTable;
      const values = Array.from(column(name)).filter((value, i) => !Number.isNaN(value) && !excluded.has(i));
      expect(values.length).toBeLessThan(196); // the cohort has missing values in this column
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
      const row = table.rows[0]!;
      expect(row.count).toBe(values.length);
      expect(Math.abs(row.mean! - mean)).toBeLessThan(1e-6 + 1e-6 * Math.abs(mean));
      expect(Math.abs(row.variance! - variance)).toBeLessThan(1e-5 + 1e-5 * variance);
    }
  });

  it('refuses a column the dataset does not have, and missing Galois keys', async () => {
    await expect(
      algorithmFor(ALGORITHMS.MEAN_VARIANCE.id).evaluate(inputsFor(seal, cohort, { column: 'height' })),
    ).rejects.toMatchObject({ algorithmCode: 'BAD_PARAMS' });
    const bfvOnly = { ...cohort, publicKeys: cohort.publicKeys.subarray(0, 8) };
    const error = await algorithmFor(ALGORITHMS.MEAN_VARIANCE.id)
      .evaluate(inputsFor(seal, bfvOnly, { column: 'age' }))
      .catch((caught: unknown) => caught);
    expect(isFheError(error, 'BAD_KEYS')).toBe(true);
  });
});

describe('logistic-regression inference with a lab-supplied model', () => {
  const model = { columns: ['age', 'bmi'], coefficients: [0.042, -0.13], intercept: 1.25 };

  it('gives every included sample with both values the plaintext linear predictor and probability', async () => {
    const engine = new FheEngine();
    try {
      const result = await algorithmFor(ALGORITHMS.LOGREG_INFERENCE.id).evaluate(
        inputsFor(seal, cohort, model, { excludedSamples: excluded }),
      );
      const layout = cohort.manifest.numericLayout!;
      const local = decryptLogregScores(seal, cohort.secretKeys, layout, result);
      // The same through the app's FHE engine (worker thread).
      const viaEngine = await engine.decryptLogregScores({ secretKeys: cohort.secretKeys.slice(), layout, result });
      expect(Array.from(viaEngine.linearPredictors)).toEqual(Array.from(local.linearPredictors));
      expect(local.paramsHash).toBe(jobParamsHash(model));
      const table = interpretResult(ALGORITHMS.LOGREG_INFERENCE.id, viaEngine, model) as LogregTable;
      const age = column('age');
      const bmi = column('bmi');
      let scored = 0;
      let worst = 0;
      table.rows.forEach((row) => {
        const i = row.sample;
        if (excluded.has(i) || Number.isNaN(age[i]!) || Number.isNaN(bmi[i]!)) {
          expect(row.linearPredictor, `sample ${i}`).toBeNull();
          return;
        }
        const eta = model.intercept + model.coefficients[0]! * age[i]! + model.coefficients[1]! * bmi[i]!;
        worst = Math.max(worst, Math.abs(row.linearPredictor! - eta));
        expect(Math.abs(row.probability! - sigmoid(eta)), `sample ${i}`).toBeLessThan(1e-5);
        scored += 1;
      });
      expect(worst).toBeLessThan(1e-4);
      expect(scored).toBeGreaterThan(180);
      expect(scored).toBeLessThan(196);
    } finally {
      await engine.close();
    }
  });
});

describe('tampered results and wrong inputs', () => {
  it('a result envelope with a changed header, a dropped or corrupted ciphertext fails with BAD_RESULT', async () => {
    const genotypes = await algorithmFor(ALGORITHMS.ALLELE_COUNTS.id).evaluate(inputsFor(seal, cohort, {}));
    const layout = cohort.manifest.genotypeLayout;
    const [header, ...blocks] = decodeFrames(genotypes, 'result');
    const headerText = new TextDecoder().decode(header);
    const withHeader = (from: string, to: string) => {
      expect(headerText).toContain(from);
      return encodeFrames([new TextEncoder().encode(headerText.replace(from, to)), ...blocks]);
    };
    const tampered = [
      withHeader('"blockCount":1', '"blockCount":2'),
      encodeFrames([header!]),
      withHeader('"parameterSetHash":"0x6', '"parameterSetHash":"0x7'),
      encodeFrames([header!, Uint8Array.from(blocks[0]!).fill(7, 200, 400)]),
      genotypes.subarray(0, genotypes.length - 10),
    ];
    for (const bytes of tampered) {
      const error = (() => {
        try {
          decryptGenotypeCounts(seal, cohort.secretKeys, layout, bytes);
        } catch (caught) {
          return caught;
        }
      })();
      expect(isFheError(error, 'BAD_RESULT'), String(error)).toBe(true);
    }
    const logreg = await algorithmFor(ALGORITHMS.LOGREG_INFERENCE.id).evaluate(
      inputsFor(seal, cohort, { columns: ['age'], coefficients: [1], intercept: 0 }),
    );
    const frames = decodeFrames(logreg, 'result');
    expect(() =>
      decryptLogregScores(seal, cohort.secretKeys, cohort.manifest.numericLayout!, encodeFrames(frames.slice(0, 2))),
    ).toThrow(/wrong number/);
  });

  it('excluding every sample, or a sample outside the cohort, is BAD_INPUT', async () => {
    const all = new Set(Array.from({ length: 200 }, (_, i) => i));
    for (const excludedSamples of [all, new Set([200])]) {
      const error = await algorithmFor(ALGORITHMS.GWAS_TREND.id)
        .evaluate(inputsFor(seal, cohort, {}, { excludedSamples }))
        .catch((caught: unknown) => caught);
      expect(isAlgorithmError(error, 'BAD_INPUT')).toBe(true);
    }
  });

  it('a cancelled job stops with CANCELLED', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await algorithmFor(ALGORITHMS.GWAS_TREND.id)
      .evaluate(inputsFor(seal, cohort, {}, { signal: controller.signal }))
      .catch((caught: unknown) => caught);
    expect(isAlgorithmError(error, 'CANCELLED')).toBe(true);
  });
});
