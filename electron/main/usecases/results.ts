import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  interpretResult,
  jobParamsHash,
  parseVariantTable,
  resultKind,
  type DecryptedResult,
} from '../../../shared/algorithms';
import { OP } from '../../../shared/contracts';
import {
  applyDerivativeNoise,
  checkTermsAllowDerivative,
  onChainRelease,
  parseOutputTerms,
} from '../../../shared/terms';
import type { FheManifest, GenotypeCounts } from '../../../shared/fhe';
import { OBJECTS_DIR } from '../fhe';
import { AppError } from '../../../shared/ipc/errors';
import type { ResultView } from '../../../shared/ipc/custodian';
import { algorithmName, permitRow, termsFile } from './access';
import { toAppError, type ActiveProfile, type CustodianContext } from './context';
import { datasetFolder, datasetRow, localManifest } from './datasets';
import { FHE_SECRET } from './profiles';

const NO_PARAMS_HASH = jobParamsHash({});

/** JSON for anything decrypted: typed arrays as arrays, NaN as null. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => {
      if (ArrayBuffer.isView(item) && !(item instanceof DataView))
        return Array.from(item as unknown as ArrayLike<number>);
      if (typeof item === 'number' && !Number.isFinite(item)) return null;
      return item;
    }),
  ) as unknown;
}

/** Sealed in the vault: the decrypted result of a permit on this network. */
function resultSecretName(chainId: number, permitId: number): string {
  return `result-${chainId}-${permitId}`;
}

interface StoredResult {
  format: 'cos.result.v1';
  permitId: number;
  algorithmId: string;
  resultCommitment: string;
  excludedSamples: number[];
  result: unknown;
  decryptedAt: string;
}

export function countsJson(counts: GenotypeCounts) {
  const triple = (t: [Uint32Array, Uint32Array, Uint32Array]) => t.map((a) => Array.from(a));
  return { snpCount: counts.snpCount, control: triple(counts.control), case: triple(counts.case) };
}

/**
 * The posted result of a permit on the active profile's dataset: a result ticket, the bytes, and their
 * SHA-256 checked against the commitment on chain (the client checks it too; this is the owner's own check).
 */
export async function fetchPostedResult(
  ctx: CustodianContext,
  active: ActiveProfile,
  permit: { permitId: number; datasetId: number; resultCommitment: string },
): Promise<Uint8Array> {
  const sbtId = await ctx.requireSbt(active);
  const gateway = ctx.gateway();
  const ticket = await gateway.requestTicket(active.unlocked.signer, {
    sbtId: BigInt(sbtId),
    datasetId: BigInt(permit.datasetId),
    op: OP.READ,
    permitId: BigInt(permit.permitId),
  });
  const bytes = await gateway.fetchResult(ticket, permit.resultCommitment);
  const digest = `0x${createHash('sha256').update(bytes).digest('hex')}`;
  if (digest !== permit.resultCommitment.toLowerCase()) {
    throw new AppError('CONFLICT', 'The result does not match the commitment posted on chain');
  }
  return bytes;
}

/**
 * What happens when a JobResult reaches a dataset owner: fetch the result through the gateway (result
 * ticket), check its SHA-256 against the posted commitment, check that the samples it leaves out are
 * exactly the donors withdrawn at the permit's block, decrypt in the FHE worker with the owner's key,
 * and seal the decrypted result in the vault. One at a time per permit; failures are kept and reported.
 */
export class ResultProcessor {
  readonly #failures = new Map<number, string>();
  readonly #running = new Map<number, Promise<ResultView>>();

  constructor(private readonly ctx: CustodianContext) {}

  /** Called for every JobResultPosted the watcher applies. */
  onJobResult(permitId: number): void {
    void this.process(permitId).catch(() => undefined);
  }

  process(permitId: number): Promise<ResultView> {
    const running = this.#running.get(permitId);
    if (running) return running;
    const task = this.#process(permitId).finally(() => this.#running.delete(permitId));
    this.#running.set(permitId, task);
    return task;
  }

  async get(permitId: number): Promise<ResultView> {
    const permit = permitRow(this.ctx, permitId);
    if (!permit) throw new AppError('NOT_FOUND', `Permit ${permitId} is not known (yet) on this machine`);
    const active = this.ctx.active;
    const dataset = datasetRow(this.ctx, permit.datasetId);
    const base = { permitId, algorithm: algorithmName(permit.algorithmId) };
    if (!active || !dataset || dataset.owner.toLowerCase() !== active.address.toLowerCase()) {
      return { ...base, state: 'not-owner', excludedSamples: null, result: null, error: null };
    }
    const name = resultSecretName(this.ctx.deps.chainId, permitId);
    if ((await active.unlocked.listSecrets()).includes(name)) {
      const stored = JSON.parse((await active.unlocked.readSecret(name)).toString('utf8')) as StoredResult;
      return {
        ...base,
        state: 'decrypted',
        excludedSamples: stored.excludedSamples.length,
        result: stored.result,
        error: null,
      };
    }
    const error = this.#failures.get(permitId) ?? null;
    return { ...base, state: error ? 'failed' : 'waiting', excludedSamples: null, result: null, error };
  }

