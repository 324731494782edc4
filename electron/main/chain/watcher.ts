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

/**
 * Where the sync stands, for a progress display: reported to `onProgress` after every committed batch and whenever
 * an idle poll sees something change, and available at any time from `ChainWatcher.status()`.
 */
export interface WatcherProgress {
  /** backfill: catching up; live: at the confirmed head, following new blocks. */
  phase: 'backfill' | 'live';
  /** The deployment's first block: `(cursorBlock - startBlock + 1) / (confirmedBlock - startBlock + 1)` is done. */
  startBlock: number;
  /** The node's newest block at the last poll (-1 before the first). */
  headBlock: number;
  /** Newest block with enough confirmations (headBlock - confirmations): what the watcher catches up to. */
  confirmedBlock: number;
  /** Last block applied to the database (startBlock - 1 before the first). */
  cursorBlock: number;
  /** Events applied by the batch just committed (0 for an idle report), and since this watcher was created. */
  batchEvents: number;
  totalEvents: number;
  /** Block of the newest event this watcher applied, and when (Date.now() ms) it applied it; null before one. */
  lastEventBlock: number | null;
  lastEventAt: number | null;
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
  /**
   * Logs a batch should hold, about: where the chain is dense, batches span fewer blocks (estimated from the last
   * batch's logs per block), which bounds memory and lets the next batch download while this one is applied.
   * Default 5,000.
   */
  targetBatchLogs?: number;
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
  /**
   * Waiting for the node: the head, then each batch's eth_getLogs and headers (sent together in one JSON-RPC batch).
   * While a batch is applied the next one is already being fetched, so this counts only the time the watcher had
   * nothing else to do.
   */
  fetchMs: number;
  decodeMs: number;
  applyMs: number;
  logs: number;
}

type FetchedBatch =
  | { kind: 'batch'; batch: ChainBatch; rejected: RejectedLogError[] }
  | { kind: 'reorg' }
  | { kind: 'inconsistent'; reason: string };

/** The next batch, requested while the current one is applied: used only if the cursor lands where it expects. */
interface Prefetch {
  from: number;
  to: number;
  cursorHash: string;
  nearHead: boolean;
  result: Promise<FetchedBatch>;
}

