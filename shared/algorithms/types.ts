import type { z } from 'zod';
import type { ALGORITHMS } from '../contracts/constants';
import type { FheManifest } from '../fhe/manifest';
import type { SEALLibrary } from '../fhe/seal';

export interface AlgorithmInputs {
  /** From shared/fhe loadSeal(). */
  seal: SEALLibrary;
  manifest: FheManifest;
  /** Sample indices left out (withdrawn consent), decided by the caller. */
  excludedSamples: ReadonlySet<number>;
  /** Bytes of a manifest object, already verified against its digest. */
  loadObject(digest: string): Promise<Uint8Array>;
  /** The dataset's public key bundle (CKKS algorithms need its Galois keys). */
  loadPublicKeys(): Promise<Uint8Array>;
  /** Validated by the algorithm's paramsSchema. */
  params: unknown;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /**
   * Aggregation threads for the genotype algorithms; by default 2 (where 2 cores exist) once the
   * cohort has at least THREADED_MIN_CIPHERTEXTS ciphertexts, else 1 (the calling thread).
   */
  threads?: number;
}

export type AlgorithmKey = keyof typeof ALGORITHMS;

export interface AlgorithmDefinition {
  key: AlgorithmKey;
  id: string;
  name: string;
  paramsSchema: z.ZodType;
  /** The encrypted result envelope (shared/fhe frames). */
  evaluate(inputs: AlgorithmInputs): Promise<Uint8Array>;
}
