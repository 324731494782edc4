/**
 * Watcher backfill benchmark on a throwaway anvil: generates ≥ 50,000 events cheaply (DataAccess.recordUses emits
 * one Used per use, hundreds per transaction), then measures
 *
 *   1. end to end: a fresh watcher backfilling them into a fresh SQLite file (RPC + validation/decoding + apply),
 *      with where the time went;
 *   2. the database part alone: the same decoded events applied batch by batch (insert into audit_events, project,
 *      move the cursor, one transaction per batch);
 *   3. recomputing every projection from audit_events (what a reorg costs);
 *
 * and the process's memory while backfilling.
 *
 *   node --expose-gc --import tsx electron/main/chain/bench-watcher.ts [--events 50000] [--per-tx 500] [--batch-size 2000]
 *     [--batch-logs 5000] [--runs 1]
 *
 * (--expose-gc is optional: it only makes the memory baseline cleaner.)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChainStore, openDatabase, rebuildProjections, type ChainEventRecord, type JsonValue } from '../db';
import { ChainWatcher } from './watcher';
import { deploymentKey } from './watcher-logs';
import { headBlock, openUsageGrant, recordUses, startDevChain } from './watcher-fixture';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    'per-tx': { type: 'string', default: '500' },
    'batch-size': { type: 'string', default: '2000' },
    'batch-logs': { type: 'string', default: '5000' },
    runs: { type: 'string', default: '1' },
  },
});
const eventCount = Number(values.events);
const perTx = Number(values['per-tx']);
const batchSize = Number(values['batch-size']);
const targetBatchLogs = Number(values['batch-logs']);
const runs = Number(values.runs);

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const rate = (count: number, ms: number) => `${Math.round(count / (ms / 1000)).toLocaleString('en-US')} events/s`;
function row(name: string, detail: string): void {
  console.log(`${name.padEnd(34)} ${detail}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-bench-watcher-'));
  const chain = await startDevChain();
  try {
    console.log(`watcher benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
    let started = performance.now();
    const grantId = await openUsageGrant(chain);
    await recordUses(chain, grantId, eventCount, perTx);
    const head = await headBlock(chain);
    row(
      'generate',
      `${eventCount.toLocaleString('en-US')} Used events in ${Math.ceil(eventCount / perTx)} txs, ${head} blocks, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    // 1. End to end, sampling memory while it runs (after a GC when --expose-gc allows one, so the baseline is not
    // the generator's garbage).
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
    }, 20);
    // Each run backfills into a fresh file; the last one's file is used below.
    let file = '';
    let db: ReturnType<typeof openDatabase>['db'] | null = null;
    for (let run = 1; run <= runs; run++) {
      db?.close();
      file = path.join(dir, `backfill-${run}.sqlite`);
      db = openDatabase(file).db;
      const watcher = new ChainWatcher({
        db,
        rpcUrl: chain.anvil.rpcUrl,
        chainId: chain.chainId,
        contracts: chain.contracts,
        startBlock: chain.startBlock,
        batchSize,
        targetBatchLogs,
      });
      const cpuBefore = process.cpuUsage();
      started = performance.now();
      const report = await watcher.syncOnce();
      const endToEndMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const { fetchMs, decodeMs, applyMs, logs } = watcher.timings;
      await watcher.stop();
      row(
        `end to end (backfill)${runs > 1 ? ` #${run}` : ''}`,
        `${report.applied.toLocaleString('en-US')} events in ${(endToEndMs / 1000).toFixed(2)} s = ${rate(report.applied, endToEndMs)} (${report.batches} batches)`,
      );
      row('  waiting for the node', `${(fetchMs / 1000).toFixed(2)} s (eth_blockNumber, eth_getLogs + headers)`);
      row('  validate + decode', `${(decodeMs / 1000).toFixed(2)} s = ${rate(logs, decodeMs)}`);
      row('  SQLite apply (in the watcher)', `${(applyMs / 1000).toFixed(2)} s = ${rate(report.applied, applyMs)}`);
      row(
        '  CPU of this process',
        `${((cpu.user + cpu.system) / 1000 / 1000).toFixed(2)} s = ${((cpu.user + cpu.system) / report.applied).toFixed(1)} µs/event (anvil's not included)`,
      );
    }
    clearInterval(sampler);
    if (!db) throw new Error('--runs must be at least 1');
    row(
      'memory while backfilling',
      `peak RSS ${mib(peakRss)} (from ${mib(before.rss)}), peak heap ${mib(peakHeap)} (from ${mib(before.heapUsed)})`,
    );
    const walBytes = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    row('database file', `${mib(statSync(file).size + walBytes)} (with WAL)`);

    // 2. The database part alone: the same decoded events, in batches of ~5,000, into a fresh file.
    const events = (
      db
        .prepare(
          'SELECT chainId, blockNumber, blockHash, txHash, logIndex, contract, name, args FROM audit_events ORDER BY blockNumber, logIndex',
        )
        .all() as (Omit<ChainEventRecord, 'args'> & { args: string })[]
    ).map((event) => ({ ...event, args: JSON.parse(event.args) as { [key: string]: JsonValue } }));
    const target = openDatabase(path.join(dir, 'apply.sqlite')).db;
    const store = new ChainStore(target, {
      chainId: chain.chainId,
      deployment: deploymentKey(chain.contracts),
      contracts: chain.contracts,
      startBlock: chain.startBlock,
      reorgWindow: 64,
    });
    const batches: ChainEventRecord[][] = [];
    for (const event of events) {
      const current = batches.at(-1);
      const sameBlock = current && current.at(-1)!.blockNumber === event.blockNumber;
      if (current && (current.length < 5_000 || sameBlock)) current.push(event);
      else batches.push([event]);
    }
    started = performance.now();
    let fromBlock = chain.startBlock;
    for (const batch of batches) {
      const last = batch.at(-1)!;
      store.applyBatch({
        fromBlock,
        toBlock: last.blockNumber,
        toHash: last.blockHash,
        events: batch,
        rejected: [],
        blocks: [{ number: last.blockNumber, hash: last.blockHash, parentHash: last.blockHash }],
      });
      fromBlock = last.blockNumber + 1;
    }
    const applyOnlyMs = performance.now() - started;
    row(
      'SQLite apply alone',
      `${events.length.toLocaleString('en-US')} events in ${(applyOnlyMs / 1000).toFixed(2)} s = ${rate(events.length, applyOnlyMs)} (${batches.length} transactions)`,
    );
    target.close();

    // 3. Recompute every projection from audit_events (a reorg's rollback does this).
    started = performance.now();
    const reprojected = rebuildProjections(db);
    const rebuildMs = performance.now() - started;
    row(
      'recompute projections',
      `${reprojected.toLocaleString('en-US')} events in ${(rebuildMs / 1000).toFixed(2)} s = ${rate(reprojected, rebuildMs)}`,
    );
    db.close();
  } finally {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
