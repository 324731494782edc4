import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDeployment, type Deployment } from '../../../shared/deployment';
import { defaultDataDir } from './paths';

export interface CoreConfig {
  version: string;
  runtime: 'electron' | 'browser-host';
  dataDir: string;
  networkName: string;
  rpcUrl: string;
  deploymentFile: string | null;
  deployment: Deployment | null;
  gatewayUrl: string | null;
  orchestratorUrl: string | null;
  pollIntervalMs: number;
  /** Blocks the cache waits on top of a block before applying it (0 on the devnet). */
  confirmations: number;
}

const envSchema = z.object({
  COS_RPC_URL: z.string().url().optional(),
  COS_DEPLOYMENT_FILE: z.string().min(1).optional(),
  COS_GATEWAY_URL: z.string().url().optional(),
  COS_ORCHESTRATOR_URL: z.string().url().optional(),
  COS_POLL_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).optional(),
  COS_CONFIRMATIONS: z.coerce.number().int().min(0).max(1000).optional(),
});

/** Settings saved by the app (Settings page); a custom network there overrides the launcher's environment. */
const savedSettingsSchema = z.object({
  network: z.enum(['devnet', 'custom']),
  rpcUrl: z.string().url().nullable(),
  deploymentFile: z.string().min(1).nullable(),
  gatewayUrl: z.string().url().nullable(),
  orchestratorUrl: z.string().url().nullable(),
  confirmations: z.number().int().min(0).max(1000),
});

function readSavedSettings(dataDir: string): z.infer<typeof savedSettingsSchema> | null {
  try {
    return savedSettingsSchema.parse(JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')));
  } catch {
    return null;
  }
}

/** Reads the core's configuration from the environment the launcher (or the operator) sets. */
export function loadCoreConfig(
  runtime: CoreConfig['runtime'],
  version: string,
  env: NodeJS.ProcessEnv = process.env,
): CoreConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid COS_* environment: ${detail}`);
  }
  const vars = parsed.data;
  const dataDir = defaultDataDir(env);
  const saved = readSavedSettings(dataDir);
  if (saved?.network === 'custom') {
    vars.COS_RPC_URL = saved.rpcUrl ?? vars.COS_RPC_URL;
    vars.COS_DEPLOYMENT_FILE = saved.deploymentFile ?? vars.COS_DEPLOYMENT_FILE;
    vars.COS_GATEWAY_URL = saved.gatewayUrl ?? undefined;
    vars.COS_ORCHESTRATOR_URL = saved.orchestratorUrl ?? undefined;
  }
  const deploymentFile = vars.COS_DEPLOYMENT_FILE ?? null;
  const deployment = deploymentFile ? parseDeployment(readFileSync(deploymentFile, 'utf8'), deploymentFile) : null;
  const rpcUrl = vars.COS_RPC_URL ?? deployment?.rpcUrl ?? 'http://127.0.0.1:8545';
  return {
    version,
    runtime,
    dataDir,
    networkName: deployment?.network ?? 'custom',
    rpcUrl,
    deploymentFile,
    deployment,
    gatewayUrl: vars.COS_GATEWAY_URL ?? null,
    orchestratorUrl: vars.COS_ORCHESTRATOR_URL ?? null,
    pollIntervalMs: vars.COS_POLL_INTERVAL_MS ?? 1_000,
    confirmations: saved?.network === 'custom' ? saved.confirmations : (vars.COS_CONFIRMATIONS ?? 0),
  };
}