  /** Results posted for this profile's datasets that are not decrypted yet (after a restart or an unlock). */
  catchUp(): void {
    const active = this.ctx.active;
    if (!active) return;
    const rows = this.ctx.deps.db
      .prepare(
        `SELECT p.permitId FROM job_permits p JOIN job_results r ON r.permitId = p.permitId
         JOIN datasets d ON d.datasetId = p.datasetId WHERE lower(d.owner) = lower(?)`,
      )
      .all(active.address) as { permitId: number }[];
    void (async () => {
      const secrets = new Set(await active.unlocked.listSecrets());
      for (const { permitId } of rows) {
        if (!secrets.has(resultSecretName(this.ctx.deps.chainId, permitId)))
          await this.process(permitId).catch(() => undefined);
      }
    })();
  }

  async #process(permitId: number): Promise<ResultView> {
    const ctx = this.ctx;
    const permit = permitRow(ctx, permitId);
    if (!permit?.resultCommitment) throw new AppError('NOT_FOUND', `Permit ${permitId} has no posted result yet`);
    const active = ctx.active;
    const dataset = datasetRow(ctx, permit.datasetId);
    if (!active || !dataset || dataset.owner.toLowerCase() !== active.address.toLowerCase()) return this.get(permitId);
    try {
      const started = performance.now();
      const bytes = await fetchPostedResult(ctx, active, { ...permit, resultCommitment: permit.resultCommitment });
      const manifest = await localManifest(ctx, dataset.manifestCommitment);
      const secretKeys = await active.unlocked.readSecret(FHE_SECRET);
      let decrypted: { excludedSamples: number[]; result: unknown };
      try {
        decrypted = await this.#decrypt(
          permit.algorithmId,
          permit.paramsHash,
          manifest,
          dataset.manifestCommitment,
          secretKeys,
          bytes,
        );
      } finally {
        secretKeys.fill(0);
      }
      await this.#checkExclusions(
        permit.datasetId,
        permit.issuedBlock,
        manifest.donorConsentIds,
        decrypted.excludedSamples,
      );
      const stored: StoredResult = {
        format: 'cos.result.v1',
        permitId,
        algorithmId: permit.algorithmId,
        resultCommitment: permit.resultCommitment,
        excludedSamples: decrypted.excludedSamples,
        result: decrypted.result,
        decryptedAt: new Date().toISOString(),
      };
      await active.unlocked.writeSecret(
        resultSecretName(ctx.deps.chainId, permitId),
        Buffer.from(JSON.stringify(stored)),
      );
      this.#failures.delete(permitId);
      ctx.deps.logger.info('result decrypted', { permitId, ms: Math.round(performance.now() - started) });
      ctx.deps.events.emit('result.decrypted', { permitId, state: 'decrypted', error: null });
      return this.get(permitId);
    } catch (error) {
      const appError = toAppError(error, 'The result could not be fetched or decrypted');
      this.#failures.set(permitId, appError.message);
      ctx.deps.logger.error('result failed', { permitId, code: appError.code, error: appError.message });
      ctx.deps.events.emit('result.decrypted', { permitId, state: 'failed', error: appError.message });
      throw appError;
    }
  }

  async #decrypt(
    algorithmId: string,
    permitParamsHash: string,
    manifest: FheManifest,
    manifestCommitment: string,
    secretKeys: Uint8Array,
    result: Uint8Array,
  ): Promise<{ excludedSamples: number[]; result: unknown }> {
    const engine = this.ctx.deps.engine;
    const id = algorithmId.toLowerCase();
    let kind: ReturnType<typeof resultKind>;
    try {
      kind = resultKind(id);
    } catch {
      throw new AppError('CONFLICT', `Results of algorithm ${algorithmId} cannot be decrypted by this version`);
    }
    let decrypted: DecryptedResult;
    let counts: ReturnType<typeof countsJson> | null = null;
    if (kind === 'genotype-counts') {
      const out = await engine.decryptGenotypeCounts({ secretKeys, layout: manifest.genotypeLayout, result });
      counts = countsJson(out.counts);
      decrypted = out;
    } else {
      if (!manifest.numericLayout) throw new AppError('CONFLICT', 'The dataset has no numeric columns');
      decrypted =
        kind === 'numeric-sums'
          ? await engine.decryptNumericSums({ secretKeys, layout: manifest.numericLayout, result })
          : await engine.decryptLogregScores({ secretKeys, layout: manifest.numericLayout, result });
    }
    // The owner sees the job's parameters only through their hash: tables that need them stay raw.
    let table: unknown = null;
    if (permitParamsHash.toLowerCase() === NO_PARAMS_HASH.toLowerCase()) {
      const variantsObject = manifest.objects.find((object) => object.kind === 'variants');
      const variants = variantsObject
        ? parseVariantTable(
            await readFile(path.join(datasetFolder(this.ctx, manifestCommitment), OBJECTS_DIR, variantsObject.digest)),
          )
        : undefined;
      table = interpretResult(id, decrypted, {}, variants);
    }
    return {
      excludedSamples: decrypted.excludedSamples,
      result: jsonSafe({ kind, table, counts, ...(kind === 'genotype-counts' ? {} : { raw: decrypted }) }),
    };
  }

  /** The orchestrator must leave out exactly the donors whose consent was withdrawn at the permit's block. */
  async #checkExclusions(
    datasetId: number,
    permitBlock: number,
    donors: readonly string[],
    excluded: readonly number[],
  ) {
    const registry = this.ctx.contracts.DatasetRegistry;
    const expected: number[] = [];
    for (const [index, donor] of donors.entries()) {
      if (donor === '0') continue;
      if (await registry.isConsentWithdrawn(datasetId, donor, { blockTag: permitBlock })) expected.push(index);
    }
    const got = [...excluded].sort((a, b) => a - b);
    if (got.length !== expected.length || got.some((value, i) => value !== expected[i])) {
      throw new AppError(
        'CONFLICT',
        `The result leaves out samples [${got.join(', ')}] but consent at the permit's block requires [${expected.join(', ')}]`,
      );
    }
  }

  /**
   * What a derivative may contain under the grant's output terms (issue 7): the algorithm must be releasable
   * and the permit's (ε, δ) charge must be what the terms state per release; with a DP mechanism the genotype
   * counts get its noise (one sample moves one count per SNP: L1 sensitivity = SNPs, L2 = √SNPs) and the
   * statistics are recomputed from the noised counts. Without the terms document on this machine (a grant
   * made elsewhere, or by hash only) nothing can be enforced, and the file says so.
   */
  async #derivativeRelease(algorithmId: string, result: unknown, grant: unknown, chainPermit: unknown) {
    const termsHash = (grant as { termsHash: string }).termsHash.toLowerCase();
    const text = await readFile(termsFile(this.ctx, termsHash), 'utf8').catch(() => null);
    if (text === null) return { outputTerms: null, noise: null, result };
    let terms;
    try {
      terms = checkTermsAllowDerivative(
        parseOutputTerms(JSON.parse(text) as unknown),
        onChainRelease(grant, chainPermit),
      );
    } catch (error) {
      throw new AppError('FORBIDDEN', (error as Error).message);
    }
    if (terms.differentialPrivacy.mechanism === 'none') return { outputTerms: terms, noise: null, result };
    const counts = (result as { counts?: { snpCount: number; control: number[][]; case: number[][] } | null }).counts;
    if (!counts) {
      throw new AppError(
        'CONFLICT',
        'Noised derivatives are defined for genotype counts only (numeric sums need value bounds)',
      );
    }
    const flat = [...counts.control.flat(), ...counts.case.flat()];
    const sensitivity =
      terms.differentialPrivacy.mechanism === 'laplace' ? counts.snpCount : Math.sqrt(counts.snpCount);
    const noised = applyDerivativeNoise(terms, flat, sensitivity);
    // Post-processing keeps the guarantee: counts are rounded and kept non-negative, statistics recomputed.
    const cells = noised.values.map((value) => Math.max(0, Math.round(value)));
    const triple = (offset: number) =>
      [0, 1, 2].map((k) =>
        Uint32Array.from(cells.slice(offset + k * counts.snpCount, offset + (k + 1) * counts.snpCount)),
      );
    const noisyCounts = {
      snpCount: counts.snpCount,
      control: triple(0) as [Uint32Array, Uint32Array, Uint32Array],
      case: triple(3 * counts.snpCount) as [Uint32Array, Uint32Array, Uint32Array],
    };
    const table = interpretResult(algorithmId.toLowerCase(), { counts: noisyCounts, excludedSamples: [] }, {});
    return {
      outputTerms: terms,
      noise: { mechanism: noised.mechanism, scale: noised.scale, sensitivity },
      result: jsonSafe({ kind: 'genotype-counts', counts: countsJson(noisyCounts), table }),
    };
  }

  /** Writes the decrypted result (a permitted derivative) as JSON for sharing. */
  async exportDerivative(permitId: number, file: string): Promise<{ path: string; sha256: string }> {
    if (!path.isAbsolute(file)) throw new AppError('BAD_REQUEST', 'The export path must be absolute');
    const view = await this.get(permitId);
    if (view.state !== 'decrypted')
      throw new AppError('CONFLICT', `Permit ${permitId} has no decrypted result to export`);
    const permit = permitRow(this.ctx, permitId)!;
    const [grant, chainPermit] = await Promise.all([
      this.ctx.contracts.DataAccess.getGrant(permit.grantId),
      this.ctx.contracts.DataAccess.getJobPermit(permitId),
    ]);
    const release = await this.#derivativeRelease(permit.algorithmId, view.result, grant, chainPermit);
    const body = `${JSON.stringify(
      { format: 'cos.derivative.v1', permitId, termsHash: grant.termsHash, ...release },
      null,
      2,
    )}\n`;
    await writeFile(file, body, { flag: 'wx' }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new AppError('CONFLICT', 'The file exists already; choose another name');
      throw new AppError('BAD_REQUEST', `The derivative could not be written (${code ?? 'unknown error'})`);
    });
    return { path: file, sha256: createHash('sha256').update(body).digest('hex') };
  }
}
