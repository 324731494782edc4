import path from 'node:path';
import { JsonRpcProvider } from 'ethers';
import type { ServiceName } from '../../shared/ipc/contract';
import { ChainMonitor } from './chain/monitor';
import { RpcClient } from './chain/rpc';
import { ChainWatcher } from './chain/watcher';
import type { CoreConfig } from './config/core-config';
import { openDatabase, type SqliteDatabase } from './db';
import { EventBus } from './events/bus';
import { FheEngine } from './fhe';
import { createRouter, type Handlers, type Router } from './ipc/router';
import { KeytarKeychain, Vault, type Keychain } from './keys';
import { checkServices, type ServiceEndpoint } from './services/service-health';
import { createCustodian, unavailableHandlers, type Custodian } from './usecases';
import { effectiveSettings, listFiles, readSettings, sampleCohorts, saveSettings } from './usecases/local';

export interface CoreLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface CoreOptions {
  /** The OS keychain by default (keytar); tests pass the same, under their own D-Bus session. */
  keychain?: Keychain;
  /** Keychain service name the vault files its master keys under (tests use their own). */
  keychainService?: string;
}

export interface Core {
  router: Router;
  events: EventBus;
  /** Null when no deployment is configured: the custodian channels then answer UNAVAILABLE. */
  custodian: Custodian | null;
  database: SqliteDatabase | null;
  watcher: ChainWatcher | null;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The custodian core: plain Node, shared by the Electron shell and the browser host. Everything
 * the renderer can do goes through `router`; everything it hears comes from `events`.
 */
export function createCore(config: CoreConfig, logger: CoreLogger, options: CoreOptions = {}): Core {
  const events = new EventBus((event, error) => logger.error('dropped invalid event', { event, error: String(error) }));
  const rpc = new RpcClient(config.rpcUrl);
  const monitor = new ChainMonitor(rpc, events, { pollIntervalMs: config.pollIntervalMs });
  const endpoints: ServiceEndpoint[] = (
    [
      ['gateway', config.gatewayUrl],
      ['orchestrator', config.orchestratorUrl],
    ] as [ServiceName, string | null][]
  ).flatMap(([name, url]) => (url ? [{ name, url }] : []));

  let custodian: Custodian | null = null;
  let database: SqliteDatabase | null = null;
  let watcher: ChainWatcher | null = null;
  let engine: FheEngine | null = null;
  let provider: JsonRpcProvider | null = null;
  /** Coalesces cache.changed events: one per 100 ms of applied chain events. */
  let flush: NodeJS.Timeout | null = null;
  const deployment = config.deployment;
  if (deployment) {
    database = openDatabase(path.join(config.dataDir, 'cache', `chain-${deployment.chainId}.sqlite`)).db;
    provider = new JsonRpcProvider(config.rpcUrl, deployment.chainId, { staticNetwork: true, pollingInterval: 500 });
    engine = new FheEngine();
    const vault = new Vault({
      dataDir: config.dataDir,
      keychain: options.keychain ?? new KeytarKeychain(),
      ...(options.keychainService ? { keychainService: options.keychainService } : {}),
      logger,
    });
    custodian = createCustodian({
      dataDir: config.dataDir,
      chainId: deployment.chainId,
      deployment,
      provider,
      gatewayUrl: config.gatewayUrl,
      orchestratorUrl: config.orchestratorUrl,
      vault,
      engine,
      db: database,
      events,
      logger,
    });
    const names = new Set<string>();
    const onEvent = custodian.onChainEvent;
    watcher = new ChainWatcher({
      db: database,
      provider,
      chainId: deployment.chainId,
      contracts: custodian.context.addresses,
      startBlock: deployment.deployedAtBlock,
      confirmations: config.confirmations,
      pollIntervalMs: config.pollIntervalMs,
      onEvent: (event) => {
        onEvent(event);
        names.add(event.name);
        flush ??= setTimeout(() => {
          flush = null;
          events.emit('cache.changed', { names: [...names], reorg: false });
          names.clear();
        }, 100);
      },
      onProgress: (progress) =>
        events.emit('chain.sync', {
          cursorBlock: Math.max(0, progress.cursorBlock),
          headBlock: Math.max(0, progress.headBlock),
        }),
      onReorg: (reorg) => {
        logger.info('chain reorganised', { forkBlock: reorg.forkBlock, orphaned: reorg.orphaned.length });
        events.emit('cache.changed', { names: [...new Set(reorg.orphaned.map((event) => event.name))], reorg: true });
      },
      onRejected: (error) => logger.error('chain log rejected', { error: error.message }),
      onError: (error) => logger.error('chain watcher error', { error: error.message }),
    });
  }

  const handlers: Handlers = {
    'app.info': () => ({
      version: config.version,
      runtime: config.runtime,
      network: {
        name: config.networkName,
        chainId: config.deployment?.chainId ?? monitor.current().chainId ?? 0,
        rpcUrl: config.rpcUrl,
        deploymentFile: config.deploymentFile,
        contracts: config.deployment?.contracts ?? {},
      },
    }),
    'chain.status': () => monitor.current(),
    'chain.block': ({ blockNumber }) => rpc.block(blockNumber),
    'services.health': () => checkServices(endpoints),
    'files.list': ({ dir }) => listFiles(dir),
    'files.samples': () => sampleCohorts(),
    'settings.get': async () => ({
      saved: await readSettings(config.dataDir),
      effective: effectiveSettings(config),
      dataDir: config.dataDir,
    }),
    'settings.set': (settings) => saveSettings(config, settings),
    ...(custodian?.handlers ?? unavailableHandlers('No deployment is configured: set COS_DEPLOYMENT_FILE')),
  };

  const router = createRouter(handlers, {
    onInternalError: (channel, error) =>
      logger.error('ipc handler failed', { channel, error: error instanceof Error ? error.stack : String(error) }),
  });

  return {
    router,
    events,
    custodian,
    database,
    watcher,
    start: () => {
      monitor.start();
      watcher?.start();
    },
    stop: async () => {
      monitor.stop();
      await watcher?.stop();
      if (flush) clearTimeout(flush);
      custodian?.close();
      await engine?.close();
      provider?.destroy();
      database?.close();
    },
  };
}
