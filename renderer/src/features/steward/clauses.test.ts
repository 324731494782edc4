import { termsHash, type OutputTerms } from '../../../../shared/terms/terms';
import { describe, expect, it } from 'vitest';
import { grantTermsSchema } from '../../../../shared/ipc/custodian';
import { defaultClauses, fromLocalInput, termsHashOf, toLocalInput, validateClauses } from './clauses';

const now = 1_900_000_000;

describe('clause editor validation', () => {
  it('turns the default clauses into terms the IPC contract accepts, in on-chain units', () => {
    const form = { ...defaultClauses(8, now), fee: '1.5', epsilonCap: 2.5, deltaCap: '1e-9', region: 'de' };
    const { errors, terms } = validateClauses(form, now);
    expect(errors).toEqual({});
    expect(grantTermsSchema.parse(terms)).toEqual(terms);
    expect(terms).toMatchObject({
      opMask: 8,
      maxRuns: 10,
      region: 'DE',
      epsilonCap: 2_500_000,
      deltaCap: '1000000000',
      feePerUse: '1500000000000000000',
      ownerBps: 7000,
      donorsBps: 2000,
    });
    expect(terms!.expiry - terms!.notBefore).toBeGreaterThan(29 * 86_400);
    // The output terms are the typed document: no key switching, counts and GWAS releasable, no noise.
    expect(terms!.outputTerms).toMatchObject({
      keySwitching: { allowed: false },
      differentialPrivacy: { mechanism: 'none' },
    });
    expect(termsHashOf(form)).toBe(termsHash(terms!.outputTerms as OutputTerms));
  });

  it('names each bad clause and gives no terms', () => {
    const form = {
      ...defaultClauses(0, now),
      expiry: toLocalInput(now - 3600),
      maxRuns: 0,
      region: 'Germany',
      deltaCap: '2',
      fee: 'ten',
      ownerPercent: 80,
      donorsPercent: 30,
      keySwitchAllowed: true,
      dpMechanism: 'laplace' as const,
      rateWindowHours: 1,
      rateMaxRuns: 0,
    };
    const { errors, terms } = validateClauses(form, now);
    expect(terms).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(
      ['deltaCap', 'donorsPercent', 'expiry', 'fee', 'maxRuns', 'opMask', 'rateMaxRuns', 'region', 'releasable'].sort(),
    );
  });

  it('round-trips datetime-local values and refuses malformed ones', () => {
    expect(fromLocalInput(toLocalInput(now))).toBe(now - (now % 60));
    expect(fromLocalInput('tomorrow')).toBeNull();
  });
});