const GROW_AFTER_BATCHES = 8;
// Before any batch tells the density, start small: on a sparse chain the span doubles every batch up to batchSize
// (7 batches to 2,000 blocks); on a dense one a first batch of all batchSize blocks could hold millions of logs.
const FIRST_BATCH_SPAN = 16;
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
  private readonly targetBatchLogs: number;
  private batchSize: number;
  /** Blocks that should hold about targetBatchLogs logs, from the density of the last batch. */
  private densitySpan: number;
  private goodBatches = 0;
  private totalEvents = 0;
  private chainChecked = false;
  private lastIdleProgress = '';
  private lastEvent: { block: number; at: number } | null = null;
  private snapshot: WatcherProgress | null = null;
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
    this.targetBatchLogs = positive(options.targetBatchLogs, 5_000, 'targetBatchLogs');
    this.batchSize = this.maxBatchSize;
    this.densitySpan = Math.min(this.maxBatchSize, FIRST_BATCH_SPAN);
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

  /**
   * Sync progress now: the last report, or, before the first poll, the stored cursor (headBlock and confirmedBlock
   * -1 until the node was asked).
   */
  status(): WatcherProgress {
    if (this.snapshot) return { ...this.snapshot };
    return {
      phase: 'backfill',
      startBlock: this.options.startBlock,
      headBlock: -1,
      confirmedBlock: -1,
      cursorBlock: this.store.cursor().blockNumber,
      batchEvents: 0,
      totalEvents: this.totalEvents,
      lastEventBlock: this.lastEvent?.block ?? null,
      lastEventAt: this.lastEvent?.at ?? null,
    };
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
    let prefetch: Prefetch | null = null;
    try {
      for (;;) {
        const step = await this.step(report, prefetch, inconsistent);
        if (step.done) return report;
        prefetch = step.prefetch;
        inconsistent = step.inconsistent;
      }
    } finally {
      // A prefetch nobody will use (error, reorg, stop): its outcome no longer matters.
      prefetch?.result.catch(() => undefined);
    }
  }

  /**
   * The next range to fetch after `cursor`, given the confirmed head: deep batches stop `reorgWindow` blocks short
   * of it (fetched with two headers), the last ones are fetched with every header.
   */
  private range(cursorBlock: number, safeBlock: number): { from: number; to: number; nearHead: boolean } | null {
    const from = cursorBlock + 1;
    if (from > safeBlock) return null;
    const nearHead = from > safeBlock - this.reorgWindow;
    const limit = Math.min(this.batchSize, this.densitySpan);
    const span = nearHead ? Math.min(limit, this.reorgWindow) : limit;
    const to = Math.min(from + span - 1, nearHead ? safeBlock : safeBlock - this.reorgWindow);
    return { from, to, nearHead };
  }

  /** One turn of the sync loop: a poll of the head, then one batch fetched and applied (or a reorg handled). */
  private async step(
    report: SyncReport,
    prefetched: Prefetch | null,
    inconsistentSoFar: number,
  ): Promise<{ done: true } | { done: false; prefetch: Prefetch | null; inconsistent: number }> {
    let inconsistent = inconsistentSoFar;
    const waitStarted = performance.now();
    const decodedBefore = this.timings.decodeMs;
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
          return { done: false, prefetch: null, inconsistent };
        }
      }
      // Idle polls report only what changed (a new head still waiting for confirmations, say).
      const idleKey = `${cursor.blockNumber}:${safeBlock}:${head}`;
      if (idleKey !== this.lastIdleProgress) {
        this.lastIdleProgress = idleKey;
        this.progress(cursor.blockNumber >= safeBlock ? 'live' : 'backfill', cursor.blockNumber, safeBlock, head, 0);
      }
      return { done: true };
    }

    const { from, to, nearHead } = this.range(cursor.blockNumber, safeBlock)!;
    const usable =
      prefetched !== null &&
      prefetched.from === from &&
      prefetched.to === to &&
      prefetched.nearHead === nearHead &&
      prefetched.cursorHash === cursor.blockHash;
    if (prefetched && !usable) prefetched.result.catch(() => undefined);

    let fetched: FetchedBatch;
    try {
      fetched = await (usable ? prefetched.result : this.fetchBatch(from, to, cursor.blockHash, nearHead));
    } catch (error) {
      if (!isTooManyResultsError(error)) throw error;
      if (this.batchSize === 1) {
        throw new WatcherError('RPC_FAILED', `eth_getLogs refuses even a single block (${from})`, { cause: error });
      }
      this.batchSize = Math.max(1, Math.floor(this.batchSize / 2));
      this.goodBatches = 0;
      return { done: false, prefetch: null, inconsistent };
    }
    // Waiting for the node (the head, then the batch). Decoding, of this batch or of the prefetched one, runs while
    // this turn waits: count it once, as decoding.
    this.timings.fetchMs += performance.now() - waitStarted - (this.timings.decodeMs - decodedBefore);
    if (fetched.kind === 'reorg') {
      await this.recoverFromReorg(report);
      return { done: false, prefetch: null, inconsistent };
    }
    if (fetched.kind === 'inconsistent') {
      inconsistent += 1;
      if (inconsistent > MAX_INCONSISTENT_RETRIES) {
        throw new WatcherError('RPC_INCONSISTENT', `The node keeps answering inconsistently: ${fetched.reason}`);
      }
      return { done: false, prefetch: null, inconsistent };
    }

    this.growBatchSize();
    // Aim the next batch at targetBatchLogs: shrink at once to what the last batch's density suggests, grow at most
    // twice per batch (the next blocks may be denser).
    const logs = fetched.batch.events.length + fetched.batch.rejected.length;
    const estimate = logs === 0 ? this.maxBatchSize : Math.floor(((to - from + 1) * this.targetBatchLogs) / logs);
    this.densitySpan = Math.max(1, Math.min(this.maxBatchSize, estimate, this.densitySpan * 2));
    // Pipelining: ask for the next range now, so the node works on it while this batch is applied. It is used
    // only if this batch commits and the next turn asks for the same range after the same block hash.
    const next = this.closed ? null : this.range(to, safeBlock);
    const prefetch: Prefetch | null = next && {
      ...next,
      cursorHash: fetched.batch.toHash,
      result: this.fetchBatch(next.from, next.to, fetched.batch.toHash, next.nearHead),
    };
    // Until the next turn awaits it, a failure of the prefetch must not count as unhandled.
    prefetch?.result.catch(() => undefined);

    const started = performance.now();
    const result = this.store.applyBatch(fetched.batch);
    this.timings.applyMs += performance.now() - started;
    report.batches += 1;
    report.applied += result.applied.length;
    report.rejected += result.rejected;
    report.cursorBlock = to;
    this.totalEvents += result.applied.length;
    const lastApplied = result.applied.at(-1);
    if (lastApplied) this.lastEvent = { block: lastApplied.blockNumber, at: Date.now() };
    for (const event of result.applied) this.options.onEvent?.(event);
    if (result.rejected > 0) for (const error of fetched.rejected) this.options.onRejected?.(error);
    this.progress(to >= safeBlock ? 'live' : 'backfill', to, safeBlock, head, result.applied.length);
    return { done: false, prefetch, inconsistent: 0 };
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
    this.snapshot = {
      phase,
      startBlock: this.options.startBlock,
      headBlock,
      confirmedBlock: safeBlock,
      cursorBlock,
      batchEvents,
      totalEvents: this.totalEvents,
      lastEventBlock: this.lastEvent?.block ?? null,
      lastEventAt: this.lastEvent?.at ?? null,
    };
    this.options.onProgress?.({ ...this.snapshot });
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
    const [headers, rawLogs] = await Promise.all([
      Promise.all(numbers.map((n) => this.header(n))),
      this.rpc<unknown>('eth_getLogs', [
        { address: this.classifier.addresses(), fromBlock: toQuantity(from), toBlock: toQuantity(to) },
      ]),
    ]);
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
