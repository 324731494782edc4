import { type JsonRpcProvider, type Signer, Wallet, encodeBytes32String } from 'ethers';
import { type CosContractAddresses, connectCosContracts } from '../../shared/contracts';

/**
 * The devnet's operator accounts: anvil's default mnemonic accounts #1 and #2, so the gateway and the
 * orchestrator never race the deployer (or each other) on nonces. Public test keys, devnet only.
 */
export const DEVNET_OPERATOR_KEYS = {
  gateway: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  orchestrator: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const;

export const DEVNET_OPERATORS = {
  gateway: new Wallet(DEVNET_OPERATOR_KEYS.gateway).address,
  orchestrator: new Wallet(DEVNET_OPERATOR_KEYS.orchestrator).address,
} as const;

/** The region the devnet orchestrator is attested in. */
export const DEVNET_ORCHESTRATOR_REGION = 'CH';

/** A fresh attestation is valid this long; one with less than RENEW_BEFORE left is renewed on start. */
export const REGION_VALIDITY_SECONDS = 365 * 86_400;
export const REGION_RENEW_BEFORE_SECONDS = 30 * 86_400;

export const REGION_ATTESTATION_TYPES = {
  RegionAttestation: [
    { name: 'sbtId', type: 'uint256' },
    { name: 'regionCode', type: 'bytes2' },
    { name: 'validUntil', type: 'uint40' },
    { name: 'attestedAt', type: 'uint40' },
  ],
};

/** `"CH"` → `0x4348` (ISO 3166-1 alpha-2 as bytes2). */
export function regionCode(alpha2: string): string {
  if (!/^[A-Z]{2}$/.test(alpha2)) throw new Error(`not an ISO 3166-1 alpha-2 code: ${alpha2}`);
  return encodeBytes32String(alpha2).slice(0, 6);
}

/**
 * Makes sure `account` holds a current region attestation for `alpha2`, signed (EIP-712) by `oracle`
 * (an account attested REGION_ORACLE) and submitted by it. Renews it when it expires within
 * REGION_RENEW_BEFORE_SECONDS. Returns whether a new attestation was submitted.
 */
export async function ensureRegionAttestation(options: {
  provider: JsonRpcProvider;
  contracts: CosContractAddresses;
  chainId: number;
  oracle: Signer;
  account: string;
  alpha2: string;
  validitySeconds?: number;
}): Promise<boolean> {
  const { provider, oracle } = options;
  const identity = connectCosContracts(options.contracts, oracle).IdentitySBT;
  const sbtId = await identity.sbtOf(options.account);
  if (sbtId === 0n) throw new Error(`devnet: ${options.account} holds no identity token to attest a region for`);
  const code = regionCode(options.alpha2);
  const latest = await provider.getBlock('latest');
  if (!latest) throw new Error('devnet: no latest block');
  const now = BigInt(latest.timestamp);
  const current = await identity.identityOf(sbtId, { blockTag: 'latest' });
  if (
    current.regionCode.toLowerCase() === code &&
    current.regionValidUntil > now + BigInt(REGION_RENEW_BEFORE_SECONDS)
  ) {
    return false;
  }
  const attestation = {
    sbtId,
    regionCode: code,
    validUntil: now + BigInt(options.validitySeconds ?? REGION_VALIDITY_SECONDS),
    attestedAt: now,
  };
  const domain = {
    name: 'COS Identity',
    version: '1',
    chainId: options.chainId,
    verifyingContract: options.contracts.IdentitySBT,
  };
  const signature = await oracle.signTypedData(domain, REGION_ATTESTATION_TYPES, attestation);
  const receipt = await (await identity.attestRegion(attestation, signature)).wait();
  if (!receipt || receipt.status !== 1) throw new Error('devnet: attestRegion failed');
  return true;
}
