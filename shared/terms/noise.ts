import { randomBytes } from 'node:crypto';
import { DELTA_SCALE, EPSILON_SCALE } from '../contracts/constants';
import { KeySwitchError } from '../fhe/keyswitch/errors';
import type { OutputTerms } from './terms';

/*
 * The derivative path: the owner decrypts, then adds the noise the terms demand to each released
 * value before sharing it. Laplace: scale Δ₁/ε. Gaussian (classic analytic bound, ε < 1):
 * σ = Δ₂·√(2·ln(1.25/δ))/ε. Randomness from crypto.randomBytes.
 */

function uniformOpen(): number {
  const bytes = randomBytes(8);
  const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true) >> 11n;
  return (Number(value) + 0.5) / 2 ** 53;
}

export function sampleLaplace(scale: number): number {
  const u = uniformOpen() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

export function sampleGaussian(sigma: number): number {
  return sigma * Math.sqrt(-2 * Math.log(uniformOpen())) * Math.cos(2 * Math.PI * uniformOpen());
}

/** The noise scale a release needs: Laplace b or Gaussian σ; 0 when the terms demand none. */
export function noiseScale(terms: OutputTerms, sensitivity: number): number {
  if (!(sensitivity > 0) || !Number.isFinite(sensitivity)) {
    throw new KeySwitchError('BAD_TERMS', 'The sensitivity of a release must be a positive number');
  }
  const dp = terms.differentialPrivacy;
  if (dp.mechanism === 'none') return 0;
  const epsilon = dp.epsilonMicros / Number(EPSILON_SCALE);
  if (dp.mechanism === 'laplace') return sensitivity / epsilon;
  const delta = Number(BigInt(dp.deltaAtto)) / Number(DELTA_SCALE);
  if (epsilon >= 1) {
    throw new KeySwitchError('BAD_TERMS', 'The Gaussian mechanism bound used here needs ε < 1');
  }
  return (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}

/**
 * Adds the terms' noise to each value (Laplace with L1 sensitivity, Gaussian with L2 sensitivity of the
 * whole vector); returns a new array and the scale used, for the release record.
 */
export function applyDerivativeNoise(
  terms: OutputTerms,
  values: readonly number[],
  sensitivity: number,
): { values: number[]; mechanism: OutputTerms['differentialPrivacy']['mechanism']; scale: number } {
  const scale = noiseScale(terms, sensitivity);
  const mechanism = terms.differentialPrivacy.mechanism;
  const noised = values.map((value) => {
    if (!Number.isFinite(value)) throw new KeySwitchError('BAD_TERMS', 'A released value is not a finite number');
    if (mechanism === 'laplace') return value + sampleLaplace(scale);
    if (mechanism === 'gaussian') return value + sampleGaussian(scale);
    return value;
  });
  return { values: noised, mechanism, scale };
}
