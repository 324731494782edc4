import type { SEALLibrary } from 'node-seal/implementation/seal';
import { GenotypeCountAggregator, parseGenotypeCountsResult } from '../aggregate';
import type { GenotypeLayout } from '../layout';
import { createSealContext } from '../seal';
import { getParameterSet } from '../parameters';
import { KeySwitchError } from './errors';
import { plainCiphertext } from './seal-io';

/**
 * The owner's integrity check before switching a genotype-counts result: recomputes the homomorphic
 * sum of its own genotype objects over the samples the result includes and requires the result to be
 * exactly that (BFV addition is exact mod q and order-free, so any honest orchestrator, threaded or
 * not, produces the same ciphertext). This closes the decryption-oracle route: a "result" that is one
 * donor's object, or any other ciphertext, is refused before the owner's key touches it.
 * `loadSample(i)` returns the bytes of sample i's genotype object (the owner's dataset folder).
 */
export async function verifyGenotypeSum(
  seal: SEALLibrary,
  layout: GenotypeLayout,
  resultBytes: Uint8Array,
  loadSample: (sampleIndex: number) => Promise<Uint8Array>,
): Promise<void> {
  const { excludedSamples, blocks } = parseGenotypeCountsResult(resultBytes, layout);
  const excluded = new Set(excludedSamples);
  if (excluded.size >= layout.sampleCount) throw new KeySwitchError('BAD_OBJECT', 'The result includes no sample');
  const context = createSealContext(seal, getParameterSet(layout.parameterSetId));
  const aggregator = new GenotypeCountAggregator(seal, context, layout);
  try {
    for (let sample = 0; sample < layout.sampleCount; sample += 1) {
      if (!excluded.has(sample)) aggregator.addSample(sample, await loadSample(sample));
    }
    const expected = parseGenotypeCountsResult(aggregator.finish(), layout).blocks;
    blocks.forEach((block, i) => {
      const got = Buffer.from(plainCiphertext(seal, context, block, `Result block ${i}`));
      const want = Buffer.from(plainCiphertext(seal, context, expected[i]!, `Expected block ${i}`));
      if (!got.equals(want)) {
        throw new KeySwitchError('BAD_OBJECT', `Result block ${i} is not the sum of the included samples' objects`);
      }
    });
  } finally {
    aggregator.delete();
    context.delete();
  }
}
