import type { Migration } from '../migrate';

/**
 * Projections of IdentitySBT and DatasetRegistry: one row per identity token (profiles), per dataset, per donor's
 * consent on a dataset, every consent change, and the algorithm ids job permits may name. Column names are the
 * Solidity event arguments'. Integers wider than 53 bits (uint64 bitmasks) are decimal TEXT.
 */
export const migration: Migration = {
  version: 2,
  name: 'identity-datasets',
  rebuildsProjections: true,
  up(db) {
    db.exec(`
      CREATE TABLE profiles (
        sbtId INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        roles INTEGER NOT NULL DEFAULT 0,
        burnAuth INTEGER,
        regionCode TEXT,
        regionValidUntil INTEGER,
        regionAttestedAt INTEGER,
        regionOracle TEXT,
        fheKeyFingerprint TEXT,
        burned INTEGER NOT NULL DEFAULT 0 CHECK (burned IN (0, 1)),
        issuedBlock INTEGER NOT NULL,
        updatedBlock INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX profiles_address ON profiles (address);

      CREATE TABLE datasets (
        datasetId INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        manifestCommitment TEXT NOT NULL,
        resourceURI TEXT NOT NULL,
        fheParamsHash TEXT NOT NULL,
        fheKeyFingerprint TEXT NOT NULL,
        consentCodes TEXT NOT NULL,
        consentRoot TEXT NOT NULL,
        donorCount INTEGER NOT NULL,
        withdrawnCount INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        royaltyReceiver TEXT,
        royaltyBps INTEGER,
        registeredBlock INTEGER NOT NULL,
        updatedBlock INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX datasets_owner ON datasets (owner);

      CREATE TABLE donor_consent (
        datasetId INTEGER NOT NULL,
        donorSbtId INTEGER NOT NULL,
        withdrawn INTEGER NOT NULL CHECK (withdrawn IN (0, 1)),
        changedBlock INTEGER NOT NULL,
        PRIMARY KEY (datasetId, donorSbtId)
      ) STRICT;

      CREATE TABLE consent_changes (
        id INTEGER PRIMARY KEY,
        datasetId INTEGER NOT NULL,
        donorSbtId INTEGER NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('Withdrawn', 'Restored')),
        blockNumber INTEGER NOT NULL,
        txHash TEXT NOT NULL,
        logIndex INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX consent_changes_dataset ON consent_changes (datasetId, blockNumber);

      CREATE TABLE algorithms (
        algorithmId TEXT PRIMARY KEY,
        algorithmIndex INTEGER NOT NULL,
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        registeredBlock INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
