/**
 * A real chain for the watcher's integration tests and benchmark: anvil, the contracts deployed with
 * contracts/script/deploy.ts, and helpers that send real transactions through the generated bindings.
 */
import {
  type ContractTransactionResponse,
  JsonRpcProvider,
  type JsonRpcSigner,
  id,
  parseUnits,
  toQuantity,
} from 'ethers';
import { deployContracts } from '../../../contracts/script/deploy';
import { startAnvil, type Anvil } from '../../../services/devnet/anvil';
import {
  ALGORITHMS,
  BurnAuth,
  type CosContractAddresses,
  type CosContracts,
  OP,
  ROLE,
  buildConsentTree,
  connectCosContracts,
} from '../../../shared/contracts';

export const ACCOUNTS = [
  'deployer',
  'gateway',
  'orchestrator',
  'steward',
  'lab',
  'donorA',
  'donorB',
  'treasury',
] as const;
export type AccountName = (typeof ACCOUNTS)[number];

export interface DevChain {
  anvil: Anvil;
  provider: JsonRpcProvider;
  chainId: number;
  contracts: CosContractAddresses;
  /** First block of the deployment (the watcher's startBlock). */
  startBlock: number;
  signers: Record<AccountName, JsonRpcSigner>;
  as(name: AccountName): CosContracts;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

export async function startDevChain(options: { platformTreasury?: AccountName } = {}): Promise<DevChain> {
  const anvil = await startAnvil({ chainId: 31337 });
  const provider = new JsonRpcProvider(anvil.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 50 });
  const signers = {} as Record<AccountName, JsonRpcSigner>;
  for (const [index, name] of ACCOUNTS.entries()) signers[name] = await provider.getSigner(index);
  const startBlock = (await provider.getBlockNumber()) + 1;
  const contracts = await deployContracts(signers.deployer, {
    platformTreasury: await signers[options.platformTreasury ?? 'treasury'].getAddress(),
    devRoles: {
      gateway: await signers.gateway.getAddress(),
      orchestrator: await signers.orchestrator.getAddress(),
      regionOracle: await signers.orchestrator.getAddress(),
    },
  });
  const rpc = async <T>(method: string, params: unknown[] = []) => (await provider.send(method, params)) as T;
  return {
    anvil,
    provider,
    chainId: 31337,
    contracts,
    startBlock,
    signers,
    as: (name) => connectCosContracts(contracts, signers[name]),
    rpc,
    async stop() {
      provider.destroy();
      await anvil.stop();
    },
  };
}

/** The chain's head, asked directly (ethers' getBlockNumber answers from a short cache). */
export async function headBlock(chain: DevChain): Promise<number> {
  return Number(await chain.rpc<string>('eth_blockNumber'));
}

export async function mined(tx: Promise<{ wait(): Promise<{ status: number | null } | null> }>): Promise<void> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error('transaction failed');
}

export const PURPOSE = id('cos.purpose:DUO:0000006 HMB; watcher test');
export const DONOR_A_CONSENT = id('donor A consent, salted');
export const DONOR_B_CONSENT = id('donor B consent, salted');

/** sbtIds after deployContracts with devRoles: gateway 1, orchestrator 2; the flow below issues 3 to 6. */
export const SBT = { gateway: 1n, orchestrator: 2n, steward: 3n, lab: 4n, donorA: 5n, donorB: 6n } as const;

/**
 * Identities, a dataset with two donors, a fee-bearing grant used once and by one job permit with its result and a
 * key switch, settled and claimed, a consent withdrawal, a donor claim, revocation and refund: every projection.
 */
