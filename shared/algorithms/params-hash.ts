import { canonicalDigest } from '../fhe/canonical';
import { AlgorithmError } from './errors';

/**
 * Canonical JSON holds safe integers only, so every other finite number (a model coefficient, say) is
 * spelled as its shortest round-trip decimal string (`String(x)`: 0.1 → "0.1", 1e-7 → "1e-7").
 * Params are checked against their schema before hashing, so a number and a string never compete for a slot.
 */
function hashable(value: unknown, path: string): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AlgorithmError('BAD_PARAMS', `${path} is not a finite number`);
    return Number.isSafeInteger(value) ? value : String(value);
  }
  if (Array.isArray(value)) return value.map((item, i) => hashable(item, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, hashable(item, `${path}.${key}`)]));
  }
  return value;
}

/** The permit's on-chain paramsHash: `0x` + SHA-256 of the canonical JSON of the job's params. */
export function jobParamsHash(params: unknown): string {
  try {
    return canonicalDigest(hashable(params, 'params'));
  } catch (error) {
    if (error instanceof AlgorithmError) throw error;
    throw new AlgorithmError('BAD_PARAMS', `The params cannot be hashed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
