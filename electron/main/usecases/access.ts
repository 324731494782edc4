import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { keccak256, toUtf8Bytes } from 'ethers';
import { canonicalTerms, parseOutputTerms, termsHash as termsHashOf, type OutputTerms } from '../../../shared/terms';
import { ALGORITHMS, BPS } from '../../../shared/contracts';
import { canonicalJson, canonicalDigest } from '../../../shared/fhe';
import { AppError } from '../../../shared/ipc/errors';
import type { ChannelRequest, ChannelResponse } from '../../../shared/ipc/contract';
import type { GrantView, PermitView, RequestView } from '../../../shared/ipc/custodian';
import { eventArg, sendTx, type CustodianContext } from './context';

/** keccak256 of the canonical purpose statement (DUO bitmask and free text): the request's purposeHash. */
export function purposeHash(purposeCodes: string, purposeText: string): string {
  return keccak256(toUtf8Bytes(canonicalJson({ format: 'cos.purpose.v1', purposeCodes, purposeText })));
}

/** The job parameters' commitment (the permit's paramsHash): `0x` + SHA-256 of their canonical JSON. */
export function paramsHash(params: Record<string, unknown>): string {
  return canonicalDigest(params);
}

/** 'CH' -> 0x4348; '' -> 0x0000 (anywhere). */
export function regionCode(region: string): string {
  return region === '' ? '0x0000' : `0x${Buffer.from(region, 'ascii').toString('hex')}`;
}

export function regionName(code: string): string {
  return code === '0x0000' ? '' : Buffer.from(code.slice(2), 'hex').toString('ascii');
}

const algorithmNames = new Map<string, string>(Object.values(ALGORITHMS).map((a) => [a.id.toLowerCase(), a.name]));
export function algorithmName(algorithmId: string): string | null {
  return algorithmNames.get(algorithmId.toLowerCase()) ?? null;
}

