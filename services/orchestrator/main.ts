/**
 * The orchestrator service: watches JobPermitIssued, runs the permitted FHE algorithm over the dataset's
 * ciphertexts fetched through the gateway, stores the encrypted result there and posts JobResult.
 * Configuration: see config.ts and docs/ORCHESTRATOR.md.
 */
import { GatewayClient } from '../../shared/gateway/client';
import { closeOnSignals, startHttpService } from '../common/http-service';
import { createLogger } from '../common/log';
import { algorithmFor, jobParamsHash } from './algorithms';
import { loadOrchestratorConfig, resolvePrivateKey } from './config';
import { ORCHESTRATOR_VERSION, startOrchestrator } from './service';

const config = loadOrchestratorConfig();
const logger = createLogger({ service: 'orchestrator' }, { level: config.logLevel });
try {
  const missing = [
    config.deploymentFile ? null : 'deploymentFile',
    config.dataDir ? null : 'dataDir',
    config.gatewayUrl ? null : 'gatewayUrl',
    resolvePrivateKey(config) ? null : 'privateKey or privateKeyFile',
  ].filter((name): name is string => name !== null);
  if (missing.length > 0) {
    // Not configured for work: answer /health (reporting what is missing) and nothing else.
    logger.warn('not configured: serving /health only', { missing });
    const service = await startHttpService({
      name: 'orchestrator',
      version: ORCHESTRATOR_VERSION,
      host: config.host,
      port: config.port,
      logger,
      health: () => ({ configured: false, missing }),
    });
    closeOnSignals(() => service.close(), logger);
  } else {
    const running = await startOrchestrator(config, logger, {
      algorithmFor,
      jobParamsHash,
      gateway: ({ baseUrl, chainId, dataAccess }) => new GatewayClient({ baseUrl, chainId, dataAccess }),
    });
    closeOnSignals(() => running.close(), logger);
  }
} catch (error) {
  logger.error('start failed', { error: (error as Error).message });
  process.exit(1);
}
