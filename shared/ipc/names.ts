import type { ChannelName, EventName } from './contract';

/**
 * Channel and event names without their schemas, for the preload: it builds one named method per
 * channel from this list and must not bundle zod. `satisfies` keeps the lists equal to the contract.
 */
export const channelNames = [
  'app.info',
  'chain.status',
  'chain.block',
  'services.health',
] as const satisfies readonly ChannelName[];
export const eventNames = [
  'chain.newBlock',
  'chain.status',
  'job.result',
  'progress',
] as const satisfies readonly EventName[];

/** Electron IPC channel prefix, so contract channels never collide with Electron internals. */
export const IPC_PREFIX = 'cos:';
export const EVENT_PREFIX = 'cos-event:';

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const channelListIsComplete: Exact<(typeof channelNames)[number], ChannelName> = true;
const eventListIsComplete: Exact<(typeof eventNames)[number], EventName> = true;
void channelListIsComplete;
void eventListIsComplete;