export async function requestAccess(
  ctx: CustodianContext,
  request: ChannelRequest<'access.request'>,
): Promise<ChannelResponse<'access.request'>> {
  const active = ctx.requireActive();
  await ctx.requireSbt(active);
  const codes = BigInt(request.purposeCodes);
  if (codes >= 1n << 64n) throw new AppError('BAD_REQUEST', 'purposeCodes must fit 64 bits');
  const hash = purposeHash(request.purposeCodes, request.purposeText);
  const receipt = await sendTx(active, 'Access request', () =>
    active.contracts.DataAccess.request(request.datasetId, request.opMask, hash, codes),
  );
  const grantId = Number(eventArg<bigint>(ctx.contracts, receipt, 'DataAccess', 'Requested', 'grantId'));
  return { grantId, purposeHash: hash, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

export async function grantAccess(
  ctx: CustodianContext,
  request: ChannelRequest<'access.grant'>,
): Promise<ChannelResponse<'access.grant'>> {
  const active = ctx.requireActive();
  const { terms } = request;
  const output = await resolveOutputTerms(ctx, terms);
  const receipt = await sendTx(active, 'Grant', () =>
    active.contracts.DataAccess.grant(request.grantId, {
      opMask: terms.opMask,
      notBefore: terms.notBefore,
      expiry: terms.expiry,
      maxRuns: terms.maxRuns,
      rateWindow: terms.rateWindow,
      rateMaxRuns: terms.rateMaxRuns,
      regionCode: regionCode(terms.region),
      epsilonCap: terms.epsilonCap,
      deltaCap: BigInt(terms.deltaCap),
      termsHash: output.termsHash,
      keySwitchAllowed: output.keySwitchAllowed,
      feePerUse: BigInt(terms.feePerUse),
      ownerBps: terms.ownerBps,
      donorsBps: terms.donorsBps,
      platformBps: BPS - terms.ownerBps - terms.donorsBps,
    }),
  );
  return { txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

/** Where a grant's output-terms documents are kept (by termsHash): the owner needs them to release results. */
export function termsFile(ctx: CustodianContext, hash: string): string {
  return path.join(ctx.deps.dataDir, 'terms', `${hash.toLowerCase()}.json`);
}

async function resolveOutputTerms(
  ctx: CustodianContext,
  terms: ChannelRequest<'access.grant'>['terms'],
): Promise<{ termsHash: string; keySwitchAllowed: boolean }> {
  if (terms.outputTerms === undefined)
    return { termsHash: terms.termsHash!, keySwitchAllowed: terms.keySwitchAllowed! };
  let document: OutputTerms;
  try {
    document = parseOutputTerms(terms.outputTerms);
  } catch (error) {
    throw new AppError('BAD_REQUEST', (error as Error).message);
  }
  const hash = termsHashOf(document);
  if (terms.termsHash !== undefined && terms.termsHash.toLowerCase() !== hash) {
    throw new AppError('BAD_REQUEST', 'termsHash is not the hash of the output terms document');
  }
  if (terms.keySwitchAllowed !== undefined && terms.keySwitchAllowed !== document.keySwitching.allowed) {
    throw new AppError('BAD_REQUEST', 'keySwitchAllowed differs from the output terms document');
  }
  const file = termsFile(ctx, hash);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${canonicalTerms(document)}\n`);
  return { termsHash: hash, keySwitchAllowed: document.keySwitching.allowed };
}

export async function denyAccess(ctx: CustodianContext, grantId: number): Promise<ChannelResponse<'access.deny'>> {
  const active = ctx.requireActive();
  const receipt = await sendTx(active, 'Decline', () => active.contracts.DataAccess.deny(grantId));
  return { txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

export async function revokeAccess(ctx: CustodianContext, grantId: number): Promise<ChannelResponse<'access.revoke'>> {
  const active = ctx.requireActive();
  const receipt = await sendTx(active, 'Revocation', () => active.contracts.DataAccess.revoke(grantId));
  return { txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

export async function fundGrant(
  ctx: CustodianContext,
  grantId: number,
  runs: number,
): Promise<ChannelResponse<'access.fund'>> {
  const active = ctx.requireActive();
  const grant = await ctx.contracts.DataAccess.getGrant(grantId);
  if (grant.datasetId === 0n) throw new AppError('NOT_FOUND', `Grant ${grantId} does not exist`);
  const amount = grant.feePerUse * BigInt(runs);
  if (amount > 0n) {
    await sendTx(active, 'Fee approval', () => active.contracts.CosToken.approve(ctx.addresses.Settlement, amount));
  }
  const receipt = await sendTx(active, 'Escrow funding', () => active.contracts.Settlement.fundGrant(grantId, runs));
  return { txHash: receipt.hash, blockNumber: receipt.blockNumber, amount: amount.toString() };
}

/**
 * The WHERE clause shared by the request and grant lists (`alias` is the table's alias, joined with the
 * datasets as `d`): one dataset, and/or "mine" = on the active profile's datasets or held by its token.
 */
async function scopeFilter(
  ctx: CustodianContext,
  request: { datasetId?: number | undefined; mine?: boolean | undefined },
  alias: 'r' | 'g',
): Promise<{ where: string; args: (string | number)[] }> {
  const clauses: string[] = [];
  const args: (string | number)[] = [];
  if (request.datasetId !== undefined) {
    clauses.push(`${alias}.datasetId = ?`);
    args.push(request.datasetId);
  }
  const active = ctx.active;
  if (request.mine && active) {
    const { sbtId } = await ctx.identityOf(active.address);
    clauses.push(`(lower(d.owner) = lower(?) OR ${alias}.granteeSbtId = ?)`);
    args.push(active.address, sbtId);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', args };
}

/** Requests on the active profile's datasets (mine: undefined/true for stewards) or made by it (labs). */
export async function listRequests(
  ctx: CustodianContext,
  request: ChannelRequest<'requests.list'>,
): Promise<RequestView[]> {
  const { where, args } = await scopeFilter(ctx, request, 'r');
  const rows = ctx.deps.db
    .prepare(
      `SELECT r.grantId, r.datasetId, r.granteeSbtId, r.requester, r.opMask, r.purposeHash, r.purposeCodes, r.status, r.requestedBlock
       FROM requests r LEFT JOIN datasets d ON d.datasetId = r.datasetId
       ${where} ORDER BY r.grantId DESC LIMIT 5000`,
    )
    .all(...args) as RequestView[];
  return rows;
}

interface GrantRow extends Omit<GrantView, 'keySwitchAllowed' | 'region'> {
  keySwitchAllowed: number;
  regionCode: string;
}

export async function listGrants(ctx: CustodianContext, request: ChannelRequest<'grants.list'>): Promise<GrantView[]> {
  const { where, args } = await scopeFilter(ctx, request, 'g');
  const rows = ctx.deps.db
    .prepare(
      `SELECT g.grantId, g.datasetId, g.granteeSbtId, g.status, g.opMask, g.notBefore, g.expiry, g.maxRuns, g.runsUsed,
         g.useCount, g.jobPermitCount, g.regionCode, g.epsilonCap, g.epsilonSpent, g.deltaCap, g.deltaSpent, g.termsHash,
         g.keySwitchAllowed, g.feePerUse, g.ownerBps, g.donorsBps, g.platformBps
       FROM grants g LEFT JOIN datasets d ON d.datasetId = g.datasetId
       ${where} ORDER BY g.grantId DESC LIMIT 5000`,
    )
    .all(...args) as GrantRow[];
  return rows.map(({ regionCode: code, keySwitchAllowed, ...row }) => ({
    ...row,
    region: regionName(code),
    keySwitchAllowed: keySwitchAllowed === 1,
  }));
}

/**
 * A job permit under a grant held by the active profile: repeats the request's purposeHash, commits to
 * the job's parameters and charges (ε, δ) and a run atomically on chain. Non-empty parameters are handed
 * to the orchestrator, which checks them against the commitment.
 */
export async function issuePermit(
  ctx: CustodianContext,
  request: ChannelRequest<'permits.issue'>,
): Promise<ChannelResponse<'permits.issue'>> {
  const active = ctx.requireActive();
  const grant = await ctx.contracts.DataAccess.getGrant(request.grantId);
  if (grant.datasetId === 0n) throw new AppError('NOT_FOUND', `Grant ${request.grantId} does not exist`);
  const params = request.params ?? {};
  const hash = paramsHash(params);
  const receipt = await sendTx(active, 'Job permit', () =>
    active.contracts.DataAccess.issueJobPermit(
      request.grantId,
      request.algorithmId,
      grant.purposeHash,
      request.epsilon,
      BigInt(request.delta),
      hash,
    ),
  );
  const permitId = Number(eventArg<bigint>(ctx.contracts, receipt, 'DataAccess', 'JobPermitIssued', 'permitId'));
  if (Object.keys(params).length > 0 && ctx.deps.orchestratorUrl) {
    void submitParams(ctx, ctx.deps.orchestratorUrl, permitId, params);
  }
  return { permitId, paramsHash: hash, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

interface PermitRow {
  permitId: number;
  grantId: number;
  datasetId: number;
  algorithmId: string;
  paramsHash: string;
  epsilon: number;
  delta: string;
  status: 'Issued' | 'ResultPosted';
  issuedBlock: number;
  issuedTxHash: string;
  resultCommitment: string | null;
  resultURI: string | null;
  postedBlock: number | null;
}

const PERMIT_SELECT = `SELECT p.permitId, p.grantId, p.datasetId, p.algorithmId, p.paramsHash, p.epsilon, p.delta, p.status,
  p.issuedBlock, p.issuedTxHash, r.resultCommitment, r.resultURI, r.postedBlock
  FROM job_permits p LEFT JOIN job_results r ON r.permitId = p.permitId`;

export function permitRow(ctx: CustodianContext, permitId: number): PermitRow | null {
  return (ctx.deps.db.prepare(`${PERMIT_SELECT} WHERE p.permitId = ?`).get(permitId) as PermitRow | undefined) ?? null;
}

export function listPermits(ctx: CustodianContext, request: ChannelRequest<'permits.list'>): PermitView[] {
  const rows = (
    request.grantId === undefined
      ? ctx.deps.db.prepare(`${PERMIT_SELECT} ORDER BY p.permitId DESC LIMIT 5000`).all()
      : ctx.deps.db.prepare(`${PERMIT_SELECT} WHERE p.grantId = ? ORDER BY p.permitId DESC`).all(request.grantId)
  ) as PermitRow[];
  return rows.map((row) => ({
    permitId: row.permitId,
    grantId: row.grantId,
    datasetId: row.datasetId,
    algorithmId: row.algorithmId,
    algorithm: algorithmName(row.algorithmId),
    paramsHash: row.paramsHash,
    epsilon: row.epsilon,
    delta: row.delta,
    status: row.status,
    issuedBlock: row.issuedBlock,
    resultCommitment: row.resultCommitment,
    resultURI: row.resultURI,
  }));
}

/**
 * Hands a permit's parameters to the orchestrator. It only knows the permit once it has seen it on chain
 * (after its confirmations), so a 404 is retried with backoff for up to ten minutes; a 422 (the hash does
 * not match) or 400 is final. Failures are logged; the permit stays visible as waiting in the orchestrator.
 */
async function submitParams(
  ctx: CustodianContext,
  orchestratorUrl: string,
  permitId: number,
  params: Record<string, unknown>,
): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (let delay = 500; ; delay = Math.min(delay * 2, 15_000)) {
    const response = await fetch(`${orchestratorUrl}/v1/jobs/${permitId}/params`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    if (response?.ok) return;
    const retry = response === null || response.status === 404 || response.status >= 500;
    if (!retry || Date.now() + delay > deadline) {
      ctx.deps.logger.error('job parameters not accepted by the orchestrator', {
        permitId,
        status: response?.status ?? null,
      });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
