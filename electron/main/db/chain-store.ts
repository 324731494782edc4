import type { ChainEventRecord, EventPosition, JsonValue } from './chain-events';
import { idArg } from './chain-events';
import { DatabaseError } from './errors';
import type { SqliteDatabase } from './migrate';
import { clearProjections, Projector, rebuildProjections } from './projections';

/** A block the watcher has seen: its number, hash and parent's hash. */
export interface BlockRef {
  number: number;
  hash: string;
  parentHash: string;
}

/** Where the watcher stands: every event up to and including `blockNumber` is applied (-1/null: none yet). */
export interface ChainCursor {
  chainId: number;
  deployment: string;
  startBlock: number;
  blockNumber: number;
  blockHash: string | null;
}

/** A log that was refused: kept for the audit view, never applied. */
export interface RejectedLogRecord extends EventPosition {
  address: string;
  topics: string[];
  data: string;
  reason: string;
  message: string;
}

/** One batch of blocks, applied together with the cursor move in one transaction. */
export interface ChainBatch {
  fromBlock: number;
  toBlock: number;
  toHash: string;
  /** Decoded events in chain order. */
  events: ChainEventRecord[];
  rejected: RejectedLogRecord[];
  /** Block hashes to keep for reorg detection (at least the batch's last block). */
  blocks: BlockRef[];
}

export interface AppliedBatch {
  /** Events inserted and projected by this batch (an event already present is not applied again). */
  applied: ChainEventRecord[];
  duplicates: number;
  rejected: number;
}

export interface RolledBack {
  forkBlock: number;
  /** The cursor before the rollback. */
  previousBlock: number;
  orphaned: ChainEventRecord[];
  orphanedRejected: number;
  /** Events re-applied when the projections were recomputed. */
  reprojected: number;
}

export interface ChainStoreOptions {
  chainId: number;
  /** Identifies the deployment (see deploymentKey in chain/watcher.ts). */
  deployment: string;
  /** The deployment's addresses, kept with the cursor for whoever reads the file. */
  contracts: Record<string, string>;
  /** First block that may hold the deployment's events (its deployment block). */
  startBlock: number;
  /** How many recent block hashes to keep for reorg detection. */
  reorgWindow: number;
}

/**
 * The watcher's side of the database: the cursor, recent block hashes, audit_events and rejected_logs, and the
 * projections they feed. Every write that moves the cursor happens in the same immediate transaction as the events
 * it covers, so a crash at any point leaves either the whole batch or none of it.
 */
export class ChainStore {
  private readonly projector: Projector;
  private readonly statements;

  constructor(
    readonly db: SqliteDatabase,
    readonly options: ChainStoreOptions,
  ) {
    this.projector = new Projector(db);
    this.statements = {
      cursor: db.prepare(`SELECT chainId, deployment, startBlock, blockNumber, blockHash FROM chain_cursor
        WHERE chainId = ? AND deployment = ?`),
      createCursor: db.prepare(`INSERT INTO chain_cursor (chainId, deployment, contracts, startBlock, blockNumber,
        blockHash, updatedAt) VALUES (?, ?, ?, ?, ?, NULL, ?) ON CONFLICT DO NOTHING`),
      moveCursor: db.prepare(`UPDATE chain_cursor SET blockNumber = ?, blockHash = ?, updatedAt = ?
        WHERE chainId = ? AND deployment = ?`),
      otherCursors: db.prepare(
        'SELECT chainId, deployment FROM chain_cursor WHERE NOT (chainId = ? AND deployment = ?)',
      ),
      insertEvent: db.prepare(`INSERT INTO audit_events (chainId, blockNumber, blockHash, txHash, logIndex, contract,
        name, args, datasetId, grantId) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (chainId, blockHash, logIndex) DO NOTHING`),
      insertRejected: db.prepare(`INSERT INTO rejected_logs (chainId, blockNumber, blockHash, txHash, logIndex, address,
        topics, data, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (chainId, blockHash, logIndex) DO NOTHING`),
      rememberBlock: db.prepare(`INSERT OR REPLACE INTO chain_blocks (chainId, deployment, blockNumber, blockHash,
        parentHash) VALUES (?, ?, ?, ?, ?)`),
      pruneBlocks: db.prepare('DELETE FROM chain_blocks WHERE chainId = ? AND deployment = ? AND blockNumber < ?'),
      recentBlocks: db.prepare(`SELECT blockNumber AS number, blockHash AS hash FROM chain_blocks
        WHERE chainId = ? AND deployment = ? ORDER BY blockNumber DESC`),
      eventBlocksBelow: db.prepare(`SELECT DISTINCT blockNumber AS number, blockHash AS hash FROM audit_events
        WHERE chainId = ? AND blockNumber < ? ORDER BY blockNumber`),
      eventsAbove: db.prepare(`SELECT chainId, blockNumber, blockHash, txHash, logIndex, contract, name, args
        FROM audit_events WHERE chainId = ? AND blockNumber > ? ORDER BY blockNumber, logIndex`),
      deleteEventsAbove: db.prepare('DELETE FROM audit_events WHERE chainId = ? AND blockNumber > ?'),
      deleteRejectedAbove: db.prepare('DELETE FROM rejected_logs WHERE chainId = ? AND blockNumber > ?'),
      deleteBlocksAbove: db.prepare(
        'DELETE FROM chain_blocks WHERE chainId = ? AND deployment = ? AND blockNumber > ?',
      ),
    };
  }

