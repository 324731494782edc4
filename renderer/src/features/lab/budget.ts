import type { GrantView } from '../../../../shared/ipc/custodian';

/** ε and δ a grant has left, in chain units (ε micro-units, δ 1e-18 units). */
export function remainingBudget(grant: Pick<GrantView, 'epsilonCap' | 'epsilonSpent' | 'deltaCap' | 'deltaSpent'>): {
  epsilon: number;
  delta: bigint;
} {
  return {
    epsilon: Math.max(0, grant.epsilonCap - grant.epsilonSpent),
    delta: BigInt(grant.deltaCap) > BigInt(grant.deltaSpent) ? BigInt(grant.deltaCap) - BigInt(grant.deltaSpent) : 0n,
  };
}

/** Checks a job's ε/δ (as typed, in natural units) against what the grant has left. */
export function budgetProblem(
  grant: Pick<GrantView, 'epsilonCap' | 'epsilonSpent' | 'deltaCap' | 'deltaSpent' | 'runsUsed' | 'maxRuns'>,
  epsilon: number,
  delta: number,
): { epsilon?: string; delta?: string; runs?: string } {
  const left = remainingBudget(grant);
  const problems: { epsilon?: string; delta?: string; runs?: string } = {};
  if (!Number.isFinite(epsilon) || epsilon < 0) problems.epsilon = 'ε must be 0 or more';
  else if (Math.round(epsilon * 1e6) > left.epsilon)
    problems.epsilon = `Only ε ${(left.epsilon / 1e6).toString()} is left on this grant`;
  if (!Number.isFinite(delta) || delta < 0 || delta > 1) problems.delta = 'δ must be between 0 and 1';
  else if (BigInt(Math.round(delta * 1e18)) > left.delta)
    problems.delta = `Only δ ${(Number(left.delta) / 1e18).toExponential(2)} is left on this grant`;
  if (grant.runsUsed >= grant.maxRuns) problems.runs = 'The grant has no runs left';
  return problems;
}

/** A grant's status as the lab should read it (Granted but past expiry reads Expired). */
export function grantStatus(grant: GrantView, nowSeconds: number): string {
  if (grant.status === 'Granted' && grant.expiry <= nowSeconds) return 'Expired';
  return grant.status;
}
