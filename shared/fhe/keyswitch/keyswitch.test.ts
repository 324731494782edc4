import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptGenotypeCounts, decryptNumericSums } from '../../../electron/main/fhe/decrypt';
import { ALGORITHMS } from '../../contracts/constants';
import { parseGenotypeCountsResult } from '../aggregate';
import { createSealContext, loadSeal } from '../seal';
import { getParameterSet } from '../parameters';
import { decodeEnvelope, encodeEnvelope } from '../frames';
import { OBJECTS_DIR } from '../../../electron/main/fhe/dataset';
import { decodeFrames } from '../frames';
import { checkBundleAgainstChain, createResultBundle, decryptBundle, parseResultBundle } from './bundle';
import { verifyGenotypeSum } from './verify';
import { isKeySwitchError } from './errors';
import { plainCiphertext, plainPublicKey, plainSecretKey, publicKeyFromBundle, secretKeyFromBundle } from './seal-io';
import { combineShare, createKeySwitchShare } from './share';
import { chainFor, commitmentOf, keySwitchTerms, makeKeySwitchFixture, type KeySwitchFixture } from './testing';

/*
 * Per-result public-key switching end to end with real node-seal: a GWAS result (BFV) and a
 * mean/variance result (CKKS) computed by the algorithm library on an encrypted synthetic cohort, the
 * owner's shares, the lab's offline decryption, and what the shares must not open.
 */

let seal: SEALLibrary;
let work: string;
let fx: KeySwitchFixture;
const gwasId = ALGORITHMS.GWAS_ALLELIC_CHISQ.id;