export async function runGrantFlow(chain: DevChain): Promise<void> {
  const { as } = chain;
  const address = (name: AccountName) => chain.signers[name].getAddress();
  await mined(as('deployer').IdentitySBT.issue(await address('steward'), ROLE.STEWARD, BurnAuth.Both));
  await mined(as('lab').IdentitySBT.register(ROLE.LAB));
  await mined(as('donorA').IdentitySBT.register(ROLE.DONOR));
  await mined(as('donorB').IdentitySBT.register(ROLE.DONOR));
  await mined(as('lab').IdentitySBT.publishFheKey(id('lab public key')));

  const tree = buildConsentTree([
    { donorSbtId: SBT.donorA, consentCommitment: DONOR_A_CONSENT },
    { donorSbtId: SBT.donorB, consentCommitment: DONOR_B_CONSENT },
  ]);
  await mined(
    as('steward').DatasetRegistry.registerDataset({
      manifestCommitment: id('manifest'),
      resourceURI: 'cos://gateway/datasets/cohort-1/manifest.json',
      fheParamsHash: id('BFV N=8192'),
      fheKeyFingerprint: id('steward public key'),
      consentCodes: 6,
      consentRoot: tree.root,
      donorCount: 2,
      royaltyReceiver: '0x0000000000000000000000000000000000000000',
      royaltyBps: 6000,
    }),
  );
  await mined(as('lab').DataAccess.request(1, OP.READ | OP.COMPUTE, PURPOSE, 6));
  const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp);
  const fee = parseUnits('2', 18);
  await mined(
    as('steward').DataAccess.grant(1, {
      opMask: OP.READ | OP.COMPUTE,
      notBefore: now,
      expiry: now + 30n * 86_400n,
      maxRuns: 5,
      rateWindow: 3_600,
      rateMaxRuns: 4,
      regionCode: '0x0000',
      epsilonCap: 3_000_000,
      deltaCap: 10n ** 12n,
      termsHash: id('cos.terms:v1 key switching allowed'),
      keySwitchAllowed: true,
      feePerUse: fee,
      ownerBps: 6_000,
      donorsBps: 3_000,
      platformBps: 1_000,
    }),
  );
  await mined(as('lab').CosToken.drip());
  await mined(as('lab').CosToken.approve(chain.contracts.Settlement, 3n * fee));
  await mined(as('lab').Settlement.fundGrant(1, 3));
  await mined(as('gateway').DataAccess.recordUse(1, OP.READ, id('ticket 1'), id('object digest')));
  await mined(
    as('lab').DataAccess.issueJobPermit(
      1,
      ALGORITHMS.GWAS_ALLELIC_CHISQ.id,
      PURPOSE,
      1_500_000,
      10n ** 9n,
      id('phenotype=case'),
    ),
  );
  await mined(as('orchestrator').DataAccess.postJobResult(1, id('encrypted result'), 'cos://gateway/results/1'));
  await mined(as('steward').DataAccess.recordKeySwitch(1, id('key-switch share')));
  await mined(as('deployer').Settlement.settle(1));
  await mined(as('steward').Settlement.claim());
  await mined(as('donorA').DatasetRegistry.withdrawConsent(1, SBT.donorA, DONOR_A_CONSENT, tree.proofs[0]!));
  await mined(as('donorB').Settlement.claimDonorRoyalty(1, SBT.donorB, DONOR_B_CONSENT, tree.proofs[1]!));
  await mined(as('steward').DataAccess.revoke(1));
  await mined(as('lab').Settlement.refund(1));
  await mined(as('lab').Settlement.claim());
  await mined(as('treasury').Settlement.claim());
}

/**
 * A steward, a lab, a dataset and a fee-free READ grant with room for `maxRuns` uses: the cheapest source of many
 * events (DataAccess.recordUses emits one Used per use). Returns the grant id.
 */
