import { custodianChannels, keySwitchChannels } from '../../../shared/ipc/custodian';
import { channels } from '../../../shared/ipc/contract';
import { TicketBook } from './tickets';
import { decryptBundleFile, issueKeySwitch, listBundles, verifyBundle } from './keyswitch';
import { AppError } from '../../../shared/ipc/errors';
import type { Handlers } from '../ipc/router';
import type { ChainEventRecord } from '../db';
import {
  denyAccess,
  fundGrant,
  grantAccess,
  issuePermit,
  listGrants,
  listPermits,
  listRequests,
  requestAccess,
  revokeAccess,
} from './access';
import {
  claim,
  claimDonor,
  importReceipt,
  listAudit,
  listConsent,
  restoreConsent,
  royalties,
  settleGrant,
  verifyAudit,
  withdrawConsent,
} from './consent';
import { CustodianContext, type CustodianDeps } from './context';
import { importDataset, listDatasets } from './datasets';
import {
  backupProfile,
  createProfile,
  listProfiles,
  lockProfile,
  onboardProfile,
  restoreProfile,
  unlockProfile,
} from './profiles';
import { ResultProcessor } from './results';

const NETWORK_CHANNELS = [
  ...Object.keys(custodianChannels),
  ...Object.keys(keySwitchChannels),
  'tickets.request',
  'tickets.list',
  'objects.fetch',
] as const;
export type CustodianHandlers = Pick<
  Handlers,
  keyof typeof custodianChannels | keyof typeof keySwitchChannels | 'tickets.request' | 'tickets.list' | 'objects.fetch'
>;

export interface Custodian {
  context: CustodianContext;
  results: ResultProcessor;
  handlers: CustodianHandlers;
  /** Feed of applied chain events (from the watcher). */
  onChainEvent(event: ChainEventRecord): void;
  close(): void;
}

export { CustodianContext, type CustodianDeps } from './context';

type BaseChannel = 'app.info' | 'chain.status' | 'chain.block' | 'services.health';
const BASE_CHANNELS: readonly string[] = ['app.info', 'chain.status', 'chain.block', 'services.health'];

/** Handlers for `names` that all answer UNAVAILABLE with `reason`. */
function unavailable(names: readonly string[], reason: string): Record<string, () => never> {
  const fail = (): never => {
    throw new AppError('UNAVAILABLE', reason);
  };
  return Object.fromEntries(names.map((channel) => [channel, fail]));
}

/** For tests of the router and transports: every channel but the four network ones answers UNAVAILABLE. */
export function unavailableHandlersForTests(reason: string): Omit<Handlers, BaseChannel> {
  const names = Object.keys(channels).filter((channel) => !BASE_CHANNELS.includes(channel));
  return unavailable(names, reason) as unknown as Omit<Handlers, BaseChannel>;
}

/** Every custodian channel answering UNAVAILABLE with `reason` (no deployment configured). */
export function unavailableHandlers(reason: string): CustodianHandlers {
  return unavailable(NETWORK_CHANNELS, reason) as unknown as CustodianHandlers;
}

/** The use cases behind the custodian's IPC channels, over one network, vault, FHE engine and cache. */
export function createCustodian(deps: CustodianDeps): Custodian {
  const ctx = new CustodianContext(deps);
  const results = new ResultProcessor(ctx);
  const tickets = new TicketBook(ctx);
  const afterUnlock = <T>(value: T): T => {
    results.catchUp();
    return value;
  };
  const handlers: CustodianHandlers = {
    'profiles.list': () => listProfiles(ctx),
    'profiles.create': async (request) => afterUnlock(await createProfile(ctx, request)),
    'profiles.unlock': async ({ profileId }) => afterUnlock(await unlockProfile(ctx, profileId)),
    'profiles.lock': () => {
      tickets.clear();
      return lockProfile(ctx);
    },
    'profiles.onboard': () => onboardProfile(ctx),
    'profiles.backup': (request) => backupProfile(ctx, request),
    'profiles.restore': (request) => restoreProfile(ctx, request),
    'datasets.list': () => listDatasets(ctx),
    'datasets.import': (request) => importDataset(ctx, request),
    'requests.list': (request) => listRequests(ctx, request),
    'access.request': (request) => requestAccess(ctx, request),
    'access.grant': (request) => grantAccess(ctx, request),
    'access.deny': ({ grantId }) => denyAccess(ctx, grantId),
    'access.revoke': ({ grantId }) => revokeAccess(ctx, grantId),
    'access.fund': ({ grantId, runs }) => fundGrant(ctx, grantId, runs),
    'grants.list': (request) => listGrants(ctx, request),
    'permits.issue': (request) => issuePermit(ctx, request),
    'permits.list': (request) => listPermits(ctx, request),
    'results.get': ({ permitId }) => results.get(permitId),
    'results.decrypt': ({ permitId }) => results.process(permitId),
    'results.exportDerivative': ({ permitId, path }) => results.exportDerivative(permitId, path),
    'royalties.get': () => royalties(ctx),
    'royalties.settle': ({ grantId }) => settleGrant(ctx, grantId),
    'royalties.claim': () => claim(ctx),
    'royalties.claimDonor': ({ datasetId }) => claimDonor(ctx, datasetId),
    'consent.importReceipt': ({ path }) => importReceipt(ctx, path),
    'consent.list': () => listConsent(ctx),
    'consent.withdraw': ({ datasetId }) => withdrawConsent(ctx, datasetId),
    'consent.restore': ({ datasetId }) => restoreConsent(ctx, datasetId),
    'audit.list': (request) => listAudit(ctx, request),
    'audit.verify': ({ id }) => verifyAudit(ctx, id),
    'tickets.request': (request) => tickets.request(request),
    'tickets.list': () => tickets.list(),
    'objects.fetch': (request) => tickets.fetch(request),
    'results.keySwitch': (request) => issueKeySwitch(ctx, request),
    'bundles.decrypt': ({ path }) => decryptBundleFile(ctx, path),
    'bundles.list': () => listBundles(ctx),
    'bundles.verify': ({ permitId }) => verifyBundle(ctx, permitId),
  };
  return {
    context: ctx,
    results,
    handlers,
    onChainEvent(event) {
      if (event.contract === 'DataAccess' && event.name === 'JobResultPosted') {
        const permitId = Number(event.args.permitId);
        if (Number.isSafeInteger(permitId) && permitId > 0) results.onJobResult(permitId);
      }
    },
    close() {
      ctx.close();
    },
  };
}
