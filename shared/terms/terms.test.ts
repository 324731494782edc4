import { keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ALGORITHMS } from '../contracts/constants';
import { isKeySwitchError } from '../fhe/keyswitch/errors';
import { applyDerivativeNoise, noiseScale } from './noise';
import {
  canonicalTerms,
  checkTermsAllowDerivative,
  checkTermsAllowKeySwitch,
  makeOutputTerms,
  onChainRelease,
  parseOutputTerms,
  termsHash,
  type OnChainRelease,
  type OutputTerms,
} from './terms';

const gwas = ALGORITHMS.GWAS_ALLELIC_CHISQ.id;
const counts = ALGORITHMS.ALLELE_COUNTS.id;

function terms(overrides: Partial<Omit<OutputTerms, 'format'>> = {}): OutputTerms {
  return makeOutputTerms({
    keySwitching: { allowed: true },
    releasableAlgorithms: [gwas, counts],
    differentialPrivacy: { mechanism: 'none' },
    retention: { days: 90 },
    ...overrides,
  });
}

function chain(t: OutputTerms, overrides: Partial<OnChainRelease> = {}): OnChainRelease {
  return {
    termsHash: termsHash(t),
    keySwitchAllowed: true,
    granted: true,
    algorithmId: gwas,
    epsilon: 0n,
    delta: 0n,
    ...overrides,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isKeySwitchError(error) ? error.keySwitchCode : 'OTHER';
  }
  return undefined;
}

describe('output terms document', () => {
  it('is canonical: the same terms built in any order have the same bytes and keccak256', () => {
    const a = terms();
    const b = makeOutputTerms({
      retention: { days: 90 },
      differentialPrivacy: { mechanism: 'none' },
      releasableAlgorithms: [counts, gwas.toUpperCase().replace('0X', '0x')],
      keySwitching: { allowed: true },
    });
    expect(canonicalTerms(a)).toBe(canonicalTerms(b));
    expect(termsHash(a)).toBe(keccak256(toUtf8Bytes(canonicalTerms(a))));
    expect(canonicalTerms(a)).toBe(
      `{"differentialPrivacy":{"mechanism":"none"},"format":"cos.terms.output.v1","keySwitching":{"allowed":true},` +
        `"releasableAlgorithms":["${counts}","${gwas}"],"retention":{"days":90}}`,
    );
    expect(termsHash(terms({ keySwitching: { allowed: false } }))).not.toBe(termsHash(a));
  });

  it('rejects malformed documents with BAD_TERMS', () => {
    const good = terms() as Record<string, unknown>;
    const bad = [
      { ...good, extra: 1 },
      { ...good, format: 'cos.terms.output.v2' },
      { ...good, releasableAlgorithms: [gwas, counts] }, // not ascending
      { ...good, releasableAlgorithms: ['0x' + '1'.repeat(64)] }, // not a registered algorithm
      { ...good, differentialPrivacy: { mechanism: 'laplace', epsilonMicros: 0, deltaAtto: '0' } },
      { ...good, differentialPrivacy: { mechanism: 'gaussian', epsilonMicros: 500000, deltaAtto: '0' } },
      {
        ...good,
        differentialPrivacy: { mechanism: 'gaussian', epsilonMicros: 500000, deltaAtto: '2000000000000000000' },
      },
      { ...good, retention: { days: 0 } },
      null,
      'terms',
    ];
    for (const value of bad) expect(codeOf(() => parseOutputTerms(value))).toBe('BAD_TERMS');
  });
});

