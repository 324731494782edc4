import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * The orchestrator's persisted state (better-sqlite3, WAL): the chain cursor and one row per permit.
 * Every change is one transaction, so a crash or kill -9 leaves either the old or the new state.
 */
export const JOB_STATES = ['queued', 'running', 'posted', 'failed', 'waiting-params'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** What the JobPermitIssued event says about a permit (the event is the source; the row keeps a copy). */
export interface PermitFacts {
  permitId: bigint;
  grantId: bigint;
  datasetId: bigint;
  granteeSbtId: bigint;
  algorithmId: string;
  paramsHash: string;
  regionCode: string;
  blockNumber: number;
  txHash: string;
}

export interface JobRecord extends PermitFacts {
  state: JobState;
  attempts: number;
  error: string | null;
  /** JSON text of the job's parameters once known (the permit commits to their hash). */
  params: string | null;
  resultCommitment: string | null;
  resultURI: string | null;
  postTxHash: string | null;
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
}

interface JobRow {
  permit_id: string;
  grant_id: string;
  dataset_id: string;
  grantee_sbt_id: string;
  algorithm_id: string;
  params_hash: string;
  region_code: string;
  block_number: number;
  tx_hash: string;
  state: JobState;
  attempts: number;
  error: string | null;
  params: string | null;
  result_commitment: string | null;
  result_uri: string | null;
  post_tx_hash: string | null;
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  permit_id TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  grantee_sbt_id TEXT NOT NULL,
  algorithm_id TEXT NOT NULL,
  params_hash TEXT NOT NULL,
  region_code TEXT NOT NULL,
  block_number INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','running','posted','failed','waiting-params')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  params TEXT,
  result_commitment TEXT,
  result_uri TEXT,
  post_tx_hash TEXT,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, next_attempt_at);
`;

function toRecord(row: JobRow): JobRecord {
  return {
    permitId: BigInt(row.permit_id),
    grantId: BigInt(row.grant_id),
    datasetId: BigInt(row.dataset_id),
    granteeSbtId: BigInt(row.grantee_sbt_id),
    algorithmId: row.algorithm_id,
    paramsHash: row.params_hash,
    regionCode: row.region_code,
    blockNumber: row.block_number,
    txHash: row.tx_hash,
    state: row.state,
    attempts: row.attempts,
    error: row.error,
    params: row.params,
    resultCommitment: row.result_commitment,
    resultURI: row.result_uri,
    postTxHash: row.post_tx_hash,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class JobStore {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(file: string, options: { now?: () => number } = {}) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    this.#now = options.now ?? Date.now;
  }

  close(): void {
    this.#db.close();
  }

  /** The last block whose permits are all recorded; null before the first scan. */
  cursor(): number | null {
    const row = this.#db.prepare('SELECT last_block FROM cursor WHERE id = 1').get() as
      { last_block: number } | undefined;
    return row ? row.last_block : null;
  }

  /**
   * Records the permits found up to `toBlock` and moves the cursor there, in one transaction. A permit
   * seen again (rescanned for the reorg margin, or after a restart) is left as it is: each runs once.
   * Returns the permits that were new.
   */
  recordScan(permits: readonly PermitFacts[], toBlock: number): bigint[] {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO jobs (permit_id, grant_id, dataset_id, grantee_sbt_id, algorithm_id, params_hash,
         region_code, block_number, tx_hash, state, created_at, updated_at)
       VALUES (@permitId, @grantId, @datasetId, @granteeSbtId, @algorithmId, @paramsHash, @regionCode, @blockNumber,
         @txHash, 'queued', @now, @now)`,
    );
    const setCursor = this.#db.prepare(
      'INSERT INTO cursor (id, last_block) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_block = excluded.last_block',
    );
    const run = this.#db.transaction(() => {
      const added: bigint[] = [];
      const now = this.#now();
      for (const permit of permits) {
        const result = insert.run({
          permitId: permit.permitId.toString(),
          grantId: permit.grantId.toString(),
          datasetId: permit.datasetId.toString(),
          granteeSbtId: permit.granteeSbtId.toString(),
          algorithmId: permit.algorithmId,
          paramsHash: permit.paramsHash,
          regionCode: permit.regionCode,
          blockNumber: permit.blockNumber,
          txHash: permit.txHash,
          now,
        });
        if (result.changes > 0) added.push(permit.permitId);
      }
      setCursor.run(toBlock);
      return added;
    });
    return run();
  }

  get(permitId: bigint): JobRecord | null {
    const row = this.#db.prepare('SELECT * FROM jobs WHERE permit_id = ?').get(permitId.toString()) as
      JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(options: { state?: JobState; limit?: number; afterPermitId?: bigint } = {}): JobRecord[] {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 500);
    const rows = this.#db
      .prepare(
        `SELECT * FROM jobs WHERE (@state IS NULL OR state = @state)
           AND (@after IS NULL OR CAST(permit_id AS INTEGER) > CAST(@after AS INTEGER))
         ORDER BY CAST(permit_id AS INTEGER) LIMIT @limit`,
      )
      .all({ state: options.state ?? null, after: options.afterPermitId?.toString() ?? null, limit }) as JobRow[];
    return rows.map(toRecord);
  }

  counts(): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
    const rows = this.#db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[];
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /**
   * Jobs left `running` by a process that died: back to `queued` (results are deterministic per inputs,
   * and the chain accepts one result per permit). Call once at start, before any claim.
   */
  requeueInterrupted(): number {
    return this.#db.prepare(`UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'`).run(this.#now())
      .changes;
  }

  /** Claims the oldest due queued job: queued → running, attempts + 1, in one transaction. */
  claimNext(): JobRecord | null {
    const claim = this.#db.transaction(() => {
      const now = this.#now();
      const row = this.#db
        .prepare(
          `SELECT * FROM jobs WHERE state = 'queued' AND next_attempt_at <= ?
           ORDER BY block_number, CAST(permit_id AS INTEGER) LIMIT 1`,
        )
        .get(now) as JobRow | undefined;
      if (!row) return null;
      this.#db
        .prepare(`UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE permit_id = ?`)
        .run(now, row.permit_id);
      return toRecord({ ...row, state: 'running', attempts: row.attempts + 1, updated_at: now });
    });
    return claim.immediate();
  }

  /** The earliest time a queued job becomes due (null when none is queued). */
  nextDueAt(): number | null {
    const row = this.#db.prepare(`SELECT MIN(next_attempt_at) AS due FROM jobs WHERE state = 'queued'`).get() as {
      due: number | null;
    };
    return row.due;
  }

  #update(permitId: bigint, fields: Record<string, unknown>, fromStates?: readonly JobState[]): boolean {
    const names = Object.keys(fields);
    const set = names.map((name) => `${name} = @${name}`).join(', ');
    const guard = fromStates ? ` AND state IN (${fromStates.map((s) => `'${s}'`).join(', ')})` : '';
    return (
      this.#db
        .prepare(`UPDATE jobs SET ${set}, updated_at = @updated_at WHERE permit_id = @permit_id${guard}`)
        .run({ ...fields, updated_at: this.#now(), permit_id: permitId.toString() }).changes > 0
    );
  }

  /** The result is on chain (posted by us now, or found there). */
  markPosted(permitId: bigint, result: { resultCommitment: string; resultURI: string | null; txHash: string | null }) {
    this.#update(permitId, {
      state: 'posted',
      error: null,
      result_commitment: result.resultCommitment,
      result_uri: result.resultURI,
      post_tx_hash: result.txHash,
    });
  }

  /** A result computed and stored, before it is posted (kept so the status API can show it). */
  recordResult(permitId: bigint, resultCommitment: string, resultURI: string): void {
    this.#update(permitId, { result_commitment: resultCommitment, result_uri: resultURI });
  }

  markFailed(permitId: bigint, error: string): void {
    this.#update(permitId, { state: 'failed', error });
  }

  /** A retryable failure: back to the queue, due at `dueAt`. */
  markRetry(permitId: bigint, error: string, dueAt: number): void {
    this.#update(permitId, { state: 'queued', error, next_attempt_at: dueAt });
  }

  /** Waits for parameters, unless they arrived while the job was running (then it is queued again). */
  markWaitingParams(permitId: bigint): void {
    this.#db
      .prepare(
        `UPDATE jobs SET state = CASE WHEN params IS NULL THEN 'waiting-params' ELSE 'queued' END, error = NULL,
           next_attempt_at = 0, updated_at = ? WHERE permit_id = ?`,
      )
      .run(this.#now(), permitId.toString());
  }

  /** Gives a claimed job back untouched (shutdown): queued, the attempt not counted. */
  release(permitId: bigint): void {
    this.#db
      .prepare(
        `UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), updated_at = ?
         WHERE permit_id = ? AND state = 'running'`,
      )
      .run(this.#now(), permitId.toString());
  }

  /**
   * Stores the parameters of a permit (checked against its paramsHash by the caller). A job waiting for
   * them is queued again. Returns false when there is no such job.
   */
  setParams(permitId: bigint, params: string): boolean {
    const run = this.#db.transaction(() => {
      if (!this.get(permitId)) return false;
      this.#update(permitId, { params });
      this.#update(permitId, { state: 'queued', next_attempt_at: 0, attempts: 0 }, ['waiting-params']);
      return true;
    });
    return run();
  }
}
