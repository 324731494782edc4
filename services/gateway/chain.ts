import { Interface, type JsonRpcProvider, type Result } from 'ethers';
import { COS_ABIS, decodeCosError, revertDataOf, type CosContractAddresses } from '../../shared/contracts';
import { HttpError } from './errors';

const ZERO32 = `0x${'0'.repeat(64)}`;

/** A view call that reverted with a (decoded, when known) custom error. */
export class ChainRevert extends Error {
  constructor(
    readonly errorName: string,
    readonly data: string,
  ) {
    super(errorName);
    this.name = 'ChainRevert';
  }
}

export interface GrantState {
  grantId: bigint;
  datasetId: bigint;
  granteeSbtId: bigint;
  maxRuns: bigint;
  runsUsed: bigint;
  paidRuns: bigint;
  feePerUse: bigint;
  rateWindow: bigint;
  rateMaxRuns: bigint;
  windowStart: bigint;
  windowRuns: bigint;
  /** `settledCount(grantId)` taken just before getGrant was asked: uses settled since are not in runsUsed yet. */
  settledAtRead: number;
}

export interface DatasetState {
  owner: string;
  manifestCommitment: string;
  fheKeyFingerprint: string;
}

export interface PermitState {
  permitId: bigint;
  grantId: bigint;
  datasetId: bigint;
  granteeSbtId: bigint;
  /** null until the result is posted. */
  resultCommitment: string | null;
}

interface CacheEntry {
  value: unknown;
  at: number;
}

/** Short reason for a DataAccess custom error: DataAccessGrantRevoked -> Revoked. */
export function accessReason(errorName: string): string {
  return errorName.replace(/^DataAccess/, '').replace(/^Grant(?=Revoked|Expired|NotYetValid|NotActive)/, '');
}

/**
 * What the gateway asks the chain. Every call is a raw `eth_call` (no ethers call cache); a positive
 * answer is reused for at most `cacheMs`, and concurrent identical questions share one call.
 * Failures (reverts, unreachable node) are never cached.
 */
export class ChainView {
  private readonly access = new Interface(COS_ABIS.DataAccess);
  private readonly registry = new Interface(COS_ABIS.DatasetRegistry);
  private readonly identity = new Interface(COS_ABIS.IdentitySBT);
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private generation = 0;
  private calls = 0;

  constructor(
    private readonly provider: JsonRpcProvider,
    readonly addresses: CosContractAddresses,
    private readonly cacheMs: number,
    /** Uses of a grant recorded (or failed) so far, by the outbox; monotonic (0 when there is none). */
    private readonly settledCount: (grantId: bigint) => number = () => 0,
  ) {}

  /** eth_calls made so far (for /health and the benchmark). */
  get callCount(): number {
    return this.calls;
  }

  /** Drops every cached answer. (Recorded uses need no invalidation: see GrantState.settledAtRead.) */
  invalidate(): void {
    this.generation += 1;
    this.cache.clear();
  }

  private async call(iface: Interface, to: string, fn: string, args: unknown[]): Promise<Result> {
    const data = iface.encodeFunctionData(fn, args);
    this.calls += 1;
    let reply: unknown;
    try {
      reply = await this.provider.send('eth_call', [{ to, data }, 'latest']);
    } catch (error) {
      const revert = revertDataOf(error);
      if (revert) {
        const decoded = decodeCosError(revert);
        throw new ChainRevert(decoded?.name ?? 'UnknownRevert', revert);
      }
      throw new HttpError('CHAIN_UNAVAILABLE', `The chain could not be asked (${fn})`);
    }
    if (typeof reply !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(reply)) {
      throw new HttpError('CHAIN_UNAVAILABLE', `Malformed eth_call reply (${fn})`);
    }
    try {
      return iface.decodeFunctionResult(fn, reply);
    } catch {
      throw new HttpError('CHAIN_UNAVAILABLE', `Undecodable eth_call reply (${fn})`);
    }
  }

  private cached<T>(key: string, fetch: () => Promise<T>, fresh = false): Promise<T> {
    if (fresh) this.cache.delete(key);
    const hit = this.cache.get(key);
    const age = hit ? Date.now() - hit.at : Number.POSITIVE_INFINITY;
    if (hit && age <= this.cacheMs) {
      // Refresh ahead in the background past half the bound, so busy keys never stall on expiry; a
      // refresh that fails (revoked, ...) drops the entry at once.
      if (age > this.cacheMs / 2 && !this.inFlight.has(key)) this.fetchInto(key, fetch).catch(() => undefined);
      return Promise.resolve(hit.value as T);
    }
    return (this.inFlight.get(key) as Promise<T> | undefined) ?? this.fetchInto(key, fetch);
  }

  private fetchInto<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const generation = this.generation;
    const work = fetch().then(
      (value) => {
        this.inFlight.delete(key);
        if (generation === this.generation && this.cacheMs > 0) {
          if (this.cache.size > 50_000) this.cache.clear();
          this.cache.set(key, { value, at: Date.now() });
        }
        return value;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        this.cache.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, work);
    return work;
  }

