import { z } from 'zod';
import { hexPrivateKeySchema, loadServiceConfig, resolveServicePrivateKey } from '../common/config';
import { TICKET_TTL_SECONDS } from '../../shared/gateway/protocol';

/** Configuration keys; environment COS_GATEWAY_<UPPER_SNAKE> overrides the file. */
export const gatewayConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  /** JSON-RPC endpoint; defaults to the deployment file's rpcUrl. */
  rpcUrl: z.string().url().optional(),
  /** Deployment JSON (shared/deployment.ts): chain id and contract addresses. */
  deploymentFile: z.string().min(1).optional(),
  /** Object store (objects/, tmp/) and the outbox database live here. */
  dataDir: z.string().min(1).optional(),
  /** The gateway account's key (hex); devnet only: prefer privateKeyFile. */
  privateKey: hexPrivateKeySchema.optional(),
  privateKeyFile: z.string().min(1).optional(),
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
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
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
