/**
 * Deploys the contracts with contracts/script/deploy.ts on a real anvil and walks one grant through its life with
 * the generated bindings: request -> grant -> canAccess -> fund -> recordUse -> issueJobPermit -> postJobResult ->
 * settle -> claim -> revoke -> refund, checking every event and balance exactly.
 */
import {
  type ContractTransactionResponse,
  JsonRpcProvider,
  type JsonRpcSigner,
  TypedDataEncoder,
  getAddress,
  id,
  parseUnits,
} from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALGORITHM_IDS,
  ALGORITHMS,
  BurnAuth,
  type CosContracts,
  type CosEvent,
  GrantStatus,
  OP,
  ROLE,
  buildConsentTree,
  connectCosContracts,
  decodeCosError,
  decodeCosEvent,
  revertDataOf,
} from '../../shared/contracts';
import { type DeployedContracts, deployContracts } from '../script/deploy';
import { startAnvil, type Anvil } from '../../services/devnet/anvil';

const FEE = parseUnits('2', 18);
const PURPOSE = id('cos.purpose:DUO:0000006 HMB; cardiometabolic GWAS');
const TERMS = id('cos.terms:v1 key switching allowed');
const CH = '0x4348';

let anvil: Anvil;
let provider: JsonRpcProvider;
let addresses: DeployedContracts;
const log: string[] = [];

/** The accounts of anvil's default mnemonic, by role. */
const signers = {} as Record<
  'deployer' | 'gateway' | 'orchestrator' | 'steward' | 'lab' | 'donorA' | 'donorB' | 'treasury',
  JsonRpcSigner
>;

function as(signer: JsonRpcSigner): CosContracts {
  return connectCosContracts(addresses, signer);
}

/** Sends, waits, and returns the decoded events of the COS contracts in the receipt. */
async function events(tx: Promise<ContractTransactionResponse>): Promise<CosEvent[]> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error('no receipt');
  return receipt.logs.map((entry) => decodeCosEvent(addresses, entry)).filter((e): e is CosEvent => e !== null);
}

function only<N extends CosEvent['name']>(list: CosEvent[], name: N): Extract<CosEvent, { name: N }>['args'] {
  const found = list.filter((event) => event.name === name);
  expect(found, `${name} events`).toHaveLength(1);
  return found[0]!.args as Extract<CosEvent, { name: N }>['args'];
}

/**
 * The custom error a simulated call reverts with. (ethers answers an identical request from a 250 ms cache, so the
 * checks below vary an argument where the same call was just made with other state.)
 */
async function revertOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const data = revertDataOf(error);
    return data ? decodeCosError(data) : null;
  }
  throw new Error('expected a revert');
}

beforeAll(async () => {
  anvil = await startAnvil();
  provider = new JsonRpcProvider(anvil.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 50 });
  const names = ['deployer', 'gateway', 'orchestrator', 'steward', 'lab', 'donorA', 'donorB', 'treasury'] as const;
  for (const [index, name] of names.entries()) signers[name] = await provider.getSigner(index);
  addresses = await deployContracts(signers.deployer, {
    platformTreasury: await signers.treasury.getAddress(),
    log: (line) => log.push(line),
    devRoles: {
      gateway: await signers.gateway.getAddress(),
      orchestrator: await signers.orchestrator.getAddress(),
      regionOracle: await signers.orchestrator.getAddress(),
    },
  });
});

afterAll(async () => {
  provider?.destroy();
  await anvil?.stop();
});