  /**
   * checkAccess + the grant's counters. Throws ACCESS_DENIED with the chain's reason (Revoked, Expired,
   * RunsExhausted, OpNotGranted, GranteeNotHolder, ...) when the grant does not allow `op` now.
   */
  grantAccess(sbtId: bigint, grantee: string, datasetId: bigint, op: number, fresh = false): Promise<GrantState> {
    const key = `access:${sbtId}:${grantee.toLowerCase()}:${datasetId}:${op}`;
    const fetch = async (): Promise<GrantState> => {
      let grantId: bigint;
      try {
        const result = await this.call(this.access, this.addresses.DataAccess, 'checkAccess', [
          sbtId,
          grantee,
          datasetId,
          op,
        ]);
        grantId = result[0] as bigint;
      } catch (error) {
        if (error instanceof ChainRevert) {
          throw new HttpError('ACCESS_DENIED', `Access denied: ${accessReason(error.errorName)} (${error.errorName})`);
        }
        throw error;
      }
      return { ...(await this.grant(grantId)), grantId };
    };
    return this.cached(key, fetch, fresh);
  }

  private async grant(grantId: bigint): Promise<GrantState> {
    const settledAtRead = this.settledCount(grantId);
    const view = (await this.call(this.access, this.addresses.DataAccess, 'getGrant', [grantId]))[0] as Result;
    return {
      grantId,
      datasetId: view.datasetId as bigint,
      granteeSbtId: view.granteeSbtId as bigint,
      maxRuns: view.maxRuns as bigint,
      runsUsed: view.runsUsed as bigint,
      paidRuns: view.paidRuns as bigint,
      feePerUse: view.feePerUse as bigint,
      rateWindow: view.rateWindow as bigint,
      rateMaxRuns: view.rateMaxRuns as bigint,
      windowStart: view.windowStart as bigint,
      windowRuns: view.windowRuns as bigint,
      settledAtRead,
    };
  }

  /** The dataset's owner and on-chain commitments; NOT_FOUND when it does not exist. */
  dataset(datasetId: bigint): Promise<DatasetState> {
    return this.cached(`dataset:${datasetId}`, async () => {
      let view: Result;
      try {
        view = (await this.call(this.registry, this.addresses.DatasetRegistry, 'dataset', [datasetId]))[0] as Result;
      } catch (error) {
        if (error instanceof ChainRevert) throw new HttpError('NOT_FOUND', `Dataset ${datasetId} is not registered`);
        throw error;
      }
      const owner = view.owner as string;
      if (/^0x0{40}$/i.test(owner)) throw new HttpError('NOT_FOUND', `Dataset ${datasetId} is not registered`);
      return {
        owner,
        manifestCommitment: (view.manifestCommitment as string).toLowerCase(),
        fheKeyFingerprint: (view.fheKeyFingerprint as string).toLowerCase(),
      };
    });
  }

  /** Role bits attested on `account`'s identity token (0 without one). */
  roles(account: string): Promise<bigint> {
    return this.cached(`roles:${account.toLowerCase()}`, async () => {
      const result = await this.call(this.identity, this.addresses.IdentitySBT, 'rolesOf', [account]);
      return result[1] as bigint;
    });
  }

  /** The identity token of `account` and the FHE key digest published on it (zero without either). */
  identityKey(account: string): Promise<{ sbtId: bigint; fheKeyFingerprint: string }> {
    return this.cached(`identity-key:${account.toLowerCase()}`, async () => {
      const sbtId = (await this.call(this.identity, this.addresses.IdentitySBT, 'rolesOf', [account]))[0] as bigint;
      return { sbtId, fheKeyFingerprint: sbtId === 0n ? ZERO32 : await this.fheKeyOf(sbtId) };
    });
  }

  /** The FHE key digest published on identity token `sbtId` (zero when none). */
  fheKeyOf(sbtId: bigint): Promise<string> {
    return this.cached(`fhe-key:${sbtId}`, async () => {
      const result = await this.call(this.identity, this.addresses.IdentitySBT, 'fheKeyFingerprintOf', [sbtId]);
      return (result[0] as string).toLowerCase();
    });
  }

  /** The current holder of identity token `sbtId` (zero address when burned or unknown). */
  holderOf(sbtId: bigint): Promise<string> {
    return this.cached(`holder:${sbtId}`, async () => {
      try {
        const result = await this.call(this.identity, this.addresses.IdentitySBT, 'identityOf', [sbtId]);
        return result[0] as string;
      } catch (error) {
        if (error instanceof ChainRevert) return `0x${'0'.repeat(40)}`;
        throw error;
      }
    });
  }

  /** A job permit with its grant's dataset and grantee; NOT_FOUND when unknown. */
  permit(permitId: bigint, fresh = false): Promise<PermitState> {
    return this.cached(
      `permit:${permitId}`,
      async () => {
        let view: Result;
        try {
          view = (await this.call(this.access, this.addresses.DataAccess, 'getJobPermit', [permitId]))[0] as Result;
        } catch (error) {
          if (error instanceof ChainRevert) throw new HttpError('NOT_FOUND', `Job permit ${permitId} does not exist`);
          throw error;
        }
        const grantId = view.grantId as bigint;
        const grant = await this.grant(grantId);
        const commitment = (view.resultCommitment as string).toLowerCase();
        return {
          permitId,
          grantId,
          datasetId: grant.datasetId,
          granteeSbtId: grant.granteeSbtId,
          resultCommitment: commitment === ZERO32 ? null : commitment,
        };
      },
      fresh,
    );
  }
}