describe('guards', () => {
  it('allow key switching only when the terms, the chain and the algorithm all agree, with no DP noise', () => {
    const t = terms();
    expect(codeOf(() => checkTermsAllowKeySwitch(t, chain(t)))).toBeUndefined();
    expect(codeOf(() => checkTermsAllowKeySwitch(t, chain(t, { keySwitchAllowed: false })))).toBe('TERMS_FORBID');
    expect(codeOf(() => checkTermsAllowKeySwitch(t, chain(t, { granted: false })))).toBe('TERMS_FORBID');
    expect(codeOf(() => checkTermsAllowKeySwitch(t, chain(t, { algorithmId: ALGORITHMS.MEAN_VARIANCE.id })))).toBe(
      'TERMS_FORBID',
    );
    expect(
      codeOf(() => checkTermsAllowKeySwitch(t, chain(t, { termsHash: termsHash(terms({ retention: { days: 1 } })) }))),
    ).toBe('BAD_TERMS');
    const closed = terms({ keySwitching: { allowed: false } });
    expect(codeOf(() => checkTermsAllowKeySwitch(closed, chain(closed)))).toBe('TERMS_FORBID');
    expect(codeOf(() => checkTermsAllowDerivative(closed, chain(closed, { keySwitchAllowed: false })))).toBeUndefined();
  });

  it('tie the DP charge to the permit and route noisy releases to the derivative path', () => {
    const noisy = terms({ differentialPrivacy: { mechanism: 'laplace', epsilonMicros: 500_000, deltaAtto: '0' } });
    expect(codeOf(() => checkTermsAllowKeySwitch(noisy, chain(noisy, { epsilon: 500_000n })))).toBe('TERMS_FORBID');
    expect(codeOf(() => checkTermsAllowDerivative(noisy, chain(noisy, { epsilon: 500_000n })))).toBeUndefined();
    expect(codeOf(() => checkTermsAllowDerivative(noisy, chain(noisy, { epsilon: 400_000n })))).toBe('TERMS_FORBID');
  });

  it('read the grant and permit from ethers-shaped chain replies, refusing malformed ones', () => {
    const t = terms();
    const release = onChainRelease(
      { status: 2n, termsHash: termsHash(t).toUpperCase().replace('0X', '0x'), keySwitchAllowed: true },
      { algorithmId: gwas, epsilon: 5n, delta: 7n },
    );
    expect(release).toEqual({
      termsHash: termsHash(t),
      keySwitchAllowed: true,
      granted: true,
      algorithmId: gwas,
      epsilon: 5n,
      delta: 7n,
    });
    expect(
      onChainRelease(
        { status: 4, termsHash: termsHash(t), keySwitchAllowed: true },
        { algorithmId: gwas, epsilon: 0, delta: 0 },
      ).granted,
    ).toBe(false);
    expect(codeOf(() => onChainRelease({ status: 2n }, { algorithmId: gwas, epsilon: 0n, delta: 0n }))).toBe(
      'BAD_TERMS',
    );
  });
});

describe('derivative noise', () => {
  it('uses the Laplace scale Δ/ε and the Gaussian σ, and no noise when the terms demand none', () => {
    const laplace = terms({ differentialPrivacy: { mechanism: 'laplace', epsilonMicros: 500_000, deltaAtto: '0' } });
    expect(noiseScale(laplace, 1)).toBeCloseTo(2, 12);
    const gaussian = terms({
      differentialPrivacy: { mechanism: 'gaussian', epsilonMicros: 500_000, deltaAtto: '1000000000' },
    });
    expect(noiseScale(gaussian, 1)).toBeCloseTo(Math.sqrt(2 * Math.log(1.25 / 1e-9)) / 0.5, 9);
    expect(applyDerivativeNoise(terms(), [1, 2, 3], 1).values).toEqual([1, 2, 3]);
    // 20,000 Laplace draws of scale 2: mean ≈ 0, mean |x| ≈ 2.
    const draws = applyDerivativeNoise(laplace, new Array<number>(20_000).fill(0), 1).values;
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const meanAbs = draws.reduce((a, b) => a + Math.abs(b), 0) / draws.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(meanAbs - 2)).toBeLessThan(0.1);
    expect(codeOf(() => applyDerivativeNoise(laplace, [Number.NaN], 1))).toBe('BAD_TERMS');
  });
});