  /** The cursor, created just before startBlock on first use. */
  cursor(): ChainCursor {
    const { chainId, deployment, contracts, startBlock } = this.options;
    this.statements.createCursor.run(
      chainId,
      deployment,
      JSON.stringify(contracts),
      startBlock,
      startBlock - 1,
      Date.now(),
    );
    return this.statements.cursor.get(chainId, deployment) as ChainCursor;
  }

  /** Cursors of other chains or deployments in this file (a database serves one deployment). */
  otherCursors(): { chainId: number; deployment: string }[] {
    return this.statements.otherCursors.all(this.options.chainId, this.options.deployment) as {
      chainId: number;
      deployment: string;
    }[];
  }

  /**
   * Applies a batch and moves the cursor to its last block in one transaction. Refuses a batch that does not
   * start right after the cursor (another writer moved it), so no block is ever applied twice.
   */
  applyBatch(batch: ChainBatch): AppliedBatch {
    const { chainId, deployment, reorgWindow } = this.options;
    const s = this.statements;
    const run = this.db.transaction((): AppliedBatch => {
      const cursor = this.cursor();
      if (cursor.blockNumber !== batch.fromBlock - 1) {
        throw new DatabaseError(
          'CURSOR_MOVED',
          `Batch ${batch.fromBlock}-${batch.toBlock} does not follow the cursor at block ${cursor.blockNumber}`,
        );
      }
      const applied: ChainEventRecord[] = [];
      let duplicates = 0;
      for (const event of batch.events) {
        const inserted = s.insertEvent.run(
          chainId,
          event.blockNumber,
          event.blockHash,
          event.txHash,
          event.logIndex,
          event.contract,
          event.name,
          JSON.stringify(event.args),
          idArg(event.args, 'datasetId') ??
            (event.contract === 'DatasetRegistry' ? idArg(event.args, 'tokenId') : null),
          idArg(event.args, 'grantId'),
        );
        if (inserted.changes === 0) {
          duplicates += 1;
          continue;
        }
        this.projector.apply(event);
        applied.push(event);
      }
      let rejected = 0;
      for (const log of batch.rejected) {
        rejected += s.insertRejected.run(
          chainId,
          log.blockNumber,
          log.blockHash,
          log.txHash,
          log.logIndex,
          log.address,
          JSON.stringify(log.topics),
          log.data,
          log.reason,
          log.message,
        ).changes;
      }
      for (const block of batch.blocks) {
        s.rememberBlock.run(chainId, deployment, block.number, block.hash, block.parentHash);
      }
      s.pruneBlocks.run(chainId, deployment, batch.toBlock - reorgWindow);
      s.moveCursor.run(batch.toBlock, batch.toHash, Date.now(), chainId, deployment);
      return { applied, duplicates, rejected };
    });
    return run.immediate();
  }

  /** Recent block hashes, newest first (the cursor's block among them once a batch was applied). */
  recentBlocks(): { number: number; hash: string }[] {
    return this.statements.recentBlocks.all(this.options.chainId, this.options.deployment) as {
      number: number;
      hash: string;
    }[];
  }

  /** Blocks below `blockNumber` known from the events they hold, oldest first: deeper fork-point candidates. */
  eventBlocksBelow(blockNumber: number): { number: number; hash: string }[] {
    return this.statements.eventBlocksBelow.all(this.options.chainId, blockNumber) as {
      number: number;
      hash: string;
    }[];
  }

  /**
   * Forgets everything after `forkBlock` (orphaned by a reorg), recomputes the projections from the remaining
   * audit_events and puts the cursor on the fork block, all in one transaction.
   */
  rollbackTo(forkBlock: number, forkHash: string | null): RolledBack {
    const { chainId, deployment, startBlock } = this.options;
    const s = this.statements;
    const fork = Math.max(forkBlock, startBlock - 1);
    const run = this.db.transaction((): RolledBack => {
      const previousBlock = this.cursor().blockNumber;
      const orphaned = (s.eventsAbove.all(chainId, fork) as (Omit<ChainEventRecord, 'args'> & { args: string })[]).map(
        (row) => ({ ...row, args: JSON.parse(row.args) as { [key: string]: JsonValue } }),
      );
      s.deleteEventsAbove.run(chainId, fork);
      const orphanedRejected = s.deleteRejectedAbove.run(chainId, fork).changes;
      s.deleteBlocksAbove.run(chainId, deployment, fork);
      s.moveCursor.run(fork, fork < startBlock ? null : forkHash, Date.now(), chainId, deployment);
      const reprojected = orphaned.length > 0 ? rebuildProjections(this.db) : 0;
      return { forkBlock: fork, previousBlock, orphaned, orphanedRejected, reprojected };
    });
    return run.immediate();
  }

  /** Empties the whole cache (every deployment's events, cursors and projections) and starts a new cursor. */
  reset(): void {
    const run = this.db.transaction(() => {
      clearProjections(this.db);
      for (const table of ['audit_events', 'rejected_logs', 'chain_blocks', 'chain_cursor']) {
        this.db.prepare(`DELETE FROM ${table}`).run();
      }
      this.cursor();
    });
    run.immediate();
  }
}
