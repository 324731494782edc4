import { canonicalJson } from '../../../shared/fhe';
import { decodeCosEvent } from '../../../shared/contracts';
import { AppError } from '../../../shared/ipc/errors';
import type { ChannelRequest, ChannelResponse } from '../../../shared/ipc/contract';
import type { AuditRow } from '../../../shared/ipc/custodian';
import { toJsonValue } from '../db';
import { eventArg, sendTx, type ActiveProfile, type CustodianContext } from './context';
import { consentReceiptSchema, readConsentReceipt, type ConsentReceipt } from './datasets';

/** A donor's consent receipts are sealed in its profile: which cohorts hold its records is sensitive. */
const RECEIPT_PREFIX = 'consent-receipt-';

async function receipts(active: ActiveProfile, chainId: number): Promise<ConsentReceipt[]> {
  const names = (await active.unlocked.listSecrets()).filter((name) => name.startsWith(RECEIPT_PREFIX));
  const out: ConsentReceipt[] = [];
  for (const name of names) {
    const receipt = consentReceiptSchema.parse(JSON.parse((await active.unlocked.readSecret(name)).toString('utf8')));
    if (receipt.chainId === chainId) out.push(receipt);
  }
  return out.sort((a, b) => a.datasetId - b.datasetId);
}

async function receiptFor(ctx: CustodianContext, active: ActiveProfile, datasetId: number): Promise<ConsentReceipt> {
  const receipt = (await receipts(active, ctx.deps.chainId)).find((r) => r.datasetId === datasetId);
  if (!receipt) throw new AppError('NOT_FOUND', `No consent receipt for dataset ${datasetId} in this profile`);
  return receipt;
}

export async function importReceipt(
  ctx: CustodianContext,
  file: string,
): Promise<ChannelResponse<'consent.importReceipt'>> {
  const active = ctx.requireActive();
  const receipt = await readConsentReceipt(ctx, file);
  const { sbtId } = await ctx.identityOf(active.address);
  if (sbtId !== receipt.donorSbtId)
    throw new AppError('FORBIDDEN', "This receipt is for another donor's identity token");
  await active.unlocked.writeSecret(
    `${RECEIPT_PREFIX}${ctx.deps.chainId}-${receipt.datasetId}`,
    Buffer.from(JSON.stringify(receipt)),
  );
  return { datasetId: receipt.datasetId, donorSbtId: receipt.donorSbtId };
}

export async function listConsent(ctx: CustodianContext): Promise<ChannelResponse<'consent.list'>> {
  const active = ctx.requireActive();
  const out: ChannelResponse<'consent.list'> = [];
  for (const receipt of await receipts(active, ctx.deps.chainId)) {
    const withdrawn = await ctx.contracts.DatasetRegistry.isConsentWithdrawn(receipt.datasetId, receipt.donorSbtId);
    const uses = ctx.deps.db
      .prepare(
        `SELECT count(*) AS n FROM audit_events WHERE name IN ('Used', 'JobPermitIssued')
         AND (datasetId = ? OR grantId IN (SELECT grantId FROM requests WHERE datasetId = ?))`,
      )
      .get(receipt.datasetId, receipt.datasetId) as { n: number };
    out.push({ datasetId: receipt.datasetId, donorSbtId: receipt.donorSbtId, withdrawn, uses: uses.n });
  }
  return out;
}

/**
 * Withdraws consent. Runs already used under the dataset's grants are settled first, so the donor is
 * paid its share of the uses that included its records before its accrual stops.
 */
export async function withdrawConsent(
  ctx: CustodianContext,
  datasetId: number,
): Promise<ChannelResponse<'consent.withdraw'>> {
  const active = ctx.requireActive();
  const receipt = await receiptFor(ctx, active, datasetId);
  const grants = ctx.deps.db.prepare(`SELECT grantId FROM grants WHERE datasetId = ?`).all(datasetId) as {
    grantId: number;
  }[];
  for (const { grantId } of grants) {
    const [runs] = await ctx.contracts.Settlement.pendingSettlement(grantId);
    if (runs > 0n)
      await sendTx(active, 'Settlement before withdrawal', () => active.contracts.Settlement.settle(grantId));
  }
  const tx = await sendTx(active, 'Consent withdrawal', () =>
    active.contracts.DatasetRegistry.withdrawConsent(
      datasetId,
      receipt.donorSbtId,
      receipt.consentCommitment,
      receipt.proof,
    ),
  );
  return { txHash: tx.hash, blockNumber: tx.blockNumber };
}

export async function restoreConsent(
  ctx: CustodianContext,
  datasetId: number,
): Promise<ChannelResponse<'consent.restore'>> {
  const active = ctx.requireActive();
  const receipt = await receiptFor(ctx, active, datasetId);
  const tx = await sendTx(active, 'Consent restoration', () =>
    active.contracts.DatasetRegistry.restoreConsent(
      datasetId,
      receipt.donorSbtId,
      receipt.consentCommitment,
      receipt.proof,
    ),
  );
  return { txHash: tx.hash, blockNumber: tx.blockNumber };
}

