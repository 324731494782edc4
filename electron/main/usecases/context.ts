import {
  AbstractSigner,
  type ContractTransactionResponse,
  type JsonRpcProvider,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import {
  COS_CONTRACT_NAMES,
  connectCosContracts,
  decodeCosError,
  revertDataOf,
  type CosContractAddresses,
  type CosContracts,
} from '../../../shared/contracts';
import type { Deployment } from '../../../shared/deployment';
import { GatewayClient } from '../../../shared/gateway/client';
import { AppError } from '../../../shared/ipc/errors';
import type { SqliteDatabase } from '../db';
import type { EventBus } from '../events/bus';
import type { FheEngine } from '../fhe';
import type { UnlockedProfile, Vault } from '../keys';

export interface UseCaseLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface CustodianDeps {
  dataDir: string;
  chainId: number;
  deployment: Deployment;
  provider: JsonRpcProvider;
  gatewayUrl: string | null;
  orchestratorUrl: string | null;
  vault: Vault;
  engine: FheEngine;
  db: SqliteDatabase;
  events: EventBus;
  logger: UseCaseLogger;
}

/** The unlocked profile the use cases act for, with its vault-backed signer on the network. */
export interface ActiveProfile {
  unlocked: UnlockedProfile;
  address: string;
  contracts: CosContracts;
  /** The vault signer with transactions sent one at a time, each with the node's pending nonce. */
  sender: SerialSender;
}

export class CustodianContext {
  readonly contracts: CosContracts;
  #active: ActiveProfile | null = null;

  readonly addresses: CosContractAddresses;

  constructor(readonly deps: CustodianDeps) {
    const missing = COS_CONTRACT_NAMES.filter((name) => !deps.deployment.contracts[name]);
    if (missing.length > 0) throw new Error(`The deployment file lacks ${missing.join(', ')}`);
    this.addresses = deps.deployment.contracts as CosContractAddresses;
    this.contracts = connectCosContracts(this.addresses, deps.provider);
  }

  get active(): ActiveProfile | null {
    return this.#active && !this.#active.unlocked.locked ? this.#active : null;
  }

  setActive(unlocked: UnlockedProfile | null): void {
    if (this.#active && this.#active.unlocked !== unlocked) this.#active.unlocked.lock();
    if (!unlocked) {
      this.#active = null;
      return;
    }
    const sender = new SerialSender(unlocked.signer.connect(this.deps.provider), this.deps.provider);
    this.#active = {
      unlocked,
      address: unlocked.profile.address,
      contracts: connectCosContracts(this.addresses, sender),
      sender,
    };
  }

  requireActive(): ActiveProfile {
    const active = this.active;
    if (!active) throw new AppError('FORBIDDEN', 'Unlock a profile first');
    return active;
  }

  #gateway: GatewayClient | null = null;

  gateway(): GatewayClient {
    if (!this.deps.gatewayUrl) throw new AppError('UNAVAILABLE', 'No gateway is configured (COS_GATEWAY_URL)');
    this.#gateway ??= new GatewayClient({
      baseUrl: this.deps.gatewayUrl,
      chainId: BigInt(this.deps.chainId),
      dataAccess: this.addresses.DataAccess,
    });
    return this.#gateway;
  }

  close(): void {
    this.setActive(null);
    this.#gateway?.close();
    this.#gateway = null;
  }

  /** The identity token of `address` on this network: sbtId 0 means none. */
  async identityOf(address: string): Promise<{ sbtId: number; roles: number }> {
    const [sbtId, roles] = await this.contracts.IdentitySBT.rolesOf(address);
    return { sbtId: Number(sbtId), roles: Number(roles) };
  }

  async requireSbt(active: ActiveProfile): Promise<number> {
    const { sbtId } = await this.identityOf(active.address);
    if (sbtId === 0) throw new AppError('FORBIDDEN', 'This profile has no identity token yet: onboard it first');
    return sbtId;
  }
}

/**
 * Sends one transaction at a time, each with the nonce the node reports as pending, asked over raw
 * JSON-RPC: ethers' provider answers repeated identical requests from a short cache, which after a
 * failed or fast transaction hands out a nonce already used. Signing stays inside the vault signer.
 */
