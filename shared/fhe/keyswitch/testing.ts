import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { generateKeyBundles } from '../../../electron/main/fhe/keygen';
import { generateCohort } from '../../../scripts/gen-cohort';
import { encryptCohort, inputsFor, type EncryptedCohort } from '../../algorithms/testing';
import { algorithmFor } from '../../algorithms';
import { ALGORITHMS } from '../../contracts/constants';
import { makeOutputTerms, termsHash, type OnChainRelease, type OutputTerms } from '../../terms/terms';
import { decodeFrames } from '../frames';
import { DEFAULT_KEY_REQUESTS } from '../key-bundles';
import { sha256 } from 'ethers';

/*
 * Test and benchmark fixture: a synthetic cohort encrypted by the real pipeline under the owner's keys,
 * the GWAS and mean/variance results the real algorithm library computes on it, and a lab key suite.
 */

export interface KeySwitchFixture {
  cohort: EncryptedCohort;
  /** The lab's key suite (DEFAULT_KEY_REQUESTS, as a lab profile gets at creation). */
  lab: { secretKeys: Uint8Array; publicKeys: Uint8Array };
  gwasResult: Uint8Array;
  numericResult: Uint8Array;
  /** Every genotype ciphertext of the dataset (per sample object, per block), seeded as stored. */
  datasetCiphertexts: Uint8Array[];
  vcfPath: string;
  csvPath: string;
}

export async function makeKeySwitchFixture(
  seal: SEALLibrary,
  work: string,
  options: { samples: number; snps: number; seed?: number } = { samples: 120, snps: 48 },
): Promise<KeySwitchFixture> {
  const files = await generateCohort(path.join(work, 'src'), {
    samples: options.samples,
    snps: options.snps,
    seed: options.seed ?? 11,
  });
  const cohort = await encryptCohort(seal, files, path.join(work, 'enc'));
  const lab = generateKeyBundles(seal, DEFAULT_KEY_REQUESTS);
  const gwasResult = await algorithmFor(ALGORITHMS.GWAS_ALLELIC_CHISQ.id).evaluate(inputsFor(seal, cohort, {}));
  const numericResult = await algorithmFor(ALGORITHMS.MEAN_VARIANCE.id).evaluate(
    inputsFor(seal, cohort, { column: 'age' }),
  );
  const datasetCiphertexts: Uint8Array[] = [];
  for (const object of cohort.manifest.objects) {
    if (object.kind !== 'genotypes') continue;
    const bytes = await readFile(path.join(cohort.dir, 'objects', object.digest));
    datasetCiphertexts.push(...decodeFrames(bytes, 'genotypes').map((frame) => frame.slice()));
  }
  return { cohort, lab, gwasResult, numericResult, datasetCiphertexts, vcfPath: files.vcfPath, csvPath: files.csvPath };
}

/** Terms that allow key switching of the GWAS and mean/variance outputs, no DP noise. */
export function keySwitchTerms(overrides: Partial<Omit<OutputTerms, 'format'>> = {}): OutputTerms {
  return makeOutputTerms({
    keySwitching: { allowed: true },
    releasableAlgorithms: [ALGORITHMS.GWAS_ALLELIC_CHISQ.id, ALGORITHMS.MEAN_VARIANCE.id],
    differentialPrivacy: { mechanism: 'none' },
    retention: { days: 365 },
    ...overrides,
  });
}

/** The chain facts of a grant with these terms and a permit for `algorithmId` (what the app reads). */
export function chainFor(
  terms: OutputTerms,
  algorithmId: string,
  overrides: Partial<OnChainRelease> = {},
): OnChainRelease {
  return {
    termsHash: termsHash(terms),
    keySwitchAllowed: terms.keySwitching.allowed,
    granted: true,
    algorithmId,
    epsilon: 0n,
    delta: 0n,
    ...overrides,
  };
}

export function commitmentOf(bytes: Uint8Array): string {
  return sha256(bytes);
}
