import Database from 'better-sqlite3';
import { Interface, keccak256, type BaseWallet, type JsonRpcProvider } from 'ethers';
import { COS_ABIS, decodeCosError, revertDataOf } from '../../shared/contracts';
import type { Logger } from '../common/log';
import { nowSeconds } from './tickets';

/** One ticketed serve to record on chain as Used. */
export interface UseRecord {
  ticketHash: string;
  /** 0x + SHA-256 of the served object. */
  objectDigest: string;
  grantId: bigint;
  op: number;
  /** The ticket's expiry (unix seconds): the deduplication window. */
  ticketExpiry: number;
}

export interface UseStateRow {
  objectDigest: string;
  state: 'pending' | 'recorded' | 'failed';
  txHash: string | null;
  error: string | null;
}

export interface OutboxOptions {
  wallet: BaseWallet;
  provider: JsonRpcProvider;
  chainId: bigint;
  dataAccess: string;
  batchSize: number;
  flushIntervalMs: number;
  logger: Logger;
  /** Called after uses were recorded or failed (the grant counters on chain moved). */
  onSettled?: () => void;
  /** How long to wait for a receipt before leaving a transaction for the next round. */
  receiptTimeoutMs?: number;
}

interface Row {
  ticket_hash: string;
  object_digest: string;
  grant_id: string;
  op: number;
  state: string;
  tx_hash: string | null;
  error: string | null;
  single: number;
}

interface TxRow {
  hash: string;
  nonce: number;
  raw: string;
  created_at: number;
}