beforeAll(async () => {
  seal = await loadSeal();
  work = await mkdtemp(path.join(os.tmpdir(), 'cos-keyswitch-'));
  fx = await makeKeySwitchFixture(seal, work);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function gwasBundle(options?: Parameters<typeof createResultBundle>[1]['options']) {
  const terms = keySwitchTerms();
  return createResultBundle(seal, {
    permitId: 7n,
    terms,
    chain: chainFor(terms, gwasId),
    resultCommitment: commitmentOf(fx.gwasResult),
    result: { kind: 'genotype-counts', layout: fx.cohort.manifest.genotypeLayout, bytes: fx.gwasResult },
    ownerSecretKeys: fx.cohort.secretKeys,
    labPublicKeys: fx.lab.publicKeys,
    options,
  });
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Decrypts with SEAL directly (no noise-budget refusal), to see what a key would give. */
function rawDecrypt(secretKey: Uint8Array, ciphertext: Uint8Array): BigUint64Array {
  const context = createSealContext(seal, getParameterSet('bfv-n4096-t60'));
  const key = seal.SecretKey();
  key.loadArray(context, secretKey);
  const ct = seal.CipherText();
  ct.loadArray(context, ciphertext);
  const plaintext = seal.Decryptor(context, key).decrypt(ct)!;
  return seal.BatchEncoder(context).decodeBigInt(plaintext, false) as BigUint64Array;
}

describe('GWAS result (BFV) switched to the lab key', () => {
  it('the lab decrypts exactly what the owner decrypts', () => {
    const layout = fx.cohort.manifest.genotypeLayout;
    const owner = decryptGenotypeCounts(seal, fx.cohort.secretKeys, layout, fx.gwasResult);
    const { bundle, shareCommitment, reports } = gwasBundle();
    expect(reports.every((report) => report.mode === 'cancel')).toBe(true);
    const lab = decryptBundle(seal, bundle, fx.lab.secretKeys);
    expect(lab.kind).toBe('genotype-counts');
    if (lab.kind !== 'genotype-counts') return;
    for (const group of ['case', 'control'] as const) {
      for (const alt of [0, 1, 2] as const)
        expect(Array.from(lab.counts[group][alt])).toEqual(Array.from(owner.counts[group][alt]));
    }
    expect(lab.counts.case[0].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(lab.excludedSamples).toEqual(owner.excludedSamples);
    expect(lab.shareCommitment).toBe(shareCommitment);
    expect(lab.permitId).toBe(7n);
    checkBundleAgainstChain(lab, {
      resultCommitment: commitmentOf(fx.gwasResult),
      termsHash: lab.termsHash,
      algorithmId: gwasId,
      shareCommitments: [shareCommitment],
    });
    expect(
      isKeySwitchError(
        caught(() =>
          checkBundleAgainstChain(lab, {
            resultCommitment: commitmentOf(fx.numericResult),
            termsHash: lab.termsHash,
            algorithmId: gwasId,
            shareCommitments: [shareCommitment],
          }),
        ),
        'BAD_BUNDLE',
      ),
    ).toBe(true);
  });

  it('flood mode: refused at 40 bits of statistical security on this set, exact when the check is waived', () => {
    const error = caught(() => gwasBundle({ mode: 'flood' }));
    expect(isKeySwitchError(error, 'INSUFFICIENT_MARGIN'), String(error)).toBe(true);
    const { bundle, reports } = gwasBundle({ mode: 'flood', minStatisticalSecurity: -Infinity });
    const report = reports[0]!;
    expect(report.decryptionBoundBits).toBeCloseTo(19, 0);
    expect(report.smudgingBits).toBeGreaterThan(17);
    expect(report.statisticalSecurityBits!).toBeLessThan(10);
    const lab = decryptBundle(seal, bundle, fx.lab.secretKeys);
    const owner = decryptGenotypeCounts(seal, fx.cohort.secretKeys, fx.cohort.manifest.genotypeLayout, fx.gwasResult);
    if (lab.kind !== 'genotype-counts') throw new Error('wrong kind');
    expect(Array.from(lab.counts.case[1])).toEqual(Array.from(owner.counts.case[1]));
  });
});

describe('mean/variance result (CKKS) switched to the lab key', () => {
  it('the lab decrypts within tolerance of the owner', () => {
    const terms = keySwitchTerms();
    const layout = fx.cohort.manifest.numericLayout!;
    const withoutConsent = caught(() =>
      createResultBundle(seal, {
        permitId: 8n,
        terms,
        chain: chainFor(terms, ALGORITHMS.MEAN_VARIANCE.id),
        resultCommitment: commitmentOf(fx.numericResult),
        result: { kind: 'numeric-sums', layout, bytes: fx.numericResult },
        ownerSecretKeys: fx.cohort.secretKeys,
        labPublicKeys: fx.lab.publicKeys,
      }),
    );
    expect(isKeySwitchError(withoutConsent, 'INSUFFICIENT_MARGIN')).toBe(true);
    const { bundle } = createResultBundle(seal, {
      permitId: 8n,
      terms,
      chain: chainFor(terms, ALGORITHMS.MEAN_VARIANCE.id),
      resultCommitment: commitmentOf(fx.numericResult),
      result: { kind: 'numeric-sums', layout, bytes: fx.numericResult },
      ownerSecretKeys: fx.cohort.secretKeys,
      labPublicKeys: fx.lab.publicKeys,
      options: { acceptComputationalHiding: true },
    });
    const owner = decryptNumericSums(seal, fx.cohort.secretKeys, layout, fx.numericResult);
    const lab = decryptBundle(seal, bundle, fx.lab.secretKeys);
    if (lab.kind !== 'numeric-sums') throw new Error('wrong kind');
    expect(lab.sums.length).toBe(owner.sums.length);
    lab.sums.forEach((sums, i) => {
      const reference = owner.sums[i]!;
      expect(sums.count).toBe(reference.count);
      expect(Math.abs(sums.sum - reference.sum)).toBeLessThan(1e-3 + 1e-9 * Math.abs(reference.sum));
      expect(Math.abs(sums.sumOfSquares - reference.sumOfSquares)).toBeLessThan(1e-3 + 1e-9 * reference.sumOfSquares);
    });
  });
});

describe('what a share does not open', () => {
  it('the share, alone or with the lab key, decrypts no other ciphertext of the dataset', () => {
    const set = getParameterSet('bfv-n4096-t60');
    const context = createSealContext(seal, set);
    const labSecret = secretKeyFromBundle(fx.lab.secretKeys, set.id).secretKey;
    const ownerSecret = secretKeyFromBundle(fx.cohort.secretKeys, set.id).secretKey;
    const [block] = parseGenotypeCountsResult(fx.gwasResult, fx.cohort.manifest.genotypeLayout).blocks;
    const resultCt = plainCiphertext(seal, context, block!);
    const { share } = createKeySwitchShare({
      parameterSetId: set.id,
      ciphertext: resultCt,
      ownerSecretKey: plainSecretKey(seal, context, ownerSecret),
      labPublicKey: plainPublicKey(seal, context, publicKeyFromBundle(fx.lab.publicKeys, set.id)),
    });
    // Sanity: the share opens its own result under the lab key.
    expect(Array.from(rawDecrypt(labSecret, combineShare(set.id, resultCt, share)))).toEqual(
      Array.from(rawDecrypt(ownerSecret, resultCt)),
    );
    const others = fx.datasetCiphertexts.slice(0, 12);
    expect(others.length).toBeGreaterThan(5);
    for (const seeded of others) {
      const other = plainCiphertext(seal, context, seeded);
      const truth = rawDecrypt(ownerSecret, other);
      // The genotype plaintexts are sparse radix digits: most slots are small powers of the radix.
      const attempts = [
        rawDecrypt(labSecret, combineShare(set.id, other, share)), // share + lab key on another ciphertext
        rawDecrypt(labSecret, other), // lab key alone
        rawDecrypt(ownerSecret, combineShare(set.id, other, share)), // share + a wrong guess of the key
      ];
      for (const attempt of attempts) {
        let equal = 0;
        for (let i = 0; i < truth.length; i += 1) if (attempt[i] === truth[i]) equal += 1;
        expect(equal).toBeLessThan(truth.length / 100);
      }
    }
    // The share alone, read as a ciphertext under the lab key, is uniform noise, not the result.
    const alone = rawDecrypt(labSecret, share);
    const truth = rawDecrypt(ownerSecret, resultCt);
    expect(alone.filter((value, i) => value === truth[i]).length).toBeLessThan(truth.length / 100);
  });
});

describe('the owner switches only an honest aggregate', () => {
  it('accepts the orchestrator’s sum and refuses one donor’s object dressed up as a result', async () => {
    const layout = fx.cohort.manifest.genotypeLayout;
    const objects = new Map(
      fx.cohort.manifest.objects.flatMap((object) =>
        object.kind === 'genotypes' ? [[object.sampleIndex, object.digest] as const] : [],
      ),
    );
    const loadSample = (sample: number) => readFile(path.join(fx.cohort.dir, OBJECTS_DIR, objects.get(sample)!));
    await verifyGenotypeSum(seal, layout, fx.gwasResult, loadSample);

    // A forged result: donor 0's own genotype object, framed as a result that excludes nobody.
    const { header } = decodeEnvelope(fx.gwasResult, 'result', 'BAD_OBJECT');
    const forged = encodeEnvelope(header as Record<string, unknown>, decodeFrames(await loadSample(0), 'sample 0'));
    // It decodes (one genotype per SNP is a plausible count), so decoding alone cannot catch it...
    expect(() => decryptGenotypeCounts(seal, fx.cohort.secretKeys, layout, forged)).not.toThrow();
    // ...but it is not the sum of the included samples.
    let error: unknown;
    try {
      await verifyGenotypeSum(seal, layout, forged, loadSample);
    } catch (caught) {
      error = caught;
    }
    expect(isKeySwitchError(error, 'BAD_OBJECT'), String(error)).toBe(true);
  });
});

describe('output terms gate the material', () => {
  it('refuses with a typed error before reading any key when the terms or the chain forbid it', () => {
    const allowed = keySwitchTerms();
    const forbidden = keySwitchTerms({ keySwitching: { allowed: false } });
    const noisy = keySwitchTerms({
      differentialPrivacy: { mechanism: 'laplace', epsilonMicros: 500_000, deltaAtto: '0' },
    });
    const gwasOnlyCounts = keySwitchTerms({ releasableAlgorithms: [ALGORITHMS.ALLELE_COUNTS.id] });
    const cases: [typeof allowed, ReturnType<typeof chainFor>, string][] = [
      [forbidden, chainFor(forbidden, gwasId), 'TERMS_FORBID'],
      [allowed, chainFor(allowed, gwasId, { keySwitchAllowed: false }), 'TERMS_FORBID'],
      [allowed, chainFor(allowed, gwasId, { granted: false }), 'TERMS_FORBID'],
      [gwasOnlyCounts, chainFor(gwasOnlyCounts, gwasId), 'TERMS_FORBID'],
      [noisy, chainFor(noisy, gwasId, { epsilon: 500_000n }), 'TERMS_FORBID'],
      [allowed, chainFor(forbidden, gwasId, { keySwitchAllowed: true }), 'BAD_TERMS'],
    ];
    for (const [terms, chain, code] of cases) {
      const error = caught(() =>
        createResultBundle(seal, {
          permitId: 7n,
          terms,
          chain,
          resultCommitment: commitmentOf(fx.gwasResult),
          result: { kind: 'genotype-counts', layout: fx.cohort.manifest.genotypeLayout, bytes: fx.gwasResult },
          // Garbage keys: a refusal by the terms must come first, so no key is ever parsed.
          ownerSecretKeys: new Uint8Array(16),
          labPublicKeys: new Uint8Array(16),
        }),
      );
      expect(isKeySwitchError(error, code as 'TERMS_FORBID'), String(error)).toBe(true);
    }
  });

  it('refuses a result that is not the one committed on chain', () => {
    const terms = keySwitchTerms();
    const error = caught(() =>
      createResultBundle(seal, {
        permitId: 7n,
        terms,
        chain: chainFor(terms, gwasId),
        resultCommitment: commitmentOf(fx.numericResult),
        result: { kind: 'genotype-counts', layout: fx.cohort.manifest.genotypeLayout, bytes: fx.gwasResult },
        ownerSecretKeys: fx.cohort.secretKeys,
        labPublicKeys: fx.lab.publicKeys,
      }),
    );
    expect(isKeySwitchError(error, 'BAD_OBJECT')).toBe(true);
  });
});

describe('result bundle format', () => {
  it('rejects tampering, truncation and another lab key with typed errors', () => {
    const { bundle } = gwasBundle();
    const parsed = parseResultBundle(bundle);
    expect(parsed.shares.length).toBe(fx.cohort.manifest.genotypeLayout.blockCount);
    const { header, blobs } = decodeEnvelope(bundle, 'bundle', 'BAD_OBJECT');
    const h = header as Record<string, unknown>;
    const flipped = blobs.map((blob) => blob.slice());
    const target = flipped[1]!;
    target[500] = target[500]! ^ 1;
    const bad = [
      encodeEnvelope({ ...h, termsHash: '0x' + '1'.repeat(64) }, blobs),
      encodeEnvelope({ ...h, permitId: '8' }, blobs),
      encodeEnvelope({ ...h, extra: true }, blobs),
      encodeEnvelope(h, flipped),
      encodeEnvelope(h, blobs.slice(0, -1)),
      bundle.subarray(0, bundle.length - 3),
      new TextEncoder().encode('not a bundle'),
    ];
    for (const bytes of bad) {
      const error = caught(() => decryptBundle(seal, bytes, fx.lab.secretKeys));
      expect(isKeySwitchError(error, 'BAD_BUNDLE'), String(error)).toBe(true);
    }
    // The owner's own keys are not the lab's: refused before any decryption.
    expect(
      isKeySwitchError(
        caught(() => decryptBundle(seal, bundle, fx.cohort.secretKeys)),
        'BAD_KEYS',
      ),
    ).toBe(true);
  });
});
