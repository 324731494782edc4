import { createHash } from 'node:crypto';
import type { Signer } from 'ethers';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { isAlgorithmError } from '../../shared/algorithms';
import { OP } from '../../shared/contracts';
import { FheError } from '../../shared/fhe/errors';
import { parseManifest, type FheManifest } from '../../shared/fhe/manifest';
import { resultUri, type SignedTicket } from '../../shared/gateway/protocol';
import type { Logger } from '../common/log';
import type { AlgorithmResolver } from './algorithms';
import {
  ChainUnavailableError,
  type ChainConnection,
  onChain,
  postedResult,
  revertName,
  withdrawnSamples,
} from './chain';
import type { JobRecord, JobStore } from './store';

/** What the runner needs of the gateway client (shared/gateway/client.ts GatewayClient has this shape). */
export interface GatewayPort {
  requestTicket(
    signer: Signer,
    request: { sbtId: bigint; datasetId: bigint; op: number; permitId?: bigint },
  ): Promise<SignedTicket>;
  fetchManifest(ticket: SignedTicket): Promise<{ bytes: Uint8Array; manifest: unknown }>;
  fetchKeys(ticket: SignedTicket): Promise<Uint8Array>;
  fetchObject(ticket: SignedTicket, digest: string): Promise<Uint8Array | void>;
  upload(signer: Signer, source: Uint8Array, options?: { digest?: string }): Promise<{ digest: string }>;
}

/** A definite failure: retrying cannot help. `code` names the reason in the status API. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RunnerDeps {
  store: JobStore;
  chain: ChainConnection;
  gateway: GatewayPort;
  /** Base URL of the gateway as others reach it: the resultURI posted on chain. */
  gatewayPublicUrl: string;
  ownSbtId: bigint;
  algorithmFor: AlgorithmResolver;
  jobParamsHash: (params: unknown) => string;
  seal: () => Promise<SEALLibrary>;
  logger: Logger;
  maxAttempts: number;
  /** Aggregation threads per job (default: the algorithm library's choice). */
  threads?: number;
  /** Delay before retry number `attempt` (1-based). */
  backoffMs: (attempt: number) => number;
  now?: () => number;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const ANYWHERE = '0x0000';

function regionName(code: string): string {
  const bytes = Buffer.from(code.slice(2), 'hex');
  return /^[A-Z]{2}$/.test(bytes.toString('latin1')) ? bytes.toString('latin1') : code;
}