export class SerialSender extends AbstractSigner {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inner: AbstractSigner,
    private readonly rpc: JsonRpcProvider,
  ) {
    super(rpc);
  }

  getAddress(): Promise<string> {
    return this.inner.getAddress();
  }

  connect(provider: Provider | null): SerialSender {
    if (provider !== this.rpc) throw new Error('A SerialSender is bound to its provider');
    return this;
  }

  signTransaction(tx: TransactionRequest): Promise<string> {
    return this.inner.signTransaction(tx);
  }

  signMessage(message: string | Uint8Array): Promise<string> {
    return this.inner.signMessage(message);
  }

  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.inner.signTypedData(domain, types, value);
  }

  override sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const send = async () => {
      const address = await this.inner.getAddress();
      const pending = (await this.rpc.send('eth_getTransactionCount', [address, 'pending'])) as string;
      return this.inner.sendTransaction({ ...tx, nonce: Number(BigInt(pending)) });
    };
    const result = this.#queue.then(send, send);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/**
 * Sends a transaction and waits for its receipt. A revert becomes a typed CONFLICT (or FORBIDDEN for
 * authorization failures) naming the contract's custom error; nothing else is reported as success.
 */
export async function sendTx(
  active: ActiveProfile,
  label: string,
  send: () => Promise<ContractTransactionResponse>,
): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt | null;
  try {
    const tx = await send();
    receipt = await tx.wait();
  } catch (error) {
    throw txError(label, error);
  }
  if (!receipt || receipt.status !== 1) throw new AppError('CONFLICT', `${label} failed on chain`);
  return receipt;
}

const FORBIDDEN_ERRORS =
  /NotOwner|NotSteward|NotHolder|Unauthorized|NotGrantee|NotDonor|OnlyIssuer|MissingRole|NotAttested/;

export function txError(label: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const data = revertDataOf(error);
  const decoded = data ? decodeCosError(data) : null;
  if (decoded) {
    const args = Object.entries(decoded.args as Record<string, unknown>)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(', ');
    const code = FORBIDDEN_ERRORS.test(decoded.name) ? 'FORBIDDEN' : 'CONFLICT';
    return new AppError(code, `${label} was refused: ${decoded.name}${args ? ` (${args})` : ''}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/insufficient funds/i.test(message))
    return new AppError('CONFLICT', `${label}: the account has no funds for gas`);
  if (/ECONNREFUSED|network|timeout|fetch failed/i.test(message)) {
    return new AppError('UNAVAILABLE', `${label}: the chain could not be reached`);
  }
  return new AppError('CONFLICT', `${label} failed: ${message.split('\n')[0]?.slice(0, 200) ?? 'unknown error'}`);
}

/** A typed error for anything that is not an AppError already (vault, FHE, gateway, database errors carry codes). */
export function toAppError(error: unknown, fallback: string): AppError {
  if (error instanceof AppError) return error;
  const coded = error as { code?: unknown; status?: unknown; message?: unknown } | null;
  const message = typeof coded?.message === 'string' ? coded.message : fallback;
  const code = typeof coded?.code === 'string' ? coded.code : '';
  if (/LOCKED|KEYCHAIN|UNAVAILABLE|CHAIN_UNAVAILABLE|ECONNREFUSED/.test(code))
    return new AppError('UNAVAILABLE', message);
  if (/NOT_FOUND/.test(code)) return new AppError('NOT_FOUND', message);
  if (/DENIED|FORBIDDEN|BAD_TICKET|TICKET_EXPIRED|WRONG_/.test(code)) return new AppError('FORBIDDEN', message);
  if (/BAD_|MALFORMED|INVALID|MISMATCH|TOO_LARGE|CANCELLED/.test(code)) return new AppError('BAD_REQUEST', message);
  return new AppError('INTERNAL', fallback);
}

export function eventArg<T = unknown>(
  contracts: CosContracts,
  receipt: TransactionReceipt,
  contract: keyof CosContracts,
  event: string,
  arg: string,
): T {
  const target = contracts[contract];
  const address = String(target.target).toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = target.interface.parseLog(log);
    if (parsed?.name === event) return parsed.args.getValue(arg) as T;
  }
  throw new AppError('INTERNAL', `${event} was not emitted`);
}
