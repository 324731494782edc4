import type { CosContractName } from '../../../shared/contracts';
import type { ChainEventRecord, CosEventArgs, EventPosition, Jsonified, JsonValue } from './chain-events';
import { PROJECTIONS_STALE_KEY, type SqliteDatabase } from './migrate';

/**
 * The projections the app shows, computed from audit_events only: applying the events in chain order
 * (blockNumber, logIndex) to empty tables gives the same rows as applying them one batch at a time, which is what
 * lets a reorg or a schema change simply recompute them (see docs/DATABASE.md).
 */
export const PROJECTION_TABLES = [
  'profiles',
  'datasets',
  'donor_consent',
  'consent_changes',
  'algorithms',
  'requests',
  'grants',
  'job_permits',
  'job_results',
  'key_switches',
  'grant_escrow',
  'settlements',
  'balances',
  'donor_royalties',
  'settlement_params',
] as const;

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

type Handler<A> = (args: Jsonified<A>, at: EventPosition) => void;
type ContractHandlers<E> = { [N in keyof E]?: Handler<E[N]> };
type Handlers = { [C in CosContractName]: ContractHandlers<CosEventArgs[C]> };

const addText = (a: string, b: string) => (BigInt(a) + BigInt(b)).toString();
const id = (value: string) => Number(value);

/** Applies decoded events to the projection tables of one database (latest schema). */
export class Projector {
  private readonly handlers: Handlers;

  constructor(private readonly db: SqliteDatabase) {
    this.handlers = {
      CosToken: {},
      IdentitySBT: this.identityHandlers(),
      DatasetRegistry: this.registryHandlers(),
      DataAccess: this.accessHandlers(),
      Settlement: this.settlementHandlers(),
    };
  }

  /** Applies one event; events without a projection (ownership, token transfers…) live in audit_events only. */
  apply(event: ChainEventRecord): void {
    const handler = (this.handlers[event.contract] as Record<string, Handler<unknown> | undefined>)[event.name];
    handler?.(event.args as never, event);
  }

  private identityHandlers(): ContractHandlers<CosEventArgs['IdentitySBT']> {
    const { db } = this;
    const mint = db.prepare(`INSERT INTO profiles (sbtId, address, issuedBlock, updatedBlock) VALUES (?, ?, ?, ?)
      ON CONFLICT (sbtId) DO UPDATE SET address = excluded.address, burned = 0, updatedBlock = excluded.updatedBlock`);
    // Burning deletes the holder's roles, region and FHE key on chain; the row stays for the audit trail.
    const burn = db.prepare(`UPDATE profiles SET burned = 1, roles = 0, regionCode = NULL, regionValidUntil = NULL,
      regionAttestedAt = NULL, regionOracle = NULL, fheKeyFingerprint = NULL, updatedBlock = ? WHERE sbtId = ?`);
    const burnAuth = db.prepare('UPDATE profiles SET burnAuth = ?, updatedBlock = ? WHERE sbtId = ?');
    const addRoles = db.prepare('UPDATE profiles SET roles = roles | ?, updatedBlock = ? WHERE sbtId = ?');
    const dropRoles = db.prepare('UPDATE profiles SET roles = roles & ~?, updatedBlock = ? WHERE sbtId = ?');
    const region = db.prepare(`UPDATE profiles SET regionCode = ?, regionValidUntil = ?, regionAttestedAt = ?,
      regionOracle = ?, updatedBlock = ? WHERE sbtId = ?`);
    const regionRevoked = db.prepare(
      'UPDATE profiles SET regionCode = NULL, regionValidUntil = NULL, regionOracle = ?, updatedBlock = ? WHERE sbtId = ?',
    );
    const fheKey = db.prepare('UPDATE profiles SET fheKeyFingerprint = ?, updatedBlock = ? WHERE sbtId = ?');
    return {
      Transfer: (args, at) => {
        if (args.from === ZERO_ADDRESS) mint.run(id(args.tokenId), args.to, at.blockNumber, at.blockNumber);
        else if (args.to === ZERO_ADDRESS) burn.run(at.blockNumber, id(args.tokenId));
      },
      Issued: (args, at) => burnAuth.run(id(args.burnAuth), at.blockNumber, id(args.tokenId)),
      RolesAttested: (args, at) => addRoles.run(id(args.roles), at.blockNumber, id(args.sbtId)),
      RolesRevoked: (args, at) => dropRoles.run(id(args.roles), at.blockNumber, id(args.sbtId)),
      RegionAttested: (args, at) =>
        region.run(
          args.regionCode,
          id(args.validUntil),
          id(args.attestedAt),
          args.oracle,
          at.blockNumber,
          id(args.sbtId),
        ),
      RegionRevoked: (args, at) => regionRevoked.run(args.oracle, at.blockNumber, id(args.sbtId)),
      FheKeyPublished: (args, at) => fheKey.run(args.fingerprint, at.blockNumber, id(args.sbtId)),
    };
  }

