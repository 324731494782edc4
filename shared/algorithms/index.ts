/**
 * The encrypted algorithm library: what the orchestrator evaluates on ciphertexts (evaluate, no secret
 * key) and what the owner computes from the decrypted aggregates (statistics, interpretResult).
 */
import { z } from 'zod';
import { ALGORITHMS } from '../contracts/constants';
import { AlgorithmError } from './errors';
import { aggregateGenotypeCounts } from './genotype';
import {
  evaluateLogreg,
  evaluateMeanVariance,
  logregParamsSchema,
  meanVarianceParamsSchema,
  type LogregParams,
  type MeanVarianceParams,
} from './numeric';
import type { AlgorithmDefinition, AlgorithmInputs, AlgorithmKey } from './types';

export * from './chi-square';
export * from './errors';
export { defaultThreads, THREADED_MIN_CIPHERTEXTS } from './genotype';
export * from './interpret';
export {
  LOGREG_MAX_COEFFICIENT,
  LOGREG_MAX_COLUMNS,
  LOGREG_MAX_INTERCEPT,
  logregParamsSchema,
  meanVarianceParamsSchema,
  parseLogregResult,
  type LogregParams,
  type LogregResult,
  type MeanVarianceParams,
} from './numeric';
export { jobParamsHash } from './params-hash';
export * from './statistics';
export type { AlgorithmDefinition, AlgorithmInputs, AlgorithmKey } from './types';
export * from './variants';

/** GWAS and counts take no params: the phenotype is the one folded into the genotype objects. */
export const noParamsSchema = z.strictObject({});

export function parseParams<T>(definition: { name: string; paramsSchema: z.ZodType<T> }, params: unknown): T {
  const parsed = definition.paramsSchema.safeParse(params);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`)
      .join('; ');
    throw new AlgorithmError('BAD_PARAMS', `Invalid params for ${definition.name}: ${problems}`);
  }
  return parsed.data;
}

function define<T>(
  key: AlgorithmKey,
  paramsSchema: z.ZodType<T>,
  run: (inputs: AlgorithmInputs, params: T) => Promise<Uint8Array>,
): AlgorithmDefinition {
  const { id, name } = ALGORITHMS[key];
  const definition = { key, id, name, paramsSchema };
  return {
    ...definition,
    evaluate: async (inputs) => {
      const params = parseParams(definition, inputs.params);
      if (inputs.signal?.aborted) throw new AlgorithmError('CANCELLED', 'The algorithm was cancelled');
      return run(inputs, params);
    },
  };
}

const genotypeAggregate = (inputs: AlgorithmInputs) => aggregateGenotypeCounts(inputs, inputs.threads);

/** Every registered algorithm, by key. The three genotype algorithms share one encrypted aggregate. */
export const ALGORITHM_DEFINITIONS: Readonly<Record<AlgorithmKey, AlgorithmDefinition>> = {
  ALLELE_COUNTS: define('ALLELE_COUNTS', noParamsSchema, genotypeAggregate),
  GWAS_ALLELIC_CHISQ: define('GWAS_ALLELIC_CHISQ', noParamsSchema, genotypeAggregate),
  GWAS_TREND: define('GWAS_TREND', noParamsSchema, genotypeAggregate),
  MEAN_VARIANCE: define('MEAN_VARIANCE', meanVarianceParamsSchema, (inputs, params: MeanVarianceParams) =>
    evaluateMeanVariance(inputs, params),
  ),
  LOGREG_INFERENCE: define('LOGREG_INFERENCE', logregParamsSchema, (inputs, params: LogregParams) =>
    evaluateLogreg(inputs, params),
  ),
};

/** The definition of an on-chain algorithm id (bytes32, any hex case); AlgorithmError UNKNOWN_ALGORITHM otherwise. */
export function algorithmFor(algorithmId: string): AlgorithmDefinition {
  const normalized = typeof algorithmId === 'string' ? algorithmId.toLowerCase() : '';
  const definition = Object.values(ALGORITHM_DEFINITIONS).find((candidate) => candidate.id === normalized);
  if (!definition) throw new AlgorithmError('UNKNOWN_ALGORITHM', `Unknown algorithm id ${String(algorithmId)}`);
  return definition;
}

/** Whether the result envelope of `algorithmId` is a genotype-counts result (decryptGenotypeCounts). */
export function resultKind(algorithmId: string): 'genotype-counts' | 'numeric-sums' | 'logreg-scores' {
  const { key } = algorithmFor(algorithmId);
  if (key === 'MEAN_VARIANCE') return 'numeric-sums';
  if (key === 'LOGREG_INFERENCE') return 'logreg-scores';
  return 'genotype-counts';
}
