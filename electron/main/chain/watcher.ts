import { type JsonRpcProvider, toQuantity } from 'ethers';
import type { CosContractAddresses } from '../../../shared/contracts';
import {
  ChainStore,
  type BlockRef,
  type ChainBatch,
  type ChainEventRecord,
  type RejectedLogRecord,
  type SqliteDatabase,
} from '../db';
import { isWatcherError, type RejectedLogError, WatcherError } from './watcher-errors';
import { deploymentKey, isTooManyResultsError, LogClassifier, parseBlockHeader, parseRpcLog } from './watcher-logs';
import { WatcherProvider } from './watcher-provider';

export interface WatcherProgress {
  /** backfill: catching up; live: at the confirmed head, following new blocks. */
  phase: 'backfill' | 'live';
  startBlock: number;
  /** Last block applied. */
  cursorBlock: number;
  /** Newest block with enough confirmations. */
  safeBlock: number;
  headBlock: number;
  /** Events applied by the batch just committed, and since this watcher was created. */
  batchEvents: number;
  totalEvents: number;
}

export interface WatcherReorg {
  /** Last block still canonical: everything after it was rolled back. */
  forkBlock: number;
  /** The cursor before the rollback. */
  previousBlock: number;
  /** Events that were applied and are no longer on the chain. */
  orphaned: ChainEventRecord[];
  orphanedRejected: number;
}

export interface ChainWatcherOptions {
  db: SqliteDatabase;
  /** Any EVM JSON-RPC endpoint (ignored when `provider` is given). */
  rpcUrl?: string;
  provider?: JsonRpcProvider;
  chainId: number;
  contracts: CosContractAddresses;
  /** The deployment's first block (deployment file: deployedAtBlock). */
  startBlock: number;
  /** Blocks a block needs on top of it before it is applied. Default 0 (devnet). */
  confirmations?: number;
  /** Blocks per eth_getLogs request while backfilling. Default 2,000; halved on "too many results". */
  batchSize?: number;
  /** Recent block hashes kept for reorg detection; blocks this close to the head are fetched with headers. Default 64. */
  reorgWindow?: number;
  pollIntervalMs?: number;
  /** Longest wait between attempts while the node fails. */
  maxBackoffMs?: number;
  rpcTimeoutMs?: number;
  onEvent?: (event: ChainEventRecord) => void;
  onProgress?: (progress: WatcherProgress) => void;
  onReorg?: (reorg: WatcherReorg) => void;
  onRejected?: (error: RejectedLogError) => void;
  onError?: (error: Error) => void;
}

export interface SyncReport {
  cursorBlock: number;
  safeBlock: number;
  batches: number;
  applied: number;
  rejected: number;
  reorgs: number;
}

/** Where the time of a backfill goes, for the benchmark (wall-clock milliseconds). */
export interface WatcherTimings {
  /** Waiting for each batch's eth_getLogs and headers (sent together in one JSON-RPC batch). */
  fetchMs: number;
  decodeMs: number;
  applyMs: number;
  logs: number;
}

type FetchedBatch =
  | { kind: 'batch'; batch: ChainBatch; rejected: RejectedLogError[] }
  | { kind: 'reorg' }
  | { kind: 'inconsistent'; reason: string };

const GROW_AFTER_BATCHES = 8;
const MAX_INCONSISTENT_RETRIES = 5;
// A chain that reorganises more often than this within one catch-up is not one to follow blindly.
const MAX_REORGS_PER_SYNC = 16;

/**
 * Follows one COS deployment on any EVM JSON-RPC node and keeps the SQLite cache in step: backfills with
 * eth_getLogs over the deployment's addresses in batches of blocks, then polls for new heads; waits for
 * `confirmations`; validates every log (ours, known, decodable); applies each batch's events and moves the cursor
 * in one transaction (exactly once across restarts and kill -9); and on a reorg rolls back to the fork block and
 * re-applies the canonical chain. See docs/DATABASE.md.
 */
