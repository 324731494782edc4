import { z } from 'zod';
import { loadServiceConfig, resolveServicePrivateKey, serviceConfigShape } from '../common/config';
import { TICKET_TTL_SECONDS } from '../../shared/gateway/protocol';

/** Configuration keys; environment COS_GATEWAY_<UPPER_SNAKE> overrides the file. */
export const gatewayConfigSchema = z.object({
  ...serviceConfigShape,
  maxObjectBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  /** Total bytes the store may hold; 0 = no quota. */
  maxStoreBytes: z.coerce.number().int().nonnegative().default(0),
  batchSize: z.coerce.number().int().min(1).max(500).default(50),
  flushIntervalMs: z.coerce.number().int().min(10).max(600_000).default(500),
  /** How long a positive chain answer (grant still valid, permit open...) may be reused. */
  chainCacheMs: z.coerce.number().int().min(0).max(5_000).default(1_000),
  ticketTtlSeconds: z.coerce.number().int().min(1).max(TICKET_TTL_SECONDS).default(TICKET_TTL_SECONDS),
  publicUrl: z.string().url().optional(),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export function loadGatewayConfig(argv?: readonly string[], env?: NodeJS.ProcessEnv): GatewayConfig {
  return loadServiceConfig('gateway', gatewayConfigSchema, argv, env);
}

/** The private key from `privateKey` or `privateKeyFile`; null when neither is set. Never echoed. */
export function resolvePrivateKey(config: GatewayConfig): string | null {
  return resolveServicePrivateKey('gateway', config);
}
