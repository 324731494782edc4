/**
 * Deploys and wires the COS contracts with ethers v6 from the committed bytecode and ABIs in shared/contracts
 * (no forge at run time). The devnet calls this on first start; for a real network call it with the operator's
 * signer and write the returned addresses into a deployment file (see README, "Running against a real network").
 */
import { type ContractTransactionResponse, type Signer, getAddress, parseUnits } from 'ethers';
import { ALGORITHM_IDS, BurnAuth, ROLE } from '../../shared/contracts';
import {
  deployCosToken,
  deployDataAccess,
  deployDatasetRegistry,
  deployIdentitySBT,
  deploySettlement,
} from '../../shared/contracts/factories';

/** Checksummed address of each deployed contract, by contract name (the keys of a deployment file's `contracts`). */
export interface DeployedContracts {
  CosToken: string;
  IdentitySBT: string;
  DatasetRegistry: string;
  DataAccess: string;
  Settlement: string;
}

export interface DeployOptions {
  /** Receives the platform's share of every fee. Default: the deployer. */
  platformTreasury?: string;
  /** Progress, one line per step. */
  log?: (line: string) => void;
  /**
   * Devnet only: accounts attested as gateway, orchestrator and region oracle (one identity SBT per account; an
   * account named for several roles gets them all on one token). Leave out on a real network, where the issuer
   * attests the operators' own accounts.
   */
  devRoles?: { gateway?: string; orchestrator?: string; regionOracle?: string };
  /**
   * Roles an account may attest for itself by self-registration (IdentitySBT.register). Default: STEWARD | DONOR |
   * LAB when devRoles is given (a devnet: the app onboards on its own), 0 otherwise (closed: the issuer issues).
   */
  selfRegistrationRoles?: number;
  /** COS (18 decimals) per faucet drip. Default: 1,000 COS when devRoles is given, 0 (no faucet) otherwise. */
  faucetAmount?: bigint;
  /** Algorithm ids job permits may name. Default: every id in shared/contracts ALGORITHM_IDS. */
  algorithmIds?: readonly string[];
}

/**
 * Deploys CosToken, IdentitySBT, DatasetRegistry, DataAccess and Settlement with `deployer` as owner and issuer,
 * wires them (DataAccess -> Settlement, DatasetRegistry consent hook -> Settlement), registers the algorithms, sets
 * self-registration and, on a devnet, the operator roles. Resolves once every transaction is mined.
 */
export async function deployContracts(deployer: Signer, options: DeployOptions = {}): Promise<DeployedContracts> {
  const log = options.log ?? (() => undefined);
  const admin = await deployer.getAddress();
  const devnet = options.devRoles !== undefined;
  const treasury = getAddress(options.platformTreasury ?? admin);
  const faucetAmount = options.faucetAmount ?? (devnet ? parseUnits('1000', 18) : 0n);
  const selfRegistrationRoles = options.selfRegistrationRoles ?? (devnet ? ROLE.STEWARD | ROLE.DONOR | ROLE.LAB : 0);

  const send = async (label: string, tx: Promise<ContractTransactionResponse>): Promise<void> => {
    const receipt = await (await tx).wait();
    if (!receipt || receipt.status !== 1) throw new Error(`deploy: ${label} failed`);
    log(`deploy: ${label} (gas ${receipt.gasUsed})`);
  };

  const token = await deployCosToken(deployer, admin, faucetAmount);
  log(`deploy: CosToken at ${await token.getAddress()}`);
  const identity = await deployIdentitySBT(deployer, admin);
  log(`deploy: IdentitySBT at ${await identity.getAddress()}`);
  const registry = await deployDatasetRegistry(deployer, identity, admin);
  log(`deploy: DatasetRegistry at ${await registry.getAddress()}`);
  const access = await deployDataAccess(deployer, identity, registry, admin);
  log(`deploy: DataAccess at ${await access.getAddress()}`);
  const settlement = await deploySettlement(deployer, token, access, registry, identity, treasury, admin);
  log(`deploy: Settlement at ${await settlement.getAddress()}`);

  await send('DataAccess.setSettlement', access.setSettlement(settlement));
  await send('DatasetRegistry.setConsentHook', registry.setConsentHook(settlement));
  for (const algorithmId of options.algorithmIds ?? ALGORITHM_IDS) {
    await send(`DataAccess.registerAlgorithm ${algorithmId}`, access.registerAlgorithm(algorithmId));
  }
  if (selfRegistrationRoles !== 0) {
    await send(
      `IdentitySBT.setSelfRegistration roles ${selfRegistrationRoles}`,
      identity.setSelfRegistration(true, selfRegistrationRoles),
    );
  }

  // One identity token per account: merge the roles of an account named more than once.
  const devRoles = new Map<string, number>();
  const addRole = (account: string | undefined, role: number) => {
    if (!account) return;
    const key = getAddress(account);
    devRoles.set(key, (devRoles.get(key) ?? 0) | role);
  };
  addRole(options.devRoles?.gateway, ROLE.GATEWAY);
  addRole(options.devRoles?.orchestrator, ROLE.ORCHESTRATOR);
  addRole(options.devRoles?.regionOracle, ROLE.REGION_ORACLE);
  for (const [account, roles] of devRoles) {
    const sbtId = await identity.sbtOf(account);
    if (sbtId === 0n) {
      await send(`IdentitySBT.issue ${account} roles ${roles}`, identity.issue(account, roles, BurnAuth.Both));
    } else {
      await send(`IdentitySBT.attestRoles ${account} roles ${roles}`, identity.attestRoles(sbtId, roles));
    }
  }

  return {
    CosToken: getAddress(await token.getAddress()),
    IdentitySBT: getAddress(await identity.getAddress()),
    DatasetRegistry: getAddress(await registry.getAddress()),
    DataAccess: getAddress(await access.getAddress()),
    Settlement: getAddress(await settlement.getAddress()),
  };
}
