import type { Migration } from '../migrate';

/**
 * Projections of Settlement: escrow per grant, every settlement, claimable balances per account (owner royalties,
 * platform fees, refunds, claims) and donor royalty accounts mirroring the contract's accrual. Amounts are uint256
 * base units as decimal TEXT. Adds each dataset's donor accrual to the existing datasets rows.
 */
export const migration: Migration = {
  version: 4,
  name: 'settlement',
  rebuildsProjections: true,
  up(db) {
    db.exec(`
      ALTER TABLE datasets ADD COLUMN donorAccrual TEXT NOT NULL DEFAULT '0';

      CREATE TABLE grant_escrow (
        grantId INTEGER PRIMARY KEY,
        payer TEXT NOT NULL,
        fundedRuns INTEGER NOT NULL DEFAULT 0,
        fundedAmount TEXT NOT NULL DEFAULT '0',
        settledRuns INTEGER NOT NULL DEFAULT 0,
        settledAmount TEXT NOT NULL DEFAULT '0',
        refundedRuns INTEGER NOT NULL DEFAULT 0,
        refundedAmount TEXT NOT NULL DEFAULT '0'
      ) STRICT;

      CREATE TABLE settlements (
        id INTEGER PRIMARY KEY,
        grantId INTEGER NOT NULL,
        datasetId INTEGER NOT NULL,
        runs INTEGER NOT NULL,
        ownerReceiver TEXT NOT NULL,
        ownerAmount TEXT NOT NULL,
        donorsAmount TEXT NOT NULL,
        platformAmount TEXT NOT NULL,
        blockNumber INTEGER NOT NULL,
        txHash TEXT NOT NULL,
        logIndex INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX settlements_grant ON settlements (grantId);
      CREATE INDEX settlements_dataset ON settlements (datasetId);

      CREATE TABLE balances (
        account TEXT PRIMARY KEY,
        royalties TEXT NOT NULL DEFAULT '0',
        platformFees TEXT NOT NULL DEFAULT '0',
        refunds TEXT NOT NULL DEFAULT '0',
        claimed TEXT NOT NULL DEFAULT '0',
        claimable TEXT NOT NULL DEFAULT '0'
      ) STRICT;

      CREATE TABLE donor_royalties (
        datasetId INTEGER NOT NULL,
        donorSbtId INTEGER NOT NULL,
        credit TEXT NOT NULL DEFAULT '0',
        debt TEXT NOT NULL DEFAULT '0',
        claimed TEXT NOT NULL DEFAULT '0',
        PRIMARY KEY (datasetId, donorSbtId)
      ) STRICT;

      CREATE TABLE settlement_params (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        platformTreasury TEXT,
        unattributedPlatformFees TEXT NOT NULL DEFAULT '0'
      ) STRICT;
    `);
  },
};