export async function openUsageGrant(chain: DevChain, maxRuns = 4_000_000_000): Promise<bigint> {
  const { as } = chain;
  const steward = await chain.signers.steward.getAddress();
  const lab = await chain.signers.lab.getAddress();
  const identity = as('deployer').IdentitySBT;
  if ((await identity.sbtOf(steward)) === 0n) await mined(identity.issue(steward, ROLE.STEWARD, BurnAuth.Both));
  if ((await identity.sbtOf(lab)) === 0n) await mined(as('lab').IdentitySBT.register(ROLE.LAB));
  await mined(
    as('steward').DatasetRegistry.registerDataset({
      manifestCommitment: id(`usage manifest ${Date.now()}`),
      resourceURI: 'cos://gateway/datasets/usage/manifest.json',
      fheParamsHash: id('BFV N=8192'),
      fheKeyFingerprint: id('steward public key'),
      consentCodes: 2,
      consentRoot: id('usage consent root'),
      donorCount: 1,
      royaltyReceiver: '0x0000000000000000000000000000000000000000',
      royaltyBps: 0,
    }),
  );
  const datasetId = await as('steward').DatasetRegistry.datasetCount();
  await mined(as('lab').DataAccess.request(datasetId, OP.READ, PURPOSE, 2));
  const grantId = await as('lab').DataAccess.grantCount();
  const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp);
  await mined(
    as('steward').DataAccess.grant(grantId, {
      opMask: OP.READ,
      notBefore: now,
      expiry: now + 365n * 86_400n,
      maxRuns,
      rateWindow: 0,
      rateMaxRuns: 0,
      regionCode: '0x0000',
      epsilonCap: 0,
      deltaCap: 0,
      termsHash: id('cos.terms:v1 read only'),
      keySwitchAllowed: false,
      feePerUse: 0,
      ownerBps: 10_000,
      donorsBps: 0,
      platformBps: 0,
    }),
  );
  return grantId;
}

/** Records `count` READ uses of `grantId` through the gateway, `perTx` per DataAccess.recordUses transaction. */
export async function recordUses(chain: DevChain, grantId: bigint, count: number, perTx = 500): Promise<void> {
  const gateway = chain.as('gateway').DataAccess;
  const pending: Promise<ContractTransactionResponse>[] = [];
  let nonce = await chain.signers.gateway.getNonce();
  for (let done = 0; done < count; done += perTx) {
    const uses = Array.from({ length: Math.min(perTx, count - done) }, (_, i) => ({
      grantId,
      op: OP.READ,
      ticketCommitment: id(`ticket ${grantId} ${done + i}`),
      objectDigest: id(`object ${done + i}`),
    }));
    // Explicit nonces and gas let many transactions go out without waiting for each receipt.
    pending.push(gateway.recordUses(uses, { nonce: nonce++, gasLimit: 60_000 + uses.length * 40_000 }));
  }
  const sent = await Promise.all(pending);
  // Automine mines when a transaction arrives; ones that did not fit that block's gas wait for the next block.
  while (Number((await chain.rpc<{ pending: string }>('txpool_status')).pending) > 0) await chain.rpc('evm_mine');
  for (const tx of sent) await mined(Promise.resolve(tx));
}

/** Deploys a contract that emits one LOG1 with `topic` and empty data on every call (a log no ABI explains). */
export async function deployLogEmitter(chain: DevChain, topic: string): Promise<string> {
  const runtime = `7f${topic.slice(2)}60006000a100`;
  const initcode = `0x6027600c60003960276000f3${runtime}`;
  const tx = await chain.signers.deployer.sendTransaction({ data: initcode });
  const receipt = await tx.wait();
  if (!receipt?.contractAddress) throw new Error('log emitter not deployed');
  return receipt.contractAddress;
}

/** Every log of `addresses` from `fromBlock` to `toBlock` as eth_getLogs returns it: the ground truth. */
export async function chainLogs(
  chain: DevChain,
  addresses: string[],
  fromBlock: number,
  toBlock: number | 'latest' = 'latest',
): Promise<{ blockNumber: number; blockHash: string; logIndex: number }[]> {
  const logs = await chain.rpc<{ blockNumber: string; blockHash: string; logIndex: string }[]>('eth_getLogs', [
    {
      address: addresses,
      fromBlock: toQuantity(fromBlock),
      toBlock: toBlock === 'latest' ? 'latest' : toQuantity(toBlock),
    },
  ]);
  return logs.map((log) => ({
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash.toLowerCase(),
    logIndex: Number(log.logIndex),
  }));
}
