import type { Migration } from '../migrate';

/**
 * Projections of DataAccess: requests, grants with their ten clauses and run/budget counters, job permits, their
 * results and key-switch records. A grant's id is its request's id. uint64 values (delta, purposeCodes) and fees
 * are decimal TEXT; epsilon (uint48) fits an INTEGER exactly.
 */
export const migration: Migration = {
  version: 3,
  name: 'access',
  rebuildsProjections: true,
  up(db) {
    db.exec(`
      CREATE TABLE requests (
        grantId INTEGER PRIMARY KEY,
        datasetId INTEGER NOT NULL,
        granteeSbtId INTEGER NOT NULL,
        requester TEXT NOT NULL,
        opMask INTEGER NOT NULL,
        purposeHash TEXT NOT NULL,
        purposeCodes TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('Requested', 'Granted', 'Denied')),
        requestedBlock INTEGER NOT NULL,
        requestedTxHash TEXT NOT NULL,
        decidedBlock INTEGER
      ) STRICT;
      CREATE INDEX requests_dataset ON requests (datasetId, status);
      CREATE INDEX requests_grantee ON requests (granteeSbtId);

      CREATE TABLE grants (
        grantId INTEGER PRIMARY KEY,
        datasetId INTEGER NOT NULL,
        granteeSbtId INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('Granted', 'Revoked')),
        purposeHash TEXT,
        opMask INTEGER NOT NULL,
        notBefore INTEGER NOT NULL,
        expiry INTEGER NOT NULL,
        maxRuns INTEGER NOT NULL,
        rateWindow INTEGER NOT NULL,
        rateMaxRuns INTEGER NOT NULL,
        regionCode TEXT NOT NULL,
        epsilonCap INTEGER NOT NULL,
        deltaCap TEXT NOT NULL,
        termsHash TEXT NOT NULL,
        keySwitchAllowed INTEGER NOT NULL CHECK (keySwitchAllowed IN (0, 1)),
        feePerUse TEXT NOT NULL,
        ownerBps INTEGER NOT NULL,
        donorsBps INTEGER NOT NULL,
        platformBps INTEGER NOT NULL,
        runsUsed INTEGER NOT NULL DEFAULT 0,
        useCount INTEGER NOT NULL DEFAULT 0,
        jobPermitCount INTEGER NOT NULL DEFAULT 0,
        paidRuns INTEGER NOT NULL DEFAULT 0,
        epsilonSpent INTEGER NOT NULL DEFAULT 0,
        deltaSpent TEXT NOT NULL DEFAULT '0',
        grantedBlock INTEGER NOT NULL,
        revokedBlock INTEGER
      ) STRICT;
      CREATE INDEX grants_dataset ON grants (datasetId);
      CREATE INDEX grants_grantee ON grants (granteeSbtId);

      CREATE TABLE job_permits (
        permitId INTEGER PRIMARY KEY,
        grantId INTEGER NOT NULL,
        datasetId INTEGER NOT NULL,
        granteeSbtId INTEGER NOT NULL,
        algorithmId TEXT NOT NULL,
        paramsHash TEXT NOT NULL,
        epsilon INTEGER NOT NULL,
        delta TEXT NOT NULL,
        regionCode TEXT NOT NULL,
        runIndex INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('Issued', 'ResultPosted')),
        issuedBlock INTEGER NOT NULL,
        issuedTxHash TEXT NOT NULL
      ) STRICT;
      CREATE INDEX job_permits_grant ON job_permits (grantId);
      CREATE INDEX job_permits_dataset ON job_permits (datasetId);

      CREATE TABLE job_results (
        permitId INTEGER PRIMARY KEY,
        grantId INTEGER NOT NULL,
        orchestratorSbtId INTEGER NOT NULL,
        resultCommitment TEXT NOT NULL,
        resultURI TEXT NOT NULL,
        postedBlock INTEGER NOT NULL,
        postedTxHash TEXT NOT NULL
      ) STRICT;

      CREATE TABLE key_switches (
        id INTEGER PRIMARY KEY,
        permitId INTEGER NOT NULL,
        grantId INTEGER NOT NULL,
        shareCommitment TEXT NOT NULL,
        blockNumber INTEGER NOT NULL,
        txHash TEXT NOT NULL,
        logIndex INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX key_switches_permit ON key_switches (permitId);
    `);
  },
};
