import type { Migration } from '../migrate';

/**
 * The chain log: where the watcher stands (cursor per chain and deployment), the hashes of recent blocks for reorg
 * detection, every decoded event of the deployment (audit_events, the source every projection is computed from)
 * and the logs that were refused.
 */
export const migration: Migration = {
  version: 1,
  name: 'chain-log',
  up(db) {
    db.exec(`
      CREATE TABLE db_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE chain_cursor (
        chainId INTEGER NOT NULL,
        deployment TEXT NOT NULL,
        contracts TEXT NOT NULL,
        startBlock INTEGER NOT NULL CHECK (startBlock >= 0),
        blockNumber INTEGER NOT NULL CHECK (blockNumber >= -1),
        blockHash TEXT,
        updatedAt INTEGER NOT NULL,
        PRIMARY KEY (chainId, deployment)
      ) STRICT;

      CREATE TABLE chain_blocks (
        chainId INTEGER NOT NULL,
        deployment TEXT NOT NULL,
        blockNumber INTEGER NOT NULL,
        blockHash TEXT NOT NULL,
        parentHash TEXT NOT NULL,
        PRIMARY KEY (chainId, deployment, blockNumber),
        FOREIGN KEY (chainId, deployment) REFERENCES chain_cursor (chainId, deployment) ON DELETE CASCADE
      ) STRICT;

      CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY,
        chainId INTEGER NOT NULL,
        blockNumber INTEGER NOT NULL,
        blockHash TEXT NOT NULL,
        txHash TEXT NOT NULL,
        logIndex INTEGER NOT NULL,
        contract TEXT NOT NULL,
        name TEXT NOT NULL,
        args TEXT NOT NULL CHECK (json_valid(args)),
        datasetId INTEGER,
        grantId INTEGER,
        UNIQUE (chainId, blockHash, logIndex)
      ) STRICT;
      CREATE INDEX audit_events_order ON audit_events (chainId, blockNumber, logIndex);
      CREATE INDEX audit_events_dataset ON audit_events (datasetId, blockNumber) WHERE datasetId IS NOT NULL;
      CREATE INDEX audit_events_grant ON audit_events (grantId, blockNumber) WHERE grantId IS NOT NULL;

      CREATE TABLE rejected_logs (
        id INTEGER PRIMARY KEY,
        chainId INTEGER NOT NULL,
        blockNumber INTEGER NOT NULL,
        blockHash TEXT NOT NULL,
        txHash TEXT NOT NULL,
        logIndex INTEGER NOT NULL,
        address TEXT NOT NULL,
        topics TEXT NOT NULL CHECK (json_valid(topics)),
        data TEXT NOT NULL,
        reason TEXT NOT NULL,
        message TEXT NOT NULL,
        UNIQUE (chainId, blockHash, logIndex)
      ) STRICT;
      CREATE INDEX rejected_logs_order ON rejected_logs (chainId, blockNumber);
    `);
  },
};