/** Retryable: chain or gateway unavailable (network, 5xx, 429, an expired ticket). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ChainUnavailableError) return true;
  if (error instanceof JobFailure || error instanceof FheError) return false;
  // A crashed aggregation worker is worth another try; every other algorithm error is definite.
  if (isAlgorithmError(error)) return error.algorithmCode === 'WORKER_FAILED';
  const status = (error as { status?: unknown }).status;
  const code = (error as { code?: unknown }).code;
  // GatewayError: status 0 with INTERNAL = no (usable) reply; other status-0 codes are client-side refusals.
  if (typeof status === 'number' && status === 0) return code === 'INTERNAL';
  if (typeof status === 'number') return status >= 500 || status === 429 || status === 408 || status === 401;
  const name = (error as Error).name;
  const message = String((error as Error).message ?? '');
  return (
    name === 'TimeoutError' ||
    error instanceof TypeError ||
    /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|timeout/i.test(message)
  );
}

function describe(error: unknown): string {
  if (error instanceof JobFailure) return `${error.code}: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  const message = (error as Error).message ?? String(error);
  return `${typeof code === 'string' ? `${code}: ` : ''}${message}`.slice(0, 500);
}

/** Runs permits one at a time per call: check, fetch, evaluate, store, post. Outcomes go to the store. */
export class JobRunner {
  readonly #deps: RunnerDeps;
  #postLock: Promise<unknown> = Promise.resolve();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  async run(job: JobRecord, signal: AbortSignal): Promise<void> {
    const { store, logger } = this.#deps;
    const log = logger.child({ permitId: job.permitId.toString(), attempt: job.attempts });
    log.info('job started');
    try {
      await this.#execute(job, signal, log);
    } catch (error) {
      if (signal.aborted) {
        store.release(job.permitId);
        log.info('job interrupted; queued again');
        return;
      }
      const reason = describe(error);
      if (isRetryable(error) && job.attempts < this.#deps.maxAttempts) {
        const delay = this.#deps.backoffMs(job.attempts);
        store.markRetry(job.permitId, reason, (this.#deps.now ?? Date.now)() + delay);
        log.warn('job will be retried', { error: reason, delayMs: delay });
      } else {
        const final = isRetryable(error) ? `GAVE_UP: after ${job.attempts} attempts: ${reason}` : reason;
        store.markFailed(job.permitId, final);
        log.error('job failed', { error: final });
      }
    }
  }

  async #execute(job: JobRecord, signal: AbortSignal, log: Logger): Promise<void> {
    const { store, chain, gateway, ownSbtId } = this.#deps;
    const { contracts } = chain;
    const permitId = job.permitId;

    // Posted already (by an earlier run that died before recording it)? Then nothing to do.
    const existing = await postedResult(contracts, permitId).catch((error: unknown) => {
      if (revertName(error) === 'DataAccessUnknownPermit') {
        throw new JobFailure('UNKNOWN_PERMIT', `Permit ${permitId} is not on chain (reorganized away?)`);
      }
      throw error;
    });
    if (existing) {
      store.markPosted(permitId, { resultCommitment: existing, resultURI: job.resultURI, txHash: null });
      log.info('result already on chain', { resultCommitment: existing });
      return;
    }
    const permit = await onChain('DataAccess.getJobPermit', () => contracts.DataAccess.getJobPermit(permitId));
    if (permit.grantId !== job.grantId || permit.algorithmId.toLowerCase() !== job.algorithmId) {
      throw new JobFailure('PERMIT_MISMATCH', `Permit ${permitId} on chain differs from its JobPermitIssued event`);
    }

    // Residency: this orchestrator's region attestation must match the grant's region.
    if (job.regionCode !== ANYWHERE) {
      const inRegion = await onChain('IdentitySBT.isInRegion', () =>
        contracts.IdentitySBT.isInRegion(ownSbtId, job.regionCode),
      );
      if (!inRegion) {
        throw new JobFailure(
          'RESIDENCY',
          `This orchestrator (identity ${ownSbtId}) holds no current region attestation for ${regionName(job.regionCode)}, the grant's region`,
        );
      }
    }

    const algorithm = this.#deps.algorithmFor(job.algorithmId);
    if (!algorithm) throw new JobFailure('UNKNOWN_ALGORITHM', `Algorithm ${job.algorithmId} is not supported here`);
    const active = await onChain('DataAccess.isAlgorithmActive', () =>
      contracts.DataAccess.isAlgorithmActive(job.algorithmId),
    );
    if (!active) throw new JobFailure('ALGORITHM_RETIRED', `Algorithm ${algorithm.name} is retired on chain`);

    // Parameters: the permit commits to their hash; {} runs at once, anything else waits to be supplied.
    let params: unknown;
    if (job.params === null) {
      if (job.paramsHash !== this.#deps.jobParamsHash({}).toLowerCase()) {
        store.markWaitingParams(permitId);
        log.info('job waits for its parameters');
        return;
      }
      params = {};
    } else {
      params = JSON.parse(job.params) as unknown;
    }
    const checked = algorithm.paramsSchema.safeParse(params);
    if (!checked.success) {
      throw new JobFailure(
        'BAD_PARAMS',
        `Parameters do not fit ${algorithm.name}: ${checked.error.issues[0]?.message}`,
      );
    }

    const dataset = await onChain('DatasetRegistry.dataset', () => contracts.DatasetRegistry.dataset(job.datasetId));
    const manifestCommitment = dataset.manifestCommitment.toLowerCase();
    const keyFingerprint = dataset.fheKeyFingerprint.toLowerCase();

    // A compute ticket, renewed when it comes near its expiry during a long job.
    let ticket: SignedTicket | null = null;
    const currentTicket = async () => {
      if (!ticket || ticket.ticket.expiry - Date.now() / 1000 < 60) {
        ticket = await gateway.requestTicket(chain.wallet, {
          sbtId: ownSbtId,
          datasetId: job.datasetId,
          op: OP.COMPUTE,
          permitId,
        });
      }
      return ticket;
    };

    const fetched = await gateway.fetchManifest(await currentTicket());
    if ('0x' + sha256(fetched.bytes) !== manifestCommitment) {
      throw new JobFailure('MANIFEST_MISMATCH', 'The manifest served does not match the on-chain manifestCommitment');
    }
    let manifest: FheManifest;
    try {
      manifest = parseManifest(JSON.parse(Buffer.from(fetched.bytes).toString('utf8')));
    } catch (error) {
      throw new JobFailure('BAD_MANIFEST', (error as Error).message);
    }
    const listed = new Set(manifest.objects.map((object) => object.digest));

    // Consent as it stood at the permit's block.
    const excluded = await withdrawnSamples(contracts, job.datasetId, manifest.donorConsentIds, job.blockNumber);
    log.info('inputs checked', { samples: manifest.sampleCount, excluded: excluded.size });

    const seal = await this.#deps.seal();
    let bytes: Uint8Array;
    try {
      bytes = await algorithm.evaluate({
        seal,
        manifest,
        excludedSamples: excluded,
        params: checked.data,
        signal,
        ...(this.#deps.threads !== undefined ? { threads: this.#deps.threads } : {}),
        onProgress: (done, total) => log.debug('progress', { done, total }),
        loadObject: async (digest) => {
          signal.throwIfAborted();
          if (!listed.has(digest)) throw new JobFailure('BAD_OBJECT', `Object ${digest} is not in the manifest`);
          const object = await gateway.fetchObject(await currentTicket(), digest);
          if (!object || sha256(object) !== digest) {
            throw new JobFailure('OBJECT_MISMATCH', `Object ${digest} does not hash to its digest`);
          }
          return object;
        },
        loadPublicKeys: async () => {
          const keys = await gateway.fetchKeys(await currentTicket());
          if ('0x' + sha256(keys) !== keyFingerprint) {
            throw new JobFailure(
              'KEYS_MISMATCH',
              'The public key bundle does not match the on-chain fheKeyFingerprint',
            );
          }
          return keys;
        },
      });
    } catch (error) {
      if (error instanceof FheError) throw new JobFailure(error.fheCode, error.message);
      if (isAlgorithmError(error) && error.algorithmCode !== 'WORKER_FAILED') {
        throw new JobFailure(error.algorithmCode, error.message);
      }
      const status = (error as { status?: unknown }).status;
      if (status === 404) throw new JobFailure('OBJECT_MISSING', describe(error));
      throw error;
    }
    signal.throwIfAborted();

    const resultCommitment = '0x' + sha256(bytes);
    await gateway.upload(chain.wallet, bytes, { digest: resultCommitment.slice(2) });
    const uri = resultUri(this.#deps.gatewayPublicUrl, permitId);
    store.recordResult(permitId, resultCommitment, uri);
    log.info('result stored', { resultCommitment, bytes: bytes.length });
    signal.throwIfAborted();

    const txHash = await this.#post(permitId, resultCommitment, uri);
    if (txHash === null) {
      const onChainNow = (await postedResult(contracts, permitId)) ?? resultCommitment;
      store.markPosted(permitId, { resultCommitment: onChainNow, resultURI: uri, txHash: null });
      log.warn('result was already posted', { resultCommitment: onChainNow });
    } else {
      store.markPosted(permitId, { resultCommitment, resultURI: uri, txHash });
      log.info('result posted', { resultCommitment, txHash });
    }
  }

  /** Posts JobResult (one transaction at a time from this account). Null when a result was already there. */
  async #post(permitId: bigint, resultCommitment: string, uri: string): Promise<string | null> {
    const previous = this.#postLock;
    let release!: () => void;
    this.#postLock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      const tx = await onChain('DataAccess.postJobResult', () =>
        this.#deps.chain.contracts.DataAccess.postJobResult(permitId, resultCommitment, uri),
      );
      const receipt = await onChain('wait for postJobResult', () => tx.wait());
      if (!receipt || receipt.status !== 1) throw new JobFailure('POST_REVERTED', `postJobResult ${tx.hash} failed`);
      return receipt.hash.toLowerCase();
    } catch (error) {
      const name = revertName(error);
      if (name === 'DataAccessResultAlreadyPosted') return null;
      if (name === 'DataAccessOrchestratorOutOfRegion') {
        throw new JobFailure('RESIDENCY', 'The chain refused the result: this orchestrator is out of the grant region');
      }
      if (name) throw new JobFailure('POST_REVERTED', `postJobResult reverted with ${name}`);
      // A revert without data (mined after another post of ours, say): the chain's record decides.
      const existing = await postedResult(this.#deps.chain.contracts, permitId).catch(() => null);
      if (existing) return null;
      throw error;
    } finally {
      release();
    }
  }
}