  private registryHandlers(): ContractHandlers<CosEventArgs['DatasetRegistry']> {
    const { db } = this;
    const register = db.prepare(`INSERT INTO datasets (datasetId, owner, manifestCommitment, resourceURI, fheParamsHash,
        fheKeyFingerprint, consentCodes, consentRoot, donorCount, registeredBlock, updatedBlock)
      VALUES (@datasetId, @owner, @manifestCommitment, @resourceURI, @fheParamsHash, @fheKeyFingerprint, @consentCodes,
        @consentRoot, @donorCount, @block, @block)`);
    const royalty = db.prepare(
      'UPDATE datasets SET royaltyReceiver = ?, royaltyBps = ?, updatedBlock = ? WHERE datasetId = ?',
    );
    const update = db.prepare(`UPDATE datasets SET version = @version, manifestCommitment = @manifestCommitment,
        fheParamsHash = @fheParamsHash, fheKeyFingerprint = @fheKeyFingerprint, resourceURI = @resourceURI,
        updatedBlock = @block
      WHERE datasetId = @datasetId`);
    const owner = db.prepare('UPDATE datasets SET owner = ?, updatedBlock = ? WHERE datasetId = ?');
    const consent = db.prepare(`INSERT INTO donor_consent (datasetId, donorSbtId, withdrawn, changedBlock)
      VALUES (?, ?, ?, ?)
      ON CONFLICT (datasetId, donorSbtId) DO UPDATE SET withdrawn = excluded.withdrawn, changedBlock = excluded.changedBlock`);
    const withdrawnCount = db.prepare(
      'UPDATE datasets SET withdrawnCount = withdrawnCount + ?, updatedBlock = ? WHERE datasetId = ?',
    );
    const change =
      db.prepare(`INSERT INTO consent_changes (datasetId, donorSbtId, change, blockNumber, txHash, logIndex)
      VALUES (?, ?, ?, ?, ?, ?)`);
    const accrual = db.prepare('SELECT donorAccrual FROM datasets WHERE datasetId = ?').pluck();
    const donorAccount = db.prepare('SELECT credit, debt FROM donor_royalties WHERE datasetId = ? AND donorSbtId = ?');
    const saveDonorAccount =
      db.prepare(`INSERT INTO donor_royalties (datasetId, donorSbtId, credit, debt) VALUES (?, ?, ?, ?)
      ON CONFLICT (datasetId, donorSbtId) DO UPDATE SET credit = excluded.credit, debt = excluded.debt`);

    // Mirrors Settlement.onConsentChanged: a withdrawing donor keeps what accrued; a restoring one accrues anew.
    const consentChanged = (datasetId: number, donorSbtId: number, withdrawn: boolean, at: EventPosition) => {
      consent.run(datasetId, donorSbtId, withdrawn ? 1 : 0, at.blockNumber);
      withdrawnCount.run(withdrawn ? 1 : -1, at.blockNumber, datasetId);
      change.run(datasetId, donorSbtId, withdrawn ? 'Withdrawn' : 'Restored', at.blockNumber, at.txHash, at.logIndex);
      const datasetAccrual = BigInt((accrual.get(datasetId) as string | undefined) ?? '0');
      const account = (donorAccount.get(datasetId, donorSbtId) as { credit: string; debt: string } | undefined) ?? {
        credit: '0',
        debt: '0',
      };
      if (withdrawn) {
        const credit = BigInt(account.credit) + datasetAccrual - BigInt(account.debt);
        saveDonorAccount.run(datasetId, donorSbtId, credit.toString(), account.debt);
      } else {
        saveDonorAccount.run(datasetId, donorSbtId, account.credit, datasetAccrual.toString());
      }
    };

    return {
      DatasetRegistered: (args, at) =>
        register.run({
          datasetId: id(args.datasetId),
          owner: args.owner,
          manifestCommitment: args.manifestCommitment,
          resourceURI: args.resourceURI,
          fheParamsHash: args.fheParamsHash,
          fheKeyFingerprint: args.fheKeyFingerprint,
          consentCodes: args.consentCodes,
          consentRoot: args.consentRoot,
          donorCount: id(args.donorCount),
          block: at.blockNumber,
        }),
      DatasetRoyaltySet: (args, at) =>
        royalty.run(args.receiver, id(args.royaltyBps), at.blockNumber, id(args.datasetId)),
      DatasetUpdated: (args, at) =>
        update.run({
          datasetId: id(args.datasetId),
          version: id(args.version),
          manifestCommitment: args.manifestCommitment,
          fheParamsHash: args.fheParamsHash,
          fheKeyFingerprint: args.fheKeyFingerprint,
          resourceURI: args.resourceURI,
          block: at.blockNumber,
        }),
      // The mint's Transfer comes before DatasetRegistered, which carries the owner; later ones move it.
      Transfer: (args, at) => {
        if (args.from !== ZERO_ADDRESS) owner.run(args.to, at.blockNumber, id(args.tokenId));
      },
      ConsentWithdrawn: (args, at) => consentChanged(id(args.datasetId), id(args.donorSbtId), true, at),
      ConsentRestored: (args, at) => consentChanged(id(args.datasetId), id(args.donorSbtId), false, at),
    };
  }

