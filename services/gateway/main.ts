import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { JsonRpcProvider, Wallet } from 'ethers';
import { COS_CONTRACT_NAMES, type CosContractAddresses } from '../../shared/contracts';
import { parseDeployment } from '../../shared/deployment';
import { closeOnSignals, startHttpService } from '../common/http-service';
import { createLogger } from '../common/log';
import { loadGatewayConfig, resolvePrivateKey } from './config';
import { createGateway, type Gateway } from './server';

const config = loadGatewayConfig();
const logger = createLogger({ service: 'gateway' }, { level: config.logLevel });

async function openGateway(): Promise<Gateway | null> {
  const privateKey = resolvePrivateKey(config);
  const missing = [
    config.deploymentFile ? null : 'deploymentFile',
    config.dataDir ? null : 'dataDir',
    privateKey ? null : 'privateKey or privateKeyFile',
  ].filter((name): name is string => name !== null);
  if (missing.length > 0) {
    logger.warn('not configured: serving /health only', { missing });
    return null;
  }
  const deployment = parseDeployment(readFileSync(config.deploymentFile!, 'utf8'), config.deploymentFile!);
  const absent = COS_CONTRACT_NAMES.filter((name) => !deployment.contracts[name]);
  if (absent.length > 0) throw new Error(`gateway: the deployment file lacks ${absent.join(', ')}`);
  const addresses = Object.fromEntries(
    COS_CONTRACT_NAMES.map((name) => [name, deployment.contracts[name]!]),
  ) as CosContractAddresses;
  const rpcUrl = config.rpcUrl ?? deployment.rpcUrl;
  if (!rpcUrl) throw new Error('gateway: no rpcUrl (configuration or deployment file)');
  const provider = new JsonRpcProvider(rpcUrl, deployment.chainId, { staticNetwork: true, batchStallTime: 1 });
  const reported = BigInt((await provider.send('eth_chainId', [])) as string);
  if (reported !== BigInt(deployment.chainId)) {
    throw new Error(`gateway: the chain at ${rpcUrl} is ${reported}, the deployment says ${deployment.chainId}`);
  }
  await mkdir(config.dataDir!, { recursive: true });
  return createGateway({
    logger,
    provider,
    wallet: new Wallet(privateKey!, provider),
    chainId: reported,
    addresses,
    dataDir: config.dataDir!,
    maxObjectBytes: config.maxObjectBytes,
    maxStoreBytes: config.maxStoreBytes,
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    chainCacheMs: config.chainCacheMs,
    ticketTtlSeconds: config.ticketTtlSeconds,
  });
}

let gateway: Gateway | null;
try {
  gateway = await openGateway();
} catch (error) {
  logger.error('cannot start', { error: (error as Error).message });
  process.exit(1);
}

const service = await startHttpService({
  name: 'gateway',
  version: '0.1.0',
  host: config.host,
  port: config.port,
  logger,
  health: () => ({ ready: gateway !== null, publicUrl: config.publicUrl ?? null, ...(gateway?.health() ?? {}) }),
  // The gateway's routes have parameters; it answers /v1/... itself and leaves the rest to the common service.
  handler: (req, res) => (gateway ? gateway.handle(req, res) : Promise.resolve(false)),
});

closeOnSignals(async () => {
  const closing = service.close();
  await gateway?.close();
  await closing;
}, logger);
