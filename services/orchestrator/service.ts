import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COS_CONTRACT_NAMES, type CosContractAddresses, ROLE } from '../../shared/contracts';
import { loadSeal } from '../../shared/fhe/seal';
import { parseDeployment } from '../../shared/deployment';
import type { Logger } from '../common/log';
import type { AlgorithmResolver } from './algorithms';
import { connectChain, headBlock } from './chain';
import { backoffMs, resolvePrivateKey, type OrchestratorConfig } from './config';
import { startApi } from './http';
import { JobRunner, type GatewayPort } from './runner';
import { Scheduler } from './scheduler';
import { JobStore } from './store';

export const ORCHESTRATOR_VERSION = '0.2.0';

export interface OrchestratorDeps {
  algorithmFor: AlgorithmResolver;
  jobParamsHash: (params: unknown) => string;
  /** Builds the gateway client for this chain (shared/gateway/client.ts in production). */
  gateway: (options: { baseUrl: string; chainId: number; dataAccess: string }) => GatewayPort;
}

export interface RunningOrchestrator {
  url: string;
  close(): Promise<void>;
}

function required<T>(value: T | undefined | null, key: string): T {
  if (value === undefined || value === null) throw new Error(`orchestrator: configuration ${key} is required`);
  return value;
}

/** Starts the orchestrator: job store, chain watcher and job runner, HTTP API. */
export async function startOrchestrator(
  config: OrchestratorConfig,
  logger: Logger,
  deps: OrchestratorDeps,
): Promise<RunningOrchestrator> {
  const deploymentFile = required(config.deploymentFile, 'deploymentFile');
  let deploymentText: string;
  try {
    deploymentText = readFileSync(deploymentFile, 'utf8');
  } catch (error) {
    throw new Error(`orchestrator: cannot read deploymentFile: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const deployment = parseDeployment(deploymentText, deploymentFile);
  const missing = COS_CONTRACT_NAMES.filter((name) => !deployment.contracts[name]);
  if (missing.length > 0) throw new Error(`orchestrator: the deployment lacks ${missing.join(', ')}`);
  const addresses = deployment.contracts as CosContractAddresses;
  const rpcUrl = required(config.rpcUrl ?? deployment.rpcUrl, 'rpcUrl');
  const privateKey = required(resolvePrivateKey(config), 'privateKey or privateKeyFile');
  const gatewayUrl = required(config.gatewayUrl, 'gatewayUrl');
  const dataDir = required(config.dataDir, 'dataDir');

  const chain = connectChain(rpcUrl, deployment.chainId, addresses, privateKey, Math.min(config.pollIntervalMs, 1_000));
  const store = new JobStore(path.join(dataDir, 'orchestrator.sqlite'));
  try {
    const [ownSbtId, roles] = await chain.contracts.IdentitySBT.rolesOf(chain.address);
    if (ownSbtId === 0n) throw new Error(`orchestrator: account ${chain.address} holds no identity token`);
    const attested = (roles & BigInt(ROLE.ORCHESTRATOR)) !== 0n;
    // Not fatal (the issuer may attest it later), but every job would be refused: say so loudly.
    if (!attested) logger.warn('this account is not attested ORCHESTRATOR: jobs will fail', { account: chain.address });
    const gateway = deps.gateway({
      baseUrl: gatewayUrl,
      chainId: deployment.chainId,
      dataAccess: addresses.DataAccess,
    });
    const runner = new JobRunner({
      store,
      chain,
      gateway,
      gatewayPublicUrl: config.gatewayPublicUrl ?? gatewayUrl,
      ownSbtId,
      algorithmFor: deps.algorithmFor,
      jobParamsHash: deps.jobParamsHash,
      seal: loadSeal,
      logger,
      maxAttempts: config.maxAttempts,
      ...(config.threads !== undefined ? { threads: config.threads } : {}),
      backoffMs: (attempt) => backoffMs(config, attempt),
    });
    const scheduler = new Scheduler({
      store,
      chain,
      runner,
      logger,
      dataAccess: addresses.DataAccess,
      startBlock: deployment.deployedAtBlock,
      confirmations: config.confirmations,
      reorgMargin: config.reorgMargin,
      concurrency: config.concurrency,
      pollIntervalMs: config.pollIntervalMs,
    });
    const api = await startApi({
      host: config.host,
      port: config.port,
      logger,
      store,
      version: ORCHESTRATOR_VERSION,
      jobParamsHash: deps.jobParamsHash,
      health: async () => {
        let chainHead: number | null = null;
        try {
          chainHead = await headBlock(chain.provider);
        } catch {
          chainHead = null;
        }
        return {
          chainId: deployment.chainId,
          account: chain.address,
          sbtId: ownSbtId.toString(),
          orchestratorRole: attested,
          chain: chainHead === null ? 'unavailable' : 'ok',
          head: chainHead,
          cursor: store.cursor(),
          running: scheduler.runningJobs,
          jobs: store.counts(),
          lastScanError: scheduler.lastScanError,
        };
      },
    });
    logger.info('orchestrator ready', {
      account: chain.address,
      sbtId: ownSbtId.toString(),
      gatewayUrl,
      concurrency: config.concurrency,
    });
    scheduler.start();
    return {
      url: api.url,
      async close() {
        await api.close();
        await scheduler.stop();
        store.close();
        chain.destroy();
      },
    };
  } catch (error) {
    store.close();
    chain.destroy();
    throw error;
  }
}
