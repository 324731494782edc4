import { z } from 'zod';
import { loadServiceConfig } from '../common/config';
import { closeOnSignals, startHttpService } from '../common/http-service';
import { createLogger } from '../common/log';

// Health only for now: the orchestrator proper (issue 5) plugs its routes in here.
const configSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  rpcUrl: z.string().url().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

const config = loadServiceConfig('orchestrator', configSchema);
const logger = createLogger({ service: 'orchestrator' }, { level: config.logLevel });
const service = await startHttpService({
  name: 'orchestrator',
  version: '0.1.0',
  host: config.host,
  port: config.port,
  logger,
  health: () => ({ rpcUrl: config.rpcUrl ?? null }),
});
closeOnSignals(() => service.close(), logger);
