import type { ServiceName } from '../../shared/ipc/contract';
import { ChainMonitor } from './chain/monitor';
import { RpcClient } from './chain/rpc';
import type { CoreConfig } from './config/core-config';
import { EventBus } from './events/bus';
import { createRouter, type Handlers, type Router } from './ipc/router';
import { checkServices, type ServiceEndpoint } from './services/service-health';

export interface CoreLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Core {
  router: Router;
  events: EventBus;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The custodian core: plain Node, shared by the Electron shell and the browser host. Everything
 * the renderer can do goes through `router`; everything it hears comes from `events`.
 */
export function createCore(config: CoreConfig, logger: CoreLogger): Core {
  const events = new EventBus((event, error) => logger.error('dropped invalid event', { event, error: String(error) }));
  const rpc = new RpcClient(config.rpcUrl);
  const monitor = new ChainMonitor(rpc, events, { pollIntervalMs: config.pollIntervalMs });
  const endpoints: ServiceEndpoint[] = (
    [
      ['gateway', config.gatewayUrl],
      ['orchestrator', config.orchestratorUrl],
    ] as [ServiceName, string | null][]
  ).flatMap(([name, url]) => (url ? [{ name, url }] : []));

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
  };

  const router = createRouter(handlers, {
    onInternalError: (channel, error) =>
      logger.error('ipc handler failed', { channel, error: error instanceof Error ? error.stack : String(error) }),
  });

  return {
    router,
    events,
    start: () => monitor.start(),
    stop: async () => monitor.stop(),
  };
}