export class ChainWatcher {
  readonly deployment: string;
  readonly store: ChainStore;
  readonly timings: WatcherTimings = { fetchMs: 0, decodeMs: 0, applyMs: 0, logs: 0 };
  private readonly provider: JsonRpcProvider;
  private readonly ownsProvider: boolean;
  private readonly classifier: LogClassifier;
  private readonly confirmations: number;
  private readonly maxBatchSize: number;
  private readonly reorgWindow: number;
  private batchSize: number;
  private goodBatches = 0;
  private totalEvents = 0;
  private chainChecked = false;
  private lastIdleProgress = '';
  private syncing: Promise<SyncReport> | null = null;
  private loop: Promise<void> | null = null;
  private polling = false;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: ChainWatcherOptions) {
    const positive = (value: number | undefined, fallback: number, name: string, min = 1) => {
      const result = value ?? fallback;
      if (!Number.isSafeInteger(result) || result < min) throw new RangeError(`${name} must be an integer ≥ ${min}`);
      return result;
    };
    this.confirmations = positive(options.confirmations, 0, 'confirmations', 0);
    this.maxBatchSize = positive(options.batchSize, 2_000, 'batchSize');
    this.reorgWindow = positive(options.reorgWindow, 64, 'reorgWindow');
    positive(options.startBlock, 0, 'startBlock', 0);
    this.batchSize = this.maxBatchSize;
    this.deployment = deploymentKey(options.contracts);
    this.classifier = new LogClassifier(options.chainId, options.contracts);
    this.store = new ChainStore(options.db, {
      chainId: options.chainId,
      deployment: this.deployment,
      contracts: { ...options.contracts },
      startBlock: options.startBlock,
      reorgWindow: this.reorgWindow,
    });
    if (options.provider) {
      this.provider = options.provider;
      this.ownsProvider = false;
    } else {
      if (!options.rpcUrl) throw new RangeError('ChainWatcher needs rpcUrl or provider');
      this.provider = new WatcherProvider(options.rpcUrl, options.chainId, options.rpcTimeoutMs);
      this.ownsProvider = true;
    }
  }

  /** Blocks per eth_getLogs request right now (smaller after "too many results"). */
  currentBatchSize(): number {
    return this.batchSize;
  }

  /** Polls until stop(): catch up, wait, repeat; failures are reported to onError and retried with backoff. */
  start(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    this.loop = this.run();
  }

  /** Stops for good after the batch in flight (whose transaction either commits or never started). */
  async stop(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
    await this.syncing?.catch(() => undefined);
    if (this.ownsProvider) this.provider.destroy();
  }

  /** Applies everything up to the confirmed head once (joins a sync already running). */
  syncOnce(): Promise<SyncReport> {
    this.syncing ??= this.sync().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /** Drops the whole cache (events, cursor, projections) and backfills it again from the chain. */
  async rebuildFromChain(): Promise<SyncReport> {
    await this.checkChain(true);
    await this.syncing?.catch(() => undefined);
    // Synchronous from here to the new sync: no batch of the old cursor can slip in (and one would be refused).
    this.store.reset();
    this.totalEvents = 0;
    return this.syncOnce();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        await this.syncOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
        // A database or deployment that is not ours will not fix itself: stop rather than spin.
        if (isWatcherError(error, 'CHAIN_MISMATCH') || isWatcherError(error, 'DEPLOYMENT_MISMATCH')) break;
      }
      if (this.closed) break;
      const base = this.options.pollIntervalMs ?? 1_000;
      const delay = failures === 0 ? base : Math.min(base * 2 ** failures, this.options.maxBackoffMs ?? 30_000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.polling = false;
  }

  private async rpc<T>(method: string, params: unknown[]): Promise<T> {
    try {
      return (await this.provider.send(method, params)) as T;
    } catch (error) {
      if (isTooManyResultsError(error)) throw error;
      throw new WatcherError('RPC_FAILED', `${method} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  private async header(blockNumber: number): Promise<BlockRef | null> {
    return parseBlockHeader(await this.rpc('eth_getBlockByNumber', [toQuantity(blockNumber), false]));
  }

  private async checkChain(allowOtherDeployments = false): Promise<void> {
    if (!this.chainChecked) {
      const chainId = Number(await this.rpc<string>('eth_chainId', []));
      if (chainId !== this.options.chainId) {
        throw new WatcherError(
          'CHAIN_MISMATCH',
          `The node serves chain ${chainId}, the deployment is on chain ${this.options.chainId}`,
        );
      }
      this.chainChecked = true;
    }
    const others = this.store.otherCursors();
    if (!allowOtherDeployments && others.length > 0) {
      throw new WatcherError(
        'DEPLOYMENT_MISMATCH',
        `This database caches another deployment (chain ${others[0]!.chainId}): use another file or rebuild from chain`,
      );
    }
  }

  private async sync(): Promise<SyncReport> {
    await this.checkChain();
    const report: SyncReport = { cursorBlock: -1, safeBlock: -1, batches: 0, applied: 0, rejected: 0, reorgs: 0 };
    let inconsistent = 0;
    for (;;) {
      const head = Number(await this.rpc<string>('eth_blockNumber', []));
      const safeBlock = head - this.confirmations;
      const cursor = this.store.cursor();
      report.cursorBlock = cursor.blockNumber;
      report.safeBlock = safeBlock;
      if (cursor.blockNumber >= safeBlock || this.closed) {
        // Nothing new to apply: make sure what was applied is still the chain (a reorg may keep the height).
        if (cursor.blockHash !== null && !this.closed) {
          const canonical = await this.header(cursor.blockNumber);
          if (canonical?.hash !== cursor.blockHash) {
            await this.recoverFromReorg(report);
            continue;
          }
        }
        // Idle polls report only what changed (a new head still waiting for confirmations, say).
        const idleKey = `${cursor.blockNumber}:${safeBlock}:${head}`;
        if (idleKey !== this.lastIdleProgress) {
          this.lastIdleProgress = idleKey;
          this.progress(cursor.blockNumber >= safeBlock ? 'live' : 'backfill', cursor.blockNumber, safeBlock, head, 0);
        }
        return report;
      }

      const from = cursor.blockNumber + 1;
      const nearHead = from > safeBlock - this.reorgWindow;
      const span = nearHead ? Math.min(this.batchSize, this.reorgWindow) : this.batchSize;
      const to = Math.min(from + span - 1, nearHead ? safeBlock : safeBlock - this.reorgWindow);

      let fetched: FetchedBatch;
      try {
        fetched = await this.fetchBatch(from, to, cursor.blockHash, nearHead);
      } catch (error) {
        if (!isTooManyResultsError(error)) throw error;
        if (this.batchSize === 1) {
          throw new WatcherError('RPC_FAILED', `eth_getLogs refuses even a single block (${from})`, { cause: error });
        }
        this.batchSize = Math.max(1, Math.floor(this.batchSize / 2));
        this.goodBatches = 0;
        continue;
      }
      if (fetched.kind === 'reorg') {
        await this.recoverFromReorg(report);
        continue;
      }
      if (fetched.kind === 'inconsistent') {
        inconsistent += 1;
        if (inconsistent > MAX_INCONSISTENT_RETRIES) {
          throw new WatcherError('RPC_INCONSISTENT', `The node keeps answering inconsistently: ${fetched.reason}`);
        }
        continue;
      }
      inconsistent = 0;

      const started = performance.now();
      const result = this.store.applyBatch(fetched.batch);
      this.timings.applyMs += performance.now() - started;
      report.batches += 1;
      report.applied += result.applied.length;
      report.rejected += result.rejected;
      report.cursorBlock = to;
      this.totalEvents += result.applied.length;
      this.growBatchSize();
      for (const event of result.applied) this.options.onEvent?.(event);
      if (result.rejected > 0) for (const error of fetched.rejected) this.options.onRejected?.(error);
      this.progress(to >= safeBlock ? 'live' : 'backfill', to, safeBlock, head, result.applied.length);
    }
  }

  private growBatchSize(): void {
    if (this.batchSize >= this.maxBatchSize) return;
    this.goodBatches += 1;
    if (this.goodBatches >= GROW_AFTER_BATCHES) {
      this.batchSize = Math.min(this.maxBatchSize, this.batchSize * 2);
      this.goodBatches = 0;
    }
  }

  private progress(
    phase: WatcherProgress['phase'],
    cursorBlock: number,
    safeBlock: number,
    headBlock: number,
    batchEvents: number,
  ) {
    this.options.onProgress?.({
      phase,
      startBlock: this.options.startBlock,
      cursorBlock,
      safeBlock,
      headBlock,
      batchEvents,
      totalEvents: this.totalEvents,
    });
  }

  /**
   * Fetches the logs of blocks from..to and the headers that pin them to one chain. Near the head every header is
   * fetched (kept for reorg detection, each log checked against its block's hash); deeper, only the first (its
   * parent must be the cursor) and the last (the new cursor). The requests go out in one JSON-RPC batch.
   */
  private async fetchBatch(
    from: number,
    to: number,
    cursorHash: string | null,
    nearHead: boolean,
  ): Promise<FetchedBatch> {
    const numbers = nearHead ? Array.from({ length: to - from + 1 }, (_, i) => from + i) : [...new Set([from, to])];
    const fetchStarted = performance.now();
    const [headers, rawLogs] = await Promise.all([
      Promise.all(numbers.map((n) => this.header(n))),
      this.rpc<unknown>('eth_getLogs', [
        { address: this.classifier.addresses(), fromBlock: toQuantity(from), toBlock: toQuantity(to) },
      ]),
    ]);
    this.timings.fetchMs += performance.now() - fetchStarted;
    if (headers.some((header) => header === null)) return { kind: 'inconsistent', reason: 'a block vanished' };
    const byNumber = new Map((headers as BlockRef[]).map((header) => [header.number, header]));
    const first = byNumber.get(from)!;
    const last = byNumber.get(to)!;
    if (cursorHash !== null && first.parentHash !== cursorHash) return { kind: 'reorg' };
    for (let n = from + 1; nearHead && n <= to; n++) {
      if (byNumber.get(n)!.parentHash !== byNumber.get(n - 1)!.hash) {
        return { kind: 'inconsistent', reason: `block ${n} does not follow block ${n - 1}` };
      }
    }
    if (!Array.isArray(rawLogs)) throw new WatcherError('RPC_MALFORMED', 'eth_getLogs did not answer with a list');

    const started = performance.now();
    const events: ChainEventRecord[] = [];
    const rejectedRecords: RejectedLogRecord[] = [];
    const rejected: RejectedLogError[] = [];
    const logs = rawLogs.map(parseRpcLog);
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    for (const log of logs) {
      if (log.blockNumber < from || log.blockNumber > to) {
        return { kind: 'inconsistent', reason: `eth_getLogs returned a log of block ${log.blockNumber}` };
      }
      const pinned = byNumber.get(log.blockNumber);
      if (pinned && pinned.hash !== log.blockHash) {
        return { kind: 'inconsistent', reason: `a log of block ${log.blockNumber} is from another fork` };
      }
      const classified = this.classifier.classify(log);
      if (classified.event) events.push(classified.event);
      else {
        rejected.push(classified.rejected);
        rejectedRecords.push(classified.rejected.log);
      }
    }
    this.timings.decodeMs += performance.now() - started;
    this.timings.logs += logs.length;
    return {
      kind: 'batch',
      batch: {
        fromBlock: from,
        toBlock: to,
        toHash: last.hash,
        events,
        rejected: rejectedRecords,
        blocks: headers as BlockRef[],
      },
      rejected,
    };
  }

  /**
   * Finds the newest applied block that is still canonical (recent hashes first, all at once; then the blocks
   * known from stored events, by binary search since canonical ones form a prefix) and rolls back to it.
   */
  private async recoverFromReorg(report: SyncReport): Promise<void> {
    report.reorgs += 1;
    if (report.reorgs > MAX_REORGS_PER_SYNC) {
      throw new WatcherError('RPC_INCONSISTENT', `The chain reorganised ${report.reorgs} times during one catch-up`);
    }
    const recent = this.store.recentBlocks();
    const canonical = await Promise.all(recent.map((block) => this.header(block.number)));
    let fork: { number: number; hash: string | null } | undefined = recent.find(
      (block, i) => canonical[i]?.hash === block.hash,
    );
    if (!fork) {
      const lowest = recent.at(-1)?.number ?? this.store.cursor().blockNumber + 1;
      const candidates = this.store.eventBlocksBelow(lowest);
      let low = 0;
      let high = candidates.length - 1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        const candidate = candidates[middle]!;
        if ((await this.header(candidate.number))?.hash === candidate.hash) {
          fork = candidate;
          low = middle + 1;
        } else {
          high = middle - 1;
        }
      }
    }
    fork ??= { number: this.options.startBlock - 1, hash: null };
    const rolledBack = this.store.rollbackTo(fork.number, fork.hash);
    this.totalEvents -= rolledBack.orphaned.length;
    this.options.onReorg?.({
      forkBlock: rolledBack.forkBlock,
      previousBlock: rolledBack.previousBlock,
      orphaned: rolledBack.orphaned,
      orphanedRejected: rolledBack.orphanedRejected,
    });
  }
}
