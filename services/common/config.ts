import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Service configuration: defaults < JSON file (`--config FILE` or COS_<SERVICE>_CONFIG) < environment
 * (COS_<SERVICE>_<KEY> in upper snake case). Validated as a whole; a bad value stops the service with
 * a message naming the key.
 */
export function loadServiceConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const prefix = `COS_${service.toUpperCase()}_`;
  const flag = argv.indexOf('--config');
  const file = flag >= 0 ? argv[flag + 1] : env[`${prefix}CONFIG`];
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${service}: cannot read config file ${file}: ${(error as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const envKey = prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
    const value = env[envKey];
    if (value !== undefined) fromEnv[key] = value;
  }
  const parsed = schema.safeParse({ ...fromFile, ...fromEnv });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${service}: invalid configuration: ${detail}`);
  }
  return parsed.data;
}

/** A 32-byte hex private key (with or without 0x), as a config value. */
export const hexPrivateKeySchema = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a 32-byte hex private key');

/**
 * A service's signing key from `privateKey` or `privateKeyFile` (first line, trimmed), 0x-prefixed; null
 * when neither is set. Errors never echo the file's content.
 */
export function resolveServicePrivateKey(
  service: string,
  config: { privateKey?: string | undefined; privateKeyFile?: string | undefined },
): string | null {
  let key = config.privateKey ?? null;
  if (!key && config.privateKeyFile) {
    let text: string;
    try {
      text = readFileSync(config.privateKeyFile, 'utf8');
    } catch (error) {
      throw new Error(`${service}: cannot read privateKeyFile: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const candidate = text.trim().split(/\r?\n/)[0] ?? '';
    if (!hexPrivateKeySchema.safeParse(candidate).success) {
      throw new Error(`${service}: privateKeyFile does not hold a 32-byte hex key`);
    }
    key = candidate;
  }
  if (!key) return null;
  return key.startsWith('0x') ? key : `0x${key}`;
}

/**
 * The keys every COS service has: where it listens, which network and deployment it serves, its data
 * folder, its signing key and its log level. Services spread this into their own schema.
 */
export const serviceConfigShape = {
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  /** JSON-RPC endpoint; defaults to the deployment file's rpcUrl. */
  rpcUrl: z.string().url().optional(),
  /** Deployment JSON (shared/deployment.ts): chain id, contract addresses, deployment block. */
  deploymentFile: z.string().min(1).optional(),
  /** The service's own files live here. */
  dataDir: z.string().min(1).optional(),
  /** The service account's key (hex); devnet only: prefer privateKeyFile. */
  privateKey: hexPrivateKeySchema.optional(),
  privateKeyFile: z.string().min(1).optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};
