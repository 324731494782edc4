import { z } from 'zod';
import { custodianChannels, custodianEvents, custodianExtraChannels, keySwitchChannels } from './custodian';

/**
 * The one IPC contract between the renderer and the core. Each channel names its request and
 * response schema; main validates both, the preload exposes one named method per channel, and
 * the renderer's types are derived from here. Events flow main -> renderer only.
 */

const hex = (bytes?: number) =>
  z.string().regex(bytes ? new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`) : /^0x[0-9a-fA-F]*$/);

export const addressSchema = hex(20);
export const bytes32Schema = hex(32);

const empty = z.object({}).strict();

export const connectionStateSchema = z.enum(['connecting', 'connected', 'disconnected']);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const chainStatusSchema = z.object({
  state: connectionStateSchema,
  chainId: z.number().int().nonnegative().nullable(),
  blockNumber: z.number().int().nonnegative().nullable(),
  rpcUrl: z.string(),
  lastError: z.string().nullable(),
  updatedAt: z.number().int(),
});
export type ChainStatus = z.infer<typeof chainStatusSchema>;

export const serviceNameSchema = z.enum(['gateway', 'orchestrator']);
export type ServiceName = z.infer<typeof serviceNameSchema>;

export const serviceHealthSchema = z.object({
  name: serviceNameSchema,
  url: z.string(),
  healthy: z.boolean(),
  version: z.string().nullable(),
  detail: z.string().nullable(),
});
export type ServiceHealth = z.infer<typeof serviceHealthSchema>;

export const appInfoSchema = z.object({
  version: z.string(),
  runtime: z.enum(['electron', 'browser-host']),
  network: z.object({
    name: z.string(),
    chainId: z.number().int().nonnegative(),
    rpcUrl: z.string(),
    deploymentFile: z.string().nullable(),
    contracts: z.record(z.string(), addressSchema),
  }),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

export const workspaceSchema = z.enum(['steward', 'donor', 'lab']);
export type Workspace = z.infer<typeof workspaceSchema>;

export const progressSchema = z.object({
  taskId: z.string().min(1).max(128),
  label: z.string().max(200),
  done: z.number().nonnegative(),
  total: z.number().nonnegative().nullable(),
});
export type Progress = z.infer<typeof progressSchema>;

export const jobResultEventSchema = z.object({
  permitId: z.string().regex(/^\d+$/),
  datasetId: z.string().regex(/^\d+$/),
  resultCommitment: bytes32Schema,
  resultURI: z.string().max(2048),
  blockNumber: z.number().int().nonnegative(),
  txHash: bytes32Schema,
});
export type JobResultEvent = z.infer<typeof jobResultEventSchema>;

export const channels = {
  'app.info': { request: empty, response: appInfoSchema },
  'chain.status': { request: empty, response: chainStatusSchema },
  'chain.block': {
    request: z.object({ blockNumber: z.number().int().nonnegative() }).strict(),
    response: z.object({
      number: z.number().int().nonnegative(),
      hash: bytes32Schema,
      timestamp: z.number().int().nonnegative(),
      transactionCount: z.number().int().nonnegative(),
    }),
  },
  'services.health': { request: empty, response: z.array(serviceHealthSchema) },
  ...custodianChannels,
  ...custodianExtraChannels,
  ...keySwitchChannels,
} as const;

export const events = {
  'chain.newBlock': z.object({
    chainId: z.number().int().nonnegative(),
    blockNumber: z.number().int().nonnegative(),
  }),
  'chain.status': chainStatusSchema,
  'job.result': jobResultEventSchema,
  progress: progressSchema,
  ...custodianEvents,
} as const;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type ChannelRequest<C extends ChannelName> = z.input<Channels[C]['request']>;
export type ChannelResponse<C extends ChannelName> = z.output<Channels[C]['response']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}