export async function royalties(ctx: CustodianContext): Promise<ChannelResponse<'royalties.get'>> {
  const active = ctx.requireActive();
  const claimable = await ctx.contracts.Settlement.claimable(active.address);
  const donor: ChannelResponse<'royalties.get'>['donor'] = [];
  for (const receipt of await receipts(active, ctx.deps.chainId)) {
    const amount = await ctx.contracts.Settlement.donorClaimable(receipt.datasetId, receipt.donorSbtId);
    donor.push({ datasetId: receipt.datasetId, donorSbtId: receipt.donorSbtId, claimable: amount.toString() });
  }
  return { claimable: claimable.toString(), donor };
}

export async function settleGrant(
  ctx: CustodianContext,
  grantId: number,
): Promise<ChannelResponse<'royalties.settle'>> {
  const active = ctx.requireActive();
  const tx = await sendTx(active, 'Settlement', () => active.contracts.Settlement.settle(grantId));
  return { txHash: tx.hash, blockNumber: tx.blockNumber };
}

export async function claim(ctx: CustodianContext): Promise<ChannelResponse<'royalties.claim'>> {
  const active = ctx.requireActive();
  const tx = await sendTx(active, 'Claim', () => active.contracts.Settlement.claim());
  const amount = eventArg<bigint>(ctx.contracts, tx, 'Settlement', 'RoyaltyClaimed', 'amount');
  return { txHash: tx.hash, blockNumber: tx.blockNumber, amount: amount.toString() };
}

export async function claimDonor(
  ctx: CustodianContext,
  datasetId: number,
): Promise<ChannelResponse<'royalties.claimDonor'>> {
  const active = ctx.requireActive();
  const receipt = await receiptFor(ctx, active, datasetId);
  const tx = await sendTx(active, 'Donor royalty claim', () =>
    active.contracts.Settlement.claimDonorRoyalty(
      datasetId,
      receipt.donorSbtId,
      receipt.consentCommitment,
      receipt.proof,
    ),
  );
  const amount = eventArg<bigint>(ctx.contracts, tx, 'Settlement', 'DonorRoyaltyClaimed', 'amount');
  return { txHash: tx.hash, blockNumber: tx.blockNumber, amount: amount.toString() };
}

interface AuditDbRow extends Omit<AuditRow, 'args'> {
  args: string;
}

export function listAudit(ctx: CustodianContext, request: ChannelRequest<'audit.list'>): ChannelResponse<'audit.list'> {
  const where: string[] = ['chainId = ?'];
  const args: (string | number)[] = [ctx.deps.chainId];
  if (request.datasetId !== undefined) {
    // Events that name only a grant (Used, JobResultPosted, ...) belong to the grant's dataset.
    where.push('(datasetId = ? OR grantId IN (SELECT grantId FROM requests WHERE datasetId = ?))');
    args.push(request.datasetId, request.datasetId);
  }
  if (request.grantId !== undefined) {
    where.push('grantId = ?');
    args.push(request.grantId);
  }
  if (request.names?.length) {
    where.push(`name IN (${request.names.map(() => '?').join(', ')})`);
    args.push(...request.names);
  }
  const clause = `WHERE ${where.join(' AND ')}`;
  const { total } = ctx.deps.db.prepare(`SELECT count(*) AS total FROM audit_events ${clause}`).get(...args) as {
    total: number;
  };
  const rows = ctx.deps.db
    .prepare(
      `SELECT id, blockNumber, blockHash, txHash, logIndex, contract, name, args, datasetId, grantId FROM audit_events ${clause}
       ORDER BY blockNumber DESC, logIndex DESC LIMIT ? OFFSET ?`,
    )
    .all(...args, request.limit, request.offset) as AuditDbRow[];
  return { total, rows: rows.map((row) => ({ ...row, args: JSON.parse(row.args) as Record<string, unknown> })) };
}

/** Checks a cached audit event against the chain: same block, same log, same decoded arguments. */
export async function verifyAudit(ctx: CustodianContext, id: number): Promise<ChannelResponse<'audit.verify'>> {
  const row = ctx.deps.db
    .prepare(`SELECT id, blockNumber, blockHash, txHash, logIndex, contract, name, args FROM audit_events WHERE id = ?`)
    .get(id) as AuditDbRow | undefined;
  if (!row) throw new AppError('NOT_FOUND', `Audit event ${id} does not exist`);
  const fail = (reason: string) => ({ id, verified: false, reason });
  const receipt = await ctx.deps.provider.getTransactionReceipt(row.txHash).catch(() => {
    throw new AppError('UNAVAILABLE', 'The chain could not be reached');
  });
  if (!receipt) return fail('The transaction is not on the chain');
  if (receipt.blockHash.toLowerCase() !== row.blockHash.toLowerCase())
    return fail('The transaction is in another block now');
  const log = receipt.logs.find((entry) => entry.index === row.logIndex);
  if (!log) return fail('The log is not in the transaction');
  const decoded = decodeCosEvent(ctx.addresses, log);
  if (!decoded) return fail('The log is not a COS event');
  if (decoded.contract !== row.contract || decoded.name !== row.name) return fail('The event differs from the chain');
  if (canonicalJson(toJsonValue(decoded.args)) !== canonicalJson(JSON.parse(row.args))) {
    return fail('The event arguments differ from the chain');
  }
  return { id, verified: true, reason: null };
}