  private accessHandlers(): ContractHandlers<CosEventArgs['DataAccess']> {
    const { db } = this;
    const algorithm = db.prepare(`INSERT INTO algorithms (algorithmId, algorithmIndex, active, registeredBlock)
      VALUES (?, ?, 1, ?)
      ON CONFLICT (algorithmId) DO UPDATE SET algorithmIndex = excluded.algorithmIndex, active = 1`);
    const retire = db.prepare('UPDATE algorithms SET active = 0 WHERE algorithmId = ?');
    const request = db.prepare(`INSERT INTO requests (grantId, datasetId, granteeSbtId, requester, opMask, purposeHash,
        purposeCodes, status, requestedBlock, requestedTxHash)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'Requested', ?, ?)`);
    const decide = db.prepare('UPDATE requests SET status = ?, decidedBlock = ? WHERE grantId = ?');
    const grant = db.prepare(`INSERT INTO grants (grantId, datasetId, granteeSbtId, status, purposeHash, opMask,
        notBefore, expiry, maxRuns, rateWindow, rateMaxRuns, regionCode, epsilonCap, deltaCap, termsHash,
        keySwitchAllowed, feePerUse, ownerBps, donorsBps, platformBps, grantedBlock)
      VALUES (@grantId, @datasetId, @granteeSbtId, 'Granted',
        (SELECT purposeHash FROM requests WHERE grantId = @grantId), @opMask, @notBefore, @expiry, @maxRuns,
        @rateWindow, @rateMaxRuns, @regionCode, @epsilonCap, @deltaCap, @termsHash, @keySwitchAllowed, @feePerUse,
        @ownerBps, @donorsBps, @platformBps, @block)`);
    const revoke = db.prepare("UPDATE grants SET status = 'Revoked', runsUsed = ?, revokedBlock = ? WHERE grantId = ?");
    const used = db.prepare('UPDATE grants SET runsUsed = MAX(runsUsed, ?), useCount = useCount + 1 WHERE grantId = ?');
    const budget = db.prepare('SELECT deltaSpent FROM grants WHERE grantId = ?').pluck();
    const permitCharged =
      db.prepare(`UPDATE grants SET runsUsed = MAX(runsUsed, ?), jobPermitCount = jobPermitCount + 1,
      epsilonSpent = epsilonSpent + ?, deltaSpent = ? WHERE grantId = ?`);
    const permit = db.prepare(`INSERT INTO job_permits (permitId, grantId, datasetId, granteeSbtId, algorithmId,
        paramsHash, epsilon, delta, regionCode, runIndex, status, issuedBlock, issuedTxHash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Issued', ?, ?)`);
    const result = db.prepare(`INSERT INTO job_results (permitId, grantId, orchestratorSbtId, resultCommitment,
        resultURI, postedBlock, postedTxHash) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const resultPosted = db.prepare("UPDATE job_permits SET status = 'ResultPosted' WHERE permitId = ?");
    const keySwitch = db.prepare(`INSERT INTO key_switches (permitId, grantId, shareCommitment, blockNumber, txHash,
      logIndex) VALUES (?, ?, ?, ?, ?, ?)`);
    const paidRuns = db.prepare('UPDATE grants SET paidRuns = ? WHERE grantId = ?');

    return {
      AlgorithmRegistered: (args, at) => algorithm.run(args.algorithmId, id(args.index), at.blockNumber),
      AlgorithmRetired: (args) => retire.run(args.algorithmId),
      Requested: (args, at) =>
        request.run(
          id(args.grantId),
          id(args.datasetId),
          id(args.granteeSbtId),
          args.requester,
          id(args.opMask),
          args.purposeHash,
          args.purposeCodes,
          at.blockNumber,
          at.txHash,
        ),
      Granted: (args, at) => {
        decide.run('Granted', at.blockNumber, id(args.grantId));
        const { terms } = args;
        grant.run({
          grantId: id(args.grantId),
          datasetId: id(args.datasetId),
          granteeSbtId: id(args.granteeSbtId),
          opMask: id(terms.opMask),
          notBefore: id(terms.notBefore),
          expiry: id(terms.expiry),
          maxRuns: id(terms.maxRuns),
          rateWindow: id(terms.rateWindow),
          rateMaxRuns: id(terms.rateMaxRuns),
          regionCode: terms.regionCode,
          epsilonCap: id(terms.epsilonCap),
          deltaCap: terms.deltaCap,
          termsHash: terms.termsHash,
          keySwitchAllowed: terms.keySwitchAllowed ? 1 : 0,
          feePerUse: terms.feePerUse,
          ownerBps: id(terms.ownerBps),
          donorsBps: id(terms.donorsBps),
          platformBps: id(terms.platformBps),
          block: at.blockNumber,
        });
      },
      Denied: (args, at) => decide.run('Denied', at.blockNumber, id(args.grantId)),
      Revoked: (args, at) => revoke.run(id(args.runsUsed), at.blockNumber, id(args.grantId)),
      Used: (args) => used.run(id(args.runIndex), id(args.grantId)),
      JobPermitIssued: (args, at) => {
        const grantId = id(args.grantId);
        permit.run(
          id(args.permitId),
          grantId,
          id(args.datasetId),
          id(args.granteeSbtId),
          args.algorithmId,
          args.paramsHash,
          id(args.epsilon),
          args.delta,
          args.regionCode,
          id(args.runIndex),
          at.blockNumber,
          at.txHash,
        );
        const deltaSpent = (budget.get(grantId) as string | undefined) ?? '0';
        permitCharged.run(id(args.runIndex), id(args.epsilon), addText(deltaSpent, args.delta), grantId);
      },
      JobResultPosted: (args, at) => {
        result.run(
          id(args.permitId),
          id(args.grantId),
          id(args.orchestratorSbtId),
          args.resultCommitment,
          args.resultURI,
          at.blockNumber,
          at.txHash,
        );
        resultPosted.run(id(args.permitId));
      },
      KeySwitchIssued: (args, at) =>
        keySwitch.run(
          id(args.permitId),
          id(args.grantId),
          args.shareCommitment,
          at.blockNumber,
          at.txHash,
          at.logIndex,
        ),
      PaidRunsCredited: (args) => paidRuns.run(id(args.paidRuns), id(args.grantId)),
    };
  }

  private settlementHandlers(): ContractHandlers<CosEventArgs['Settlement']> {
    const { db } = this;
    const escrow = db.prepare('SELECT * FROM grant_escrow WHERE grantId = ?');
    const saveEscrow = db.prepare(`INSERT OR REPLACE INTO grant_escrow (grantId, payer, fundedRuns, fundedAmount,
        settledRuns, settledAmount, refundedRuns, refundedAmount)
      VALUES (@grantId, @payer, @fundedRuns, @fundedAmount, @settledRuns, @settledAmount, @refundedRuns, @refundedAmount)`);
    const settlement = db.prepare(`INSERT INTO settlements (grantId, datasetId, runs, ownerReceiver, ownerAmount,
        donorsAmount, platformAmount, blockNumber, txHash, logIndex) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const balance = db.prepare('SELECT * FROM balances WHERE account = ?');
    const saveBalance = db.prepare(`INSERT OR REPLACE INTO balances (account, royalties, platformFees, refunds, claimed,
      claimable) VALUES (@account, @royalties, @platformFees, @refunds, @claimed, @claimable)`);
    const params = db.prepare('SELECT platformTreasury, unattributedPlatformFees FROM settlement_params WHERE id = 1');
    const saveParams =
      db.prepare(`INSERT OR REPLACE INTO settlement_params (id, platformTreasury, unattributedPlatformFees)
      VALUES (1, ?, ?)`);
    const dataset = db.prepare('SELECT donorCount, withdrawnCount, donorAccrual FROM datasets WHERE datasetId = ?');
    const accrue = db.prepare('UPDATE datasets SET donorAccrual = ? WHERE datasetId = ?');
    const donorAccount = db.prepare(
      'SELECT credit, debt, claimed FROM donor_royalties WHERE datasetId = ? AND donorSbtId = ?',
    );
    const saveDonorAccount =
      db.prepare(`INSERT OR REPLACE INTO donor_royalties (datasetId, donorSbtId, credit, debt, claimed)
      VALUES (?, ?, ?, ?, ?)`);
    const consent = db.prepare('SELECT withdrawn FROM donor_consent WHERE datasetId = ? AND donorSbtId = ?').pluck();

    interface EscrowRow {
      grantId: number;
      payer: string;
      fundedRuns: number;
      fundedAmount: string;
      settledRuns: number;
      settledAmount: string;
      refundedRuns: number;
      refundedAmount: string;
    }
    interface BalanceRow {
      account: string;
      royalties: string;
      platformFees: string;
      refunds: string;
      claimed: string;
      claimable: string;
    }
    const loadEscrow = (grantId: number, payer: string): EscrowRow =>
      (escrow.get(grantId) as EscrowRow | undefined) ?? {
        grantId,
        payer,
        fundedRuns: 0,
        fundedAmount: '0',
        settledRuns: 0,
        settledAmount: '0',
        refundedRuns: 0,
        refundedAmount: '0',
      };
    const loadBalance = (account: string): BalanceRow =>
      (balance.get(account) as BalanceRow | undefined) ?? {
        account,
        royalties: '0',
        platformFees: '0',
        refunds: '0',
        claimed: '0',
        claimable: '0',
      };
    const loadParams = () =>
      (params.get() as { platformTreasury: string | null; unattributedPlatformFees: string } | undefined) ?? {
        platformTreasury: null,
        unattributedPlatformFees: '0',
      };
    const credit = (account: string, kind: 'royalties' | 'platformFees' | 'refunds', amount: string) => {
      if (amount === '0') return;
      const row = loadBalance(account);
      row[kind] = addText(row[kind], amount);
      row.claimable = addText(row.claimable, amount);
      saveBalance.run(row);
    };

    return {
      PlatformTreasurySet: (args) => saveParams.run(args.treasury, loadParams().unattributedPlatformFees),
      GrantFunded: (args) => {
        const row = loadEscrow(id(args.grantId), args.payer);
        row.fundedRuns += id(args.runs);
        row.fundedAmount = addText(row.fundedAmount, args.amount);
        saveEscrow.run(row);
      },
      Settled: (args, at) => {
        const grantId = id(args.grantId);
        const datasetId = id(args.datasetId);
        settlement.run(
          grantId,
          datasetId,
          id(args.runs),
          args.ownerReceiver,
          args.ownerAmount,
          args.donorsAmount,
          args.platformAmount,
          at.blockNumber,
          at.txHash,
          at.logIndex,
        );
        const row = loadEscrow(grantId, ZERO_ADDRESS);
        row.settledRuns += id(args.runs);
        row.settledAmount = addText(
          row.settledAmount,
          addText(addText(args.ownerAmount, args.donorsAmount), args.platformAmount),
        );
        saveEscrow.run(row);
        credit(args.ownerReceiver, 'royalties', args.ownerAmount);
        // The constructor names the first treasury without an event; its fees wait until a claim shows whose they are.
        const { platformTreasury, unattributedPlatformFees } = loadParams();
        if (platformTreasury) credit(platformTreasury, 'platformFees', args.platformAmount);
        else if (args.platformAmount !== '0') {
          saveParams.run(null, addText(unattributedPlatformFees, args.platformAmount));
        }
        // The contract adds donorsAmount / activeDonors to the dataset's accrual (donorsAmount is a multiple of it).
        const record = dataset.get(datasetId) as
          { donorCount: number; withdrawnCount: number; donorAccrual: string } | undefined;
        const activeDonors = record ? record.donorCount - record.withdrawnCount : 0;
        if (record && activeDonors > 0 && args.donorsAmount !== '0') {
          accrue.run(
            addText(record.donorAccrual, (BigInt(args.donorsAmount) / BigInt(activeDonors)).toString()),
            datasetId,
          );
        }
      },
      EscrowRefunded: (args) => {
        const row = loadEscrow(id(args.grantId), args.payer);
        row.refundedRuns += id(args.runs);
        row.refundedAmount = addText(row.refundedAmount, args.amount);
        saveEscrow.run(row);
        credit(args.payer, 'refunds', args.amount);
      },
      // claim() pays the whole balance, so what is claimable afterwards is exactly zero.
      RoyaltyClaimed: (args) => {
        const row = loadBalance(args.account);
        const shortfall = BigInt(args.amount) - BigInt(row.claimable);
        if (shortfall > 0n) {
          const { platformTreasury, unattributedPlatformFees } = loadParams();
          const attributed =
            shortfall < BigInt(unattributedPlatformFees) ? shortfall : BigInt(unattributedPlatformFees);
          row.platformFees = addText(row.platformFees, attributed.toString());
          saveParams.run(platformTreasury, (BigInt(unattributedPlatformFees) - attributed).toString());
        }
        row.claimed = addText(row.claimed, args.amount);
        row.claimable = '0';
        saveBalance.run(row);
      },
      DonorRoyaltyClaimed: (args) => {
        const datasetId = id(args.datasetId);
        const donorSbtId = id(args.donorSbtId);
        const account = (donorAccount.get(datasetId, donorSbtId) as
          { credit: string; debt: string; claimed: string } | undefined) ?? { credit: '0', debt: '0', claimed: '0' };
        const withdrawn = consent.get(datasetId, donorSbtId) === 1;
        const accrual = (dataset.get(datasetId) as { donorAccrual: string } | undefined)?.donorAccrual ?? '0';
        saveDonorAccount.run(
          datasetId,
          donorSbtId,
          '0',
          withdrawn ? account.debt : accrual,
          addText(account.claimed, args.amount),
        );
      },
    };
  }
}

/** What donor `donorSbtId` can claim from `datasetId`, as Settlement.donorClaimable computes it. */
export function donorClaimable(db: SqliteDatabase, datasetId: number, donorSbtId: number): bigint {
  const accrual = db.prepare('SELECT donorAccrual FROM datasets WHERE datasetId = ?').pluck().get(datasetId) as
    string | undefined;
  const account = db
    .prepare('SELECT credit, debt FROM donor_royalties WHERE datasetId = ? AND donorSbtId = ?')
    .get(datasetId, donorSbtId) as { credit: string; debt: string } | undefined;
  const withdrawn =
    db
      .prepare('SELECT withdrawn FROM donor_consent WHERE datasetId = ? AND donorSbtId = ?')
      .pluck()
      .get(datasetId, donorSbtId) === 1;
  const credit = BigInt(account?.credit ?? '0');
  if (withdrawn) return credit;
  return credit + BigInt(accrual ?? '0') - BigInt(account?.debt ?? '0');
}

/** Empties every projection table (inside the caller's transaction). */
export function clearProjections(db: SqliteDatabase): void {
  for (const table of PROJECTION_TABLES) db.prepare(`DELETE FROM ${table}`).run();
}

/** Reads audit_events in chain order, a page at a time (a statement iterator would keep the connection busy). */
export function* auditEventsInOrder(db: SqliteDatabase, pageSize = 5_000): Generator<ChainEventRecord> {
  const page = db.prepare(`SELECT chainId, blockNumber, blockHash, txHash, logIndex, contract, name, args
    FROM audit_events WHERE (chainId, blockNumber, logIndex) > (?, ?, ?)
    ORDER BY chainId, blockNumber, logIndex LIMIT ?`);
  let after: [number, number, number] = [-1, -1, -1];
  for (;;) {
    const rows = page.all(...after, pageSize) as (Omit<ChainEventRecord, 'args'> & { args: string })[];
    for (const row of rows) yield { ...row, args: JSON.parse(row.args) as { [key: string]: JsonValue } };
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = [last.chainId, last.blockNumber, last.logIndex];
  }
}

/**
 * Recomputes every projection from audit_events in one transaction (callers may nest it in theirs) and clears the
 * stale mark migrations leave. Returns how many events were applied.
 */
export function rebuildProjections(db: SqliteDatabase): number {
  const rebuild = db.transaction(() => {
    clearProjections(db);
    const projector = new Projector(db);
    let count = 0;
    for (const event of auditEventsInOrder(db)) {
      projector.apply(event);
      count += 1;
    }
    db.prepare('DELETE FROM db_meta WHERE key = ?').run(PROJECTIONS_STALE_KEY);
    return count;
  });
  return rebuild();
}
