import { z } from 'zod';
import { loadServiceConfig, resolveServicePrivateKey, serviceConfigShape } from '../common/config';

/** Configuration keys: defaults < JSON file (`--config` or COS_ORCHESTRATOR_CONFIG) < COS_ORCHESTRATOR_<UPPER_SNAKE>. */
export const orchestratorConfigSchema = z.object({
  ...serviceConfigShape,
  /** The gateway this orchestrator fetches from and stores results at. */
  gatewayUrl: z.string().url().optional(),
  /** The gateway's URL as others reach it (the posted resultURI); default gatewayUrl. */
  gatewayPublicUrl: z.string().url().optional(),
  /** Blocks a permit must be buried under before it runs (0 on a devnet). */
  confirmations: z.coerce.number().int().min(0).max(1_000).default(2),
  /** Blocks below the cursor scanned again on every poll, for reorgs. */
  reorgMargin: z.coerce.number().int().min(0).max(1_000).default(6),
  /** Jobs run at the same time. */
  concurrency: z.coerce.number().int().min(1).max(64).default(1),
  pollIntervalMs: z.coerce.number().int().min(50).max(600_000).default(2_000),
  /** Aggregation threads per job; unset = the algorithm library's default (2 on large cohorts). */
  threads: z.coerce.number().int().min(1).max(16).optional(),
  /** Attempts for a job whose failures are retryable (gateway or chain unavailable). */
  maxAttempts: z.coerce.number().int().min(1).max(100).default(5),
  /** First retry delay; doubles each attempt, at most 5 minutes. */
  retryBaseMs: z.coerce.number().int().min(10).max(600_000).default(2_000),
});
export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema>;

export function loadOrchestratorConfig(argv?: readonly string[], env?: NodeJS.ProcessEnv): OrchestratorConfig {
  return loadServiceConfig('orchestrator', orchestratorConfigSchema, argv, env);
}

/** The private key from `privateKey` or `privateKeyFile`; null when neither is set. Never echoed. */
export function resolvePrivateKey(config: OrchestratorConfig): string | null {
  return resolveServicePrivateKey('orchestrator', config);
}

export function backoffMs(config: Pick<OrchestratorConfig, 'retryBaseMs'>, attempt: number): number {
  return Math.min(config.retryBaseMs * 2 ** Math.max(attempt - 1, 0), 300_000);
}
