import type { Logger } from '../common/log';
import { type ChainConnection, fetchPermits, headBlock } from './chain';
import type { JobRunner } from './runner';
import type { JobStore } from './store';

export interface SchedulerOptions {
  store: JobStore;
  chain: ChainConnection;
  runner: JobRunner;
  logger: Logger;
  dataAccess: string;
  /** First block to scan when there is no cursor yet (the deployment's block). */
  startBlock: number;
  confirmations: number;
  /** Blocks below the cursor scanned again each time (permits are inserted once, so rescans are harmless). */
  reorgMargin: number;
  concurrency: number;
  pollIntervalMs: number;
  /** Largest eth_getLogs range per scan. */
  maxBlockRange?: number;
}

/**
 * Watches JobPermitIssued with a persisted cursor and runs queued jobs, at most `concurrency` at a
 * time. Each permit gets one row (INSERT OR IGNORE), claimed in a transaction before it runs.
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #running = new Map<bigint, { promise: Promise<void>; controller: AbortController }>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #stopped = false;
  lastScanError: string | null = null;
  lastHead: number | null = null;

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  get runningJobs(): number {
    return this.#running.size;
  }

  start(): void {
    const requeued = this.#options.store.requeueInterrupted();
    if (requeued > 0) this.#options.logger.info('jobs interrupted by a restart queued again', { count: requeued });
    this.#schedule(0);
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.tick(), delay);
  }

  /** One round: scan new blocks, then fill free slots with due jobs. */
  tick(): Promise<void> {
    this.#ticking ??= (async () => {
      let caughtUp = true;
      try {
        caughtUp = await this.#scan();
        this.#fill();
      } finally {
        this.#ticking = null;
        // Far behind the head (a first start on a long chain): scan the next range at once.
        this.#schedule(caughtUp ? this.#options.pollIntervalMs : 0);
      }
    })();
    return this.#ticking;
  }

  /** Scans the next block range; false when more blocks remain below the safe head. */
  async #scan(): Promise<boolean> {
    const { store, chain, logger } = this.#options;
    try {
      const head = await headBlock(chain.provider);
      this.lastHead = head;
      const safe = head - this.#options.confirmations;
      const cursor = store.cursor();
      const from = Math.max(
        this.#options.startBlock,
        cursor === null ? this.#options.startBlock : cursor + 1 - this.#options.reorgMargin,
      );
      const to = Math.min(safe, from + (this.#options.maxBlockRange ?? 5_000) - 1);
      if (to < from) return true;
      const permits = await fetchPermits(chain.provider, this.#options.dataAccess, from, to);
      const added = store.recordScan(permits, Math.max(to, cursor ?? 0));
      if (added.length > 0) logger.info('permits found', { permitIds: added.map(String), toBlock: to });
      this.lastScanError = null;
      return to >= safe;
    } catch (error) {
      this.lastScanError = (error as Error).message;
      logger.warn('chain scan failed; will retry', { error: this.lastScanError });
      return true;
    }
  }

  #fill(): void {
    const { store, runner, logger } = this.#options;
    while (!this.#stopped && this.#running.size < this.#options.concurrency) {
      const job = store.claimNext();
      if (!job) return;
      const controller = new AbortController();
      const promise = runner
        .run(job, controller.signal)
        .catch((error: unknown) => logger.error('job runner crashed', { error: (error as Error).message }))
        .finally(() => {
          this.#running.delete(job.permitId);
          this.#schedule(0);
        });
      this.#running.set(job.permitId, { promise, controller });
    }
  }

  /** Stops scanning, interrupts running jobs (they go back to the queue) and waits for them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const { controller } of this.#running.values()) controller.abort();
    await this.#ticking;
    await Promise.all([...this.#running.values()].map(({ promise }) => promise));
  }
}