describe('deployContracts', () => {
  it('deploys, wires and configures every contract', async () => {
    for (const address of Object.values(addresses)) {
      expect(address).toBe(getAddress(address));
      expect(await provider.getCode(address)).not.toBe('0x');
    }
    expect(Object.keys(addresses)).toEqual(['CosToken', 'IdentitySBT', 'DatasetRegistry', 'DataAccess', 'Settlement']);
    const c = as(signers.deployer);
    expect(await c.DataAccess.settlement()).toBe(addresses.Settlement);
    expect(await c.DatasetRegistry.consentHook()).toBe(addresses.Settlement);
    expect(await c.Settlement.platformTreasury()).toBe(await signers.treasury.getAddress());
    expect(await c.DataAccess.algorithmIds()).toEqual([...ALGORITHM_IDS]);
    const [open, roles] = await c.IdentitySBT.selfRegistration();
    expect(open).toBe(true);
    expect(roles).toBe(BigInt(ROLE.STEWARD | ROLE.DONOR | ROLE.LAB));
    expect(await c.CosToken.faucetAmount()).toBe(parseUnits('1000', 18));
    // The gateway got token 1; orchestrator and region oracle were merged on token 2.
    expect(await c.IdentitySBT.rolesOf(await signers.gateway.getAddress())).toEqual([1n, BigInt(ROLE.GATEWAY)]);
    expect(await c.IdentitySBT.rolesOf(await signers.orchestrator.getAddress())).toEqual([
      2n,
      BigInt(ROLE.ORCHESTRATOR | ROLE.REGION_ORACLE),
    ]);
    expect(log.some((line) => line.startsWith('deploy: Settlement at '))).toBe(true);
  });
});