type Waiter = { use: UseRecord; resolve: () => void; reject: (error: Error) => void };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS uses (
  ticket_hash TEXT NOT NULL,
  object_digest TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  op INTEGER NOT NULL,
  ticket_expiry INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'recorded', 'failed')),
  single INTEGER NOT NULL DEFAULT 0,
  tx_hash TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (ticket_hash, object_digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uses_state ON uses (state, created_at);
CREATE INDEX IF NOT EXISTS uses_tx ON uses (tx_hash);
CREATE TABLE IF NOT EXISTS txs (
  hash TEXT PRIMARY KEY,
  nonce INTEGER NOT NULL,
  raw TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('sent', 'mined', 'reverted', 'dropped')),
  created_at INTEGER NOT NULL
);
`;

const RECORD_USES_SELECTOR = new Interface(COS_ABIS.DataAccess).getFunction('recordUses')!.selector;
const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/;
const UINT_DECIMAL = /^(0|[1-9][0-9]{0,79})$/;

/**
 * Calldata of `DataAccess.recordUses((uint256 grantId, uint8 op, bytes32 ticketCommitment, bytes32
 * objectDigest)[])`: an array of static tuples is selector ‖ offset ‖ length ‖ 4 words a use. Written
 * directly: ethers' ABI coder took ~20 ms for a batch of 100 on the event loop, stalling serves.
 * (outbox.test.ts checks it against ethers.)
 */
export function encodeRecordUses(
  uses: readonly { grantId: string | bigint; op: number; ticketHash: string; objectDigest: string }[],
): string {
  const word = (value: bigint) => {
    if (value < 0n || value >> 256n !== 0n) throw new Error('recordUses: value out of range');
    return value.toString(16).padStart(64, '0');
  };
  const parts = [RECORD_USES_SELECTOR, word(32n), word(BigInt(uses.length))];
  for (const use of uses) {
    if (typeof use.grantId === 'string' && !UINT_DECIMAL.test(use.grantId)) throw new Error('recordUses: bad grantId');
    if (!Number.isInteger(use.op) || use.op < 0 || use.op > 255) throw new Error('recordUses: bad op');
    if (!BYTES32_HEX.test(use.ticketHash) || !BYTES32_HEX.test(use.objectDigest))
      throw new Error('recordUses: bad bytes32');
    parts.push(word(BigInt(use.grantId)), word(BigInt(use.op)), use.ticketHash.slice(2), use.objectDigest.slice(2));
  }
  return parts.join('').toLowerCase();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The durable outbox of uses. A serve's use is committed (SQLite WAL, synchronous=FULL: fsync'ed) before
 * its first byte goes out; commits of concurrent serves are grouped into one transaction. A flusher sends
 * them in DataAccess.recordUses batches. Each transaction is signed and stored with its rows *before* it
 * is broadcast, so after a crash the same transaction (same nonce) is re-sent or found mined: a use is
 * recorded exactly once. A batch that reverts falls back to single records; a use that cannot be recorded
 * is marked `failed` with the decoded custom error, never dropped.
 */
export class Outbox {
  private readonly db: Database.Database;
  private readonly access = new Interface(COS_ABIS.DataAccess);
  private readonly seen = new Map<string, number>();
  private readonly pendingByGrant = new Map<string, number>();
  private readonly settledByGrant = new Map<string, number>();
  private queue: Waiter[] = [];
  private commitScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private nonce: number | null = null;
  private closed = false;
  private readonly insert: Database.Statement;

  constructor(
    file: string,
    private readonly options: OutboxOptions,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      `INSERT OR IGNORE INTO uses (ticket_hash, object_digest, grant_id, op, ticket_expiry, state, created_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
    );
    const now = nowSeconds();
    const open = this.db
      .prepare(`SELECT ticket_hash, object_digest, ticket_expiry FROM uses WHERE ticket_expiry > ?`)
      .all(now) as { ticket_hash: string; object_digest: string; ticket_expiry: number }[];
    for (const row of open) this.seen.set(`${row.ticket_hash}:${row.object_digest}`, row.ticket_expiry);
    const pending = this.db
      .prepare(`SELECT grant_id, COUNT(*) AS n FROM uses WHERE state IN ('pending', 'sent') GROUP BY grant_id`)
      .all() as { grant_id: string; n: number }[];
    for (const row of pending) this.pendingByGrant.set(row.grant_id, row.n);
  }

  /** Whether this (ticket, object) was already served (and so recorded, or to be) in its window. */
  has(ticketHash: string, objectDigest: string): boolean {
    return this.seen.has(`${ticketHash}:${objectDigest}`);
  }

  /** Uses of `grantId` not yet on chain: they count against the grant's remaining runs. */
  pendingFor(grantId: bigint): number {
    return this.pendingByGrant.get(grantId.toString()) ?? 0;
  }

  /**
   * Uses of `grantId` that left the outbox (recorded, or failed) since this process started: monotonic.
   * A grant state read from the chain after a snapshot of this counter already counts every use settled
   * before the snapshot; the ones settled since are the difference (see the gateway's run check).
   */
  settledFor(grantId: bigint): number {
    return this.settledByGrant.get(grantId.toString()) ?? 0;
  }

  private settled(grantId: string): void {
    this.settledByGrant.set(grantId, (this.settledByGrant.get(grantId) ?? 0) + 1);
  }

  get pendingTotal(): number {
    let total = 0;
    for (const n of this.pendingByGrant.values()) total += n;
    return total;
  }

  /**
   * Reserves the use at once (so concurrent serves see it in `has` and `pendingFor`) and resolves when it
   * is durably committed. Returns false (and commits nothing) when it was already there.
   */
  add(use: UseRecord): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('outbox closed'));
    const key = `${use.ticketHash}:${use.objectDigest}`;
    if (this.seen.has(key)) return Promise.resolve(false);
    this.seen.set(key, use.ticketExpiry);
    this.bump(use.grantId.toString(), 1);
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ use, resolve: () => resolve(true), reject });
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        setImmediate(() => this.commit());
      }
    });
  }

  private bump(grantId: string, delta: number): void {
    const next = (this.pendingByGrant.get(grantId) ?? 0) + delta;
    if (next <= 0) this.pendingByGrant.delete(grantId);
    else this.pendingByGrant.set(grantId, next);
  }

  private commit(): void {
    this.commitScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const now = nowSeconds();
    try {
      this.db.transaction(() => {
        for (const { use } of batch) {
          this.insert.run(use.ticketHash, use.objectDigest, use.grantId.toString(), use.op, use.ticketExpiry, now);
        }
      })();
    } catch (error) {
      for (const { use, reject } of batch) {
        this.seen.delete(`${use.ticketHash}:${use.objectDigest}`);
        this.bump(use.grantId.toString(), -1);
        reject(error as Error);
      }
      return;
    }
    for (const waiter of batch) waiter.resolve();
    if (this.pendingTotal >= this.options.batchSize) this.kick();
  }

  /** Recording state of every use under `ticketHash`. */
  state(ticketHash: string): UseStateRow[] {
    const rows = this.db
      .prepare(`SELECT * FROM uses WHERE ticket_hash = ? ORDER BY created_at, object_digest`)
      .all(ticketHash.toLowerCase()) as Row[];
    return rows.map((row) => ({
      objectDigest: row.object_digest,
      state: row.state === 'sent' ? 'pending' : (row.state as UseStateRow['state']),
      txHash: row.tx_hash,
      error: row.error,
    }));
  }

  counts(): Record<string, number> {
    const rows = this.db.prepare(`SELECT state, COUNT(*) AS n FROM uses GROUP BY state`).all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  start(): void {
    this.timer = setInterval(() => {
      this.pruneSeen();
      this.kick();
    }, this.options.flushIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Forgets (ticket, object) pairs whose ticket expired: they can no longer be served. */
  private pruneSeen(): void {
    const now = nowSeconds();
    if (this.seen.size < 10_000) return;
    for (const [key, expiry] of this.seen) if (expiry <= now) this.seen.delete(key);
  }

  /** Starts a flush unless one is running. */
  kick(): void {
    if (this.closed || this.flushing) return;
    this.flushing = this.flushOnce()
      .catch((error: unknown) => {
        this.nonce = null;
        this.options.logger.warn('outbox flush interrupted; will retry', { error: (error as Error).message });
      })
      .finally(() => {
        this.flushing = null;
      });
  }

  /** Flushes until nothing is pending (or an error stops it); for tests and shutdown. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.flushing) await this.flushing;
      if (this.pendingTotal === 0 && this.queue.length === 0) return;
      this.kick();
      if (this.flushing) await this.flushing;
      if (this.pendingTotal === 0) return;
      await sleep(50);
    }
  }

  private async flushOnce(): Promise<void> {
    await this.settleSent();
    const select = this.db.prepare(
      `SELECT * FROM uses WHERE state = 'pending' ORDER BY single DESC, created_at LIMIT ?`,
    );
    for (;;) {
      if (this.closed) return;
      const rows = select.all(this.options.batchSize) as Row[];
      if (rows.length === 0) return;
      const batch = rows[0]!.single ? [rows[0]!] : rows;
      const outcome = await this.send(batch);
      if (outcome === 'unsent') return;
    }
  }

  private encode(rows: Row[]): string {
    if (rows.length === 1) {
      const row = rows[0]!;
      return this.access.encodeFunctionData('recordUse', [row.grant_id, row.op, row.ticket_hash, row.object_digest]);
    }
    return encodeRecordUses(
      rows.map((row) => ({
        grantId: row.grant_id,
        op: row.op,
        ticketHash: row.ticket_hash,
        objectDigest: row.object_digest,
      })),
    );
  }

  private markFailed(row: Row, reason: string): void {
    this.db
      .prepare(`UPDATE uses SET state = 'failed', error = ? WHERE ticket_hash = ? AND object_digest = ?`)
      .run(reason, row.ticket_hash, row.object_digest);
    this.bump(row.grant_id, -1);
    this.settled(row.grant_id);
    this.options.logger.error('use cannot be recorded', {
      ticketHash: row.ticket_hash,
      objectDigest: row.object_digest,
      grantId: row.grant_id,
      reason,
    });
    this.options.onSettled?.();
  }

  /** Sends one transaction for `rows`; 'unsent' when the chain could not be reached. */
  private async send(rows: Row[]): Promise<'sent' | 'split' | 'failed' | 'unsent'> {
    const { provider, wallet, dataAccess, logger } = this.options;
    const data = this.encode(rows);
    let gas: bigint;
    try {
      gas = await provider.estimateGas({ from: wallet.address, to: dataAccess, data });
    } catch (error) {
      const revert = revertDataOf(error);
      if (!revert) {
        logger.warn('outbox: chain unavailable', { error: (error as Error).message });
        return 'unsent';
      }
      if (rows.length > 1) {
        const decoded = decodeCosError(revert);
        logger.warn('outbox: batch would revert; recording one by one', {
          reason: decoded?.name ?? revert,
          size: rows.length,
        });
        const mark = this.db.prepare(`UPDATE uses SET single = 1 WHERE ticket_hash = ? AND object_digest = ?`);
        this.db.transaction(() => rows.forEach((row) => mark.run(row.ticket_hash, row.object_digest)))();
        return 'split';
      }
      const decoded = decodeCosError(revert);
      const reason = decoded
        ? `${decoded.name}(${Object.entries(decoded.args)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(', ')})`
        : `revert ${revert.slice(0, 74)}`;
      this.markFailed(rows[0]!, reason);
      return 'failed';
    }
    const nonce = this.nonce ?? (await provider.getTransactionCount(wallet.address, 'pending'));
    const fees = await provider.getFeeData();
    const raw = await wallet.signTransaction({
      type: 2,
      chainId: this.options.chainId,
      nonce,
      to: dataAccess,
      data,
      gasLimit: (gas * 12n) / 10n + 10_000n,
      maxFeePerGas: fees.maxFeePerGas ?? fees.gasPrice ?? 1_000_000_000n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 0n,
    });
    const hash = keccak256(raw);
    const markSent = this.db.prepare(
      `UPDATE uses SET state = 'sent', tx_hash = ? WHERE ticket_hash = ? AND object_digest = ? AND state = 'pending'`,
    );
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO txs (hash, nonce, raw, state, created_at) VALUES (?, ?, ?, 'sent', ?)`)
        .run(hash, nonce, raw, Date.now());
      for (const row of rows) markSent.run(hash, row.ticket_hash, row.object_digest);
    })();
    this.nonce = nonce + 1;
    await this.broadcast(raw);
    await this.settle({ hash, nonce, raw, created_at: Date.now() });
    return 'sent';
  }

  private async broadcast(raw: string): Promise<void> {
    try {
      await this.options.provider.send('eth_sendRawTransaction', [raw]);
    } catch (error) {
      // "already known" / "nonce too low" after a restart: the receipt check decides what happened.
      this.options.logger.debug('outbox: broadcast refused', { error: (error as Error).message });
    }
  }

  /** Re-checks every transaction left `sent` (a previous run, or a slow chain). */
  private async settleSent(): Promise<void> {
    const sent = this.db
      .prepare(`SELECT hash, nonce, raw, created_at FROM txs WHERE state = 'sent' ORDER BY nonce`)
      .all() as TxRow[];
    for (const tx of sent) {
      await this.broadcast(tx.raw);
      await this.settle(tx);
    }
  }

  /** Waits for `tx`'s receipt and applies it to its rows. */
  private async settle(tx: TxRow): Promise<void> {
    const { provider, wallet, logger } = this.options;
    const deadline = Date.now() + (this.options.receiptTimeoutMs ?? 30_000);
    let droppedChecks = 0;
    for (;;) {
      // The account's mined nonce first, then the receipt: a transaction mined between the two questions
      // must not look dropped (it would be sent twice).
      const mined = await provider.getTransactionCount(wallet.address, 'latest');
      const receipt = (await provider.send('eth_getTransactionReceipt', [tx.hash])) as { status?: string } | null;
      if (receipt && typeof receipt.status === 'string') {
        const ok = BigInt(receipt.status) === 1n;
        const rows = this.db.prepare(`SELECT * FROM uses WHERE tx_hash = ?`).all(tx.hash) as Row[];
        this.db.transaction(() => {
          this.db.prepare(`UPDATE txs SET state = ? WHERE hash = ?`).run(ok ? 'mined' : 'reverted', tx.hash);
          if (ok) this.db.prepare(`UPDATE uses SET state = 'recorded' WHERE tx_hash = ?`).run(tx.hash);
          else
            this.db
              .prepare(`UPDATE uses SET state = 'pending', tx_hash = NULL, single = 1 WHERE tx_hash = ?`)
              .run(tx.hash);
        })();
        if (ok) {
          for (const row of rows) {
            this.bump(row.grant_id, -1);
            this.settled(row.grant_id);
          }
          logger.info('uses recorded', { txHash: tx.hash, uses: rows.length });
        } else {
          logger.warn('recordUses transaction reverted; recording one by one', { txHash: tx.hash });
        }
        this.options.onSettled?.();
        return;
      }
      droppedChecks = mined > tx.nonce ? droppedChecks + 1 : 0;
      if (droppedChecks >= 3) {
        // The nonce went to another transaction and this one has no receipt: it was dropped.
        this.db.transaction(() => {
          this.db.prepare(`UPDATE txs SET state = 'dropped' WHERE hash = ?`).run(tx.hash);
          this.db.prepare(`UPDATE uses SET state = 'pending', tx_hash = NULL WHERE tx_hash = ?`).run(tx.hash);
        })();
        this.nonce = null;
        logger.warn('outbox transaction dropped; its uses will be sent again', { txHash: tx.hash });
        return;
      }
      if (Date.now() > deadline) throw new Error(`no receipt for ${tx.hash} yet`);
      await sleep(droppedChecks > 0 ? 300 : 50);
    }
  }

  /** Stops the flusher after the current round; pending uses stay on disk for the next start. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.commit();
    this.closed = true;
    if (this.flushing) await this.flushing;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
