import {
  type AlgorithmDefinition,
  type AlgorithmInputs,
  algorithmFor as libraryAlgorithmFor,
  isAlgorithmError,
  jobParamsHash as libraryJobParamsHash,
} from '../../shared/algorithms';

/**
 * The algorithms the orchestrator runs: shared/algorithms, behind a resolver the runner takes as a
 * dependency (null for an id this build does not know, instead of a throw).
 */
export type Algorithm = AlgorithmDefinition;
export type { AlgorithmInputs };
export type AlgorithmResolver = (algorithmId: string) => Algorithm | null;

export const algorithmFor: AlgorithmResolver = (algorithmId) => {
  try {
    return libraryAlgorithmFor(algorithmId);
  } catch (error) {
    if (isAlgorithmError(error, 'UNKNOWN_ALGORITHM')) return null;
    throw error;
  }
};

/** `0x` + SHA-256 of the canonical JSON of the parameters: what a permit's paramsHash commits to. */
export function jobParamsHash(params: unknown): string {
  return libraryJobParamsHash(params);
}
