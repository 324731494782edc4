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
  'profiles.list',
  'profiles.create',
  'profiles.unlock',
  'profiles.lock',
  'profiles.onboard',
  'profiles.backup',
  'profiles.restore',
  'datasets.list',
  'datasets.import',
  'requests.list',
  'access.request',
  'access.grant',
  'access.deny',
  'access.revoke',
  'access.fund',
  'grants.list',
  'permits.issue',
  'permits.list',
  'results.get',
  'results.decrypt',
  'results.exportDerivative',
  'royalties.get',
  'royalties.settle',
  'royalties.claim',
  'royalties.claimDonor',
  'consent.importReceipt',
  'consent.list',
  'consent.withdraw',
  'consent.restore',
  'audit.list',
  'audit.verify',
  'files.list',
  'files.samples',
  'tickets.request',
  'tickets.list',
  'objects.fetch',
  'settings.get',
  'settings.set',
  'results.keySwitch',
  'bundles.decrypt',
  'bundles.list',
  'bundles.verify',
] as const satisfies readonly ChannelName[];
export const eventNames = [
  'chain.newBlock',
  'chain.status',
  'job.result',
  'progress',
  'chain.sync',
  'cache.changed',
  'result.decrypted',
] as const satisfies readonly EventName[];

/** Electron IPC channel prefix, so contract channels never collide with Electron internals. */
export const IPC_PREFIX = 'cos:';
export const EVENT_PREFIX = 'cos-event:';

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const channelListIsComplete: Exact<(typeof channelNames)[number], ChannelName> = true;
const eventListIsComplete: Exact<(typeof eventNames)[number], EventName> = true;
void channelListIsComplete;
void eventListIsComplete;
