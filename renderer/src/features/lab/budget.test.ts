import { describe, expect, it } from 'vitest';
import { budgetProblem, grantStatus, remainingBudget } from './budget';
import { countdown } from './clock';

const grant = {
  epsilonCap: 2_000_000,
  epsilonSpent: 500_000,
  deltaCap: '1000000000000',
  deltaSpent: '0',
  runsUsed: 1,
  maxRuns: 3,
};

describe('lab budget checks', () => {
  it('computes what is left', () => {
    expect(remainingBudget(grant)).toEqual({ epsilon: 1_500_000, delta: 1_000_000_000_000n });
    expect(remainingBudget({ ...grant, deltaSpent: '2000000000000' }).delta).toBe(0n);
  });
  it('accepts a job within the budget', () => {
    expect(budgetProblem(grant, 1.5, 1e-6)).toEqual({});
  });
  it('names each overrun', () => {
    expect(budgetProblem(grant, 1.6, 2e-6)).toEqual({
      epsilon: 'Only ε 1.5 is left on this grant',
      delta: 'Only δ 1.00e-6 is left on this grant',
    });
    expect(budgetProblem({ ...grant, runsUsed: 3 }, 0, 0).runs).toBe('The grant has no runs left');
    expect(budgetProblem(grant, -1, 2).epsilon).toBe('ε must be 0 or more');
    expect(budgetProblem(grant, 0, 2).delta).toBe('δ must be between 0 and 1');
  });
});

describe('grantStatus and countdown', () => {
  const base = { status: 'Granted' as const, expiry: 1_000 };
  it('reads a granted grant past its expiry as Expired', () => {
    expect(grantStatus({ ...base } as never, 999)).toBe('Granted');
    expect(grantStatus({ ...base } as never, 1_000)).toBe('Expired');
    expect(grantStatus({ ...base, status: 'Revoked' } as never, 2_000)).toBe('Revoked');
  });
  it('counts a ticket down in minutes and seconds', () => {
    expect(countdown(1_900, 1_000)).toBe('15:00');
    expect(countdown(1_065, 1_000)).toBe('1:05');
    expect(countdown(1_000, 1_000)).toBe('expired');
  });
});
