import { JsonRpcProvider, Wallet, toQuantity } from 'ethers';
import { z } from 'zod';
import {
  type CosContractAddresses,
  type CosContracts,
  connectCosContracts,
  dataAccessInterface,
  decodeCosError,
  decodeDataAccessEvent,
  revertDataOf,
} from '../../shared/contracts';
import type { PermitFacts } from './store';

/** A chain failure worth retrying (RPC down, timeout), as opposed to a definite answer. */
export class ChainUnavailableError extends Error {
  override readonly name = 'ChainUnavailableError';
}

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const rpcLogSchema = z.object({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  topics: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/)),
  data: hex,
  blockNumber: hex,
  transactionHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  removed: z.boolean().optional(),
});
const rpcLogsSchema = z.array(rpcLogSchema);

export const JOB_PERMIT_TOPIC = dataAccessInterface.getEvent('JobPermitIssued')!.topicHash;

export interface ChainConnection {
  provider: JsonRpcProvider;
  wallet: Wallet;
  contracts: CosContracts;
  address: string;
  chainId: number;
  destroy(): void;
}

/** A provider with ethers' 250 ms call cache off: the orchestrator's reads must see the state as it is now. */
export function connectChain(
  rpcUrl: string,
  chainId: number,
  addresses: CosContractAddresses,
  privateKey: string,
  pollingInterval = 500,
): ChainConnection {
  const provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval });
  const wallet = new Wallet(privateKey, provider);
  return {
    provider,
    wallet,
    contracts: connectCosContracts(addresses, wallet),
    address: wallet.address,
    chainId,
    destroy: () => provider.destroy(),
  };
}

/** Runs `call`; transport errors become ChainUnavailableError, reverts are passed through. */
export async function onChain<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (revertDataOf(error) !== null) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'CALL_EXCEPTION') throw error;
    throw new ChainUnavailableError(`${what}: ${(error as Error).message.slice(0, 200)}`, { cause: error });
  }
}

/** The custom error name of a revert (e.g. DataAccessResultAlreadyPosted), or null. */
export function revertName(error: unknown): string | null {
  const data = revertDataOf(error);
  return data ? (decodeCosError(data)?.name ?? null) : null;
}

export async function headBlock(provider: JsonRpcProvider): Promise<number> {
  const head = await onChain('eth_blockNumber', () => provider.send('eth_blockNumber', []) as Promise<unknown>);
  const parsed = hex.safeParse(head);
  if (!parsed.success) throw new ChainUnavailableError('eth_blockNumber returned a malformed value');
  return Number(BigInt(parsed.data));
}

/** JobPermitIssued events of `dataAccess` in [fromBlock, toBlock], validated and decoded. */
export async function fetchPermits(
  provider: JsonRpcProvider,
  dataAccess: string,
  fromBlock: number,
  toBlock: number,
): Promise<PermitFacts[]> {
  const raw = await onChain(
    'eth_getLogs',
    () =>
      provider.send('eth_getLogs', [
        {
          address: dataAccess,
          topics: [JOB_PERMIT_TOPIC],
          fromBlock: toQuantity(fromBlock),
          toBlock: toQuantity(toBlock),
        },
      ]) as Promise<unknown>,
  );
  const parsed = rpcLogsSchema.safeParse(raw);
  if (!parsed.success) throw new ChainUnavailableError('eth_getLogs returned malformed logs');
  const permits: PermitFacts[] = [];
  for (const log of parsed.data) {
    if (log.removed || log.address.toLowerCase() !== dataAccess.toLowerCase()) continue;
    const event = decodeDataAccessEvent(log);
    if (!event || event.name !== 'JobPermitIssued') continue;
    permits.push({
      permitId: event.args.permitId,
      grantId: event.args.grantId,
      datasetId: event.args.datasetId,
      granteeSbtId: event.args.granteeSbtId,
      algorithmId: event.args.algorithmId.toLowerCase(),
      paramsHash: event.args.paramsHash.toLowerCase(),
      regionCode: event.args.regionCode.toLowerCase(),
      blockNumber: Number(BigInt(log.blockNumber)),
      txHash: log.transactionHash.toLowerCase(),
    });
  }
  return permits;
}

const ZERO32 = '0x' + '0'.repeat(64);

/** The result already on chain for a permit, or null. */
export async function postedResult(contracts: CosContracts, permitId: bigint): Promise<string | null> {
  const permit = await onChain('DataAccess.getJobPermit', () => contracts.DataAccess.getJobPermit(permitId));
  return permit.resultCommitment === ZERO32 ? null : permit.resultCommitment.toLowerCase();
}

/**
 * Asks `isConsentWithdrawn` for each donor at `blockTag` (the permit's block: the consent state the
 * permit was issued under), `parallel` calls at a time. Returns the withdrawn sample indices.
 */
export async function withdrawnSamples(
  contracts: CosContracts,
  datasetId: bigint,
  donorConsentIds: readonly string[],
  blockTag: number,
  parallel = 16,
): Promise<Set<number>> {
  const withdrawn = new Set<number>();
  for (let start = 0; start < donorConsentIds.length; start += parallel) {
    const chunk = donorConsentIds.slice(start, start + parallel);
    const answers = await Promise.all(
      chunk.map((id) =>
        onChain('DatasetRegistry.isConsentWithdrawn', () =>
          contracts.DatasetRegistry.isConsentWithdrawn(datasetId, BigInt(id), { blockTag }),
        ),
      ),
    );
    answers.forEach((answer, i) => {
      if (answer === true) withdrawn.add(start + i);
    });
  }
  return withdrawn;
}