describe('a grant from request to refund, through the generated bindings', () => {
  it('runs the whole flow with exact events and balances', async () => {
    const [deployer, steward, lab, donorA, treasury] = await Promise.all(
      (['deployer', 'steward', 'lab', 'donorA', 'treasury'] as const).map((n) => signers[n].getAddress()),
    );

    // Identities: the issuer issues the steward's token, lab and donors register themselves (devnet policy).
    const issued = only(
      await events(as(signers.deployer).IdentitySBT.issue(steward, ROLE.STEWARD, BurnAuth.Both)),
      'Issued',
    );
    expect(issued).toEqual({ from: deployer, to: steward, tokenId: 3n, burnAuth: BigInt(BurnAuth.Both) });
    await (await as(signers.lab).IdentitySBT.register(ROLE.LAB)).wait();
    await (await as(signers.donorA).IdentitySBT.register(ROLE.DONOR)).wait();
    await (await as(signers.donorB).IdentitySBT.register(ROLE.DONOR)).wait();
    const [labSbt, donorASbt, donorBSbt] = [4n, 5n, 6n];
    expect(await as(signers.lab).IdentitySBT.sbtOf(lab)).toBe(labSbt);

    // Dataset with two donors in its consent tree.
    const tree = buildConsentTree([
      { donorSbtId: donorASbt, consentCommitment: id('donor A consent, salted') },
      { donorSbtId: donorBSbt, consentCommitment: id('donor B consent, salted') },
    ]);
    const registered = only(
      await events(
        as(signers.steward).DatasetRegistry.registerDataset({
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
      ),
      'DatasetRegistered',
    );
    expect(registered.datasetId).toBe(1n);
    expect(registered.owner).toBe(steward);
    expect(
      await as(signers.lab).DatasetRegistry.verifyDonor(1, donorASbt, id('donor A consent, salted'), tree.proofs[0]!),
    ).toBe(true);

    // Request.
    const requested = only(
      await events(as(signers.lab).DataAccess.request(1, OP.READ | OP.COMPUTE, PURPOSE, 6)),
      'Requested',
    );
    expect(requested).toEqual({
      grantId: 1n,
      datasetId: 1n,
      granteeSbtId: labSbt,
      requester: lab,
      opMask: BigInt(OP.READ | OP.COMPUTE),
      purposeHash: PURPOSE,
      purposeCodes: 6n,
    });

    // Grant with every clause.
    const now = BigInt((await provider.getBlock('latest'))!.timestamp);
    const terms = {
      opMask: OP.READ | OP.COMPUTE,
      notBefore: now,
      expiry: now + 30n * 86_400n,
      maxRuns: 5,
      rateWindow: 3_600,
      rateMaxRuns: 4,
      regionCode: CH,
      epsilonCap: 3_000_000,
      deltaCap: 10n ** 12n,
      termsHash: TERMS,
      keySwitchAllowed: true,
      feePerUse: FEE,
      ownerBps: 6_000,
      donorsBps: 3_000,
      platformBps: 1_000,
    };
    const granted = only(await events(as(signers.steward).DataAccess.grant(1, terms)), 'Granted');
    expect(granted.grantId).toBe(1n);
    expect(granted.terms.regionCode).toBe(CH);
    expect(granted.terms.feePerUse).toBe(FEE);
    const grant = await as(signers.lab).DataAccess.getGrant(1);
    expect(grant.status).toBe(BigInt(GrantStatus.Granted));
    expect(grant.maxRuns).toBe(5n);

    // Not usable yet: no prepaid run, then no region attestation.
    const c = as(signers.lab);
    expect(await c.DataAccess.canAccess(labSbt, lab, 1, OP.READ)).toBe(false);
    expect(await revertOf(c.DataAccess.checkAccess(labSbt, lab, 1, OP.READ))).toMatchObject({
      name: 'DataAccessEscrowExhausted',
      args: { grantId: 1n },
    });
    await (await c.CosToken.drip()).wait();
    await (await c.CosToken.approve(addresses.Settlement, 3n * FEE)).wait();
    const funded = only(await events(c.Settlement.fundGrant(1, 3)), 'GrantFunded');
    expect(funded).toEqual({ grantId: 1n, payer: lab, runs: 3n, amount: 3n * FEE });
    expect(await revertOf(c.DataAccess.checkAccess(labSbt, lab, 1, OP.COMPUTE))).toMatchObject({
      name: 'DataAccessRegionNotAttested',
    });

    // The region oracle signs an EIP-712 attestation; anyone relays it.
    const oracle = as(signers.orchestrator);
    const attest = async (sbtId: bigint) => {
      const attestation = { sbtId, regionCode: CH, validUntil: now + 365n * 86_400n, attestedAt: now };
      const domain = { name: 'COS Identity', version: '1', chainId: 31337, verifyingContract: addresses.IdentitySBT };
      const types = {
        RegionAttestation: [
          { name: 'sbtId', type: 'uint256' },
          { name: 'regionCode', type: 'bytes2' },
          { name: 'validUntil', type: 'uint40' },
          { name: 'attestedAt', type: 'uint40' },
        ],
      };
      expect(TypedDataEncoder.hash(domain, types, attestation)).toBe(
        await oracle.IdentitySBT.regionAttestationDigest(attestation),
      );
      const signature = await signers.orchestrator.signTypedData(domain, types, attestation);
      await (await c.IdentitySBT.attestRegion(attestation, signature)).wait();
    };
    await attest(labSbt);
    expect(await c.DataAccess.canAccess(labSbt, lab, 1, OP.READ)).toBe(true);
    expect(await c.DataAccess.canAccess(labSbt, lab, 1, OP.EXPORT)).toBe(false);
    expect(await c.DataAccess.canAccess(labSbt, steward, 1, OP.READ)).toBe(false);

    // A ticketed read recorded by the gateway.
    const ticket = id('ticket 1');
    const digest = id('object sha-256');
    const used = only(await events(as(signers.gateway).DataAccess.recordUse(1, OP.READ, ticket, digest)), 'Used');
    expect(used).toEqual({
      grantId: 1n,
      datasetId: 1n,
      granteeSbtId: labSbt,
      op: BigInt(OP.READ),
      runIndex: 1n,
      ticketCommitment: ticket,
      objectDigest: digest,
      gatewaySbtId: 1n,
    });

    // A compute permit charges a run and the budget.
    const params = id('phenotype=case; snps=1..131072');
    const permit = only(
      await events(
        c.DataAccess.issueJobPermit(1, ALGORITHMS.GWAS_ALLELIC_CHISQ.id, PURPOSE, 1_500_000, 10n ** 9n, params),
      ),
      'JobPermitIssued',
    );
    expect(permit).toEqual({
      permitId: 1n,
      grantId: 1n,
      datasetId: 1n,
      granteeSbtId: labSbt,
      algorithmId: ALGORITHMS.GWAS_ALLELIC_CHISQ.id,
      paramsHash: params,
      epsilon: 1_500_000n,
      delta: 10n ** 9n,
      regionCode: CH,
      runIndex: 2n,
    });
    const spent = await c.DataAccess.getGrant(1);
    expect([spent.runsUsed, spent.epsilonSpent, spent.deltaSpent]).toEqual([2n, 1_500_000n, 10n ** 9n]);

    // The orchestrator must itself be attested in the grant's region to post the result.
    const commitment = id('encrypted result');
    const resultURI = 'cos://gateway/results/1';
    expect(await revertOf(oracle.DataAccess.postJobResult.staticCall(1, commitment, `${resultURI}?early`))).toEqual({
      name: 'DataAccessOrchestratorOutOfRegion',
      signature: 'DataAccessOrchestratorOutOfRegion(uint256,bytes2)',
      args: { permitId: 1n, regionCode: CH },
    });
    await attest(2n);
    expect(await c.IdentitySBT.isInRegion(2n, CH)).toBe(true);
    const posted = only(await events(oracle.DataAccess.postJobResult(1, commitment, resultURI)), 'JobResultPosted');
    expect(posted).toEqual({
      permitId: 1n,
      grantId: 1n,
      orchestratorSbtId: 2n,
      resultCommitment: commitment,
      resultURI,
    });
    const stored = await c.DataAccess.getJobPermit(1);
    expect(stored.resultCommitment).toBe(commitment);
    expect(stored.algorithmId).toBe(ALGORITHMS.GWAS_ALLELIC_CHISQ.id);
    expect(await revertOf(oracle.DataAccess.postJobResult.staticCall(1, commitment, resultURI))).toMatchObject({
      name: 'DataAccessResultAlreadyPosted',
      args: { permitId: 1n },
    });

    // Settlement: 2 runs x 2 COS split 60 / 30 / 10, paid by pull.
    const settled = only(await events(as(signers.deployer).Settlement.settle(1)), 'Settled');
    expect(settled).toEqual({
      grantId: 1n,
      datasetId: 1n,
      runs: 2n,
      ownerReceiver: steward,
      ownerAmount: parseUnits('2.4', 18),
      donorsAmount: parseUnits('1.2', 18),
      platformAmount: parseUnits('0.4', 18),
    });
    const claimed = only(await events(as(signers.steward).Settlement.claim()), 'RoyaltyClaimed');
    expect(claimed).toEqual({ account: steward, amount: parseUnits('2.4', 18) });
    expect(await c.CosToken.balanceOf(steward)).toBe(parseUnits('2.4', 18));
    await (await as(signers.treasury).Settlement.claim()).wait();
    expect(await c.CosToken.balanceOf(treasury)).toBe(parseUnits('0.4', 18));
    const donorClaim = only(
      await events(
        as(signers.donorA).Settlement.claimDonorRoyalty(1, donorASbt, id('donor A consent, salted'), tree.proofs[0]!),
      ),
      'DonorRoyaltyClaimed',
    );
    expect(donorClaim).toEqual({
      datasetId: 1n,
      donorSbtId: donorASbt,
      account: donorA,
      amount: parseUnits('0.6', 18),
    });

    // Revocation bites at once; the unused prepaid run goes back to the lab.
    const revoked = only(await events(as(signers.steward).DataAccess.revoke(1)), 'Revoked');
    expect(revoked).toEqual({ grantId: 1n, datasetId: 1n, granteeSbtId: labSbt, runsUsed: 2n });
    expect(await c.DataAccess.canAccess(labSbt, lab, 1, OP.READ)).toBe(false);
    expect(
      await revertOf(as(signers.gateway).DataAccess.recordUse.staticCall(1, OP.READ, id('ticket 2'), digest)),
    ).toMatchObject({
      name: 'DataAccessGrantRevoked',
    });
    const refunded = only(await events(c.Settlement.refund(1)), 'EscrowRefunded');
    expect(refunded).toEqual({ grantId: 1n, payer: lab, runs: 1n, amount: FEE });
    await (await c.Settlement.claim()).wait();
    expect(await c.CosToken.balanceOf(lab)).toBe(parseUnits('1000', 18) - 3n * FEE + FEE);

    // What is left in the settlement is donor B's unclaimed share, and nothing else.
    expect(await c.CosToken.balanceOf(addresses.Settlement)).toBe(parseUnits('0.6', 18));
    expect(await c.Settlement.donorClaimable(1, donorBSbt)).toBe(parseUnits('0.6', 18));
  });
});
